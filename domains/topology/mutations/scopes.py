"""Mutations of scope tags: tag and untag."""

from __future__ import annotations

import strawberry

from domains.common.authz import requires
from domains.common.errors import Invalid, NotFound
from domains.common.graphql import Info
from domains.topology import service as topology
from domains.topology.mutations.common import entity_of
from domains.topology.rules import Action, TopologyRule
from domains.topology.service import writes
from domains.topology.types import (
    ScopeNode,
)


@strawberry.input(description="An NGI, Site, Service or ServiceGroup and scope names.")
class TagScopesInput:
    entity_id: strawberry.ID
    scopes: list[str]


@strawberry.input(description="An NGI, Site, Service or ServiceGroup and scope names.")
class UntagScopesInput:
    entity_id: strawberry.ID
    scopes: list[str]


@strawberry.type(description="The entity's scopes after the change.")
class TagScopesPayload:
    scopes: list[ScopeNode]


@strawberry.type(description="The entity's scopes after the change.")
class UntagScopesPayload:
    scopes: list[ScopeNode]


def _scope_ids(info: Info, names: list[str]) -> list[int]:
    found = topology.scope_ids_by_name(info.context.session, names=names)
    missing = [n for n in names if n not in found]
    if missing:
        raise Invalid(
            "input.scopes",
            TopologyRule.SCOPE_UNKNOWN,
            f"input.scopes: unknown scope {missing[0]!r}",
        )
    return [found[n] for n in names]


def _scopes_now(info: Info, kind: str, owner_id: int) -> list[ScopeNode]:
    if kind == "endpoint":
        raise NotFound("endpoints carry no scopes")
    rows = topology.scopes_of(info.context.session, info.context.principal, kind, [owner_id])
    return [ScopeNode.from_row(r) for r in rows.get(owner_id, [])]


@strawberry.type
class ScopeMutation:
    @strawberry.mutation(description="Add scope tags; returns the entity's scopes.")
    @requires(
        Action.EDIT_OBJECT,
        on="the entity input.entityId",
    )
    def tag_scopes(self, info: Info, input: TagScopesInput) -> TagScopesPayload:
        ctx = info.context
        kind, owner_id = entity_of(input.entity_id, "input.entityId")
        writes.tag_scopes(
            ctx.session,
            ctx.principal,
            kind=kind,
            owner_id=owner_id,
            scope_ids=_scope_ids(info, input.scopes),
        )
        return TagScopesPayload(scopes=_scopes_now(info, kind, owner_id))

    @strawberry.mutation(description="Remove scope tags; returns the entity's scopes.")
    @requires(
        Action.EDIT_OBJECT,
        on="the entity input.entityId",
    )
    def untag_scopes(self, info: Info, input: UntagScopesInput) -> UntagScopesPayload:
        ctx = info.context
        kind, owner_id = entity_of(input.entity_id, "input.entityId")
        writes.untag_scopes(
            ctx.session,
            ctx.principal,
            kind=kind,
            owner_id=owner_id,
            scope_ids=_scope_ids(info, input.scopes),
        )
        return UntagScopesPayload(scopes=_scopes_now(info, kind, owner_id))
