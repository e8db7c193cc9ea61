"""Who may send accounting records for which sites.

A signer's DN accounts for the sites whose registered services of an accounting type have it
as their host DN (what APEL's `auth` builds its DN list from), and for the scopes granted to
it: one more site, or every site of an NGI (a regional accounting server). A platform
administrator or the NGI's operations managers grant and revoke scopes; each grant and
revocation is audited."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import ScopeKind, SenderGrant
from domains.accounting.rules import AccountingRule as R
from domains.accounting.rules import Action
from domains.common import audit
from domains.common.authz import authorize
from domains.common.errors import Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import pk
from domains.topology.models import Ngi, Service, ServiceType, Site

ACCOUNTING_SERVICE_TYPES = frozenset(
    {"gLite-APEL", "eu.egi.storage.accounting", "eu.egi.cloud.accounting"}
)
AUDIT_KIND = "accounting_sender_grant"
# APEL's retrieve_dns rule: starts with "/", two components at least, none ending in ", "
_DN = re.compile(r"(/[^/=]+=[^/]*){2,}")


def sites_for_dn(session: Session, dn: str) -> frozenset[str]:
    """The sites `dn` may send records for: of its accounting services, and granted."""
    own = select(col(Site.short_name)).join(Service, col(Service.site_id) == col(Site.id))
    own = own.join(ServiceType, col(ServiceType.id) == col(Service.service_type_id)).where(
        col(Service.host_dn) == dn, col(ServiceType.name).in_(ACCOUNTING_SERVICE_TYPES)
    )
    granted_sites = select(col(SenderGrant.scope_name)).where(
        col(SenderGrant.dn) == dn, col(SenderGrant.scope_kind) == ScopeKind.SITE
    )
    granted_ngis = (
        select(col(Site.short_name))
        .join(Ngi, col(Ngi.id) == col(Site.ngi_id))
        .join(SenderGrant, col(SenderGrant.scope_name) == col(Ngi.name))
        .where(col(SenderGrant.dn) == dn, col(SenderGrant.scope_kind) == ScopeKind.NGI)
    )
    found: set[str] = set()
    for statement in (own, granted_sites, granted_ngis):
        found.update(str(name) for name in session.execute(statement).scalars())
    return frozenset(found)


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
