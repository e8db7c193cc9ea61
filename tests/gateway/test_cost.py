"""Document limits and query cost (gateway/cost.py): the figures, the refusals, and that
fragments are analysed once each (documents whose expansion is astronomically large
return at once). Real-server attacks: tests/security/test_cost.py."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema, parse
from strawberry.extensions.max_aliases import count_fields_with_alias
from strawberry.extensions.query_depth_limiter import (
    determine_depth,
    get_fragments,
    get_queries_and_mutations,
)

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS, Principal
from gateway.config import Settings
from gateway.cost import (
    LIST_SIZES,
    SATURATED,
    Budgets,
    CostModel,
    cost_errors,
    query_cost,
    shape,
)
from gateway.errors import LimitExceeded
from gateway.schema import build_schema
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, Callers
from tests.websocket import receive_json

MODEL = CostModel(default_page_size=20, default_list_size=10)
SERVICES = LIST_SIZES[("Site", "services")]
ENDPOINTS = LIST_SIZES[("Service", "endpoints")]


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def cost(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None) -> int:
    return query_cost(schema, parse(query), None, variables, MODEL)


def bomb(levels: int, leaf: str = "__typename", on: str = "Query") -> str:
    """Fragment i spreads fragment i-1 twice: 2^(levels-1) leaves once expanded."""
    fragments = [f"fragment F0 on {on} {{ {leaf} }}"] + [
        f"fragment F{i} on {on} {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)
    ]
    return f"query {{ ...F{levels - 1} }}\n" + "\n".join(fragments)


# -- the cost model --------------------------------------------------------------------


def test_leaves_and_objects_cost_one_per_field(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ __typename }") == 1
    assert cost(schema, '{ site(shortName: "X") { shortName ngi { name } } }') == 4


def test_a_connection_multiplies_edges_and_nodes_by_first(schema: GraphQLSchema) -> None:
    # sites + totalCount + pageInfo{hasNextPage} + nodes + 7 x shortName
    assert (
        cost(
            schema,
            "{ sites(first: 7) { totalCount pageInfo { hasNextPage } nodes { shortName } } }",
        )
        == 1 + 1 + 2 + 1 + 7
    )
    # edges { cursor node { shortName } }: 3 per item
    assert (
        cost(schema, "{ sites(first: 7) { edges { cursor node { shortName } } } }") == 1 + 1 + 7 * 3
    )


def test_first_from_a_variable_its_default_or_the_default_page_size(
    schema: GraphQLSchema,
) -> None:
    query = "query($n: Int) { sites(first: $n) { nodes { shortName } } }"
    assert cost(schema, query, {"n": 50}) == 2 + 50
    assert cost(schema, query, {}) == 2 + MODEL.default_page_size  # absent
    assert cost(schema, query, {"n": None}) == 2 + MODEL.default_page_size  # null
    assert cost(schema, query, {"n": "many"}) == 2 + MODEL.default_page_size  # refused later
    with_default = "query($n: Int = 9) { sites(first: $n) { nodes { shortName } } }"
    assert cost(schema, with_default, {}) == 2 + 9
    assert cost(schema, with_default, {"n": 3}) == 2 + 3
    assert cost(schema, "{ sites { nodes { shortName } } }") == 2 + MODEL.default_page_size
    assert cost(schema, "{ sites(first: null) { nodes { shortName } } }") == 2 + 20
    assert cost(schema, "{ sites(first: -5) { nodes { shortName } } }") == 2


def test_a_list_with_first_multiplies_by_it_or_by_the_argument_default(
    schema: GraphQLSchema,
) -> None:
    # DowntimeSubscription.notifications(first: Int! = 20) is a plain list with `first`
    query = "{ myDowntimeSubscriptions(first: 5) { nodes { notifications%s { channel } } } }"
    per_subscription_default = 1 + 20 * 1
    # the connection and its nodes, then five subscriptions' notifications
    assert cost(schema, query % "") == 2 + 5 * per_subscription_default
    assert cost(schema, query % "(first: 3)") == 2 + 5 * (1 + 3)


def test_plain_lists_count_their_expected_size(schema: GraphQLSchema) -> None:
    site = '{ site(shortName: "X") { services { hostName endpoints { name } } } }'
    assert cost(schema, site) == 1 + 1 + SERVICES * (1 + 1 + ENDPOINTS * 1)
    # a list named nowhere counts the default list size
    tokens = "{ viewer { apiTokens { id } } }"
    assert ("Viewer", "apiTokens") not in LIST_SIZES
    assert cost(schema, tokens) == 1 + 1 + MODEL.default_list_size
    bigger = CostModel(default_page_size=20, default_list_size=50)
    assert query_cost(schema, parse(tokens), None, None, bigger) == 52
    # lists of scalars are leaves
    assert cost(schema, '{ topic(project: "p", name: "t") { acl } }') == 2


def test_fragments_and_inline_fragments_cost_what_they_select(schema: GraphQLSchema) -> None:
    plain = "{ sites(first: 4) { nodes { shortName services { hostName } } } }"
    spread = (
        "{ sites(first: 4) { ...C } } fragment C on SiteConnection { nodes { ...S } } "
        "fragment S on Site { shortName services { hostName } }"
    )
    inline = (
        "{ sites(first: 4) { ... on SiteConnection { nodes { ... { shortName } "
        "services { hostName } } } } }"
    )
    assert cost(schema, plain) == cost(schema, spread) == cost(schema, inline)
    # a fragment spread twice counts twice (an upper bound: graphql-core merges the fields)
    twice = "{ sites(first: 4) { nodes { ...S ...S } } } fragment S on Site { shortName }"
    assert cost(schema, twice) == 2 + 4 * 2


def test_an_abstract_field_costs_its_most_expensive_type(schema: GraphQLSchema) -> None:
    query = """{ node(id: "x") { id
        ... on Site { services { hostName } }
        ... on Service { endpoints { name } }
        ...SiteName } }
      fragment SiteName on Site { shortName }"""
    site_branch = (1 + SERVICES) + 1  # services { hostName } and shortName
    service_branch = 1 + ENDPOINTS
    assert cost(schema, query) == 1 + 1 + max(site_branch, service_branch)
    # a fragment on the interface itself applies to every type
    on_node = '{ node(id: "x") { ... on Node { id } ... on Site { shortName } } }'
    assert cost(schema, on_node) == 1 + 1 + 1


def test_the_cost_of_the_operation_asked_for(schema: GraphQLSchema) -> None:
    document = parse(
        "query Small { __typename } query Big { sites(first: 50) { nodes { shortName } } }"
    )
    assert query_cost(schema, document, "Small", None, MODEL) == 1
    assert query_cost(schema, document, "Big", None, MODEL) == 52
    assert query_cost(schema, document, None, None, MODEL) == 0  # execution refuses it


def test_fragment_bombs_are_computed_once_per_fragment(schema: GraphQLSchema) -> None:
    """2^39 and 2^999 expansions: without memoisation neither would return."""
    assert cost(schema, bomb(40)) == 2**39
    assert cost(schema, bomb(1000)) == SATURATED
    assert shape(parse(bomb(1000))).depths == {"": 0}
    nested = bomb(60, leaf="sites(first: 2) { nodes { shortName } }")
    assert cost(schema, nested) == SATURATED
    aliased = bomb(60, leaf="a: __typename")
    assert shape(parse(aliased)).aliases == SATURATED


def test_fragment_cycles_do_not_hang(schema: GraphQLSchema) -> None:
    cyclic = parse(
        "query { ...A } fragment A on Query { ...B ...B __typename } "
        "fragment B on Query { ...A ...A sites { nodes { shortName } } }"
    )
    assert shape(cyclic).depths[""] == 2
    assert query_cost(schema, cyclic, None, None, MODEL) > 0
    long_chain = "query { ...F0 } " + " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(3000)
    )
    assert shape(parse(long_chain)).nesting == 3001  # no RecursionError either


@pytest.mark.parametrize(
    "query",
    [
        "{ nosuch { field } sites(first: 3) { nodes { nosuch { deeper } } } }",
        "{ ...Missing sites { ...OnScalar ... on Nope { x } } } fragment OnScalar on Int { a }",
        '{ node(id: "x") { ... on Int { a } ... on Site { services(first: 2) { id } } } }',
        "query($n: Int) { sites(first: $n, first: 5) { nodes { shortName } } }",
        "subscription { nosuch } mutation { alsonot }",
    ],
)
def test_the_cost_reads_invalid_documents_without_failing(
    schema: GraphQLSchema, query: str
) -> None:
    """It runs before validation, which then refuses these with its own messages."""
    assert cost(schema, query, {"n": 2}) >= 0


@pytest.mark.parametrize(
    "query",
    [
        "{ sites { nodes { services { site { shortName } } } } }",
        "{ a: sites { b: nodes { services { c: site { d: shortName } } } } __typename }",
        "query Q { ...F ...F } fragment F on Query { x: sites { nodes { ...G } } } "
        "fragment G on Site { y: ngi { z: name } ... on Site { services { hostName } } }",
        "{ __schema { types { fields { type { ofType { name } } } } } sites { totalCount } }",
        "query A { sites { totalCount } } "
        'query B { site(shortName: "x") { ngi { sites { shortName } } } }',
    ],
)
def test_depth_and_aliases_are_counted_as_strawberry_counted_them(query: str) -> None:
    """OPSGRAPH_MAX_QUERY_DEPTH and OPSGRAPH_MAX_ALIASES keep their meaning: the same
    figures as strawberry's limiters (which expand every spread) on ordinary documents."""
    document = parse(query)
    fragments = get_fragments(document.definitions)
    operations = get_queries_and_mutations(document.definitions)
    found = shape(document)
    for name, operation in operations.items():
        expected = determine_depth(operation, fragments, 0, 100, None, name, None)  # type: ignore[arg-type]
        assert found.depths["" if name == "anonymous" else name] == expected
    assert found.aliases == sum(
        count_fields_with_alias(op, fragments) for op in operations.values()
    )


