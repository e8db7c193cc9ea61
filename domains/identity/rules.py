"""GOCDB's role types and which of them allow which action on which kind of entity
(after GOCDB's RoleActionMappings). A role counts on its own entity and on everything
below it (project > NGI > site), never sideways."""

from __future__ import annotations

import enum

from domains.identity.models import EntityKind


class Action(enum.StrEnum):
    EDIT_OBJECT = "EDIT_OBJECT"
    NGI_ADD_SITE = "NGI_ADD_SITE"
    SITE_ADD_SERVICE = "SITE_ADD_SERVICE"
    SITE_DELETE_SERVICE = "SITE_DELETE_SERVICE"
    SITE_EDIT_CERT_STATUS = "SITE_EDIT_CERT_STATUS"
    GRANT_ROLE = "GRANT_ROLE"
    REJECT_ROLE = "REJECT_ROLE"
    REVOKE_ROLE = "REVOKE_ROLE"
    READ_PERSONAL_DATA = "READ_PERSONAL_DATA"


SITE_ADMIN = frozenset({"Site Administrator"})
SITE_MANAGERS = frozenset(
    {"Site Security Officer", "Site Operations Deputy Manager", "Site Operations Manager"}
)
NGI_STAFF = frozenset({"Regional First Line Support", "Regional Staff (ROD)"})
NGI_MANAGERS = frozenset(
    {"NGI Security Officer", "NGI Operations Deputy Manager", "NGI Operations Manager"}
)
PROJECT_ROLES = frozenset(
    {"COD Staff", "COD Administrator", "EGI CSIRT Officer", "Chief Operations Officer"}
)
SERVICE_GROUP_ROLES = frozenset({"Service Group Administrator"})

ROLE_TYPES: dict[EntityKind, frozenset[str]] = {
    EntityKind.SITE: SITE_ADMIN | SITE_MANAGERS,
    EntityKind.NGI: NGI_STAFF | NGI_MANAGERS,
    EntityKind.PROJECT: PROJECT_ROLES,
    EntityKind.SERVICE_GROUP: SERVICE_GROUP_ROLES,
}

ALL_SITE = SITE_ADMIN | SITE_MANAGERS
ALL_NGI = NGI_STAFF | NGI_MANAGERS
_ROLE_ACTIONS = (Action.GRANT_ROLE, Action.REJECT_ROLE, Action.REVOKE_ROLE)

# (action, target kind) -> {kind of the entity the role is held over: allowed role types}
_GRANTS: dict[tuple[Action, EntityKind], dict[EntityKind, frozenset[str]]] = {}


def _allow(actions: tuple[Action, ...], target: EntityKind, **holders: frozenset[str]) -> None:
    for action in actions:
        _GRANTS[(action, target)] = {EntityKind(k): v for k, v in holders.items()}


_allow(
    (Action.EDIT_OBJECT, Action.SITE_ADD_SERVICE, Action.SITE_DELETE_SERVICE),
    EntityKind.SITE,
    site=ALL_SITE,
    ngi=ALL_NGI,
)
_allow(_ROLE_ACTIONS, EntityKind.SITE, site=SITE_MANAGERS, ngi=NGI_MANAGERS)
_allow((Action.SITE_EDIT_CERT_STATUS,), EntityKind.SITE, ngi=NGI_MANAGERS, project=PROJECT_ROLES)
_allow((Action.EDIT_OBJECT,), EntityKind.NGI, ngi=ALL_NGI)
_allow((Action.NGI_ADD_SITE,), EntityKind.NGI, ngi=NGI_MANAGERS)
_allow(_ROLE_ACTIONS, EntityKind.NGI, ngi=NGI_MANAGERS, project=PROJECT_ROLES)
_allow((Action.EDIT_OBJECT, *_ROLE_ACTIONS), EntityKind.PROJECT, project=PROJECT_ROLES)
_allow(
    (Action.EDIT_OBJECT, *_ROLE_ACTIONS),
    EntityKind.SERVICE_GROUP,
    service_group=SERVICE_GROUP_ROLES,
)
_allow(
    (Action.READ_PERSONAL_DATA,), EntityKind.SITE, site=ALL_SITE, ngi=ALL_NGI, project=PROJECT_ROLES
)
_allow((Action.READ_PERSONAL_DATA,), EntityKind.NGI, ngi=ALL_NGI, project=PROJECT_ROLES)
_allow((Action.READ_PERSONAL_DATA,), EntityKind.PROJECT, project=PROJECT_ROLES)


def allowed_holders(action: Action, target: EntityKind) -> dict[EntityKind, frozenset[str]]:
    """Which role types, held over which kind of entity, allow `action` on `target`."""
    return _GRANTS.get((action, target), {})
