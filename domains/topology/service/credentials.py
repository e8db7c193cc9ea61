"""Site API credentials, after GOCDB's APIAuthentication: the identifiers (an X.509 DN or an
OIDC subject) that may use the programmatic interface on a site's behalf, managed by those
who may edit the site. The gateway asks which of a caller's identifiers are registered
(`site_credentials_for`, `has_any_site_credential`) and notes their use; a periodic job
flags the ones left unused (`flag_unused_credentials`); role revocation asks which
credentials it would orphan (`orphaned_credential_sites`).

Changes are audited on the site (entity type `site`), as its extension properties are, so
that the site's change log shows them and they outlive a deleted credential."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, exists, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common import audit
from domains.common.authz import authorize, can
from domains.common.errors import Invalid, NotFound
from domains.common.identity import PLATFORM, Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.identity.models import EntityKind, Role, RoleStatus, User
from domains.topology.models import (
    MAX_CREDENTIAL_IDENTIFIER_LENGTH,
    CredentialKind,
    Site,
    SiteApiCredential,
)
from domains.topology.ownership import EntityRef
from domains.topology.rules import Action, TopologyRule
from domains.topology.service.writes.checks import check_length

T_CREDENTIAL: Table = SiteApiCredential.__table__  # type: ignore[attr-defined]

# A DN in OpenSSL's slash form: `/attr=value` components (attribute names of letters, digits
# and dots); a value may go on with `/`-separated parts that hold no `=` (robot DNs such as
# `/CN=robot/host.example.org`), as GOCDB admits them.
X509_DN_RE = re.compile(r"^(/[A-Za-z][A-Za-z0-9.]*=[^/=\s][^/=]*(/[^/=]+)*)+$")
_FIELDS = ("identifier", "kind", "allow_write")


# --- who a caller is, as a credential ----------------------------------------------------


def api_identifiers(principal: Principal) -> tuple[str, ...]:
    """The identifiers a caller can be registered under: the verified client DN (GOCDB's
    `X.509` type) and the caller's subject (`OIDC Subject`). An unlinked certificate's
    principal has its DN as subject too: it counts once."""
    found: list[str] = []
    if principal.client_dn:
        found.append(principal.client_dn)
    if principal.subject and not principal.is_platform and principal.subject not in found:
        found.append(principal.subject)
    return tuple(found)


def site_credentials_for(
    session: Session, principal: Principal, *, site_id: int
) -> list[SiteApiCredential]:
    """The credentials of the site registered under one of the caller's identifiers."""
    identifiers = api_identifiers(principal)
    if not identifiers:
        return []
    return list(
        session.execute(
            select(SiteApiCredential)
            .where(
                col(SiteApiCredential.site_id) == site_id,
                col(SiteApiCredential.identifier).in_(identifiers),
            )
            .order_by(col(SiteApiCredential.id))
        ).scalars()
    )


def presents(principal: Principal, credential: SiteApiCredential) -> bool:
    """Whether the caller presented the credential's identifier as its kind: the DN of the
    caller's certificate for an X.509 one, the subject of the caller's token for an OIDC
    one (an unlinked certificate's subject is its DN, not a token's subject)."""
    if credential.kind is CredentialKind.X509:
        return credential.identifier == principal.client_dn
    token_subject = principal.subject if principal.subject != principal.client_dn else None
    return credential.identifier == token_subject


def writing_credentials(session: Session, principal: Principal) -> list[SiteApiCredential]:
    """The caller's credentials, at any site, that allow writing and that the caller
    presented as their kind (`presents`)."""
    identifiers = api_identifiers(principal)
    if not identifiers:
        return []
    found = session.execute(
        select(SiteApiCredential)
        .where(
            col(SiteApiCredential.identifier).in_(identifiers),
            col(SiteApiCredential.allow_write).is_(True),
        )
        .order_by(col(SiteApiCredential.id))
    ).scalars()
    return [credential for credential in found if presents(principal, credential)]