# -- refusals and their messages -------------------------------------------------------


def test_cost_errors_name_the_budget_of_the_caller() -> None:
    budgets = Budgets(
        max_depth=12, max_aliases=30, max_cost=1_000, max_cost_anonymous=100, model=MODEL
    )
    assert cost_errors(100, ANONYMOUS, budgets) == []
    assert cost_errors(1_000, Principal(subject="u@egi.eu"), budgets) == []
    [anonymous] = cost_errors(123_456, ANONYMOUS, budgets)
    assert anonymous.message.startswith(
        "query cost 123,456 exceeds the limit of 100 for anonymous callers"
    )
    refused = anonymous.original_error
    assert isinstance(refused, LimitExceeded)
    assert (refused.limit, refused.value, refused.maximum) == (
        "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS",
        123_456,
        100,
    )
    [user] = cost_errors(SATURATED, Principal(subject="u@egi.eu"), budgets)
    assert "over 999,999,999,999,999 exceeds the limit of 1,000 for authenticated" in user.message
    assert isinstance(user.original_error, LimitExceeded)
    assert user.original_error.limit == "OPSGRAPH_MAX_QUERY_COST"


def test_refusals_over_http_are_bad_input_naming_the_limit(make_client: AppFactory) -> None:
    client = make_client(max_query_cost_anonymous=100, max_query_depth=3, max_aliases=2)
    error = client.error("{ sites(first: 100) { nodes { shortName } } }")
    assert error["message"].startswith("query cost 102 exceeds the limit of 100 for anonymous")
    extensions = error["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT"
    assert extensions["limit"] == "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS"
    assert (extensions["value"], extensions["maximum"]) == (102, 100)
    assert extensions["field"] == "query"
    assert "errors" not in client.post("{ sites(first: 98) { nodes { shortName } } }")

    deep = client.error("{ sites { nodes { services { site { shortName } } } } }")
    assert deep["message"] == "query depth 4 exceeds the limit of 3"
    assert deep["extensions"]["limit"] == "OPSGRAPH_MAX_QUERY_DEPTH"

    aliases = client.error("{ ...F ...F } fragment F on Query { a: __typename b: __typename }")
    assert aliases["message"] == "4 aliases (counted through fragments) exceed the limit of 2"
    assert aliases["extensions"]["limit"] == "OPSGRAPH_MAX_ALIASES"

    exploding = client.error(bomb(40))
    assert exploding["extensions"]["limit"] == "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS"
    assert exploding["message"].startswith("query cost 549,755,813,888 exceeds the limit")


def test_validation_aborted_names_the_limit(make_client: AppFactory) -> None:
    client = make_client()
    # graphql-core's budget of field comparisons (OverlappingFieldsCanBeMerged)
    same_name = client.error("{ " + "__typename " * 1500 + "}")
    assert "Validation aborted" not in same_name["message"]
    assert same_name["extensions"]["limit"] == "MAX_COMPLEXITY_BUDGET"
    assert "500,000 comparisons" in same_name["message"]
    # graphql-core stops after 100 errors
    unknown = " ".join(f"f{i}" for i in range(150))
    body = client.post(f"{{ {unknown} }}")
    assert len(body["errors"]) == 101
    last = body["errors"][-1]
    assert "Validation aborted" not in last["message"]
    assert last["message"].startswith("more than 100 validation errors")
    assert last["extensions"]["limit"] == "MAX_VALIDATION_ERRORS"
    # selection sets nested deeper than graphql-core follows, through fragments
    chain = (
        "{ ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ... {{ ...F{i + 1} }} }}" for i in range(150))
        + " fragment F150 on Query { __typename }"
    )
    nested = client.error(chain)
    assert nested["extensions"]["limit"] == "MAX_NESTING_DEPTH"
    assert nested["message"].startswith("selection sets nested 302 deep through fragments")


