"""GraphQL of roles: the Role type, the global ids of what roles are held over, and the
`roles` field topology adds to identity's Viewer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domains.common.errors import CommonRule, Invalid
from domains.common.graphql import (
    Info,
    Node,
    from_global_id,
    node_type,
    to_global_id,
    viewer_can,
)
from domains.identity.models import EntityKind
from domains.identity.types import Viewer
from domains.topology import roles
from domains.topology.ownership import EntityRef

_ENTITY_TYPES = {
    "Project": "project",
    "NGI": "ngi",
    "Site": "site",
    "ServiceGroup": "service_group",
}
_TYPE_NAMES = {v: k for k, v in _ENTITY_TYPES.items()}


RoleEntityKindEnum = strawberry.enum(
    EntityKind,
    name="RoleEntityKind",
    description="A kind of entity roles are held over (a Role's entityType, in capitals).",
)


@strawberry.type(
    name="RoleType",
    description="A role type `requestRole` accepts, and the kind of entity it is requested "
    "over (GOCDB's role types, from the table the server checks requests against).",
)
class RoleTypeNode:
    name: str = strawberry.field(
        description="The role type as `requestRole` takes it and a Role's roleType shows it, "
        "e.g. Site Administrator; the server has no other label for it."
    )
    entity_kind: RoleEntityKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="The kind of entity it is requested over."
    )

    @classmethod
    def from_row(cls, view: roles.RoleTypeView) -> RoleTypeNode:
        return cls(name=view.name, entity_kind=view.entity_kind)


def owned_entity(global_id: str, *, argument: str) -> tuple[str, int]:
    """A global id of something roles are held over (project, NGI, site, service group)."""
    type_name, pk = from_global_id(global_id, argument=argument)
    if type_name not in _ENTITY_TYPES:
        raise Invalid(
            argument,
            CommonRule.WRONG_ID_TYPE,
            f"{argument}: the id of a Project, NGI, Site or ServiceGroup",
        )
    return _ENTITY_TYPES[type_name], pk


@strawberry.type(name="Role", description="A role over a project, NGI, site or service group.")
class RoleNode(Node):
    role_type: str = strawberry.field(description="e.g. Site Administrator.")
    entity_type: str = strawberry.field(description="project, ngi, site or service_group.")
    entity_name: str
    status: str = strawberry.field(description="PENDING, GRANTED, REJECTED or REVOKED.")
    user_subject: str | None = strawberry.field(description="Whose role this is.")
    raw_entity_id: strawberry.Private[int]

    viewer_can_grant = viewer_can("grantRole", on=lambda r, _i: r.ref(), thing="this role")
    viewer_can_reject = viewer_can("rejectRole", on=lambda r, _i: r.ref(), thing="this role")
    viewer_can_revoke = viewer_can(
        "revokeRole", on=lambda r, _i: r.db_id, decide=roles.may_revoke, thing="this role"
    )

    def ref(self) -> EntityRef:
        """What the role is over, as grant_role and reject_role authorize it."""
        return EntityRef(self.entity_type, self.raw_entity_id)

    @strawberry.field(description="Global id of the entity the role is over.")
    def entity_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(_TYPE_NAMES[self.entity_type], self.raw_entity_id))

    @classmethod
    def from_row(cls, view: roles.RoleView) -> RoleNode:
        return cls(
            db_id=view.id,
            role_type=view.role_type,
            entity_type=view.entity_type,
            entity_name=view.entity_name,
            status=view.status,
            user_subject=view.user_subject,
            raw_entity_id=view.entity_id,
        )


@node_type("Role")
def _resolve_role(info: Info, pk: int) -> RoleNode | None:
    ctx = info.context
    if ctx.principal.is_anonymous:
        return None
    for view in roles.visible_roles(ctx.session, ctx.principal, role_ids=[pk]):
        return RoleNode.from_row(view)
    return None


def _roles_of_viewer(root: strawberry.Parent[Viewer], info: Info) -> list[RoleNode]:
    if root.user_id is None:
        return []
    ctx = info.context
    views = roles.roles_of_user(ctx.session, ctx.principal, user_id=root.user_id)
    return [RoleNode.from_row(v) for v in views]


def identity_fields() -> dict[type, dict[str, Any]]:
    """The fields topology adds to identity's types (new ones at each call: a field belongs
    to one schema type)."""
    return {
        Viewer: {
            "roles": strawberry.field(
                resolver=_roles_of_viewer, description="The caller's roles, of every status."
            ),
            "viewer_can_request_role": viewer_can("requestRole", thing="any entity"),
        },
    }


@strawberry.type(
    name="HeldRole",
    description="A granted role over a site or NGI: who holds it (personal data, shown to "
    "the callers who may read the entity's contacts) and since when.",
)
class HeldRoleType:
    role_type: str = strawberry.field(description="e.g. Site Administrator.")
    user_name: str | None = strawberry.field(description="The holder's name, if known.")
    user_subject: str = strawberry.field(description="The holder's identity (subject).")
    granted_at: datetime | None = strawberry.field(description="When the role was granted.")

    @classmethod
    def from_row(cls, row: roles.HeldRole) -> HeldRoleType:
        return cls(
            role_type=row.role_type,
            user_name=row.user_name,
            user_subject=row.user_subject,
            granted_at=row.granted_at,
        )
