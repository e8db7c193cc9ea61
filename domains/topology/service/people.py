"""People as GOCDB's programmatic interface shows them: users with their granted roles
(`get_user`) and who holds roles over service groups (`get_service_group_role`). Both are
personal data: only callers GOCDB lets read it (protection level 3) get an answer, and they
get what GOCDB renders, nothing more. A page costs a fixed number of statements, whatever
the number of users or roles on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, exists, literal, or_, select, union_all
from sqlalchemy.orm import Session

from domains.common.errors import Forbidden
from domains.common.identity import Principal
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage, keyset_page, like
from domains.identity.models import EntityKind, Role, RoleStatus, User, UserIdentity
from domains.topology import ownership
from domains.topology.service.pi import PiLevel, pi_refusal
from domains.topology.service.reads import T_GROUP, T_NGI, T_PROJECT, T_SITE

T_USER: Table = User.__table__  # type: ignore[attr-defined]
T_IDENTITY: Table = UserIdentity.__table__  # type: ignore[attr-defined]
T_ROLE: Table = Role.__table__  # type: ignore[attr-defined]

X509 = "X.509"  # the issuer of a user identity whose subject is a certificate DN


@dataclass(frozen=True, slots=True)
class UserFilter:
    """GOCDB's get_user parameters: `dn` and `dnlike` (each a LIKE pattern over the user's
    identities and subject), `forename`, `surname` (LIKE), `roletype` (any of these)."""

    dn_patterns: tuple[str, ...] = ()
    forename_like: str | None = None
    surname_like: str | None = None
    role_types: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class RoleOnEntity:
    """A granted role as get_user shows it: the entity's name, kind and GOCDB key, and the
    projects in which the role is recognised."""

    role_type: str
    entity_kind: str
    entity_name: str
    entity_key: str
    projects: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    subject: str
    forename: str | None
    surname: str | None
    title: str | None
    email: str | None
    telephone: str | None
    working_hours_start: str | None
    working_hours_end: str | None
    dn: str | None
    home_site: str | None
    roles: tuple[RoleOnEntity, ...]


@dataclass(frozen=True, slots=True)
class GroupRoleHolder:
    """Who holds a role over a service group, as get_service_group_role shows them."""

    user_id: int
    forename: str | None
    surname: str | None
    dn: str | None
    role_type: str


def authorize_personal_data(
    session: Session, principal: Principal, *, restrict_personal_data: bool
) -> None:
    """Forbidden unless the principal may read GOCDB's personal data (PI level 3)."""
    refusal = pi_refusal(
        session,
        principal,
        PiLevel.PERSONAL_DATA,
        restrict_personal_data=restrict_personal_data,
    )
    if refusal is not None:
        raise Forbidden(refusal)


def _dns(session: Session, user_ids: Sequence[int]) -> dict[int, str]:
    """Each user's certificate DN (their X.509 identity), where they have one."""
    rows = session.execute(
        select(T_IDENTITY.c.user_id, T_IDENTITY.c.subject)
        .where(T_IDENTITY.c.user_id.in_(list(user_ids)), T_IDENTITY.c.issuer == X509)
        .order_by(T_IDENTITY.c.id)
    )
    out: dict[int, str] = {}
    for user_id, subject in rows:
        out.setdefault(user_id, subject)
    return out


def _user_clause(filter: UserFilter) -> list[Any]:
    clauses: list[Any] = []
    for pattern in filter.dn_patterns:
        by_identity = exists(
            select(1).where(
                T_IDENTITY.c.user_id == T_USER.c.id, like(T_IDENTITY.c.subject, pattern)
            )
        )
        clauses.append(or_(like(T_USER.c.subject, pattern), by_identity))
    if filter.forename_like is not None:
        clauses.append(like(T_USER.c.forename, filter.forename_like))
    if filter.surname_like is not None:
        clauses.append(like(T_USER.c.surname, filter.surname_like))
    if filter.role_types is not None:
        clauses.append(
            exists(
                select(1).where(
                    T_ROLE.c.user_id == T_USER.c.id,
                    T_ROLE.c.status == RoleStatus.GRANTED,
                    T_ROLE.c.role_type.in_(list(filter.role_types)),
                )
            )
        )
    return clauses


