"""A faster graphql-core executor for the common, synchronous cases.

Profiling the reference read query (README, benchmarks) showed most of the time in
graphql-core's and strawberry's per-field machinery, not in opsgraph's code. Three
shortcuts, each taken only where it cannot change the result:

1. Basic leaves (a scalar or enum attribute, no resolver, no arguments, no field
   extension): read the attribute and coerce it, without Path, ResolveInfo and
   strawberry's getattr wrapper. The other fields of the object go through graphql-core's
   own `execute_fields`.
2. Simple resolvers (a synchronous method taking at most `info`, no arguments, no field
   extensions, permissions or exception handlers): graphql-core's own `execute_field` runs
   them, but it is handed a function that calls the method directly with a strawberry
   Info, instead of strawberry's six wrapper layers and argument conversion.
3. Lists of objects without directives on the field: execute each item's selection
   directly instead of through five nested completion calls per item.

Every error (a null in a non-null field, a value that does not coerce, an exception in a
resolver) is handled by graphql-core's own code, with the same paths and messages. So is
every awaitable: the shortcuts themselves never await. A resolver that returns one is
completed by graphql-core's `execute_field`; a list item whose selection turns out to be
asynchronous hands that item and the rest of the list to graphql-core's list completion.

This module relies on graphql-core's executor methods and on strawberry's private
`_strawberry_schema`, `_is_default` and `Info(_raw_info=, _field=)`: pyproject.toml pins
both libraries to the minor versions it was written against, and the tests compare its
answers with graphql-core's, synchronously and asynchronously.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from time import monotonic
from typing import Any, NamedTuple, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    MiddlewareManager,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, RefMap, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from domains.common.deadline import Deadline


class Leaf(NamedTuple):
    """How to read a basic leaf field without graphql-core's per-field machinery."""

    attribute: str
    coerce: Callable[[Any], Any]
    nullable: bool
    # values of this exact type coerce to themselves (str for String and ID, bool for
    # Boolean): the coercion is not called for them
    same: type | None


class Selection(NamedTuple):
    """A grouped field set, split: the basic leaves read here, the rest for graphql-core."""

    leaves: list[tuple[str, Leaf]]  # (response name, plan) in document order
    rest: dict[str, Any]  # the other fields, as a grouped field set
    leaves_first: bool  # every leaf comes before the rest in the document


class Completion(NamedTuple):
    """A field whose values are objects or lists of objects, completed here: the object
    type, the list type (None: one object) and the grouped field set of the objects; all
    None where graphql-core completes the values."""

    object_type: GraphQLObjectType | None
    list_type: GraphQLList[Any] | None
    grouped: Any


class FieldPlan(NamedTuple):
    """What graphql-core's execute_field works out for a field before resolving it, the
    same for every object of a list: the definition, the resolve function (the direct one
    where there is one) and the field nodes for the resolve info."""

    field_def: GraphQLField
    resolve: Callable[..., Any]
    nodes: list[Any]


class _Completed:
    """A list item this module completed already (a value, None, or an awaitable of
    one), handed to graphql-core's list completion, which must not complete it again."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _SchemaPlans:
    """What may take a shortcut in one schema, worked out once."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.leaves: dict[tuple[str, str], Leaf | None] = {}
        self.direct = _direct_resolvers(schema)

    def leaf(self, parent_type: GraphQLObjectType, field_name: str) -> Leaf | None:
        key = (parent_type.name, field_name)
        try:
            return self.leaves[key]
        except KeyError:
            plan = self.leaves[key] = _build_leaf(parent_type, field_name)
            return plan


# Plans per schema, weakly keyed: a schema that goes away takes its plans with it (an id()
# key could be reused by a later schema and hand it stale plans).
_PLANS: weakref.WeakKeyDictionary[GraphQLSchema, _SchemaPlans] = weakref.WeakKeyDictionary()


def _plans(schema: GraphQLSchema) -> _SchemaPlans:
    plans = _PLANS.get(schema)
    if plans is None:
        plans = _PLANS[schema] = _SchemaPlans(schema)
    return plans


# graphql-core's built-in scalars whose coercion returns a value of this type unchanged
_BUILT_IN: dict[str, GraphQLScalarType] = {
    "String": GraphQLString,
    "ID": GraphQLID,
    "Boolean": GraphQLBoolean,
}
_SAME: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}


