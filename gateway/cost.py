"""Limits on a GraphQL document, checked before it runs, in time linear in its size.

- Document limits (depth, aliases, nesting through fragments) depend on the text alone:
  they are checked first, cached by document. A document over one of them is refused
  without being validated.
- Cost estimates how many fields the answer may hold: a connection multiplies its edges and
  nodes by its `first` (a literal, a variable, or the default page size), a plain list by the
  size expected of it (`LIST_SIZES`, else `OPSGRAPH_DEFAULT_LIST_SIZE`). It needs the
  variables and the caller (anonymous callers have a smaller budget), so it is computed for
  each request, before graphql-core's validation (it reads an invalid document without
  failing: unknown fields cost 1), so that no validation is spent on a document refused.

Each fragment is analysed once, after the fragments it spreads (memoised), so a document of
fragments that each spread the previous one twice costs as much as its text, not 2^n
expansions. A spread that closes a fragment cycle counts as nothing here; validation
(NoFragmentCycles) refuses the document. Every count saturates at `SATURATED`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_composite_type,
)
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.validation import ASTValidationRule
from graphql.validation.rules.overlapping_fields_can_be_merged import MAX_COMPLEXITY_BUDGET
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from domains.common.identity import Principal
from gateway.errors import LimitExceeded

SATURATED = 10**15

# Expected sizes of plain lists (no `first`), by (type, field). Lists not named here count
# `OPSGRAPH_DEFAULT_LIST_SIZE` items. Sizes are what a large federation has per parent
# (EGI: ~10 services per site, 1-2 endpoints per service, ~20 sites per NGI), not maxima.
LIST_SIZES: Mapping[tuple[str, str], int] = {
    ("Site", "services"): 10,
    ("Service", "endpoints"): 2,
    ("NGI", "sites"): 20,
    ("NGI", "projects"): 2,
    ("Project", "ngis"): 40,
    ("Site", "scopes"): 3,
    ("Service", "scopes"): 3,
    ("NGI", "scopes"): 3,
    ("ServiceGroup", "scopes"): 3,
    ("Site", "properties"): 5,
    ("Service", "properties"): 5,
    ("Endpoint", "properties"): 5,
    ("ServiceGroup", "properties"): 5,
    ("Site", "certificationStatusHistory"): 5,
    ("Downtime", "services"): 5,
    ("Downtime", "affectedServices"): 5,
    ("Downtime", "endpoints"): 5,
}

# graphql-core's own limits, named in the messages that replace its "Validation aborted."
MAX_VALIDATION_ERRORS = 100  # graphql-core's default `max_errors`
_TOO_MANY_ERRORS = "Too many validation errors, error limit reached. Validation aborted."


def _cap(value: int) -> int:
    return value if value < SATURATED else SATURATED


def _figure(value: int) -> str:
    return f"over {SATURATED - 1:,}" if value >= SATURATED else f"{value:,}"


@dataclass(frozen=True, slots=True)
class CostModel:
    default_page_size: int = 20
    default_list_size: int = 10
    list_sizes: Mapping[tuple[str, str], int] = field(default_factory=lambda: LIST_SIZES)


@dataclass(frozen=True, slots=True)
class Shape:
    """What the document limits look at, per operation (by name; '' when anonymous)."""

    depths: Mapping[str, int]
    aliases: int
    nesting: int


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
                stack.append(selection.selection_set)


def fragment_order(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """The fragments, each after every fragment it spreads (spreads that close a cycle, or
    name no fragment, left out). Iterative: chains of thousands of fragments are fine."""
    spreads = {name: list(_spreads(f.selection_set)) for name, f in fragments.items()}
    order: list[str] = []
    done: set[str] = set()
    for root in fragments:
        if root in done:
            continue
        path = [(root, iter(spreads[root]))]
        on_path = {root}
        while path:
            name, pending = path[-1]
            for spread in pending:
                if spread in spreads and spread not in done and spread not in on_path:
                    path.append((spread, iter(spreads[spread])))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                done.add(name)
                order.append(name)
    return order


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class _Counts(NamedTuple):
    """Of one selection set, through its fragments."""

    depth: int
    aliases: int
    nesting: int


def shape(document: DocumentNode) -> Shape:
    """Depth (as strawberry's QueryDepthLimiter counts it: fields with a selection, not
    counting introspection), aliases (of every operation, through its fragments, as
    strawberry's MaxAliasesLimiter counts them) and nesting of selection sets through
    fragments (as graphql-core's validation does before it gives up)."""
    fragments = _fragments(document)
    memo: dict[str, _Counts] = {}

    def walk(selection_set: SelectionSetNode) -> _Counts:
        depth, aliases, nesting = 0, 0, 1
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                d, a, n = memo.get(selection.name.value, _Counts(0, 0, 0))
                depth, aliases, nesting = max(depth, d), aliases + a, max(nesting, 1 + n)
                continue
            if isinstance(selection, InlineFragmentNode):
                d, a, n = walk(selection.selection_set)
                depth, aliases, nesting = max(depth, d), aliases + a, max(nesting, 1 + n)
                continue
            if not isinstance(selection, FieldNode):
                continue
            if selection.alias is not None:
                aliases += 1
            if selection.selection_set is None:
                continue
            d, a, n = walk(selection.selection_set)
            aliases, nesting = aliases + a, max(nesting, 1 + n)
            if not selection.name.value.startswith("__"):
                depth = max(depth, 1 + d)
        return _Counts(depth, _cap(aliases), nesting)

    for name in fragment_order(fragments):
        memo[name] = walk(fragments[name].selection_set)
    depths: dict[str, int] = {}
    aliases, nesting = 0, max((c.nesting for c in memo.values()), default=0)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            d, a, n = walk(definition.selection_set)
            key = definition.name.value if definition.name else ""
            depths[key] = max(depths.get(key, 0), d)
            aliases, nesting = _cap(aliases + a), max(nesting, n)
    return Shape(depths, aliases, nesting)


def shape_errors(document: DocumentNode, *, max_depth: int, max_aliases: int) -> list[GraphQLError]:
    found = shape(document)
    errors: list[GraphQLError] = []
    for name, depth in found.depths.items():
        if depth > max_depth:
            what = f"operation '{name}'" if name else "query"
            errors.append(
                _limit(
                    "OPSGRAPH_MAX_QUERY_DEPTH",
                    depth,
                    max_depth,
                    f"{what} depth {depth:,} exceeds the limit of {max_depth:,}",
                )
            )
    if found.aliases > max_aliases:
        errors.append(
            _limit(
                "OPSGRAPH_MAX_ALIASES",
                found.aliases,
                max_aliases,
                f"{_figure(found.aliases)} aliases (counted through fragments) exceed the "
                f"limit of {max_aliases:,}",
            )
        )
    if found.nesting > MAX_NESTING_DEPTH:
        errors.append(
            _limit(
                "MAX_NESTING_DEPTH",
                found.nesting,
                MAX_NESTING_DEPTH,
                f"selection sets nested {found.nesting:,} deep through fragments exceed the "
                f"limit of {MAX_NESTING_DEPTH:,}",
            )
        )
    return errors


def _limit(limit: str, value: int, maximum: int, message: str) -> GraphQLError:
    return GraphQLError(message, original_error=LimitExceeded(limit, value, maximum, message))


def _named_aborts(errors: list[GraphQLError]) -> list[GraphQLError]:
    """graphql-core's "Validation aborted." names no limit: say which one was reached. The
    document limits ran first, so nesting through fragments is within graphql-core's own
    limit; what remains is the budget of its field-merging check."""
    named: list[GraphQLError] = []
    for error in errors:
        if isinstance(error, ValidationAbortedError) and error.message == _TOO_MANY_ERRORS:
            error = _limit(
                "MAX_VALIDATION_ERRORS",
                MAX_VALIDATION_ERRORS + 1,
                MAX_VALIDATION_ERRORS,
                f"more than {MAX_VALIDATION_ERRORS} validation errors; the rest of the "
                "document was not checked",
            )
        elif isinstance(error, ValidationAbortedError):
            error = _limit(
                "MAX_COMPLEXITY_BUDGET",
                MAX_COMPLEXITY_BUDGET + 1,
                MAX_COMPLEXITY_BUDGET,
                f"checking that fields of the same name can be merged takes more than "
                f"{MAX_COMPLEXITY_BUDGET:,} comparisons (graphql-core's limit): select fewer "
                "fields of the same name in one selection set",
            )
        named.append(error)
    return named


@lru_cache(maxsize=512)
def checked_shape(document: DocumentNode, max_depth: int, max_aliases: int) -> list[GraphQLError]:
    """`shape_errors`, cached by document (the parser cache hands out the same one)."""
    return shape_errors(document, max_depth=max_depth, max_aliases=max_aliases)


@lru_cache(maxsize=512)
def validated(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """graphql-core's validation with strawberry's rules, its aborts named; cached by
    document, as strawberry's ValidationCache did."""
    return _named_aborts(validate_document(schema, document, rules))


# -- cost ---------------------------------------------------------------------------------


def _is_list(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


@lru_cache(maxsize=8)
def paged_types(schema: GraphQLSchema) -> frozenset[str]:
    """Object types returned by a field with a `first` argument (connections): their list
    fields (edges, nodes) hold one page."""
    names: set[str] = set()
    for type_ in schema.type_map.values():
        if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_ in type_.fields.values():
                if "first" in field_.args and not _is_list(field_.type):
                    names.add(get_named_type(field_.type).name)
    return frozenset(names)


class _Cost:
    """One request's cost: (fixed, per_item) pairs per selection set, where per_item is
    what each item of the enclosing connection's page adds (non-zero only in a selection
    on a connection type). Fragments are memoised on their own type condition."""

    def __init__(
        self,
        schema: GraphQLSchema,
        model: CostModel,
        variables: Mapping[str, Any],
        variable_defaults: Mapping[str, Any],
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        self.schema = schema
        self.model = model
        self.variables = variables
        self.variable_defaults = variable_defaults
        self.paged = paged_types(schema)
        self.conditions: dict[str, GraphQLCompositeType] = {}
        self.memo: dict[str, tuple[int, int]] = {}
        for name in fragment_order(fragments):
            fragment = fragments[name]
            condition = schema.get_type(fragment.type_condition.name.value)
            if is_composite_type(condition):
                self.conditions[name] = condition
                self.memo[name] = self.selection_set(fragment.selection_set, condition)

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLCompositeType
    ) -> tuple[int, int]:
        fixed = per_item = 0
        # fragments on another type than the parent's: they apply to some of its
        # possible types only, so an abstract parent costs its most expensive type
        branches: dict[str, list[int]] = {}
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                a, b = self.field(selection, parent)
                fixed, per_item = fixed + a, per_item + b
                continue
            if isinstance(selection, FragmentSpreadNode):
                a, b = self.memo.get(selection.name.value, (0, 0))
                fragment_type = self.conditions.get(selection.name.value, parent)
            elif isinstance(selection, InlineFragmentNode):
                fragment_type = parent
                if selection.type_condition is not None:
                    found = self.schema.get_type(selection.type_condition.name.value)
                    if is_composite_type(found):
                        fragment_type = found
                a, b = self.selection_set(selection.selection_set, fragment_type)
            else:
                continue
            if not is_abstract_type(parent) or fragment_type is parent:
                fixed, per_item = fixed + a, per_item + b
                continue
            for possible in self._possible(fragment_type, parent):
                branch = branches.setdefault(possible, [0, 0])
                branch[0], branch[1] = _cap(branch[0] + a), _cap(branch[1] + b)
        if branches:
            fixed += max(a for a, _ in branches.values())
            per_item += max(b for _, b in branches.values())
        return _cap(fixed), _cap(per_item)

    def _possible(self, type_: GraphQLCompositeType, parent: GraphQLCompositeType) -> list[str]:
        within = {t.name for t in self.schema.get_possible_types(parent)}  # type: ignore[arg-type]
        if isinstance(type_, GraphQLObjectType):
            return [type_.name] if type_.name in within else []
        names = [t.name for t in self.schema.get_possible_types(type_)]
        return [name for name in names if name in within]

    def field(self, node: FieldNode, parent: GraphQLCompositeType) -> tuple[int, int]:
        name = node.name.value
        if node.selection_set is None or name.startswith("__"):
            return 1, 0  # a leaf; introspection is bounded by the schema (and graphql-core)
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 1, 0
        definition = parent.fields.get(name)
        if definition is None:
            return 1, 0
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 1, 0
        fixed, per_item = self.selection_set(node.selection_set, named)
        first = self._first(node, definition)
        page = first if first is not None else self.model.default_page_size
        inner = _cap(fixed + page * per_item)
        if not _is_list(definition.type):
            return _cap(1 + inner), 0
        if first is not None:
            return _cap(1 + first * inner), 0
        if parent.name in self.paged:
            return 1, inner  # edges or nodes: one page of them, counted by the connection
        size = self.model.list_sizes.get((parent.name, name), self.model.default_list_size)
        return _cap(1 + size * inner), 0

    def _first(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """The page size a field with a `first` argument returns; None without one."""
        argument = definition.args.get("first")
        if argument is None:
            return None
        value: Any = None
        for given in node.arguments or ():
            if given.name.value != "first":
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                variable = given.value.name.value
                value = self.variables.get(variable, self.variable_defaults.get(variable))
            elif isinstance(given.value, NullValueNode):
                value = None
        if value is None:
            value = argument.default_value
        if isinstance(value, bool) or not isinstance(value, int):
            return self.model.default_page_size  # null, absent, or refused at coercion
        return max(0, min(value, SATURATED))


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    model: CostModel,
) -> int:
    """The estimated number of fields the operation's answer may hold (see module doc);
    0 when the document names no such operation (execution refuses it)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return 0
    defaults: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        value = definition.default_value
        if isinstance(value, IntValueNode):
            defaults[definition.variable.name.value] = int(value.value)
    cost = _Cost(schema, model, variables or {}, defaults, _fragments(document))
    fixed, per_item = cost.selection_set(operation.selection_set, root)
    return _cap(fixed + per_item)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    return None


@dataclass(frozen=True, slots=True)
class Budgets:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_cost_anonymous: int
    model: CostModel


def cost_errors(cost: int, principal: Principal | None, budgets: Budgets) -> list[GraphQLError]:
    anonymous = principal is None or principal.is_anonymous
    maximum = budgets.max_cost_anonymous if anonymous else budgets.max_cost
    if cost <= maximum:
        return []
    limit = "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS" if anonymous else "OPSGRAPH_MAX_QUERY_COST"
    who = "anonymous" if anonymous else "authenticated"
    return [
        _limit(
            limit,
            cost,
            maximum,
            f"query cost {_figure(cost)} exceeds the limit of {maximum:,} for {who} callers "
            "(cost: the fields the answer may hold, lists counted at their page size)",
        )
    ]


def limits_extension(budgets: Budgets) -> Callable[[], SchemaExtension]:
    """The extension that checks the document limits, the cost for the caller, then
    validates, before anything runs. It replaces strawberry's depth and alias limiters,
    which expand every fragment spread, and its ValidationCache."""

    class QueryLimits(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and context.pre_execution_errors is None:
                schema = context.schema._schema
                # cheapest first: a fragment bomb is refused before graphql-core's
                # validation spends anything on it (the cost is robust to invalid input)
                errors = checked_shape(document, budgets.max_depth, budgets.max_aliases)
                if not errors:
                    cost = query_cost(
                        schema, document, context.operation_name, context.variables, budgets.model
                    )
                    principal = getattr(context.context, "principal", None)
                    errors = cost_errors(cost, principal, budgets)
                if not errors:
                    errors = validated(schema, document, tuple(context.validation_rules))
                context.pre_execution_errors = list(errors)
            yield

    return QueryLimits