def test_authenticated_callers_have_the_larger_budget(
    make_client: AppFactory, oidc_issuer: OIDCIssuer
) -> None:
    client = make_client(
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        max_query_cost_anonymous=100,
        max_query_cost=1_000,
    )
    callers = Callers(client, oidc_issuer)
    query = "{ sites(first: 98) { nodes { shortName } } s: sites(first: 90) { nodes { id } } }"
    error = callers.anonymous.error(query)
    assert error["extensions"]["limit"] == "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS"
    assert "errors" not in callers.as_user("cost@egi.eu").post(query)
    many = " ".join(f"s{i}: sites(first: 99) {{ nodes {{ id }} }}" for i in range(10))
    over = callers.as_user("cost@egi.eu").error(f"{{ {many} }}")
    assert over["extensions"]["limit"] == "OPSGRAPH_MAX_QUERY_COST"
    assert "for authenticated callers" in over["message"]


def test_subscriptions_over_websocket_have_the_same_limits(make_client: AppFactory) -> None:
    client = make_client(max_query_cost_anonymous=3, max_query_cost=3)
    query = "subscription { downtimeEvents { sequence kind services { hostName } } }"
    with client.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert receive_json(ws)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        reply = receive_json(ws)
    assert reply["type"] == "error"
    [error] = reply["payload"]
    assert error["message"].startswith("query cost")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["limit"] == "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS"