def _build_leaf(parent_type: GraphQLObjectType, field_name: str) -> Leaf | None:
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.args:
        return None
    definition = field_def.extensions.get("strawberry-definition")
    field_type = field_def.type
    nullable = not isinstance(field_type, GraphQLNonNull)
    named = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and definition.default_resolver is getattr
        and getattr(field_def.resolve, "_is_default", False)
        and isinstance(named, (GraphQLScalarType, GraphQLEnumType))
    ):
        same = _SAME.get(named.name) if named is _BUILT_IN.get(named.name) else None
        return Leaf(definition.python_name, named.coerce_output_value, nullable, same)
    return None


def _direct_resolvers(schema: GraphQLSchema) -> dict[Callable[..., Any], Callable[..., Any]]:
    """Strawberry's resolve function of each simple field -> a function that calls the
    resolver method directly (the same arguments, the same result, awaitable or not)."""
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    if strawberry_schema is None or strawberry_schema.exception_handlers:
        return {}
    info_class: type[Info[Any, Any]] = strawberry_schema.config.info_class
    direct: dict[Callable[..., Any], Callable[..., Any]] = {}
    # strawberry makes one resolve function per field of each type, so the key is unique
    for named_type in schema.type_map.values():
        if not isinstance(named_type, GraphQLObjectType) or named_type.name.startswith("__"):
            continue
        for field_def in named_type.fields.values():
            fast = _direct_resolver(field_def, info_class)
            if field_def.resolve is not None and fast is not None:
                direct[field_def.resolve] = fast
    return direct


def _direct_resolver(
    field_def: GraphQLField, info_class: type[Info[Any, Any]]
) -> Callable[..., Any] | None:
    definition = field_def.extensions.get("strawberry-definition")
    if (
        field_def.args
        or not isinstance(definition, StrawberryField)
        or definition.base_resolver is None
        or definition.extensions
        or definition.permission_classes
    ):
        return None
    resolver = definition.base_resolver
    reserved = {p for p in (resolver.self_parameter, resolver.info_parameter) if p}
    func = resolver.wrapped_func
    if (
        resolver.is_async
        or resolver.self_parameter is None
        or resolver.arguments
        or set(resolver.signature.parameters.values()) != reserved
        or not callable(func)
    ):
        return None
    if resolver.info_parameter is None:

        def call(source: Any, _info: GraphQLResolveInfo[Any]) -> Any:
            return func(source)

        return call

    info_name = resolver.info_parameter.name

    def call_with_info(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        return func(source, **{info_name: info_class(_raw_info=info, _field=definition)})

    return call_with_info


class _DirectResolvers(MiddlewareManager):
    """No middleware at all; graphql-core asks it for each field's resolve function and is
    given the direct one where there is one (graphql-core's public extension point)."""

    def __init__(self, direct: dict[Callable[..., Any], Callable[..., Any]]) -> None:
        super().__init__()
        self._direct = direct

    def get_field_resolver(self, field_resolver: Callable[..., Any]) -> Callable[..., Any]:
        return self._direct.get(field_resolver, field_resolver)


def _merge(order: Any, leaves: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """The two halves of an object's fields, in the document's order."""
    merged: dict[str, Any] = {}
    for name in order:
        if name in leaves:
            merged[name] = leaves[name]
        elif name in others:  # graphql-core leaves out a field it does not know
            merged[name] = others[name]
    return merged


async def _await_completed(
    executor: FastExecutor,
    completed: Any,
    return_type: GraphQLOutputType,
    field_details_list: Any,
    path: Path,
) -> Any:
    # graphql-core's execute_field awaits a completion that turned out asynchronous so
    try:
        return await completed
    except Exception as raw_error:
        executor.handle_field_error(raw_error, return_type, field_details_list, path)
        return None


async def _merge_when_done(order: Any, leaves: dict[str, Any], others: Any) -> dict[str, Any]:
    # graphql-core's own awaitable of the other fields; its errors pass through untouched
    return _merge(order, leaves, await others)


class DeadlineExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's own executor (through strawberry's), plus the request's time limit
    (OPSGRAPH_REQUEST_TIMEOUT) looked at before each object: work that runs no SQL
    (completing objects already loaded) stops at it too. OPSGRAPH_FAST_EXECUTOR=false."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: Deadline | None = getattr(self.context_value, "deadline", None)

    def build_per_event_executor(self, payload: Any) -> Any:
        """graphql-core copies the subscription's executor shallowly for each event, so
        every copy would add its own field lists to the memos it shares (collected
        subfields and stream usages, keyed by the lists, which they keep alive) for as
        long as the stream lasts: a live subscription grew the server by megabytes a minute
        (benchmarks/soak.py). Each event's executor gets memos of its own."""
        executor = cast("DeadlineExecutor", super().build_per_event_executor(payload))
        executor.reset_memos()
        return executor

    def reset_memos(self) -> None:
        self._relevant_sub_fields = {}
        self._stream_usages = RefMap()

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        deadline = self._deadline
        if deadline is not None and path is not None and monotonic() >= deadline.at:
            raise deadline.error()
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )


