"""Mutations of extension properties: set and remove."""

from __future__ import annotations

import strawberry

from domains.common.authz import requires
from domains.common.graphql import Info
from domains.topology.mutations.common import entity_of
from domains.topology.rules import Action
from domains.topology.service import writes
from domains.topology.types import (
    ExtensionProperty,
)


@strawberry.input(description="An NGI, Site, Service, Endpoint or ServiceGroup and a property.")
class SetPropertyInput:
    entity_id: strawberry.ID
    key: str
    value: str


@strawberry.input(description="An NGI, Site, Service, Endpoint or ServiceGroup and a key.")
class RemovePropertyInput:
    entity_id: strawberry.ID
    key: str


@strawberry.type
class SetPropertyPayload:
    property: ExtensionProperty


@strawberry.type(
    description="Whether the property was there to remove. Not `Deleted`: a property has no "
    "global id (it is a key of its entity, not an object of its own)."
)
class RemovePropertyPayload:
    removed: bool


@strawberry.type
class PropertyMutation:
    @strawberry.mutation(description="Set (insert or replace) an extension property.")
    @requires(Action.EDIT_OBJECT, on="the entity input.entityId")
    def set_property(self, info: Info, input: SetPropertyInput) -> SetPropertyPayload:
        ctx = info.context
        kind, owner_id = entity_of(input.entity_id, "input.entityId")
        writes.set_property(
            ctx.session,
            ctx.principal,
            kind=kind,
            owner_id=owner_id,
            key=input.key,
            value=input.value,
        )
        return SetPropertyPayload(property=ExtensionProperty(key=input.key, value=input.value))

    @strawberry.mutation(description="Remove an extension property; false if there was none.")
    @requires(Action.EDIT_OBJECT, on="the entity input.entityId")
    def remove_property(self, info: Info, input: RemovePropertyInput) -> RemovePropertyPayload:
        ctx = info.context
        kind, owner_id = entity_of(input.entity_id, "input.entityId")
        removed = writes.remove_property(
            ctx.session, ctx.principal, kind=kind, owner_id=owner_id, key=input.key
        )
        return RemovePropertyPayload(removed=removed)
