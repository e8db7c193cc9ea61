"""The ownership tree: what is above an entity, and its name. Reads only; the policy of
topology's actions (rules.py) walks it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Column, Table, false, or_, select
from sqlalchemy.orm import Session

from domains.common.db import reader_memo
from domains.topology.models import Ngi, Project, ProjectNgi, Service, ServiceGroup, Site

T_PROJECT: Table = Project.__table__  # type: ignore[attr-defined]
T_NGI: Table = Ngi.__table__  # type: ignore[attr-defined]
T_PROJECT_NGI: Table = ProjectNgi.__table__  # type: ignore[attr-defined]
T_SITE: Table = Site.__table__  # type: ignore[attr-defined]
T_SERVICE: Table = Service.__table__  # type: ignore[attr-defined]
T_GROUP: Table = ServiceGroup.__table__  # type: ignore[attr-defined]

Ref = tuple[str, int]


class EntityRef(NamedTuple):
    """What an action of topology's `Action` enum is on, as `authorize` is given it: a kind
    (project, ngi, site, service, service_group) and a database id. A reference rather than
    the row, so that a caller without the right is refused before the entity is looked up
    (Forbidden, not NotFound) and callers holding only an id need not load the row."""

    kind: str
    id: int


_NAME_COLUMNS: dict[str, tuple[Column[int], Column[str]]] = {
    "project": (T_PROJECT.c.id, T_PROJECT.c.name),
    "ngi": (T_NGI.c.id, T_NGI.c.name),
    "site": (T_SITE.c.id, T_SITE.c.short_name),
    "service_group": (T_GROUP.c.id, T_GROUP.c.name),
}


def owned_kinds() -> tuple[str, ...]:
    return tuple(_NAME_COLUMNS)


def chain(session: Session, kind: str, entity_id: int) -> list[Ref]:
    """The entity and everything above it: site -> NGI -> projects; a service counts as its
    site (nobody holds a role over a service). Empty if the entity does not exist. A reader
    walks each entity's chain once per request (`reader_memo`)."""
    memo = reader_memo(session, "ownership_chain")
    if memo is None:
        return _chain(session, kind, entity_id)
    key = (kind, entity_id)
    if key not in memo:
        memo[key] = tuple(_chain(session, kind, entity_id))
    return list(memo[key])


def site_ref(session: Session, site_id: int, ngi_id: int) -> EntityRef:
    """A site whose NGI the caller has read already (a GraphQL Site): its reference; a
    reader remembers the NGI, so that walking the site's chain asks nothing of the database
    (a page of five hundred sites' `viewerCan…` fields then asks nothing per site)."""
    known = reader_memo(session, "site_ngi")
    if known is not None:
        known[site_id] = ngi_id
    return EntityRef("site", site_id)


def _ngis(session: Session) -> dict[int, tuple[int, ...]] | None:
    """A reader's every NGI with its projects, read once per request (NGIs are few)."""
    memo = reader_memo(session, "ngi_projects")
    if memo is None:
        return None
    if not memo:
        memo[None] = True  # read, even if there is no NGI
        rows = session.execute(
            select(T_NGI.c.id, T_PROJECT_NGI.c.project_id)
            .outerjoin(T_PROJECT_NGI, T_PROJECT_NGI.c.ngi_id == T_NGI.c.id)
            .order_by(T_NGI.c.id, T_PROJECT_NGI.c.project_id)
        )
        for ngi_id, project_id in rows:
            projects = memo.setdefault(ngi_id, ())
            if project_id is not None:
                memo[ngi_id] = (*projects, project_id)
    return memo


def _chain(session: Session, kind: str, entity_id: int) -> list[Ref]:
    if kind == "service":
        site_id = session.execute(
            select(T_SERVICE.c.site_id).where(T_SERVICE.c.id == entity_id)
        ).scalar_one_or_none()
        return [] if site_id is None else chain(session, "site", site_id)
    if kind == "site":
        known = reader_memo(session, "site_ngi") or {}
        ngi_id = (
            known.get(entity_id)
            or session.execute(
                select(T_SITE.c.ngi_id).where(T_SITE.c.id == entity_id)
            ).scalar_one_or_none()
        )
        return [] if ngi_id is None else [("site", entity_id), *chain(session, "ngi", ngi_id)]
    if kind == "ngi":
        ngis = _ngis(session)
        if ngis is not None:
            found = ngis.get(entity_id)
            return [] if found is None else [("ngi", entity_id), *(("project", p) for p in found)]
        if name_of(session, "ngi", entity_id) is None:
            return []
        projects = session.execute(
            select(T_PROJECT_NGI.c.project_id).where(T_PROJECT_NGI.c.ngi_id == entity_id)
        ).scalars()
        return [("ngi", entity_id), *(("project", p) for p in projects)]
    if kind in ("project", "service_group"):
        return [] if name_of(session, kind, entity_id) is None else [(kind, entity_id)]
    raise ValueError(f"unknown entity kind {kind!r}")


def name_of(session: Session, kind: str, entity_id: int) -> str | None:
    id_column, name_column = _NAME_COLUMNS[kind]
    value = session.execute(select(name_column).where(id_column == entity_id)).scalar_one_or_none()
    return None if value is None else str(value)


def id_of(session: Session, kind: str, name: str) -> int | None:
    id_column, name_column = _NAME_COLUMNS[kind]
    value = session.execute(select(id_column).where(name_column == name)).scalar_one_or_none()
    return None if value is None else int(value)


def projects_of_ngis(session: Session) -> dict[int, frozenset[int]]:
    """NGI id -> its projects (NGIs are few; callers cache this per request)."""
    out: dict[int, set[int]] = {}
    rows = session.execute(select(T_PROJECT_NGI.c.ngi_id, T_PROJECT_NGI.c.project_id))
    for ngi_id, project_id in rows:
        out.setdefault(ngi_id, set()).add(project_id)
    return {k: frozenset(v) for k, v in out.items()}


def sites_under(session: Session, held: Iterable[Ref]) -> list[tuple[int, int]]:
    """The sites (id, NGI id) at or below any of `held` (a site itself, an NGI's sites, a
    project's NGIs' sites; a service group has none), ordered by id: where a role held over
    those entities can reach a site."""
    by_kind: dict[str, set[int]] = {"site": set(), "ngi": set(), "project": set()}
    for kind, entity_id in held:
        if kind in by_kind:
            by_kind[kind].add(entity_id)
    ngis_of_projects = select(T_PROJECT_NGI.c.ngi_id).where(
        T_PROJECT_NGI.c.project_id.in_(by_kind["project"])
    )
    reached = [
        *([T_SITE.c.id.in_(by_kind["site"])] if by_kind["site"] else []),
        *([T_SITE.c.ngi_id.in_(by_kind["ngi"])] if by_kind["ngi"] else []),
        *([T_SITE.c.ngi_id.in_(ngis_of_projects)] if by_kind["project"] else []),
    ]
    rows = session.execute(
        select(T_SITE.c.id, T_SITE.c.ngi_id)
        .where(or_(*reached) if reached else false())
        .order_by(T_SITE.c.id)
    )
    return [(int(site_id), int(ngi_id)) for site_id, ngi_id in rows]
