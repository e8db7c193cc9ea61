"""Scope tags on NGIs, sites, services and service groups; reserved scopes pass down from
the parent (site <- NGI, service <- site)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.audit import record_change
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.topology.models import NgiScope, Scope, ServiceGroupScope, ServiceScope, SiteScope
from domains.topology.rules import TopologyRule
from domains.topology.service.reads import SCOPE_LINKS, T_SERVICE
from domains.topology.service.writes.checks import require
from domains.topology.service.writes.owners import owner_to_edit

_SCOPE_MODELS: dict[str, type[Any]] = {
    "ngi": NgiScope,
    "site": SiteScope,
    "service": ServiceScope,
    "service_group": ServiceGroupScope,
}


def _scope_ids(session: Session, kind: str, owner_id: int) -> set[int]:
    link, fk = SCOPE_LINKS[kind]
    return set(session.execute(select(link.c.scope_id).where(link.c[fk] == owner_id)).scalars())


def _scope_names(session: Session, scope_ids: Sequence[int]) -> list[str]:
    return [s.name for s in (require(session, Scope, i, "scope") for i in scope_ids)]


def _parent_scope_ids(session: Session, kind: str, owner: Any) -> set[int]:
    """Scopes of the parent: a non-admin may give a child a reserved scope only if its
    parent has it (site <- NGI, service <- site)."""
    if kind == "site":
        return _scope_ids(session, "ngi", owner.ngi_id)
    if kind == "service":
        return _scope_ids(session, "site", owner.site_id)
    return set()


def tag_scopes(
    session: Session, principal: Principal, *, kind: str, owner_id: int, scope_ids: Sequence[int]
) -> None:
    """Tag an entity with scopes; tags it already has are kept as they are.

    Reserved scopes: only admins give them to NGIs and service groups; on a site or service
    a non-admin may add one only if the parent already has it."""
    owner = owner_to_edit(session, principal, kind, owner_id, _SCOPE_MODELS)
    link_model = _SCOPE_MODELS[kind]
    fk = SCOPE_LINKS[kind][1]
    present = _scope_ids(session, kind, owner_id)
    parent_scopes = None if principal.is_superuser else _parent_scope_ids(session, kind, owner)
    added: list[int] = []
    for scope_id in dict.fromkeys(scope_ids):
        scope = require(session, Scope, scope_id, "scope")
        if scope_id in present:
            continue
        if scope.reserved and parent_scopes is not None and scope_id not in parent_scopes:
            raise Invalid(
                "scopes",
                TopologyRule.SCOPE_RESERVED,
                f"scopes: {scope.name} is reserved; only an admin may add it here",
            )
        session.add(link_model(**{fk: owner_id, "scope_id": scope_id}))
        added.append(scope_id)
    session.flush()
    if added:
        record_change(
            session, principal, kind, "tag", owner, {"scopes": [None, _scope_names(session, added)]}
        )


def untag_scopes(
    session: Session, principal: Principal, *, kind: str, owner_id: int, scope_ids: Sequence[int]
) -> None:
    """Remove scopes. Taking a reserved scope off a site takes it off the site's services
    too; every entity keeps at least one non-reserved scope."""
    owner = owner_to_edit(session, principal, kind, owner_id, _SCOPE_MODELS)
    link, fk = SCOPE_LINKS[kind]
    present = _scope_ids(session, kind, owner_id)
    removing = [i for i in dict.fromkeys(scope_ids) if i in present]
    scopes = {i: require(session, Scope, i, "scope") for i in present}
    remaining_open = [i for i in present - set(removing) if not scopes[i].reserved]
    if removing and not remaining_open:
        raise Invalid("scopes", TopologyRule.SCOPE_LAST_OPEN)
    if not removing:
        return
    session.execute(link.delete().where(link.c[fk] == owner_id, link.c.scope_id.in_(removing)))
    reserved = [i for i in removing if scopes[i].reserved]
    if kind == "site" and reserved:
        service_link, service_fk = SCOPE_LINKS["service"]
        session.execute(
            service_link.delete().where(
                service_link.c[service_fk].in_(
                    select(T_SERVICE.c.id).where(T_SERVICE.c.site_id == owner_id)
                ),
                service_link.c.scope_id.in_(reserved),
            )
        )
    session.flush()
    record_change(
        session,
        principal,
        kind,
        "untag",
        owner,
        {"scopes": [_scope_names(session, removing), None]},
    )
