"""Mutations of roles: request, grant, reject, revoke."""

from __future__ import annotations

from typing import Any

import strawberry

from domains.common.authz import Caller, requires
from domains.common.graphql import Info, id_of_type
from domains.topology import roles
from domains.topology.rules import Action
from domains.topology.types import (
    RoleNode,
    owned_entity,
)


def _role_id(global_id: str) -> int:
    return id_of_type(global_id, "Role", argument="input.roleId")


def _role_node(info: Info, role: Any) -> RoleNode:
    return RoleNode.from_row(roles.view_of(info.context.session, role))


@strawberry.input
class RequestRoleInput:
    role_type: str = strawberry.field(description="e.g. Site Administrator.")
    entity_id: strawberry.ID = strawberry.field(
        description="Global id of a Project, NGI, Site or ServiceGroup."
    )


@strawberry.input(description="The role request to decide, or the role to revoke.")
class RoleDecisionInput:
    role_id: strawberry.ID


@strawberry.input
class GrantRoleInput(RoleDecisionInput):
    pass


@strawberry.input
class RejectRoleInput(RoleDecisionInput):
    pass


@strawberry.input
class RevokeRoleInput(RoleDecisionInput):
    pass


@strawberry.type
class RequestRolePayload:
    role: RoleNode


@strawberry.type
class GrantRolePayload:
    role: RoleNode


@strawberry.type
class RejectRolePayload:
    role: RoleNode


@strawberry.type
class RevokeRolePayload:
    role: RoleNode


@strawberry.type
class RoleMutation:
    @strawberry.mutation(description="Ask for a role; it waits in PENDING for a decision.")
    @requires(Caller.REGISTERED_USER)
    def request_role(self, info: Info, input: RequestRoleInput) -> RequestRolePayload:
        ctx = info.context
        kind, entity_id = owned_entity(input.entity_id, argument="input.entityId")
        role = roles.request_role(
            ctx.session,
            ctx.principal,
            role_type=input.role_type,
            kind=roles.entity_kind(kind),
            entity_id=entity_id,
        )
        return RequestRolePayload(role=_role_node(info, role))

    @strawberry.mutation(description="Grant a pending role request.")
    @requires(Action.GRANT_ROLE, on="the role's entity")
    def grant_role(self, info: Info, input: GrantRoleInput) -> GrantRolePayload:
        ctx = info.context
        role = roles.grant_role(ctx.session, ctx.principal, role_id=_role_id(input.role_id))
        return GrantRolePayload(role=_role_node(info, role))

    @strawberry.mutation(description="Reject a pending role request.")
    @requires(Action.REJECT_ROLE, on="the role's entity")
    def reject_role(self, info: Info, input: RejectRoleInput) -> RejectRolePayload:
        ctx = info.context
        role = roles.reject_role(ctx.session, ctx.principal, role_id=_role_id(input.role_id))
        return RejectRolePayload(role=_role_node(info, role))

    @strawberry.mutation(description="Revoke a granted role (your own, or one you may revoke).")
    @requires(Action.REVOKE_ROLE, on="the role's entity (none to give up one's own role)")
    def revoke_role(self, info: Info, input: RevokeRoleInput) -> RevokeRolePayload:
        ctx = info.context
        role = roles.revoke_role(ctx.session, ctx.principal, role_id=_role_id(input.role_id))
        return RevokeRolePayload(role=_role_node(info, role))
