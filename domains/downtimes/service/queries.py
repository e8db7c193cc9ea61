"""Downtime reads: the filtered lists and pages, one downtime, the batched look-ups the
loaders and feeds make, and the caller's own sites. Downtimes are public, as GOCDB's
get_downtime is: anyone may read them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domains.common.authz import Caller, authorize, can
from domains.common.identity import Principal
from domains.common.pagination import PageRequest
from domains.common.query import Record, RecordPage, in_ids, keyset_page
from domains.common.scopes import ScopeDefaults
from domains.common.time import bounding, changing_at, utcnow
from domains.downtimes.service.filters import DowntimeFilter, downtime_conditions
from domains.downtimes.service.tables import (
    DOWNTIME_COLUMNS,
    T_DOWNTIME,
    T_DT_ENDPOINT,
    T_DT_SERVICE,
)
from domains.identity import service as identity
from domains.topology import ownership
from domains.topology import service as topology
from domains.topology.rules import Action
from domains.topology.service import T_SITE


def list_downtimes(
    session: Session,
    principal: Principal,
    *,
    filter: DowntimeFilter,
    page: PageRequest,
    scope_defaults: ScopeDefaults,
    now: datetime | None = None,
) -> RecordPage:
    """Downtimes are public, as GOCDB's get_downtime is: anyone may read them."""
    now = now or utcnow()
    conditions = downtime_conditions(filter, scope_defaults=scope_defaults, now=now)
    _bound(session, filter, now)
    return keyset_page(session, select(*T_DOWNTIME.c).where(*conditions), T_DOWNTIME.c.id, page)


def _bound(session: Session, filter: DowntimeFilter, now: datetime) -> None:
    """The `ongoing` and `upcoming` conditions change only when `now` reaches a start or an
    end: a cached answer filtered on them expires at the first still ahead, taken over all
    downtimes (ix_downtime_window, ix_downtime_ends_at; sooner than the list's own is safe)."""
    if (filter.ongoing is None and filter.upcoming is None) or not bounding():
        return
    d = T_DOWNTIME.c
    starts = select(func.min(d.starts_at)).where(d.starts_at > now).scalar_subquery()
    if filter.ongoing is None:  # `upcoming` reads the start alone
        changing_at(now, [session.execute(select(starts)).scalar_one_or_none()])
        return
    ends = select(func.min(d.ends_at)).where(d.ends_at > now).scalar_subquery()
    changing_at(now, session.execute(select(starts, ends)).one())


def iter_downtimes(
    session: Session,
    principal: Principal,
    *,
    filter: DowntimeFilter,
    scope_defaults: ScopeDefaults,
    now: datetime | None = None,
    limit: int,
) -> list[Record]:
    """At most `limit` downtimes, by start then id (the feeds' order)."""
    conditions = downtime_conditions(filter, scope_defaults=scope_defaults, now=now or utcnow())
    stmt = (
        select(*T_DOWNTIME.c)
        .where(*conditions)
        .order_by(T_DOWNTIME.c.starts_at, T_DOWNTIME.c.id)
        .limit(limit)
    )
    return list(session.execute(stmt).all())


def get_downtime(
    session: Session,
    principal: Principal,
    *,
    downtime_id: int | None = None,
    primary_key: str | None = None,
) -> Record | None:
    stmt = select(*T_DOWNTIME.c)
    if downtime_id is not None:
        stmt = stmt.where(T_DOWNTIME.c.id == downtime_id)
    if primary_key is not None:
        stmt = stmt.where(T_DOWNTIME.c.primary_key == primary_key)
    return session.execute(stmt).first()


_BY_ID = select(*T_DOWNTIME.c).where(in_ids(T_DOWNTIME.c.id)).order_by(T_DOWNTIME.c.id)
_LINKS = (
    select(*T_DT_SERVICE.c)
    .where(in_ids(T_DT_SERVICE.c.downtime_id))
    .order_by(T_DT_SERVICE.c.downtime_id, T_DT_SERVICE.c.service_id)
)
_ENDPOINT_LINKS = (
    select(*T_DT_ENDPOINT.c)
    .where(in_ids(T_DT_ENDPOINT.c.downtime_id))
    .order_by(T_DT_ENDPOINT.c.downtime_id, T_DT_ENDPOINT.c.endpoint_id)
)
_OF_SITES = (
    select(*T_DOWNTIME.c)
    .where(in_ids(T_DOWNTIME.c.site_id))
    .order_by(T_DOWNTIME.c.starts_at, T_DOWNTIME.c.id)
)
_OF_SERVICES = (
    select(
        *T_DOWNTIME.c,
        T_DT_SERVICE.c.service_id.label("service_id"),
        T_DT_SERVICE.c.ended_at.label("service_ended_at"),
    )
    .join(T_DT_SERVICE, T_DT_SERVICE.c.downtime_id == T_DOWNTIME.c.id)
    .where(in_ids(T_DT_SERVICE.c.service_id))
    .order_by(T_DOWNTIME.c.starts_at, T_DOWNTIME.c.id)
)


