"""Bounds on tree-shaped GraphQL inputs, checked before any work is done on them.

A property filter (`PropertyFilter`: `and`/`or`/`not` trees) is bounded in conditions and
depth (domains/topology/filters.py). The resolver checks it too, but only after graphql-core
has coerced the value and strawberry has converted it, both recursive and slow: 20,000
conditions in a variable took 13 s to get there. So the bounds are checked earlier:

- in a variable, before graphql-core coerces it (`InputBounds`, a schema extension that
  runs once the document is parsed and validated, before execution);
- in a literal of the document, as a validation rule (`LiteralBounds`; its verdict is
  cached with the document's validation).

Both walk iteratively and stop at the first bound passed. `StorableLiterals` refuses a
string literal holding U+0000, which no PostgreSQL column stores. Errors are BAD_USER_INPUT naming
the variable (`$f`, `$filter.properties`) or the argument (`filter.properties`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ListValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    ValidationRule,
    type_from_ast,
)
from strawberry.extensions import SchemaExtension

from domains.common.errors import CommonRule, Invalid
from domains.common.text import unstorable_text
from domains.topology.filters import check_tree_bounds

TREE_INPUT = "PropertyFilter"
TREE_FIELDS = ("and", "or", "not")


def _raw_children(value: Any) -> list[Any]:
    """The sub-conditions of a filter in a variable (JSON); anything malformed is left for
    graphql-core's coercion to report."""
    if not isinstance(value, dict):
        return []
    found: list[Any] = []
    for name in TREE_FIELDS:
        child = value.get(name)
        if isinstance(child, list):
            found.extend(child)
        elif child is not None:
            found.append(child)
    return found


def _literal_children(node: Any) -> list[Any]:
    if not isinstance(node, ObjectValueNode):
        return []
    found: list[Any] = []
    for field in node.fields:
        if field.name.value in TREE_FIELDS:
            value = field.value
            found.extend(value.values if isinstance(value, ListValueNode) else [value])
    return found


def _named(type_: Any) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def _tree_values(
    value: Any, type_: GraphQLInputType, field: str, wanted: set[str]
) -> Iterator[tuple[Any, str]]:
    """(value, field) of each tree input inside `value` of type `type_`, iteratively; only
    input types that can hold one (`wanted`) are entered."""
    stack: list[tuple[Any, Any, str]] = [(value, type_, field)]
    while stack:
        raw, kind, where = stack.pop()
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if raw is None:
            continue
        if isinstance(kind, GraphQLList):
            items = raw if isinstance(raw, list) else [raw]
            stack.extend((item, kind.of_type, f"{where}[{i}]") for i, item in enumerate(items))
        elif isinstance(kind, GraphQLInputObjectType) and isinstance(raw, dict):
            if kind.name == TREE_INPUT:
                yield raw, where
                continue
            for name, sub in kind.fields.items():
                if name in raw and _named(sub.type).name in wanted:
                    stack.append((raw[name], sub.type, f"{where}.{name}"))


def _holders(schema: GraphQLSchema) -> set[str]:
    """Names of the input types that can hold a tree input, at any depth."""
    holders = {TREE_INPUT}
    changed = True
    while changed:
        changed = False
        for type_ in schema.type_map.values():
            if (
                isinstance(type_, GraphQLInputObjectType)
                and type_.name not in holders
                and any(_named(f.type).name in holders for f in type_.fields.values())
            ):
                holders.add(type_.name)
                changed = True
    return holders


_HOLDERS: weakref.WeakKeyDictionary[GraphQLSchema, set[str]] = weakref.WeakKeyDictionary()


class InputBounds(SchemaExtension):
    """Variables: each tree input is bounded before graphql-core coerces it."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        variables = context.variables or {}
        if document is not None and variables:
            schema = context.schema._schema
            wanted = _HOLDERS.get(schema)
            if wanted is None:
                wanted = _HOLDERS[schema] = _holders(schema)
            try:
                self._check(document.definitions, variables, schema, wanted)
            except Invalid as invalid:
                error = GraphQLError(invalid.message, original_error=invalid)
                context.result = ExecutionResult(data=None, errors=[error])
        yield

    @staticmethod
    def _check(
        definitions: Any, variables: dict[str, Any], schema: GraphQLSchema, wanted: set[str]
    ) -> None:
        for definition in definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            for variable in definition.variable_definitions or ():
                name = variable.variable.name.value
                type_ = type_from_ast(schema, variable.type)
                if name not in variables or type_ is None or _named(type_).name not in wanted:
                    continue
                for raw, field in _tree_values(variables[name], type_, f"${name}", wanted):  # type: ignore[arg-type]
                    check_tree_bounds(raw, _raw_children, field)


class LiteralBounds(ValidationRule):
    """Literals in the document: each outermost tree input is bounded."""

    def enter_object_value(
        self, node: ObjectValueNode, _key: Any, parent: Any, _path: Any, ancestors: Any
    ) -> Any:
        type_ = self.context.get_input_type()
        if type_ is None or _named(type_).name != TREE_INPUT:
            return None
        names = [
            a.name.value
            for a in (*ancestors, parent)
            if isinstance(a, (ArgumentNode, ObjectFieldNode))
        ]
        field = ".".join(names) or TREE_INPUT
        try:
            check_tree_bounds(node, _literal_children, field)
        except Invalid as invalid:
            self.report_error(GraphQLError(invalid.message, node, original_error=invalid))
        return False  # the subtree is this tree's: not entered again


class StorableLiterals(ValidationRule):
    """String literals in the document hold text a database stores: GraphQL's `"\\u0000"`
    escape decodes to NUL, which PostgreSQL refuses (variables are checked as the body is
    decoded, gateway/view.py). Named by the argument path, as a variable would be."""

    def enter_string_value(
        self, node: StringValueNode, _key: Any, parent: Any, _path: Any, ancestors: Any
    ) -> None:
        problem = unstorable_text(node.value)
        if problem is None:
            return
        names = [
            a.name.value
            for a in (*ancestors, parent)
            if isinstance(a, (ArgumentNode, ObjectFieldNode))
        ]
        field = ".".join(names) or "query"
        invalid = Invalid(field, CommonRule.TEXT_NOT_STORABLE, f"{field}: {problem}")
        self.report_error(GraphQLError(invalid.message, node, original_error=invalid))
