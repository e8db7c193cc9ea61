"""Who may send accounting records for which sites.

A signer's DN accounts for the sites whose registered services of an accounting type have it
as their host DN (what APEL's `auth` builds its DN list from), and for the scopes granted to
it: one more site, or every site of an NGI (a regional accounting server). A caller posting
unsigned over HTTP accounts for the sites with an accounting service where it holds a site
API credential that allows writing (GOCDB's APIAuthentication), and for the scopes granted
to its certificate's DN. A platform administrator or the NGI's operations managers grant and
revoke scopes; each grant and revocation is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, and_, false, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import ScopeKind, SenderGrant
from domains.accounting.rules import AccountingRule as R
from domains.accounting.rules import Action, managed_ngis
from domains.common import audit
from domains.common.authz import authorize
from domains.common.errors import Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.pagination import PageRequest
from domains.common.query import Record, RecordPage, keyset_page
from domains.topology.models import (
    CredentialKind,
    Ngi,
    Service,
    ServiceType,
    Site,
    SiteApiCredential,
)
from domains.topology.service import credentials as topology_credentials

ACCOUNTING_SERVICE_TYPES = frozenset(
    {"gLite-APEL", "eu.egi.storage.accounting", "eu.egi.cloud.accounting"}
)
AUDIT_KIND = "accounting_sender_grant"
T_GRANT: Table = SenderGrant.__table__  # type: ignore[attr-defined]
# APEL's retrieve_dns rule: starts with "/", two components at least, none ending in ", "
_DN = re.compile(r"(/[^/=]+=[^/]*){2,}")


def _accounting_sites() -> Select[str]:
    """The short names of the sites with a registered service of an accounting type."""
    return (
        select(col(Site.short_name))
        .join(Service, col(Service.site_id) == col(Site.id))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .where(col(ServiceType.name).in_(ACCOUNTING_SERVICE_TYPES))
    )


def _granted(dn: str) -> tuple[Select[str], ...]:
    granted_sites = select(col(SenderGrant.scope_name)).where(
        col(SenderGrant.dn) == dn, col(SenderGrant.scope_kind) == ScopeKind.SITE
    )
    granted_ngis = (
        select(col(Site.short_name))
        .join(Ngi, col(Ngi.id) == col(Site.ngi_id))
        .join(SenderGrant, col(SenderGrant.scope_name) == col(Ngi.name))
        .where(col(SenderGrant.dn) == dn, col(SenderGrant.scope_kind) == ScopeKind.NGI)
    )
    return granted_sites, granted_ngis


def _names(session: Session, *statements: Select[str]) -> frozenset[str]:
    found: set[str] = set()
    for statement in statements:
        found.update(str(name) for name in session.execute(statement).scalars())
    return frozenset(found)


def sites_for_dn(session: Session, dn: str) -> frozenset[str]:
    """The sites `dn` may send records for: of its accounting services, and granted."""
    own = _accounting_sites().where(col(Service.host_dn) == dn)
    return _names(session, own, *_granted(dn))


@dataclass(frozen=True, slots=True)
class CredentialSender:
    """A caller posting as site API credentials: the credentials that admit it and the sites
    it may send records for."""

    credentials: tuple[SiteApiCredential, ...]
    sites: frozenset[str]


def sites_for_credentials(session: Session, principal: Principal) -> CredentialSender:
    """The sites a caller posting over HTTP may send records for: those with an accounting
    service where the caller holds a site API credential that allows writing (topology's
    `writing_credentials`) and, once one admits it, the scopes granted to the DN of the
    caller's certificate. No credentials and no sites for anyone else."""
    writing = {pk(c): c for c in topology_credentials.writing_credentials(session, principal)}
    if not writing:
        return CredentialSender((), frozenset())
    site_ids = {c.site_id for c in writing.values()}
    own = _accounting_sites().where(col(Site.id).in_(site_ids))
    rows = session.execute(own.add_columns(col(Site.id))).all()
    admitted = {int(site_id) for _, site_id in rows}
    sites = {str(name) for name, _ in rows}
    if not sites:
        return CredentialSender((), frozenset())
    if principal.client_dn:
        sites |= _names(session, *_granted(principal.client_dn))
    used = tuple(c for c in writing.values() if c.site_id in admitted)
    return CredentialSender(used, frozenset(sites))


def sites_for_credential(session: Session, identifier: str) -> frozenset[str]:
    """The sites a message posted under a site API credential's `identifier` (what a posted
    message's rows record as its sender) may be loaded for now, as `sites_for_credentials`
    decides for a caller presenting it: those with an accounting service where a credential
    with that identifier allows writing, and the scopes granted to it when it is an X.509
    credential's DN. For loading a rejected posted message again."""
    found = session.execute(
        select(SiteApiCredential).where(
            col(SiteApiCredential.identifier) == identifier,
            col(SiteApiCredential.allow_write).is_(True),
        )
    ).scalars()
    writing = list(found)
    site_ids = {c.site_id for c in writing}
    if not site_ids:
        return frozenset()
    sites = _names(session, _accounting_sites().where(col(Site.id).in_(site_ids)))
    if sites and any(c.kind is CredentialKind.X509 for c in writing):
        sites |= _names(session, *_granted(identifier))
    return sites


