"""GraphQL pieces every domain's schema uses: the Node interface, global ids,
connections. Only schema modules import this; service modules never do."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Generic, NamedTuple, NewType, TypeVar

import strawberry
from sqlalchemy.orm import Session
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.base import StrawberryObjectDefinition, get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.scalar import ScalarDefinition

from domains.common.authz import Permission, can, permission_of
from domains.common.context import RequestContext
from domains.common.db import reader_memo
from domains.common.errors import CommonRule, Invalid
from domains.common.identity import Principal
from domains.common.pagination import RULE_KEY, PageRequest, encode_cursor, parse_key
from domains.common.query import Record, RecordPage

Info = strawberry.Info[RequestContext, None]
T = TypeVar("T")


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(global_id: str, *, argument: str = "id") -> tuple[str, int]:
    malformed = Invalid(
        argument, CommonRule.MALFORMED_GLOBAL_ID, f"{argument}: malformed global id ({RULE_KEY})"
    )
    try:
        text = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise malformed from exc
    type_name, _, raw_pk = text.partition(":")
    key = parse_key(raw_pk)
    if not type_name or key is None:
        raise malformed
    return type_name, key


def id_of_type(global_id: str, type_name: str, *, argument: str) -> int:
    """The database id in a global id that must name a `type_name`."""
    found, pk = from_global_id(global_id, argument=argument)
    if found != type_name:
        article = "an" if type_name[:1] in "AEIOU" else "a"
        raise Invalid(
            argument, CommonRule.WRONG_ID_TYPE, f"{argument}: the id of {article} {type_name}"
        )
    return pk


@strawberry.interface(description="An object with a global identifier.")
class Node:
    db_id: strawberry.Private[int]

    @strawberry.field(description="Opaque global identifier, usable with `node(id:)`.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(type(self).__strawberry_definition__.name, self.db_id))  # type: ignore[attr-defined]


# type name -> function that loads one object of that type by database id
NODE_RESOLVERS: dict[str, Callable[[Info, int], Node | None]] = {}


def node_type(
    name: str,
) -> Callable[[Callable[[Info, int], Node | None]], Callable[[Info, int], Node | None]]:
    def register(fn: Callable[[Info, int], Node | None]) -> Callable[[Info, int], Node | None]:
        NODE_RESOLVERS[name] = fn
        return fn

    return register


def resolve_node(info: Info, global_id: str) -> Node | None:
    type_name, pk = from_global_id(global_id)
    resolver = NODE_RESOLVERS.get(type_name)
    if resolver is None:
        raise Invalid(
            "id", CommonRule.UNKNOWN_OBJECT_TYPE, f"id: unknown object type {type_name!r}"
        )
    return resolver(info, pk)


def extend_type(cls: type, fields: Mapping[str, Any]) -> None:
    """Add fields to a strawberry type of another module, before any schema is built: a
    domain shows what it holds about a lower domain's objects (a site's downtimes) on that
    domain's own types, which never import it. `fields`: `strawberry.field(resolver=...)`
    by Python name, each resolver taking the object as `root: strawberry.Parent[...]`.
    Called where the schema is assembled (gateway/schema.py), once."""
    definition = get_object_definition(cls, strict=True)
    taken = {f.python_name for f in definition.fields}
    for name, new in fields.items():
        if not isinstance(new, StrawberryField) or new.base_resolver is None:
            raise TypeError(f"{cls.__name__}.{name}: a strawberry.field with a resolver")
        if name in taken:
            raise TypeError(f"{cls.__name__} already has a field {name!r}")
        new.python_name = name
        new.origin = cls
        definition.fields.append(new)
        taken.add(name)


@strawberry.type(description="The id of what was deleted.")
class Deleted:
    id: strawberry.ID


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("a 64-bit integer")
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError("a 64-bit integer")
    return number


def _parse_datetime(value: object) -> datetime:
    """strawberry's DateTime parsing, refusing a moment that is outside years 1-9999 once
    in UTC (e.g. 9999-12-31T23:00-14:00): the databases and the rules could not use it."""
    parsed: datetime = DateTimeDefinition.parse_value(value)  # type: ignore[misc]
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        try:
            parsed.astimezone(UTC)
        except OverflowError:
            raise StrawberryInputCoercionError(
                f'Value cannot represent a DateTime: "{value}". It lies outside the years '
                "1 to 9999 in UTC."
            ) from None
    return parsed


Long = NewType("Long", int)

# The custom scalars, for every schema's `StrawberryConfig(scalar_map=SCALARS)`.
SCALARS: dict[object, ScalarDefinition] = {
    Long: strawberry.scalar(
        name="Long",
        description="A 64-bit integer (offsets, byte and message counts), a JSON number.",
        serialize=int,
        parse_value=_parse_long,
    ),
    datetime: dataclasses.replace(DateTimeDefinition, parse_value=_parse_datetime),
}


@strawberry.type(description="Where a page stands in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list, Relay style.")
class Connection(Generic[T]):
    page: strawberry.Private[RecordPage]
    node_list: strawberry.Private[list[T]]

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        return [
            Edge(cursor=encode_cursor(row.id), node=node)
            for row, node in zip(self.page.items, self.node_list, strict=True)
        ]

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[T]:
        return self.node_list

    @strawberry.field
    def page_info(self) -> PageInfo:
        items = self.page.items
        return PageInfo(
            has_next_page=self.page.has_next_page,
            has_previous_page=self.page.has_previous_page,
            start_cursor=encode_cursor(items[0].id) if items else None,
            end_cursor=encode_cursor(items[-1].id) if items else None,
        )

    @strawberry.field(description="Number of items in the whole filtered list.")
    def total_count(self) -> int:
        return self.page.total_count


def connection(page: RecordPage, build: Callable[[Any], T]) -> Connection[T]:
    return Connection(page=page, node_list=[build(row) for row in page.items])


class _Keyed(NamedTuple):
    id: int  # what the cursors hold


def list_connection(
    nodes: Sequence[T], page: PageRequest, key: Callable[[T], int] | None = None
) -> Connection[T]:
    """A connection over a short list read whole (a catalogue's tens of rows, a period's
    A/R, a host's metrics): in `key` order, which is what the cursors hold; without `key`,
    in the order given, the cursors holding positions (1, 2, …) in it, so a list that is
    computed rather than stored pages with the same `first`/`after` as every other."""
    pairs = (
        list(enumerate(nodes, start=1))
        if key is None
        else sorted(((key(node), node) for node in nodes), key=lambda pair: pair[0])
    )
    after = [pair for pair in pairs if page.after is None or pair[0] > page.after]
    chosen = after[: page.first]
    record_page = RecordPage(
        items=[_Keyed(k) for k, _ in chosen],  # type: ignore[misc]
        has_next_page=len(after) > page.first,
        has_previous_page=page.after is not None,
        _count=lambda: len(pairs),
    )
    return Connection(page=record_page, node_list=[node for _, node in chosen])


def row_constructor(
    cls: type[T], columns: Sequence[str], fields: Mapping[str, str]
) -> Callable[..., T]:
    """A function building `cls` from a row whose columns are `columns`: attribute `k`
    gets the column named `fields[k]`; extra keywords are set as they are.

    The GraphQL types are plain dataclasses without `__post_init__`, so the instance's
    attributes are set directly; the generated `__init__` with twenty keywords cost more
    than reading the row (measured on the benchmark query). The set of attributes must be
    the dataclass's fields: checked here once, when the constructor is made.
    """
    declared = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or not set(fields) <= declared:
        raise TypeError(f"row_constructor cannot build {cls!r} from {sorted(fields)}")
    missing = declared - set(fields)
    getter = itemgetter(*(columns.index(column) for column in fields.values()))
    keys = tuple(fields)
    new = object.__new__

    def build(row: Record, **extra: Any) -> T:
        if extra.keys() != missing:
            raise TypeError(f"{cls!r} needs {sorted(missing)} beside the row")
        obj = new(cls)
        obj.__dict__.update(zip(keys, getter(row), strict=True), **extra)
        return obj

    def build_from_row(row: Record, **extra: Any) -> T:
        # every attribute from the row (the common case, a node per row of a batch): half
        # the time of comparing the keywords with `missing` and merging them in
        if extra:
            raise TypeError(f"{cls!r} takes nothing beside the row")
        obj = new(cls)
        obj.__dict__.update(zip(keys, getter(row), strict=True))
        return obj

    return build if missing else build_from_row


def as_tuple(values: Sequence[T] | None) -> tuple[T, ...] | None:
    return None if values is None else tuple(values)


# --- viewerCan… fields --------------------------------------------------------------------

# (session, principal, action, entity) -> whether the caller may; `can` unless the service
# decides a mutation's permission with more than one question (a role one gives up).
Decide = Callable[[Session, Principal, Any, Any], bool]
VIEWER_CAN = "viewerCan"  # the prefix of every such field's GraphQL name


@dataclasses.dataclass(frozen=True, slots=True)
class ViewerCan:
    """What a `viewerCan…` field stands for: the Mutation fields `mutations` (GraphQL
    names), whose declared permissions (`@requires`) it asks of `decide` on the entity that
    `on(root, info)` gives, the one their service hands to `authorize` (None: nothing in
    particular; `on` may read the request's loaders)."""

    mutations: tuple[str, ...]
    on: Callable[[Any, Info], object] | None
    decide: Decide


def viewer_can(
    *mutations: str,
    on: Callable[[Any, Info], object] | None = None,
    decide: Decide = can,
    thing: str = "",
) -> Any:
    """A `viewerCan<Verb>: Boolean!` field: true exactly when the caller may call each of
    `mutations` on the object, as the service would decide it (its `authorize` does not
    refuse); false for the anonymous caller, never an error. The permission is read from
    the mutations' `@requires` in the schema being run, so no rule is written twice; state
    rules (a downtime that has started) stay the service's, reported when the call is made.
    Answers are asked once per request and entity (`reader_memo`)."""
    if not mutations:
        raise TypeError("viewer_can needs the mutations it stands for")
    spec = ViewerCan(mutations, on, decide)

    def resolve(root: strawberry.Parent[Any], info: Info) -> bool:
        return viewer_may(info, spec, root)

    resolve.__viewer_can__ = spec  # type: ignore[attr-defined]
    quoted = [f"`{m}`" for m in mutations]
    names = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    on_what = f" on {thing}" if thing else ""
    return strawberry.field(
        resolver=resolve,
        description=f"Whether you may call {names}{on_what}, as "
        + ("its declared permission decides" if len(quoted) == 1 else "their permissions decide")
        + "; false when signed out.",
    )


def viewer_can_of(field: StrawberryField) -> ViewerCan | None:
    resolver = field.base_resolver
    found = getattr(resolver.wrapped_func, "__viewer_can__", None) if resolver else None
    return found if isinstance(found, ViewerCan) else None


_DECLARED: weakref.WeakKeyDictionary[Any, dict[str, Permission | None]] = (
    weakref.WeakKeyDictionary()
)


def declared_permissions(schema: strawberry.Schema) -> dict[str, Permission | None]:
    """Mutation field (GraphQL name) -> its `@requires` declaration, in `schema`."""
    found = _DECLARED.get(schema)
    if found is None:
        mutation = schema.get_type_by_name("Mutation")
        assert isinstance(mutation, StrawberryObjectDefinition), "a schema without mutations"
        convert = schema.config.name_converter.get_graphql_name
        found = _DECLARED[schema] = {
            convert(f): permission_of(f.base_resolver.wrapped_func) if f.base_resolver else None
            for f in mutation.fields
        }
    return found


def viewer_may(info: Info, spec: ViewerCan, root: Any) -> bool:
    ctx = info.context
    if ctx.principal.is_anonymous:
        return False
    declared = declared_permissions(info.schema)
    entity = None if spec.on is None else spec.on(root, info)
    if spec.on is not None and entity is None:
        return False  # gone since it was read: nothing to act on
    memo = reader_memo(ctx.session, "viewer_can")
    if memo is not None and not isinstance(entity, Hashable):
        memo = None  # a row (messaging's): its policy reads the session's identity map
    for name in spec.mutations:
        permission = declared.get(name)
        if permission is None:
            raise TypeError(f"viewerCan… of {name!r}: no such mutation with a permission")
        key = (spec.decide, permission.action, entity)
        if memo is not None and key in memo:
            allowed = memo[key]
        else:
            allowed = spec.decide(ctx.session, ctx.principal, permission.action, entity)
            if memo is not None:
                memo[key] = allowed
        if not allowed:
            return False
    return True