# -- settings --------------------------------------------------------------------------


def test_the_cost_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "OPSGRAPH_MAX_QUERY_COST": "7000",
            "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS": "700",
            "OPSGRAPH_DEFAULT_LIST_SIZE": "4",
        }
    )
    assert (settings.max_query_cost, settings.max_query_cost_anonymous) == (7000, 700)
    assert settings.default_list_size == 4
    defaults = Settings.from_env({})
    assert defaults.max_query_cost_anonymous <= defaults.max_query_cost
    with pytest.raises(Invalid) as caught:
        Settings.from_env({"OPSGRAPH_MAX_QUERY_COST_ANONYMOUS": str(defaults.max_query_cost + 1)})
    assert caught.value.field == "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS"


def test_the_reference_queries_fit_the_default_anonymous_budget(schema: GraphQLSchema) -> None:
    """README's example and the benchmark's page of 100 sites with services and
    endpoints pass; the depth-11 query of issue 10 (14.5 MB anonymously) does not."""
    budget = Settings().max_query_cost_anonymous
    model = CostModel(default_page_size=Settings().default_page_size)
    readme = """{ sites(first: 5, filter: {certificationStatus: [CERTIFIED], scopes: ["EGI"]}) {
        totalCount edges { cursor node { shortName country { code } ngi { name }
        services { hostName serviceType endpoints { name url } } } } } }"""
    reference = """query($first: Int!) { sites(first: $first) { edges { node { shortName
        ngi { name } services { hostName serviceType url endpoints { name url } } } } } }"""
    assert query_cost(schema, parse(readme), None, None, model) <= budget
    assert query_cost(schema, parse(reference), None, {"first": 100}, model) <= budget
    from tests.security.test_cost import EXPENSIVE

    assert query_cost(schema, parse(EXPENSIVE), None, None, model) > budget
