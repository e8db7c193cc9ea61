"""Who may call GOCDB's programmatic interface (PI) read methods: its three protection
levels, decided here, in the service layer, as every other read's authorization is.

1 anyone; 2 any authenticated caller (OIDC token, API token, X.509 certificate); 3 a
platform administrator, a user holding a granted role, or a principal registered as some
site's API credential (GOCDB's READ_PERSONAL_DATA). With personal data unrestricted
(OPSGRAPH_RESTRICT_PERSONAL_DATA=false, GOCDB's `restrict_personal_data` off) level 3 is
level 2, as in GOCDB."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.identity import Principal
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage, keyset_page, like
from domains.common.scopes import ScopeDefaults, ScopeMatch, ScopeSelection
from domains.identity.models import EntityKind, Role, RoleStatus, User, UserIdentity
from domains.topology.filters import SiteLike
from domains.topology.service import credentials
from domains.topology.service.reads import (
    T_COUNTRY,
    T_PROJECT,
    T_SITE,
    scope_clause,
    site_like_clauses,
)

if TYPE_CHECKING:
    from domains.topology.roles import PersonalData

X509_ISSUER = "X.509"  # the issuer of a user's identity that is a certificate DN

# GOCDB's own words: its clients and their operators know them
NO_IDENTIFIER = (
    "No valid identifier found. Try accessing the resource through the private interface."
)
NOT_AUTHORISED = (
    "Authorisation required to read personal data (a granted role, or a site API credential, "
    "is needed). "
)


class PiLevel(enum.IntEnum):
    PUBLIC = 1
    AUTHENTICATED = 2
    PERSONAL_DATA = 3


def pi_refusal(
    session: Session, principal: Principal, level: PiLevel, *, restrict_personal_data: bool
) -> str | None:
    """None if `principal` may call a method of protection `level`, else GOCDB's reason."""
    if level is PiLevel.PUBLIC or principal.is_superuser:
        return None
    if principal.is_anonymous:
        return NO_IDENTIFIER
    if level is PiLevel.AUTHENTICATED or not restrict_personal_data:
        return None
    return None if reads_personal_data(session, principal) else NOT_AUTHORISED


def reads_personal_data(session: Session, principal: Principal) -> bool:
    """GOCDB's level 3: a granted role anywhere, or a site API credential."""
    from domains.topology import roles  # roles imports this package

    if roles.holds_any_role(session, principal):
        return True
    return credentials.has_any_site_credential(session, principal)


def site_count_per_country(
    session: Session, principal: Principal, *, like: SiteLike, scope: str | None
) -> list[tuple[str, int]]:
    """GOCDB's get_site_count_per_country: every country by name with the number of its
    sites matching the LIKE patterns and, if `scope` is given, carrying that scope with
    their NGI carrying it too (GOCDB's single-scope rule; no default scope here). Two
    statements whatever the number of sites."""
    stmt = (
        select(T_COUNTRY.c.name, func.count(T_SITE.c.id))
        .select_from(T_SITE.join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id))
        .where(*site_like_clauses(like))
        .group_by(T_COUNTRY.c.name)
    )
    if scope is not None:
        only = ScopeSelection(names=(scope,), match=ScopeMatch.ALL)
        defaults = ScopeDefaults()
        stmt = stmt.where(
            scope_clause("site", T_SITE.c.id, only, defaults),
            scope_clause("ngi", T_SITE.c.ngi_id, only, defaults),
        )
    counts = {str(name): int(count) for name, count in session.execute(stmt)}
    countries = session.execute(select(T_COUNTRY.c.name).order_by(T_COUNTRY.c.name)).scalars()
    return [(str(name), counts.get(str(name), 0)) for name in countries]


def ngi_site_counts(session: Session, principal: Principal, ngi_ids: list[int]) -> dict[int, int]:
    """The number of sites of each NGI, in one statement."""
    if not ngi_ids:
        return {}
    rows = session.execute(
        select(T_SITE.c.ngi_id, func.count(T_SITE.c.id))
        .where(T_SITE.c.ngi_id.in_(ngi_ids))
        .group_by(T_SITE.c.ngi_id)
    )
    return {int(ngi_id): int(count) for ngi_id, count in rows}