def has_any_site_credential(session: Session, principal: Principal) -> bool:
    """Whether one of the caller's identifiers is registered at some site (GOCDB's
    protection level 3 admits such callers)."""
    identifiers = api_identifiers(principal)
    if not identifiers:
        return False
    return bool(
        session.execute(
            select(exists().where(T_CREDENTIAL.c.identifier.in_(identifiers)))
        ).scalar_one()
    )


def note_credential_use(session: Session, credential_id: int) -> None:
    """The credential was used just now: its last use, and it is no longer flagged unused."""
    session.execute(
        T_CREDENTIAL.update()
        .where(T_CREDENTIAL.c.id == credential_id)
        .values(last_used_at=utcnow(), unused_flagged_at=None)
    )


# --- management by those who may edit the site -------------------------------------------


def _validate(identifier: str, kind: CredentialKind) -> None:
    if not identifier or not identifier.strip():
        raise Invalid("identifier", TopologyRule.API_CREDENTIAL_IDENTIFIER_EMPTY)
    check_length("identifier", identifier, MAX_CREDENTIAL_IDENTIFIER_LENGTH)
    if kind is CredentialKind.X509 and not X509_DN_RE.match(identifier):
        raise Invalid("identifier", TopologyRule.API_CREDENTIAL_DN_MALFORMED)
    if kind is CredentialKind.OIDC_SUBJECT and re.search(r"\s", identifier):
        raise Invalid("identifier", TopologyRule.API_CREDENTIAL_SUBJECT_MALFORMED)


def _check_unique(session: Session, site_id: int, identifier: str, other_than: int | None) -> None:
    stmt = select(T_CREDENTIAL.c.id).where(
        T_CREDENTIAL.c.site_id == site_id, T_CREDENTIAL.c.identifier == identifier
    )
    if other_than is not None:
        stmt = stmt.where(T_CREDENTIAL.c.id != other_than)
    if session.execute(stmt.limit(1)).first() is not None:
        raise Invalid(
            "identifier",
            TopologyRule.API_CREDENTIAL_TAKEN,
            "identifier: already registered as an API credential of this site",
        )


def _registered_user(principal: Principal) -> int:
    if principal.user_id is None:
        # the platform (seeding) or an unlinked certificate: nobody to own the credential
        raise Invalid(
            "identifier",
            TopologyRule.API_CREDENTIAL_OWNER_UNKNOWN,
            "a site API credential is owned by a registered user; sign in as one",
        )
    return principal.user_id


def _audit(
    session: Session,
    principal: Principal,
    verb: str,
    credential: SiteApiCredential,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    site = session.get(Site, credential.site_id)
    prefix = f"api_credential:{pk(credential)}:"
    changes = audit.diff(
        {prefix + k: v for k, v in before.items()}, {prefix + k: v for k, v in after.items()}
    )
    audit.record(
        session,
        principal,
        action=f"site.{verb}",
        entity_type="site",
        entity_id=credential.site_id,
        entity_name=site.short_name if site is not None else "",
        changes=changes,
    )


def _state(credential: SiteApiCredential) -> dict[str, Any]:
    return {name: getattr(credential, name) for name in (*_FIELDS, "user_id")}


def add_site_credential(
    session: Session,
    principal: Principal,
    *,
    site_id: int,
    identifier: str,
    kind: CredentialKind,
    allow_write: bool = False,
    owner_id: int | None = None,
) -> SiteApiCredential:
    """Register an identifier for the site, owned by the caller (GOCDB: the user who adds
    it). `owner_id` is for the platform only (the demo seed)."""
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("site", site_id))
    if session.get(Site, site_id) is None:
        raise NotFound(f"site {site_id} does not exist")
    _validate(identifier, kind)
    owner = owner_id if owner_id is not None and principal.is_platform else None
    owner = owner if owner is not None else _registered_user(principal)
    _check_unique(session, site_id, identifier, None)
    now = utcnow()
    credential = SiteApiCredential(
        site_id=site_id,
        identifier=identifier,
        kind=kind,
        allow_write=allow_write,
        user_id=owner,
        created_at=now,
        last_renewed_at=now,
    )
    session.add(credential)
    session.flush()
    _audit(session, principal, "add_api_credential", credential, {}, _state(credential))
    return credential


