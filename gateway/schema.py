"""Composes the domains' queries into the one schema, with the gateway's limits."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import strawberry
import strawberry.federation
from graphql import (
    FieldNode,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    ValidationRule,
    parse,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from domains.accounting.mutations import AccountingMutation
from domains.accounting.queries import AccountingQuery
from domains.accounting.queries import topology_fields as usage_fields
from domains.changelog.queries import ChangeLogQuery
from domains.common import tracing
from domains.common.graphql import SCALARS, Info, Node, extend_type, resolve_node
from domains.downtimes.mutations import DowntimeMutation
from domains.downtimes.notification_subscriptions import (
    DowntimeSubscriptionMutation,
    DowntimeSubscriptionQuery,
)
from domains.downtimes.notification_subscriptions import identity_fields as downtime_viewer
from domains.downtimes.queries import DowntimeQuery
from domains.downtimes.streams import DowntimeSubscriptionRoot
from domains.downtimes.types import identity_fields as downtime_declarable
from domains.downtimes.types import topology_fields
from domains.identity.mutations import IdentityMutation
from domains.identity.queries import IdentityQuery
from domains.messaging.mutations import MessagingMutation
from domains.messaging.queries import MessagingQuery
from domains.messaging.streams import MessagingSubscriptionRoot
from domains.messaging.types import identity_fields as messaging_viewer
from domains.monitoring.mutations.alert_rules import MonitoringAlertMutation
from domains.monitoring.mutations.catalogue import MonitoringCatalogueMutation
from domains.monitoring.mutations.recomputations import MonitoringRecomputationMutation
from domains.monitoring.mutations.results import MonitoringResultsMutation
from domains.monitoring.queries.alerts import MonitoringAlertQuery
from domains.monitoring.queries.availability import MonitoringAvailabilityQuery
from domains.monitoring.queries.catalogue import MonitoringCatalogueQuery
from domains.monitoring.queries.levels import MonitoringStatusQuery
from domains.monitoring.queries.levels import topology_fields as status_fields
from domains.monitoring.queries.recomputations import MonitoringRecomputationQuery
from domains.monitoring.queries.results import MonitoringResultsQuery
from domains.monitoring.streams import MonitoringSubscriptionRoot
from domains.topology.mutations import TopologyMutation
from domains.topology.queries import TopologyQuery
from domains.topology.types import SiteNode, identity_fields
from domains.topology.types.credentials import site_fields as credential_fields
from gateway.config import Settings
from gateway.cost import Budgets, CostModel, limits_extension
from gateway.errors import format_error
from gateway.executor import DeadlineExecutor, FastExecutor
from gateway.federation import (
    BUILDING,
    FEDERATION_VERSION,
    FederationMixin,
    FederationQuery,
    NoFederationServiceRule,
    node_types,
)
from gateway.inputs import InputBounds, LiteralBounds, StorableLiterals
from gateway.tracing import OperationSpans

# A domain's fields on a lower domain's types (downtimes on Site and Service, topology's
# roles and the higher domains' `viewerCan…` on identity's Viewer): added here, once, so the
# lower domain never imports the higher one.
for _type, _fields in (
    *topology_fields().items(),
    *status_fields().items(),
    *usage_fields().items(),
    (SiteNode, credential_fields()),
    *identity_fields().items(),
    *messaging_viewer().items(),
    *downtime_viewer().items(),
    *downtime_declarable().items(),
):
    extend_type(_type, _fields)


@strawberry.type
class Mutation(
    TopologyMutation,
    IdentityMutation,
    MessagingMutation,
    DowntimeMutation,
    DowntimeSubscriptionMutation,
    MonitoringResultsMutation,
    MonitoringCatalogueMutation,
    MonitoringAlertMutation,
    MonitoringRecomputationMutation,
    AccountingMutation,
):
    """Every mutation runs in one transaction: all of it is written, or nothing."""


@strawberry.type
class Subscription(MessagingSubscriptionRoot, DowntimeSubscriptionRoot, MonitoringSubscriptionRoot):
    """Live streams over graphql-transport-ws; each step is a transaction of its own."""


@strawberry.type
class Query(
    TopologyQuery,
    IdentityQuery,
    ChangeLogQuery,
    MessagingQuery,
    DowntimeQuery,
    DowntimeSubscriptionQuery,
    MonitoringResultsQuery,
    MonitoringStatusQuery,
    MonitoringAvailabilityQuery,
    MonitoringCatalogueQuery,
    MonitoringAlertQuery,
    MonitoringRecomputationQuery,
    AccountingQuery,
):
    @strawberry.field(description="Any object by its global id.")
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return resolve_node(info, id)


class Schema(strawberry.Schema):
    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Only the WebSocket transport streams, and it carries subscriptions only: queries
        and mutations go over HTTP, where the view runs them in one transaction each.
        Errors get the same `extensions` (code, field, request id) as over HTTP."""
        source = await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types={OperationType.SUBSCRIPTION},
        )
        request_id = str(getattr(context_value, "request_id", ""))
        return _with_formatted_errors(source, request_id, query, operation_name)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Errors are logged once, by gateway/errors.py: internal ones with their traceback
        and request id; the caller's own mistakes are not server errors and are not logged."""