def _grouped(rows: Iterable[Any], position: int) -> dict[int, list[Record]]:
    out: dict[int, list[Record]] = defaultdict(list)
    for row in rows:
        out[row[position]].append(row)
    return out


def downtimes_by_id(
    session: Session, principal: Principal, ids: Sequence[int]
) -> dict[int, Record]:
    return {row[0]: row for row in session.execute(_BY_ID, {"ids": list(ids)}).all()}


def service_links(
    session: Session, principal: Principal, downtime_ids: Sequence[int]
) -> dict[int, list[Record]]:
    """downtime id -> its (downtime_id, service_id, all_endpoints, ended_at) rows."""
    return _grouped(session.execute(_LINKS, {"ids": list(downtime_ids)}).all(), 0)


def endpoint_links(
    session: Session, principal: Principal, downtime_ids: Sequence[int]
) -> dict[int, list[int]]:
    rows = session.execute(_ENDPOINT_LINKS, {"ids": list(downtime_ids)}).all()
    return {k: [int(r.endpoint_id) for r in v] for k, v in _grouped(rows, 0).items()}


def downtimes_of_sites(
    session: Session, principal: Principal, site_ids: Sequence[int]
) -> dict[int, list[Record]]:
    """site id -> its downtimes, by start."""
    position = DOWNTIME_COLUMNS.index("site_id")
    return _grouped(session.execute(_OF_SITES, {"ids": list(site_ids)}).all(), position)


def downtimes_of_services(
    session: Session, principal: Principal, service_ids: Sequence[int]
) -> dict[int, list[Record]]:
    """service id -> the downtimes affecting it, by start, each row with the service's own
    `service_id` and `service_ended_at` (partial ending) after the downtime's columns."""
    rows = session.execute(_OF_SERVICES, {"ids": list(service_ids)}).all()
    return _grouped(rows, len(DOWNTIME_COLUMNS))


def site_ids_with_roles(session: Session, principal: Principal) -> list[int]:
    """ "My sites": the sites on which the caller holds a granted role, directly or through
    their NGI (the personal feeds)."""
    authorize(session, principal, Caller.SIGNED_IN)
    if principal.user_id is None:
        return []
    site_ids: set[int] = set()
    ngi_ids: set[int] = set()
    for role in identity.granted_roles(session, principal.user_id):
        if role.entity_type.value == "site":
            site_ids.add(role.entity_id)
        elif role.entity_type.value == "ngi":
            ngi_ids.add(role.entity_id)
    if ngi_ids:
        site_ids.update(
            session.execute(select(T_SITE.c.id).where(T_SITE.c.ngi_id.in_(ngi_ids))).scalars()
        )
    return sorted(site_ids)


def declarable_sites(session: Session, principal: Principal, *, page: PageRequest) -> RecordPage:
    """The sites on which the caller may declare a downtime, ordered by id: those where
    `declare_downtime` would not refuse them, asked of the same policy (EDIT_OBJECT on the
    site, `can`). A superuser gets every site; anyone else the sites under their granted
    roles (a few look-ups), each then decided by the policy; the anonymous caller none."""
    if principal.is_anonymous:
        return topology.list_sites_among(session, principal, site_ids=(), page=page)
    allowed: list[int] | None = None
    if not principal.is_superuser:
        held = (
            []
            if principal.user_id is None
            else [
                (role.entity_type.value, role.entity_id)
                for role in identity.granted_roles(session, principal.user_id)
            ]
        )
        allowed = [
            site_id
            for site_id, ngi_id in ownership.sites_under(session, held)
            if can(
                session,
                principal,
                Action.EDIT_OBJECT,
                ownership.site_ref(session, site_id, ngi_id),
            )
        ]
    return topology.list_sites_among(session, principal, site_ids=allowed, page=page)
