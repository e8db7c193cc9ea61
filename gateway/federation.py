"""Apollo Federation v2 subgraph (OPSGRAPH_FEDERATION=true): every Node type is an entity
keyed by its global `id`, a Site also by its `shortName`; `_entities` loads them the way
`node(id:)` and `site(shortName:)` do, so a router sees exactly what the caller may see.

The `@key` directives live on the shared strawberry types only while the federated schema is
built and its SDL printed (`keys_attached`): the plain schema, schema.graphql and every
existing client never see them."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLError, ValidationRule
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.printer import print_schema
from strawberry.types.base import StrawberryObjectDefinition

from domains.common.errors import CommonRule, Invalid
from domains.common.graphql import NODE_RESOLVERS, Info, Node, id_of_type, resolve_node
from domains.topology.queries import site_by_short_name

FEDERATION_VERSION = "2.7"  # the @link the SDL imports @key from

# Building a schema reads the types' directives: a federated build and a plain one must not
# overlap (both happen once per process, at start-up; the lock is re-entrant because the
# federated build asks for the plain schema first).
BUILDING = threading.RLock()


@strawberry.type(name="_Service", description="This subgraph, for a federation router.")
class FederationService:
    sdl: str


@strawberry.type
class FederationQuery:
    """`_service`, answering the SDL printed while the keys were on (strawberry's own
    `_service` prints the schema at each request, when they are off again)."""

    @strawberry.field(name="_service", description="This subgraph's SDL, for a router.")
    def federation_service(self, info: Info) -> FederationService:
        return FederationService(sdl=info.schema.federation_sdl)  # type: ignore[attr-defined]


def node_types(type_map: Iterable[Any]) -> list[StrawberryObjectDefinition]:
    """The object types implementing Node that `node(id:)` loads, from a built schema's
    type map (a Change, say, has an id but is not loaded by it: not an entity)."""
    return [
        entry.definition
        for entry in type_map
        if isinstance(entry.definition, StrawberryObjectDefinition)
        and entry.definition.name in NODE_RESOLVERS
        and any(i.origin is Node for i in entry.definition.interfaces)
    ]


@contextmanager
def keys_attached(entities: list[StrawberryObjectDefinition]) -> Iterator[None]:
    """`@key(fields: "id")` on each entity type (and `shortName` on Site) meanwhile."""
    saved = [(d, d.directives) for d in entities]
    try:
        for definition in entities:
            keys = [Key(fields="id")]  # type: ignore[arg-type]
            if definition.name == "Site":
                keys.append(Key(fields="shortName"))  # type: ignore[arg-type]
            definition.directives = [*(definition.directives or ()), *keys]
        yield
    finally:
        for definition, directives in saved:
            definition.directives = directives


class FederationMixin:
    """Builds the schema with the keys on, keeps its SDL and resolves `_entities`."""

    federation_sdl: str
    entity_names: frozenset[str]

    def __init__(self, *args: Any, entities: list[StrawberryObjectDefinition], **kwargs: Any):
        self.entity_names = frozenset(d.name for d in entities)
        with BUILDING, keys_attached(entities):
            super().__init__(*args, **kwargs)
            self.federation_sdl = print_schema(self)  # type: ignore[arg-type]

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Each representation on its own: a bad one is that item's error, the others load."""
        return [
            FederationAny(self._entity(info, r, f"representations[{n}]"))
            for n, r in enumerate(representations)
        ]

    def _entity(self, info: Info, representation: object, field: str) -> object:
        try:
            if not isinstance(representation, dict):
                raise Invalid(field, CommonRule.ENTITY_KEY_REQUIRED)
            type_name = representation.get("__typename")
            if type_name not in self.entity_names:
                raise Invalid(
                    f"{field}.__typename",
                    CommonRule.UNKNOWN_OBJECT_TYPE,
                    f"{field}.__typename: an entity type of this subgraph, not {type_name!r}",
                )
            global_id = representation.get("id")
            if isinstance(global_id, str):
                id_of_type(global_id, type_name, argument=f"{field}.id")
                return resolve_node(info, global_id)  # node(id:)'s loading and visibility
            short_name = representation.get("shortName")
            if type_name == "Site" and isinstance(short_name, str):
                return site_by_short_name(info, short_name)
            raise Invalid(field, CommonRule.ENTITY_KEY_REQUIRED)
        except Invalid as refused:
            return refused


class NoFederationServiceRule(ValidationRule):
    """`_service { sdl }` is the whole schema: refused like `__schema` when
    OPSGRAPH_INTROSPECTION=false."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.name.value == "_service":
            self.report_error(
                GraphQLError(
                    "GraphQL introspection has been disabled, but the requested query"
                    " contained the field '_service'.",
                    node,
                )
            )