def _credential_to_edit(
    session: Session, principal: Principal, credential_id: int
) -> SiteApiCredential:
    site_id = session.execute(
        select(T_CREDENTIAL.c.site_id).where(T_CREDENTIAL.c.id == credential_id)
    ).scalar_one_or_none()
    if site_id is None:
        raise NotFound(f"site API credential {credential_id} does not exist")
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("site", site_id))
    credential = session.get(SiteApiCredential, credential_id)
    assert credential is not None
    return credential


def update_site_credential(
    session: Session,
    principal: Principal,
    *,
    credential_id: int,
    identifier: str | None = None,
    kind: CredentialKind | None = None,
    allow_write: bool | None = None,
) -> SiteApiCredential:
    """Change a credential's identifier, kind or write permission. As in GOCDB, the editor
    becomes its owner, and a change of owner counts as a renewal."""
    credential = _credential_to_edit(session, principal, credential_id)
    new_identifier = credential.identifier if identifier is None else identifier
    new_kind = credential.kind if kind is None else kind
    _validate(new_identifier, new_kind)
    owner = _registered_user(principal)
    if new_identifier != credential.identifier:
        _check_unique(session, credential.site_id, new_identifier, credential_id)
    before = _state(credential)
    credential.identifier = new_identifier
    credential.kind = new_kind
    if allow_write is not None:
        credential.allow_write = allow_write
    if owner != credential.user_id:
        credential.user_id = owner
        credential.last_renewed_at = utcnow()
        credential.unused_flagged_at = None
    session.flush()
    if before != _state(credential):
        _audit(session, principal, "update_api_credential", credential, before, _state(credential))
    return credential


def renew_site_credential(
    session: Session, principal: Principal, *, credential_id: int
) -> SiteApiCredential:
    """GOCDB's "renew": the credential is still wanted. Its renewal time is now, the caller
    its owner, and an unused flag is lifted."""
    credential = _credential_to_edit(session, principal, credential_id)
    owner = _registered_user(principal)
    before = {**_state(credential), "last_renewed_at": credential.last_renewed_at}
    credential.user_id = owner
    credential.last_renewed_at = utcnow()
    credential.unused_flagged_at = None
    session.flush()
    after = {**_state(credential), "last_renewed_at": credential.last_renewed_at}
    _audit(session, principal, "renew_api_credential", credential, before, after)
    return credential


def delete_site_credential(session: Session, principal: Principal, *, credential_id: int) -> int:
    """Remove a credential; returns its id."""
    credential = _credential_to_edit(session, principal, credential_id)
    before = _state(credential)
    _audit(session, principal, "delete_api_credential", credential, before, {})
    session.delete(credential)
    session.flush()
    return credential_id


def credentials_visible(session: Session, principal: Principal, *, site_id: int) -> bool:
    """Whether the caller may see the site's credentials: those who may edit the site."""
    return can(session, principal, Action.EDIT_OBJECT, EntityRef("site", site_id))


@dataclass(frozen=True, slots=True)
class CredentialView:
    """A credential as the API shows it: the row and its owner's subject and name."""

    credential: SiteApiCredential
    owner_subject: str
    owner_name: str | None


def list_site_credentials(
    session: Session, principal: Principal, *, site_id: int
) -> list[CredentialView]:
    """The site's credentials, oldest first, for those who may edit the site."""
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("site", site_id))
    return credentials_by_site(session, [site_id]).get(site_id, [])


def _views(session: Session, *conditions: Any) -> list[CredentialView]:
    rows = session.execute(
        select(SiteApiCredential, col(User.subject), col(User.name))
        .join(User, col(User.id) == col(SiteApiCredential.user_id))
        .where(*conditions)
        .order_by(col(SiteApiCredential.id))
    ).all()
    return [CredentialView(row[0], row[1], row[2]) for row in rows]


def credentials_by_site(
    session: Session, site_ids: Collection[int]
) -> dict[int, list[CredentialView]]:
    """Every credential of the given sites (one statement), oldest first: the batch read
    behind `Site.apiCredentials`, whose callers decide visibility first."""
    found: dict[int, list[CredentialView]] = {}
    if not site_ids:
        return found
    for view in _views(session, col(SiteApiCredential.site_id).in_(list(site_ids))):
        found.setdefault(view.credential.site_id, []).append(view)
    return found