@dataclass(frozen=True, slots=True)
class Contact:
    """A holder of a granted role over a site, NGI or project, as GOCDB's contact lists
    show them."""

    entity_id: int
    user_id: int
    forename: str | None
    surname: str | None
    title: str | None
    email: str | None
    telephone: str | None
    working_hours_start: str | None
    working_hours_end: str | None
    certdn: str  # the X.509 DN linked to the user, else the user's subject
    role_type: str


def contacts_over(
    session: Session,
    personal: PersonalData,
    kind: EntityKind,
    entity_ids: Sequence[int],
    *,
    role_type: str | None = None,
    excluded: Collection[str] = (),
) -> dict[int, list[Contact]]:
    """The holders of granted roles over each site, NGI or project of `entity_ids` (of
    `role_type` only, if given; none of `excluded`), by role id, in one statement. Personal
    data: a caller whom `personal` does not let read an entity's contacts gets none for it."""
    if not entity_ids:
        return {}
    certdn = (
        select(func.min(col(UserIdentity.subject)))
        .where(col(UserIdentity.user_id) == col(User.id), col(UserIdentity.issuer) == X509_ISSUER)
        .scalar_subquery()
    )
    stmt = (
        select(Role.entity_id, Role.role_type, User, certdn)  # type: ignore[call-overload]
        .join(User, User.id == Role.user_id)
        .where(
            Role.entity_type == kind,
            col(Role.entity_id).in_(list(entity_ids)),
            Role.status == RoleStatus.GRANTED,
        )
        .order_by(Role.id)
    )
    if role_type is not None:
        stmt = stmt.where(Role.role_type == role_type)
    if excluded:
        stmt = stmt.where(col(Role.role_type).not_in(list(excluded)))
    ngi_of: dict[int, int] = {}
    if kind is EntityKind.SITE:
        ngi_of = {
            int(site_id): int(ngi_id)
            for site_id, ngi_id in session.execute(
                select(T_SITE.c.id, T_SITE.c.ngi_id).where(T_SITE.c.id.in_(list(entity_ids)))
            )
        }
    out: dict[int, list[Contact]] = {}
    for entity_id, role_name, user, dn in session.execute(stmt):
        if kind is EntityKind.PROJECT:
            visible = personal.may_read_unowned()
        else:
            visible = personal.may_read_ngi(
                ngi_of.get(entity_id, entity_id) if ngi_of else entity_id
            )
        if not visible:
            continue
        out.setdefault(int(entity_id), []).append(
            Contact(
                entity_id=int(entity_id),
                user_id=int(user.id),
                forename=user.forename,
                surname=user.surname,
                title=user.title,
                email=user.email,
                telephone=user.telephone,
                working_hours_start=user.working_hours_start,
                working_hours_end=user.working_hours_end,
                certdn=str(dn or user.subject),
                role_type=str(role_name),
            )
        )
    return out


def list_projects_like(
    session: Session, principal: Principal, *, page: PageRequest, name_like: str | None
) -> RecordPage:
    """Projects by id, those whose name matches the SQL LIKE pattern if one is given
    (GOCDB's `project`)."""
    stmt = select(*T_PROJECT.c)
    if name_like is not None:
        stmt = stmt.where(like(T_PROJECT.c.name, name_like))
    return keyset_page(session, stmt, T_PROJECT.c.id, page)


def used_credentials(session: Session, principal: Principal) -> list[int]:
    """The site API credentials registered under the caller's identifiers: a level 3 call
    counts as their use (GOCDB's PI records it; the unused-credential job reads it)."""
    identifiers = credentials.api_identifiers(principal)
    if not identifiers:
        return []
    table = credentials.T_CREDENTIAL
    rows = session.execute(select(table.c.id).where(table.c.identifier.in_(identifiers)))
    return [int(credential_id) for credential_id in rows.scalars()]


def note_credentials_used(session: Session, credential_ids: Sequence[int]) -> None:
    for credential_id in credential_ids:
        credentials.note_credential_use(session, credential_id)


def pi_personal_data(session: Session, principal: Principal, *, restricted: bool) -> PersonalData:
    """Which contacts a PI caller reads: as in the GraphQL API, except that a caller
    registered as a site API credential reads them all, as GOCDB's PI shows personal data
    to such credentials."""
    from domains.topology.roles import PersonalData  # roles imports this package

    if restricted and credentials.has_any_site_credential(session, principal):
        restricted = False
    return PersonalData(session, principal, restricted=restricted)
