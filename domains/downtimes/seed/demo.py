"""The demo downtimes (demo.toml): a realistic history over the demo federation.

What could be declared now (upcoming downtimes, and ongoing ones that started less than 48
hours ago) goes through `declare_downtime`, so those rows obey the same rules, audit and
events as any other declaration. What was declared in the past (everything older, and the
SCHEDULED ones already under way) is written with Core inserts, as an import from the old
system would: `declared_at` and `classification` agree with the 24-hour rule at the moment
of declaration, and the moments already past are marked as announced so the transitions
job does not announce them at first start."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.identity import PLATFORM
from domains.common.models import legacy_key
from domains.common.seed_data import expect, load, record
from domains.common.time import utcnow
from domains.downtimes import rules
from domains.downtimes.models import Severity
from domains.downtimes.service import (
    T_DOWNTIME,
    T_DT_ENDPOINT,
    T_DT_SERVICE,
    Declaration,
    declare_downtime,
)
from domains.topology.service import T_ENDPOINT, T_SERVICE, T_SERVICE_TYPE, T_SITE

_TERM = re.compile(r"([+-]?)(\d+)([dhm])")
_UNIT = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def offset(text: str) -> timedelta:
    """An offset such as "-365d -3h" (minus 365 days and 3 hours): signed terms in days
    (d), hours (h) and minutes (m), separated by spaces."""
    total = timedelta()
    for term in text.split() or [""]:
        m = _TERM.fullmatch(term)
        if m is None:
            raise ValueError(f"not an offset such as '-2d +3h': {text!r}")
        total += (-1 if m[1] == "-" else 1) * int(m[2]) * _UNIT[m[3]]
    return total


@dataclass(frozen=True, slots=True)
class DemoDowntime:
    """One demo downtime; demo.toml's header says what each field means."""

    site: str
    services: tuple[str, ...]
    severity: Severity
    start: timedelta
    duration: timedelta
    description: str
    declared: timedelta | None = None  # None: now, through declare_downtime
    endpoints: tuple[str, ...] = ()
    ended: Mapping[str, timedelta] = field(default_factory=dict)  # host label -> when


@functools.cache
def demo_downtimes() -> tuple[DemoDowntime, ...]:
    """demo.toml, read once."""
    raw = load(__package__, "demo.toml")
    expect(raw, ("downtimes",), where="demo.toml")
    return tuple(
        record(
            DemoDowntime,
            d,
            where=f"demo downtime {i + 1} ({d.get('site')})",
            services=tuple,
            severity=Severity,
            start=offset,
            duration=offset,
            declared=offset,
            endpoints=tuple,
            ended=lambda ended: {label: offset(at) for label, at in ended.items()},
        )
        for i, d in enumerate(raw["downtimes"])
    )


class _SiteService(NamedTuple):
    service_id: int
    site_id: int
    label: str  # of its host: ce01 for ce01.<domain>
    type_name: str


@dataclass(frozen=True, slots=True)
class _Resolved:
    """What one demo downtime names, as ids."""

    site_id: int
    service_ids: list[int]
    by_label: dict[str, list[int]]  # host label -> its service ids
    endpoint_ids: list[int]  # the chosen endpoints


def _site_services(session: Session, short_names: Sequence[str]) -> dict[str, list[_SiteService]]:
    """site short name -> its services, by id."""
    rows = session.execute(
        select(
            T_SITE.c.short_name,
            T_SERVICE.c.id,
            T_SERVICE.c.site_id,
            T_SERVICE.c.host_name,
            T_SERVICE_TYPE.c.name,
        )
        .join(T_SERVICE, T_SERVICE.c.site_id == T_SITE.c.id)
        .join(T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id)
        .where(T_SITE.c.short_name.in_(list(short_names)))
        .order_by(T_SERVICE.c.id)
    ).all()
    out: dict[str, list[_SiteService]] = defaultdict(list)
    for short_name, service_id, site_id, host, type_name in rows:
        label = host.split(".", 1)[0]
        out[short_name].append(_SiteService(int(service_id), int(site_id), label, type_name))
    return out