class FastExecutor(DeadlineExecutor):
    """The shortcuts (see the module's docstring), on top of DeadlineExecutor."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # resolve hooks (middleware) must see every field: then no shortcut is taken
        self._fast = manager is None or not manager.middlewares
        self._plans = _plans(self.schema)
        if self._fast:
            self.middleware_manager = _DirectResolvers(self._plans.direct)
        # graphql-core reuses one grouped field set for every object of a list, so the
        # plan of a selection is worked out once per request, not once per object.
        self._selections: dict[int, tuple[Any, Selection]] = {}
        self._completions: dict[int, tuple[Any, GraphQLOutputType, Completion]] = {}
        self._fields: dict[int, tuple[Any, GraphQLObjectType, FieldPlan | None]] = {}

    def reset_memos(self) -> None:
        super().reset_memos()
        self._selections = {}
        self._completions = {}
        self._fields = {}

    def _selection(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Selection:
        entry = self._selections.get(id(grouped_field_set))
        if entry is not None and entry[0] is grouped_field_set:
            return entry[1]
        leaves: list[tuple[str, Leaf]] = []
        rest: dict[str, Any] = {}
        leaves_first = True
        for name, details in grouped_field_set.items():
            plan = self._plans.leaf(parent_type, details[0].node.name.value)
            if plan is None:
                rest[name] = details
            else:
                leaves_first = leaves_first and not rest
                leaves.append((name, plan))
        selection = Selection(leaves, rest, leaves_first)
        self._selections[id(grouped_field_set)] = (grouped_field_set, selection)
        return selection

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if not self._fast:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        deadline = self._deadline
        if deadline is not None and path is not None and monotonic() >= deadline.at:
            raise deadline.error()
        selection = self._selection(parent_type, grouped_field_set)
        return self._execute_selection(
            parent_type, source_value, path, grouped_field_set, selection, position_context
        )

    def _execute_selection(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        selection: Selection,
        position_context: Any,
    ) -> Any:
        """execute_fields past its checks: the leaves here, the rest by graphql-core."""
        leaves: dict[str, Any] = {}
        fallback = False
        for response_name, plan in selection.leaves:
            try:
                value = getattr(source_value, plan.attribute)
            except Exception:  # graphql-core's path reports it
                value = Undefined
            if type(value) is plan.same:
                leaves[response_name] = value
                continue
            if value is None:
                if plan.nullable:
                    leaves[response_name] = None
                    continue
            elif value is not Undefined:
                coerced = plan.coerce(value)
                if coerced is not None and coerced is not Undefined:
                    leaves[response_name] = coerced
                    continue
            # A null in a non-null field, a value that does not coerce, an attribute that
            # cannot be read: graphql-core's path raises the error it would.
            fallback = True
        rest = selection.rest
        if fallback:  # in the document's order, as graphql-core would run them
            rest = {n: d for n, d in grouped_field_set.items() if n not in leaves}
        if not rest:
            return leaves
        # graphql-core's own execute_fields, past DeadlineExecutor's: the clock was read above
        others = super(DeadlineExecutor, self).execute_fields(
            parent_type, source_value, path, rest, position_context
        )
        if not leaves:
            return others
        if self.is_awaitable(others):
            return _merge_when_done(grouped_field_set, leaves, others)
        if selection.leaves_first and not fallback:
            leaves.update(cast("dict[str, Any]", others))  # already the document's order
            return leaves
        return _merge(grouped_field_set, leaves, cast("dict[str, Any]", others))

    def _field_plan(
        self, parent_type: GraphQLObjectType, field_details_list: Any
    ) -> FieldPlan | None:
        """The field's plan, worked out at its first object; None for a field graphql-core
        executes itself (one with arguments, or that the type does not have)."""
        key = id(field_details_list)
        entry = self._fields.get(key)
        if entry is not None and entry[0] is field_details_list and entry[1] is parent_type:
            return entry[2]
        first = field_details_list[0].node
        field_def = self.schema.get_field(parent_type, first.name.value)
        plan = None
        if field_def is not None and not field_def.args and not first.arguments:
            resolve = field_def.resolve or self.field_resolver
            if self.middleware_manager:
                resolve = self.middleware_manager.get_field_resolver(resolve)
            plan = FieldPlan(field_def, resolve, to_nodes(field_details_list))
        self._fields[key] = (field_details_list, parent_type, plan)
        return plan

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        """graphql-core's execute_field with what comes before the resolver looked up once
        per field and request (the field of every object of a list is the same)."""
        plan = self._field_plan(parent_type, field_details_list) if self._fast else None
        if plan is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        return_type = plan.field_def.type
        info = self.build_resolve_info(plan.field_def, plan.nodes, parent_type, path)
        try:
            result = plan.resolve(source, info)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
            if self.is_awaitable(completed):
                return _await_completed(self, completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    def _completion(self, return_type: GraphQLOutputType, field_details_list: Any) -> Completion:
        """How values of this field complete, worked out at its first value: graphql-core
        hands every object of a list the same field details list, and collect_subfields
        memoizes its answer per list, so the answer holds for the whole request."""
        key = id(field_details_list)
        entry = self._completions.get(key)
        if entry is not None and entry[0] is field_details_list and entry[1] is return_type:
            return entry[2]
        plan = Completion(None, None, None)
        if not any(d.node.directives for d in field_details_list):
            inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
            if isinstance(inner, GraphQLObjectType):
                grouped, new_defer_usages, _ = self.collect_subfields(inner, field_details_list)
                if not new_defer_usages:
                    plan = Completion(inner, None, grouped)
            elif isinstance(inner, GraphQLList):
                item_type = inner.of_type
                item_non_null = isinstance(item_type, GraphQLNonNull)
                object_type = item_type.of_type if item_non_null else item_type
                if isinstance(object_type, GraphQLObjectType):
                    grouped, new_defer_usages, _ = self.collect_subfields(
                        object_type, field_details_list
                    )
                    if not new_defer_usages:
                        plan = Completion(object_type, inner, grouped)
        self._completions[key] = (field_details_list, return_type, plan)
        return plan

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is _Completed:
            return result.value
        if not self._fast or result is None:
            return super().complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        object_type, list_type, grouped = self._completion(return_type, field_details_list)
        if object_type is not None:
            is_type_of = object_type.is_type_of
            if list_type is None:
                if is_type_of is None or is_type_of(result, info) is True:
                    return self.execute_fields(object_type, result, path, grouped, position_context)
            elif isinstance(result, list):
                typed = True
                for item in result:
                    if item is None or (
                        is_type_of is not None and is_type_of(item, info) is not True
                    ):
                        typed = False
                        break
                if typed:
                    return self._complete_objects(
                        list_type,
                        object_type,
                        field_details_list,
                        info,
                        path,
                        result,
                        grouped,
                        position_context,
                    )
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _complete_objects(
        self,
        list_type: GraphQLList[Any],
        object_type: GraphQLObjectType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: list[Any],
        grouped: Any,
        position_context: Any,
    ) -> Any:
        item_type = list_type.of_type
        completed: list[Any] = []
        # execute_fields for each item, its selection's plan looked up once for the list
        selection = self._selection(object_type, grouped)
        deadline = self._deadline
        execute = self._execute_selection
        for index, item in enumerate(items):
            item_path = Path(path, index, None)
            try:
                if deadline is not None and monotonic() >= deadline.at:
                    raise deadline.error()
                value = execute(object_type, item, item_path, grouped, selection, position_context)
            except Exception as raw_error:
                self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                value = None
            if self.is_awaitable(value):
                # Asynchronous after all: graphql-core completes the list, awaiting this
                # item with its own error handling and completing the items not yet begun.
                handed = [_Completed(v) for v in completed]
                handed.append(_Completed(value))
                handed.extend(items[index + 1 :])
                return self.complete_list_value(
                    list_type, field_details_list, info, path, handed, position_context
                )
            completed.append(value)
        return completed
