"""FastExecutor must answer exactly as graphql-core's own executor: same data, same errors
with the same paths, for every shortcut it takes and for every way a field can fail."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from sqlalchemy.orm import Session
from strawberry.schema.config import StrawberryConfig

from domains.common.context import RequestContext
from domains.common.graphql import SCALARS
from gateway.config import Settings
from gateway.executor import FastExecutor
from gateway.schema import Query as OpsgraphQuery
from gateway.schema import build_schema


@strawberry.interface
class Thing:
    name: str


@strawberry.type
class Leaf(Thing):
    name: str
    maybe: str | None
    count: int
    broken_required: strawberry.Private[Any] = None

    @strawberry.field
    def required(self) -> str:
        return self.broken_required  # type: ignore[no-any-return]

    @strawberry.field
    def shout(self, info: strawberry.Info) -> str:
        return self.name.upper()

    @strawberry.field
    def fails(self) -> str | None:
        raise ValueError(f"cannot read {self.name}")

    @strawberry.field
    def children(self) -> list[Leaf]:
        return [make("child-a"), make("child-b")]

    @strawberry.field
    def holes(self) -> list[Leaf | None]:
        return [make("x"), None]

    @strawberry.field
    def strict_holes(self) -> list[Leaf]:
        return [make("y"), None]  # type: ignore[list-item]

    @strawberry.field
    def wrong_count(self) -> int:
        return "many"  # type: ignore[return-value]


def make(name: str, required: Any = "ok") -> Leaf:
    return Leaf(name=name, maybe=None, count=len(name), broken_required=required)


@strawberry.type
class Query:
    @strawberry.field
    def leaves(self) -> list[Leaf]:
        return [make("a"), make("bb", required=None), make("ccc")]

    @strawberry.field
    def one(self) -> Leaf:
        return make("one")

    @strawberry.field
    def nulls(self) -> list[Leaf]:
        broken = make("n")
        broken.count = None  # type: ignore[assignment]
        return [make("fine"), broken]

    @strawberry.field
    def things(self) -> list[Thing]:
        return [make("t1"), make("t2")]


QUERIES = [
    "{ leaves { name maybe count shout children { name shout } } }",
    "{ leaves { name required } }",
    "{ leaves { fails name } }",
    "{ one { holes { name } strictHoles { name } } }",
    "{ one { wrongCount } }",
    "{ nulls { name count } }",
    "{ one { alias: name again: name, children { n: name } } }",
    "{ things { name ... on Leaf { count } __typename } }",
    "{ one { name @skip(if: true) count @include(if: true) } }",
    "{ leaves { ...F } } fragment F on Leaf { name count }",
]


def run(schema: strawberry.Schema, query: str, context: Any = None) -> dict[str, Any]:
    result = schema.execute_sync(query, context_value=context)
    return {
        "data": result.data,
        "errors": sorted((e.message, tuple(e.path or ())) for e in (result.errors or [])),
    }


@pytest.mark.parametrize("query", QUERIES)
def test_same_answers_as_graphql_core(query: str) -> None:
    plain = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=FastExecutor)
    expected = run(plain, query)
    assert run(fast, query) == expected


def test_the_cases_above_really_fail_somewhere() -> None:
    # Guard against a test that cannot fail: several queries must produce errors.
    plain = strawberry.Schema(query=Query)
    failing = [q for q in QUERIES if run(plain, q)["errors"]]
    assert len(failing) >= 4


def test_same_answers_on_the_opsgraph_schema(session: Session) -> None:
    query = """{
      sites(first: 30, filter: {scopes: []}) { totalCount edges { cursor node {
        id shortName certificationStatus createdAt country { code } email
        ngi { name email } scopes { name } properties { key value }
        services { id hostName serviceType production type { name } site { shortName }
          endpoints { name url monitored properties { key } } }
      } } }
    }"""
    fast = build_schema(Settings())
    plain = strawberry.Schema(query=OpsgraphQuery, config=StrawberryConfig(scalar_map=SCALARS))
    got = run(fast, query, RequestContext(session=session))
    expected = run(plain, query, RequestContext(session=session))
    assert got == expected
    assert got["errors"] == []
    assert len(got["data"]["sites"]["edges"]) == 30