def _resolve(session: Session, demo: DemoDowntime, services: list[_SiteService]) -> _Resolved:
    chosen: list[int] = []
    by_label: dict[str, list[int]] = defaultdict(list)
    for spec in demo.services:
        label, _, type_name = spec.partition("/")
        matched = [
            s.service_id
            for s in services
            if s.label == label and (not type_name or s.type_name == type_name)
        ]
        if not matched:
            raise LookupError(f"demo downtime at {demo.site}: no service {spec!r}")
        for service_id in matched:
            if service_id not in chosen:
                chosen.append(service_id)
                by_label[label].append(service_id)
    endpoints: list[int] = []
    for spec in demo.endpoints:
        label, _, name = spec.partition(":")
        found = session.execute(
            select(T_ENDPOINT.c.id)
            .where(T_ENDPOINT.c.service_id.in_(by_label.get(label, [])), T_ENDPOINT.c.name == name)
            .order_by(T_ENDPOINT.c.id)
        ).scalars()
        ids = [int(i) for i in found]
        if not ids:
            raise LookupError(f"demo downtime at {demo.site}: no endpoint {spec!r}")
        endpoints.extend(ids)
    return _Resolved(services[0].site_id, chosen, by_label, endpoints)


def _insert_historic(
    session: Session,
    demo: DemoDowntime,
    resolved: _Resolved,
    *,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> None:
    assert demo.declared is not None
    declared_at = now + demo.declared
    assert starts_at >= declared_at - rules.MAX_PAST_START, demo
    rules.check_description(demo.description)
    downtime_id = int(
        session.execute(
            insert(T_DOWNTIME).returning(T_DOWNTIME.c.id),
            {
                "site_id": resolved.site_id,
                "severity": demo.severity,
                "classification": rules.classify(starts_at, declared_at),
                "description": demo.description,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "declared_at": declared_at,
                "updated_at": declared_at,
                "declared_by": audit.actor_of(PLATFORM),
                "started_notified": starts_at <= now,
                "ended_notified": ends_at <= now,
            },
        ).scalar_one()
    )
    session.execute(
        update(T_DOWNTIME)
        .where(T_DOWNTIME.c.id == downtime_id)
        .values(primary_key=legacy_key(downtime_id))
    )
    owners = dict(
        session.execute(
            select(T_ENDPOINT.c.id, T_ENDPOINT.c.service_id).where(
                T_ENDPOINT.c.id.in_(resolved.endpoint_ids)
            )
        ).all()
    )
    partial = {int(s) for s in owners.values()}
    ended: dict[int, datetime] = {}
    for label, moment in demo.ended.items():
        for service_id in resolved.by_label[label]:
            ended[service_id] = now + moment
    session.execute(
        insert(T_DT_SERVICE),
        [
            {
                "downtime_id": downtime_id,
                "service_id": service_id,
                "all_endpoints": service_id not in partial,
                "ended_at": ended.get(service_id),
            }
            for service_id in resolved.service_ids
        ],
    )
    if resolved.endpoint_ids:
        session.execute(
            insert(T_DT_ENDPOINT),
            [{"downtime_id": downtime_id, "endpoint_id": e} for e in resolved.endpoint_ids],
        )


def seed_demo_downtimes(session: Session, *, now: datetime | None = None) -> int:
    """Write the demo downtimes over the federation of `seed_demo` (deterministic given
    `now`) and flush them. Returns how many were written."""
    now = now or utcnow()
    rules.check_aware("now", now)
    hour = now.replace(minute=0, second=0, microsecond=0)
    demos = demo_downtimes()
    services = _site_services(session, sorted({d.site for d in demos}))
    missing = sorted({d.site for d in demos} - set(services))
    if missing:
        raise LookupError(f"demo downtimes need the demo federation: no site {missing[0]}")
    for demo in demos:
        resolved = _resolve(session, demo, services[demo.site])
        starts_at = hour + demo.start
        ends_at = starts_at + demo.duration
        if demo.declared is None:
            if demo.ended:
                raise ValueError("a partial ending is written only for historic downtimes")
            declare_downtime(
                session,
                PLATFORM,
                declaration=Declaration(
                    service_ids=resolved.service_ids,
                    endpoint_ids=resolved.endpoint_ids,
                    severity=demo.severity,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    description=demo.description,
                ),
                now=now,
            )
        else:
            _insert_historic(
                session,
                demo,
                resolved,
                starts_at=starts_at,
                ends_at=ends_at,
                now=now,
            )
    session.flush()
    return len(demos)