@strawberry.type(name="Query")
class FederatedQuery(Query, FederationQuery):
    """The query type with the subgraph's `_service` (`_entities` is strawberry's)."""


class FederatedSchema(FederationMixin, strawberry.federation.Schema, Schema):
    """The schema as an Apollo Federation v2 subgraph (OPSGRAPH_FEDERATION=true)."""


def _root_field(query: str | None, operation_name: str | None) -> str | None:
    """The response key of the subscription's (only) root field."""
    try:
        document = parse(query or "")
    except GraphQLError:
        return None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    return (selection.alias or selection.name).value
    return None


async def _with_formatted_errors(
    source: StreamResult, request_id: str, query: str | None, operation_name: str | None
) -> StreamResult:
    async with aclosing(source):
        async for result in source:
            if isinstance(result, ExecutionResult) and result.errors:
                for error in result.errors:
                    raised = error.original_error
                    if (
                        error.path is None
                        and raised is not None
                        and not isinstance(raised, GraphQLError)
                        and not isinstance(result, PreExecutionError)
                    ):
                        # raised by the subscription's source stream, which graphql-core
                        # reports without a path: it is the root field's, as over HTTP
                        key = _root_field(query, operation_name)
                        error.path = [key] if key else []
                    formatted = format_error(error, request_id)
                    error.message = formatted["message"]
                    error.extensions = formatted["extensions"]
            yield result


def build_schema(settings: Settings | None = None) -> Schema:
    """The schema for these settings; built once per distinct set of the settings it reads
    (building takes ~0.1 s, and every test app, like every process, asks for it)."""
    settings = settings or Settings()
    return _schema_for(
        SchemaSettings(
            max_query_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_query_cost=settings.max_query_cost,
            max_query_cost_anonymous=settings.max_query_cost_anonymous,
            default_page_size=settings.default_page_size,
            default_list_size=settings.default_list_size,
            introspection=settings.introspection,
            federation=settings.federation,
            max_tokens=settings.max_tokens,
            graphiql=settings.graphiql,
            fast_executor=settings.fast_executor,
            traced=settings.otlp_endpoint is not None,
        )
    )


@dataclass(frozen=True)
class SchemaSettings:
    """The settings the schema is built from: the key of its cache."""

    max_query_depth: int
    max_aliases: int
    max_query_cost: int
    max_query_cost_anonymous: int
    default_page_size: int
    default_list_size: int
    introspection: bool
    federation: bool
    max_tokens: int
    graphiql: bool
    fast_executor: bool
    traced: bool = False


@functools.lru_cache(maxsize=16)
def _schema_for(settings: SchemaSettings) -> Schema:
    # Depth, aliases and cost are checked by gateway/cost.py, linear in the document (each
    # fragment once), before graphql-core's validation, which it also caches.
    budgets = Budgets(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_cost=settings.max_query_cost,
        max_cost_anonymous=settings.max_query_cost_anonymous,
        model=CostModel(
            default_page_size=settings.default_page_size,
            default_list_size=settings.default_list_size,
        ),
    )
    # Extra rules are built once per schema: the same classes keep the validation cache hit.
    rules: list[type[ValidationRule]] = [
        LiteralBounds,  # property filters written in the document (gateway/inputs.py)
        StorableLiterals,  # no NUL in a string literal (gateway/inputs.py)
    ]
    if not settings.introspection:  # OPSGRAPH_INTROSPECTION=false: __schema, __type refused
        rules.append(NoSchemaIntrospectionCustomRule)
        if settings.federation:  # `_service { sdl }` is the schema too
            rules.append(NoFederationServiceRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(list(rules)),
        lambda: ParserCache(maxsize=512),
        limits_extension(budgets),
        InputBounds,  # property filters in variables, before they are coerced
    ]
    if settings.traced:  # traced: the operation's spans (none otherwise, at no cost)
        extensions.append(lambda: OperationSpans(tracer_provider=tracing.provider()))
    common: dict[str, Any] = {
        "mutation": Mutation,
        "subscription": Subscription,
        "extensions": extensions,
        "config": StrawberryConfig(
            disable_field_suggestions=not settings.graphiql, scalar_map=SCALARS
        ),
        "execution_context_class": FastExecutor if settings.fast_executor else DeadlineExecutor,
    }
    with BUILDING:
        if not settings.federation:
            return Schema(query=Query, **common)
        # the entities are the Node types the plain schema holds (built once, cached)
        plain = _schema_for(dataclasses.replace(settings, federation=False))
        return FederatedSchema(
            query=FederatedQuery,
            entities=node_types(plain.schema_converter.type_map.values()),
            federation_version=FEDERATION_VERSION,
            **common,
        )


def export_sdl(*, federation: bool = False) -> str:
    """schema.graphql; with `federation`, the subgraph SDL a router composes (`_service`'s)."""
    if federation:
        schema = build_schema(Settings(federation=True))
        if not isinstance(schema, FederatedSchema):
            raise TypeError("OPSGRAPH_FEDERATION built a plain schema")
        return schema.federation_sdl + "\n"
    return print_schema(build_schema()) + "\n"