def _entities(session: Session, roles: Sequence[Any]) -> dict[tuple[str, int], tuple[str, str]]:
    """(kind, id) -> (name, GOCDB key) of the entities the roles are over: one statement
    (a union over the four kinds) for any number of roles."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for role in roles:
        wanted[role.entity_type.value].add(role.entity_id)
    parts = [
        select(
            literal(kind).label("kind"), table.c.id, name.label("name"), table.c.primary_key
        ).where(table.c.id.in_(sorted(wanted[kind])))
        for kind, (table, name) in {
            "site": (T_SITE, T_SITE.c.short_name),
            "ngi": (T_NGI, T_NGI.c.name),
            "project": (T_PROJECT, T_PROJECT.c.name),
            "service_group": (T_GROUP, T_GROUP.c.name),
        }.items()
    ]
    out: dict[tuple[str, int], tuple[str, str]] = {}
    for kind, entity_id, entity_name, key in session.execute(union_all(*parts)):
        # GOCDB's keys: a site's own, an NGI's and a project's id, a group's id + "G0"
        gocdb_key = {"site": key or "", "service_group": f"{entity_id}G0"}.get(kind, str(entity_id))
        out[(kind, int(entity_id))] = (str(entity_name), gocdb_key)
    return out


def _projects_of(
    session: Session, roles: Sequence[Any]
) -> Callable[[str, int], tuple[tuple[int, str], ...]]:
    """Where a role over an entity is recognised: a project itself; an NGI's projects; a
    site's NGI's projects (a service group belongs to no project)."""
    site_ids = sorted({r.entity_id for r in roles if r.entity_type is EntityKind.SITE})
    ngi_of_site = dict(
        session.execute(select(T_SITE.c.id, T_SITE.c.ngi_id).where(T_SITE.c.id.in_(site_ids))).all()
    )
    names = dict(session.execute(select(T_PROJECT.c.id, T_PROJECT.c.name)).all())
    of_ngi = ownership.projects_of_ngis(session)

    def projects(kind: str, entity_id: int) -> tuple[tuple[int, str], ...]:
        if kind == "project":
            found: frozenset[int] = frozenset({entity_id})
        elif kind == "ngi":
            found = of_ngi.get(entity_id, frozenset())
        elif kind == "site" and entity_id in ngi_of_site:
            found = of_ngi.get(ngi_of_site[entity_id], frozenset())
        else:
            found = frozenset()
        return tuple((p, names[p]) for p in sorted(found) if p in names)

    return projects


def list_people(
    session: Session,
    principal: Principal,
    *,
    filter: UserFilter,
    page: PageRequest,
    restrict_personal_data: bool = True,
) -> RecordPage:
    """A page of users (ordered by id) as `Person`s, with their granted roles (only those
    of `filter.role_types` when given: GOCDB shows the roles it matched). Personal data:
    callers at PI level 3 only."""
    authorize_personal_data(session, principal, restrict_personal_data=restrict_personal_data)
    stmt = select(*T_USER.c).where(*_user_clause(filter))
    users = keyset_page(session, stmt, T_USER.c.id, page)
    ids = [row.id for row in users.items]
    role_query = (
        select(Role)
        .where(
            Role.user_id.in_(ids),  # type: ignore[attr-defined]
            Role.status == RoleStatus.GRANTED,  # type: ignore[arg-type]
        )
        .order_by(Role.id)  # type: ignore[arg-type]
    )
    if filter.role_types is not None:
        role_query = role_query.where(Role.role_type.in_(list(filter.role_types)))  # type: ignore[attr-defined]
    roles = list(session.execute(role_query).scalars()) if ids else []
    entities = _entities(session, roles)
    projects = _projects_of(session, roles)
    held: dict[int, list[RoleOnEntity]] = defaultdict(list)
    for role in roles:
        kind = role.entity_type.value
        if (kind, role.entity_id) not in entities:
            continue  # the entity is gone: nothing to show
        name, key = entities[(kind, role.entity_id)]
        held[role.user_id].append(
            RoleOnEntity(role.role_type, kind, name, key, projects(kind, role.entity_id))
        )
    dns = _dns(session, ids) if ids else {}
    home_ids = sorted({row.home_site_id for row in users.items if row.home_site_id is not None})
    homes = (
        dict(
            session.execute(
                select(T_SITE.c.id, T_SITE.c.short_name).where(T_SITE.c.id.in_(home_ids))
            ).all()
        )
        if home_ids
        else {}
    )
    people: list[Any] = [
        Person(
            id=row.id,
            subject=row.subject,
            forename=row.forename,
            surname=row.surname,
            title=row.title,
            email=row.email,
            telephone=row.telephone,
            working_hours_start=row.working_hours_start,
            working_hours_end=row.working_hours_end,
            dn=dns.get(row.id, row.subject),
            home_site=None if row.home_site_id is None else homes.get(row.home_site_id),
            roles=tuple(held.get(row.id, ())),
        )
        for row in users.items
    ]
    return RecordPage(
        items=people,
        has_next_page=users.has_next_page,
        has_previous_page=users.has_previous_page,
        _count=lambda: users.total_count,
    )


def group_role_holders(
    session: Session,
    principal: Principal,
    group_ids: Sequence[int],
    *,
    restrict_personal_data: bool = True,
) -> dict[int, list[GroupRoleHolder]]:
    """The granted roles over each service group, with their holders as GOCDB shows them
    (names and DN), ordered by role id; two statements for any number of groups."""
    authorize_personal_data(session, principal, restrict_personal_data=restrict_personal_data)
    if not group_ids:
        return {}
    rows = session.execute(
        select(
            T_ROLE.c.entity_id,
            T_ROLE.c.role_type,
            T_USER.c.id,
            T_USER.c.subject,
            T_USER.c.forename,
            T_USER.c.surname,
        )
        .join(T_USER, T_USER.c.id == T_ROLE.c.user_id)
        .where(
            and_(
                T_ROLE.c.entity_type == EntityKind.SERVICE_GROUP,
                T_ROLE.c.entity_id.in_(list(group_ids)),
                T_ROLE.c.status == RoleStatus.GRANTED,
            )
        )
        .order_by(T_ROLE.c.id)
    ).all()
    dns = _dns(session, sorted({row[2] for row in rows})) if rows else {}
    out: dict[int, list[GroupRoleHolder]] = defaultdict(list)
    for group_id, role_type, user_id, subject, forename, surname in rows:
        out[group_id].append(
            GroupRoleHolder(user_id, forename, surname, dns.get(user_id, subject), role_type)
        )
    return dict(out)


__all__ = [
    "X509",
    "GroupRoleHolder",
    "authorize_personal_data",
    "Person",
    "RoleOnEntity",
    "UserFilter",
    "group_role_holders",
    "list_people",
]
