"""What the outbox events of a downtime carry (a snapshot taken in the transaction of the
change: a cancelled downtime is gone afterwards) and the transitions job that announces
"started" and "ended" exactly once each, also after an outage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from domains.common.identity import ANONYMOUS
from domains.common.outbox import emit
from domains.common.time import utcnow
from domains.downtimes.service.tables import (
    EVENT_ENDED,
    EVENT_STARTED,
    T_DOWNTIME,
    T_DT_ENDPOINT,
    T_DT_SERVICE,
    VO_PROPERTY,
)
from domains.topology import service as topology
from domains.topology.service import T_COUNTRY, T_NGI, T_SERVICE, T_SERVICE_TYPE, T_SITE


def _linked(session: Session, link: Table, column: str, downtime_id: int) -> list[int]:
    key = link.c[column]
    return list(
        session.execute(
            select(key).where(link.c.downtime_id == downtime_id).order_by(key)
        ).scalars()
    )


def linked_service_ids(session: Session, downtime_id: int) -> list[int]:
    """The ids of the services a downtime affects, ascending."""
    return _linked(session, T_DT_SERVICE, "service_id", downtime_id)


def linked_endpoint_ids(session: Session, downtime_id: int) -> list[int]:
    """The ids of the endpoints a downtime names, ascending."""
    return _linked(session, T_DT_ENDPOINT, "endpoint_id", downtime_id)


def snapshot(session: Session, downtime_id: int) -> dict[str, Any]:
    row = session.execute(
        select(
            *T_DOWNTIME.c,
            T_SITE.c.short_name.label("site_name"),
            T_SITE.c.ngi_id.label("ngi_id"),
            T_NGI.c.name.label("ngi_name"),
            T_COUNTRY.c.code.label("country_code"),
        )
        .join(T_SITE, T_SITE.c.id == T_DOWNTIME.c.site_id)
        .join(T_NGI, T_NGI.c.id == T_SITE.c.ngi_id)
        .join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id)
        .where(T_DOWNTIME.c.id == downtime_id)
    ).one()
    services = session.execute(
        select(
            T_SERVICE.c.id,
            T_SERVICE.c.host_name,
            T_SERVICE_TYPE.c.name,
            T_DT_SERVICE.c.ended_at,
        )
        .join(T_DT_SERVICE, T_DT_SERVICE.c.service_id == T_SERVICE.c.id)
        .join(T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id)
        .where(T_DT_SERVICE.c.downtime_id == downtime_id)
        .order_by(T_SERVICE.c.id)
    ).all()
    vos = vos_of_services(session, [s[0] for s in services])
    return {
        "id": row.id,
        "primaryKey": row.primary_key,
        "siteId": row.site_id,
        "site": row.site_name,
        "ngiId": row.ngi_id,
        "ngi": row.ngi_name,
        "country": row.country_code,
        "severity": str(row.severity),
        "classification": str(row.classification),
        "startsAt": row.starts_at.isoformat(),
        "endsAt": row.ends_at.isoformat(),
        "description": row.description,
        "services": [
            {
                "id": service_id,
                "hostName": host,
                "serviceType": type_name,
                "endedAt": None if ended is None else ended.isoformat(),
                "vos": vos.get(service_id, []),
            }
            for service_id, host, type_name, ended in services
        ],
        "endpointIds": linked_endpoint_ids(session, downtime_id),
    }


def vos_of_services(session: Session, service_ids: Sequence[int]) -> dict[int, list[str]]:
    """service id -> the VOs its `vo` extension property names."""
    if not service_ids:
        return {}
    groups = topology.properties_of(session, ANONYMOUS, "service", service_ids)
    out: dict[int, list[str]] = {}
    for owner, props in groups.items():
        names = [
            name.strip()
            for prop in props
            if prop.key == VO_PROPERTY
            for name in str(prop.value).split(",")
            if name.strip()
        ]
        if names:
            out[owner] = sorted(set(names))
    return out


def emit_transitions(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Emit `downtime.started` for every downtime whose start has come and
    `downtime.ended` for every one whose end has come, and mark them, in the caller's
    transaction. Rows are claimed with FOR UPDATE SKIP LOCKED, so two schedulers never
    announce the same moment. A downtime whose start and end both passed while nobody
    ran gets both, started first. Returns how many events were emitted."""
    now = now or utcnow()
    emitted = 0
    for flag, moment, kind in (
        (T_DOWNTIME.c.started_notified, T_DOWNTIME.c.starts_at, EVENT_STARTED),
        (T_DOWNTIME.c.ended_notified, T_DOWNTIME.c.ends_at, EVENT_ENDED),
    ):
        due = list(
            session.execute(
                select(T_DOWNTIME.c.id)
                .where(flag.is_(False), moment <= now)
                .order_by(moment, T_DOWNTIME.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        for downtime_id in due:
            emit(session, kind, snapshot(session, downtime_id))
            emitted += 1
        if due:
            session.execute(
                update(T_DOWNTIME).where(T_DOWNTIME.c.id.in_(due)).values({flag.name: True})
            )
    session.flush()
    return emitted
