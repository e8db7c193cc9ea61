"""A faster graphql-core executor for the common cases.

Profiling the reference read query (README, benchmarks) showed most of the time in
graphql-core's and strawberry's per-field machinery, not in opsgraph's code. Three
shortcuts, each taken only where it cannot change the result:

1. Basic leaves (a scalar or enum attribute, no resolver, no arguments, no field
   extension): read the attribute and coerce it, without Path, ResolveInfo and
   strawberry's getattr wrapper.
2. Simple resolvers (a synchronous method taking at most `info`, no arguments, no field
   extensions or permissions): call the method directly with a strawberry Info, instead
   of going through strawberry's six wrapper layers and argument conversion.
3. Lists of objects and single objects without directives on the field: execute each
   item's selection directly instead of through five nested completion calls per item.

Every error (a null in a non-null field, a value that does not coerce, an exception in a
resolver) is handled by graphql-core's own code, with the same paths and messages.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from time import monotonic
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from domains.common.deadline import Deadline

# (attribute name, coerce function, nullable) for a basic leaf field, None for any other
Plan = tuple[str, Callable[[Any], Any], bool] | None

# Plans per schema, weakly keyed: a schema that goes away takes its plans with it (an id()
# key could be reused by a later schema and hand it stale plans).
_CACHE: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str, str], Any]] = (
    weakref.WeakKeyDictionary()
)


def _cached(
    schema: GraphQLSchema,
    kind: str,
    parent_type: GraphQLObjectType,
    field_name: str,
    build: Callable[[GraphQLObjectType, str], Any],
) -> Any:
    plans = _CACHE.get(schema)
    if plans is None:
        plans = _CACHE[schema] = {}
    key = (kind, parent_type.name, field_name)
    try:
        return plans[key]
    except KeyError:
        plan = plans[key] = build(parent_type, field_name)
        return plan


def _plan(schema: GraphQLSchema, parent_type: GraphQLObjectType, field_name: str) -> Plan:
    return _cached(schema, "leaf", parent_type, field_name, _build_plan)  # type: ignore[no-any-return]


def _build_plan(parent_type: GraphQLObjectType, field_name: str) -> Plan:
    plan: Plan = None
    field_def = parent_type.fields.get(field_name)
    if field_def is not None and not field_def.args:
        definition = field_def.extensions.get("strawberry-definition")
        field_type = field_def.type
        nullable = not isinstance(field_type, GraphQLNonNull)
        named = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if (
            isinstance(definition, StrawberryField)
            and definition.is_basic_field
            and getattr(field_def.resolve, "_is_default", False)
            and isinstance(named, (GraphQLScalarType, GraphQLEnumType))
        ):
            plan = (definition.python_name, named.coerce_output_value, nullable)
    return plan


# per grouped field set: (response name, plan) in document order
Compiled = list[tuple[str, Plan]]

# a resolver that may be called directly: (function, name of its info parameter or None,
# the GraphQL field, the strawberry field)
Direct = tuple[Callable[..., Any], str | None, GraphQLField, StrawberryField] | None


def _direct(schema: GraphQLSchema, parent_type: GraphQLObjectType, field_name: str) -> Direct:
    return _cached(schema, "direct", parent_type, field_name, _build_direct)  # type: ignore[no-any-return]


def _build_direct(parent_type: GraphQLObjectType, field_name: str) -> Direct:
    plan: Direct = None
    field_def = parent_type.fields.get(field_name)
    definition = None if field_def is None else field_def.extensions.get("strawberry-definition")
    if (
        field_def is not None
        and not field_def.args
        and isinstance(definition, StrawberryField)
        and definition.base_resolver is not None
        and not definition.extensions
        and not definition.permission_classes
    ):
        resolver = definition.base_resolver
        reserved = {p for p in (resolver.self_parameter, resolver.info_parameter) if p}
        if (
            not resolver.is_async
            and resolver.self_parameter is not None
            and not resolver.arguments
            and set(resolver.signature.parameters.values()) == reserved
            and callable(resolver.wrapped_func)
        ):
            info_name = resolver.info_parameter.name if resolver.info_parameter else None
            plan = (resolver.wrapped_func, info_name, field_def, definition)
    return plan


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core reuses one grouped field set for every object of a list, so the
        # plan of a selection is worked out once per request, not once per object.
        self._compiled: dict[int, tuple[Any, Compiled]] = {}
        # the request's time limit (OPSGRAPH_REQUEST_TIMEOUT), looked at before each object:
        # work that runs no SQL (completing objects already loaded) stops at it too
        self._deadline: Deadline | None = getattr(self.context_value, "deadline", None)

    def _compile(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Compiled:
        entry = self._compiled.get(id(grouped_field_set))
        if entry is not None and entry[0] is grouped_field_set:
            return entry[1]
        compiled = [
            (name, _plan(self.schema, parent_type, details[0].node.name.value))
            for name, details in grouped_field_set.items()
        ]
        self._compiled[id(grouped_field_set)] = (grouped_field_set, compiled)
        return compiled

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
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:  # resolve hooks must see every field
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        for response_name, plan in self._compile(parent_type, grouped_field_set):
            if plan is not None:
                value = getattr(source_value, plan[0])
                if value is None:
                    if plan[2]:
                        results[response_name] = None
                        continue
                else:
                    coerced = plan[1](value)
                    if coerced is not None and coerced is not Undefined:
                        results[response_name] = coerced
                        continue
                # A null in a non-null field, or a value that does not coerce: the
                # standard path raises the error graphql-core would.
            result = self.execute_field(
                parent_type,
                source_value,
                grouped_field_set[response_name],
                Path(path, response_name, parent_type.name),
                position_context,
            )
            if result is not Undefined:
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        if not awaitable_fields:
            return results

        async def gather_results() -> dict[str, Any]:
            values = await asyncio.gather(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, values, strict=True))
            return results

        return gather_results()

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        plan = _direct(self.schema, parent_type, field_details_list[0].node.name.value)
        manager = self.middleware_manager
        if plan is None or (manager is not None and manager.middlewares):
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        func, info_name, field_def, definition = plan
        return_type = field_def.type
        info = self.build_resolve_info(
            field_def, [d.node for d in field_details_list], parent_type, path
        )
        try:
            if info_name is None:
                result = func(source)
            else:
                result = func(source, **{info_name: Info(_raw_info=info, _field=definition)})
            return self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if result is None or any(d.node.directives for d in field_details_list):
            return super().complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        if isinstance(inner, GraphQLObjectType):
            is_type_of = inner.is_type_of
            if is_type_of is None or is_type_of(result, info) is True:
                grouped, new_defer_usages, _ = self.collect_subfields(inner, field_details_list)
                if not new_defer_usages:
                    return self.execute_fields(inner, result, path, grouped, position_context)
        elif isinstance(inner, GraphQLList) and isinstance(result, list):
            item_type = inner.of_type
            item_non_null = isinstance(item_type, GraphQLNonNull)
            object_type = item_type.of_type if item_non_null else item_type
            if isinstance(object_type, GraphQLObjectType):
                is_type_of = object_type.is_type_of
                if all(
                    item is not None and (is_type_of is None or is_type_of(item, info) is True)
                    for item in result
                ):
                    grouped, new_defer_usages, _ = self.collect_subfields(
                        object_type, field_details_list
                    )
                    if not new_defer_usages:
                        return self._complete_objects(
                            item_type,
                            object_type,
                            field_details_list,
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
        item_type: GraphQLOutputType,
        object_type: GraphQLObjectType,
        field_details_list: Any,
        path: Path,
        items: list[Any],
        grouped: Any,
        position_context: Any,
    ) -> Any:
        completed: list[Any] = []
        awaitable_indexes: list[int] = []
        for index, item in enumerate(items):
            item_path = Path(path, index, None)
            try:
                value = self.execute_fields(object_type, item, item_path, grouped, position_context)
            except Exception as raw_error:
                self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                value = None
            if self.is_awaitable(value):
                awaitable_indexes.append(index)
            completed.append(value)
        if not awaitable_indexes:
            return completed

        async def gather_items() -> list[Any]:
            values = await asyncio.gather(*(completed[i] for i in awaitable_indexes))
            for i, value in zip(awaitable_indexes, values, strict=True):
                completed[i] = value
            return completed

        return gather_items()
