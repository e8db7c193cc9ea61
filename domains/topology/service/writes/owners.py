"""What scopes and properties share: the entities that carry them and who may edit them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from domains.common.authz import authorize
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.topology.models import Endpoint, Ngi, Service, ServiceGroup, Site
from domains.topology.ownership import EntityRef
from domains.topology.rules import Action, TopologyRule
from domains.topology.service.writes.checks import require

_OWNER_MODELS: dict[str, type[Any]] = {
    "ngi": Ngi,
    "site": Site,
    "service": Service,
    "service_group": ServiceGroup,
    "endpoint": Endpoint,
}


def _owner_for_authz(session: Session, kind: str, owner_id: int) -> EntityRef:
    """The entity whose roles govern edits of `kind`/`owner_id` (an endpoint is edited
    under its service, i.e. its site)."""
    if kind == "endpoint":
        endpoint = require(session, Endpoint, owner_id, "endpoint")
        return EntityRef("service", endpoint.service_id)
    return EntityRef(kind, owner_id)


def owner_to_edit(
    session: Session, principal: Principal, kind: str, owner_id: int, kinds: Mapping[str, Any]
) -> Any:
    """The entity `kind`/`owner_id`, once `kind` is one of `kinds` and the principal may
    edit it."""
    if kind not in kinds:
        raise Invalid(
            "kind",
            TopologyRule.TOPOLOGY_KIND_NOT_ALLOWED,
            f"kind: one of {', '.join(sorted(kinds))}",
        )
    authorize(session, principal, Action.EDIT_OBJECT, _owner_for_authz(session, kind, owner_id))
    return require(session, _OWNER_MODELS[kind], owner_id, kind)