def credential_view(session: Session, credential_id: int) -> CredentialView | None:
    """One credential with its owner (no authorization: callers decide visibility)."""
    found = _views(session, col(SiteApiCredential.id) == credential_id)
    return found[0] if found else None


def get_site_credential(session: Session, credential_id: int) -> SiteApiCredential | None:
    return session.get(SiteApiCredential, credential_id)


# --- hygiene: credentials left unused ------------------------------------------------------


def flag_unused_credentials(session: Session, *, unused_since: datetime, batch: int = 500) -> int:
    """Flag the credentials neither used nor renewed since `unused_since` (a never-used one
    counts from its registration, which is its first renewal), and not flagged yet; each
    flag audited on its site. Claims its rows (FOR UPDATE SKIP LOCKED), at most `batch`;
    returns how many it flagged (0: nothing left to do)."""
    last_used = T_CREDENTIAL.c.last_used_at
    stmt = (
        select(SiteApiCredential)
        .where(
            col(SiteApiCredential.unused_flagged_at).is_(None),
            col(SiteApiCredential.last_renewed_at) < unused_since,
            or_(last_used.is_(None), last_used < unused_since),
        )
        .order_by(col(SiteApiCredential.id))
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    flagged = list(session.execute(stmt).scalars())
    now = utcnow()
    for credential in flagged:
        credential.unused_flagged_at = now
        session.flush()
        _audit(
            session,
            PLATFORM,
            "flag_unused_api_credential",
            credential,
            {"unused_flagged_at": None},
            {"unused_flagged_at": now},
        )
    return len(flagged)


# --- role revocation: credentials a revocation would orphan -----------------------------


def orphaned_credential_sites(session: Session, role: Role) -> dict[str, int]:
    """GOCDB's checkOrphanAPIAuth: revoking `role` (over a site or an NGI) is refused when
    its holder owns API credentials at the role's site, or at a site of the role's NGI, and
    holds no other granted role over that site or its NGI. Site short name -> how many of
    the holder's credentials there would be orphaned."""
    if role.status is not RoleStatus.GRANTED or role.entity_type not in (
        EntityKind.SITE,
        EntityKind.NGI,
    ):
        return {}
    t_site: Table = Site.__table__  # type: ignore[attr-defined]
    scope = (
        t_site.c.id == role.entity_id
        if role.entity_type is EntityKind.SITE
        else t_site.c.ngi_id == role.entity_id
    )
    owned = session.execute(
        select(t_site.c.id, t_site.c.short_name, t_site.c.ngi_id)
        .join(T_CREDENTIAL, T_CREDENTIAL.c.site_id == t_site.c.id)
        .where(scope, T_CREDENTIAL.c.user_id == role.user_id)
    ).all()
    if not owned:
        return {}
    t_role: Table = Role.__table__  # type: ignore[attr-defined]
    held = {
        (EntityKind(kind), entity_id)
        for kind, entity_id in session.execute(
            select(t_role.c.entity_type, t_role.c.entity_id).where(
                t_role.c.user_id == role.user_id,
                t_role.c.status == RoleStatus.GRANTED,
                t_role.c.id != role.id,
            )
        ).all()
    }
    blocking: dict[str, int] = {}
    for site_id, short_name, ngi_id in owned:
        if (EntityKind.SITE, site_id) in held or (EntityKind.NGI, ngi_id) in held:
            continue
        blocking[short_name] = blocking.get(short_name, 0) + 1
    return blocking


__all__: Sequence[str] = (
    "X509_DN_RE",
    "CredentialView",
    "add_site_credential",
    "api_identifiers",
    "credentials_by_site",
    "credential_view",
    "credentials_visible",
    "delete_site_credential",
    "flag_unused_credentials",
    "get_site_credential",
    "has_any_site_credential",
    "list_site_credentials",
    "note_credential_use",
    "orphaned_credential_sites",
    "presents",
    "renew_site_credential",
    "site_credentials_for",
    "update_site_credential",
    "writing_credentials",
)