def _ngi_of_scope(
    session: Session, site: str | None, ngi: str | None
) -> tuple[ScopeKind, str, Ngi]:
    """The scope named (exactly one of a site and an NGI, registered) and its NGI."""
    if (site is None) == (ngi is None):
        raise Invalid("scope", R.ACCOUNTING_SCOPE_INVALID)
    if site is not None:
        found = session.execute(
            select(Ngi)
            .join(Site, col(Site.ngi_id) == col(Ngi.id))
            .where(col(Site.short_name) == site)
        ).scalar_one_or_none()
        if found is None:
            raise Invalid(
                "site", R.ACCOUNTING_SCOPE_INVALID, f"site: no site {site!r} is registered"
            )
        return ScopeKind.SITE, site, found
    assert ngi is not None
    row = session.execute(select(Ngi).where(col(Ngi.name) == ngi)).scalar_one_or_none()
    if row is None:
        raise Invalid("ngi", R.ACCOUNTING_SCOPE_INVALID, f"ngi: no NGI {ngi!r} is registered")
    return ScopeKind.NGI, ngi, row


def grant_sender_scope(
    session: Session,
    principal: Principal,
    *,
    dn: str,
    site: str | None = None,
    ngi: str | None = None,
    note: str = "",
) -> SenderGrant:
    """Let `dn` send records of `site`, or of every site of `ngi`; granting it again
    returns the grant there is."""
    if not _DN.fullmatch(dn) or len(dn) > 512 or dn.rstrip().endswith(","):
        raise Invalid("dn", R.ACCOUNTING_DN_INVALID)
    kind, name, owner = _ngi_of_scope(session, site, ngi)
    authorize(session, principal, Action.GRANT_SENDER_SCOPE, owner)
    existing = session.execute(
        select(SenderGrant).where(
            col(SenderGrant.dn) == dn,
            col(SenderGrant.scope_kind) == kind,
            col(SenderGrant.scope_name) == name,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    grant = SenderGrant(
        dn=dn,
        scope_kind=kind,
        scope_name=name,
        note=note[:255],
        granted_by=audit.actor_of(principal),
    )
    session.add(grant)
    session.flush()
    changes = {"dn": [None, dn], "scope": [None, f"{kind.value} {name}"]}
    audit.record_change(session, principal, AUDIT_KIND, "create", grant, changes)
    return grant


def revoke_sender_scope(session: Session, principal: Principal, *, grant_id: int) -> int:
    grant = session.get(SenderGrant, grant_id)
    if grant is None:
        raise NotFound("no such accounting sender grant")
    site = grant.scope_name if grant.scope_kind is ScopeKind.SITE else None
    ngi = grant.scope_name if grant.scope_kind is ScopeKind.NGI else None
    try:
        _, _, owner = _ngi_of_scope(session, site, ngi)
    except Invalid:  # the site or NGI is gone: only a platform administrator decides
        authorize(session, principal, Action.MANAGE_REJECTS)
    else:
        authorize(session, principal, Action.GRANT_SENDER_SCOPE, owner)
    gone = pk(grant)
    scope = f"{grant.scope_kind.value} {grant.scope_name}"
    changes = {"dn": [grant.dn, None], "scope": [scope, None]}
    audit.record_change(session, principal, AUDIT_KIND, "delete", grant, changes)
    session.delete(grant)
    session.flush()
    return gone


def _visible(session: Session, principal: Principal) -> Select[Any]:
    """The grants the caller may see: every one for a platform administrator; for an NGI's
    operations managers, those of their NGIs and of their NGIs' sites; none for others."""
    stmt = select(*T_GRANT.c)
    if principal.is_superuser:
        return stmt
    ngis = managed_ngis(session, principal)
    if not ngis:
        return stmt.where(false())
    ngi_names = select(col(Ngi.name)).where(col(Ngi.id).in_(ngis))
    site_names = select(col(Site.short_name)).where(col(Site.ngi_id).in_(ngis))
    return stmt.where(
        or_(
            and_(T_GRANT.c.scope_kind == ScopeKind.NGI, T_GRANT.c.scope_name.in_(ngi_names)),
            and_(T_GRANT.c.scope_kind == ScopeKind.SITE, T_GRANT.c.scope_name.in_(site_names)),
        )
    )


def sender_grants_page(
    session: Session, principal: Principal, *, page: PageRequest, dn: str | None = None
) -> RecordPage:
    """A page of the grants the caller may see (`_visible`), oldest first; of one DN."""
    stmt = _visible(session, principal)
    if dn is not None:
        stmt = stmt.where(T_GRANT.c.dn == dn)
    return keyset_page(session, stmt, T_GRANT.c.id, page)


def sender_grant_by_id(session: Session, principal: Principal, grant_id: int) -> Record | None:
    """One grant, if the caller may see it."""
    stmt = _visible(session, principal).where(T_GRANT.c.id == grant_id)
    return session.execute(stmt).first()
