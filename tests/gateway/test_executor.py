"""FastExecutor must answer exactly as graphql-core's own executor: same data, same errors
with the same paths, for every shortcut it takes and for every way a field can fail."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncGenerator, Callable
from types import SimpleNamespace
from typing import Any, NewType

import pytest
import strawberry
from graphql import ExecutionResult, GraphQLResolveInfo
from graphql.execution.collect_fields import FieldDetails
from sqlalchemy.orm import Session
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from domains.common.context import RequestContext
from gateway.config import Settings
from gateway.executor import DeadlineExecutor, FastExecutor
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


# a scalar whose serialization can give null (an empty string), which graphql-core refuses
Blank = NewType("Blank", str)
BLANK = StrawberryConfig(
    scalar_map={Blank: strawberry.scalar(name="Blank", serialize=lambda v: v or None)}
)


@strawberry.type
class Plain:
    """No interface, so no is_type_of: any object with its attributes is taken for one."""

    name: str
    size: int
    label: Blank


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

    @strawberry.field
    def ghosts(self) -> list[Plain | None]:
        """The second object has no `size` attribute: reading it fails."""
        return [Plain(name="p", size=1, label=Blank("l")), SimpleNamespace(name="g", label="g")]  # type: ignore[list-item]

    @strawberry.field
    def blanks(self) -> list[Plain | None]:
        return [Plain(name="p", size=1, label=Blank("l")), Plain(name="b", size=2, label=Blank(""))]

    @strawberry.field
    def wrong_kind(self) -> Leaf | None:
        return Plain(name="p", size=1, label=Blank("l"))  # type: ignore[return-value]

    @strawberry.field
    def wrong_kinds(self) -> list[Leaf | None]:
        return [make("w"), Plain(name="p", size=1, label=Blank("l"))]  # type: ignore[list-item]


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
    "{ ghosts { name size label } }",
    "{ blanks { name label size } }",
    "{ wrongKind { name } wrongKinds { name } }",
]


def run(schema: strawberry.Schema, query: str, context: Any = None) -> dict[str, Any]:
    result = schema.execute_sync(query, context_value=context)
    return {
        # serialized: the order of the keys is part of the answer
        "data": json.dumps(result.data),
        "errors": sorted((e.message, tuple(e.path or ())) for e in (result.errors or [])),
    }


@pytest.mark.parametrize("query", QUERIES)
def test_same_answers_as_graphql_core(query: str) -> None:
    plain = strawberry.Schema(query=Query, config=BLANK)
    fast = strawberry.Schema(query=Query, config=BLANK, execution_context_class=FastExecutor)
    expected = run(plain, query)
    assert run(fast, query) == expected


def test_the_cases_above_really_fail_somewhere() -> None:
    # Guard against a test that cannot fail: several queries must produce errors.
    plain = strawberry.Schema(query=Query, config=BLANK)
    failing = [q for q in QUERIES if run(plain, q)["errors"]]
    assert len(failing) >= 7


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
    plain = build_schema(Settings(fast_executor=False))  # OPSGRAPH_FAST_EXECUTOR=false
    assert fast.execution_context_class is FastExecutor
    assert plain.execution_context_class is DeadlineExecutor
    got = run(fast, query, RequestContext(session=session))
    expected = run(plain, query, RequestContext(session=session))
    assert got == expected
    assert got["errors"] == []
    assert len(json.loads(got["data"])["sites"]["edges"]) == 30


# Asynchronous execution (schema.execute): the shortcuts never await; whatever a resolver
# hands back as an awaitable is completed by graphql-core's own code.


async def _later(value: str | Exception) -> str:
    if isinstance(value, Exception):
        raise value
    return value


@strawberry.type
class Slow:
    name: str
    note: str | None = None
    broken_required: strawberry.Private[Any] = "ok"

    @strawberry.field
    async def late(self) -> str:
        """Fails (a non-null field: the error reaches the enclosing object) for `bad*`."""
        return await _later(ValueError(f"late {self.name}") if self.bad else self.name)

    @strawberry.field
    async def late_or_null(self) -> str | None:
        return await _later(ValueError(f"late {self.name}") if self.bad else self.name)

    @strawberry.field
    def pending(self) -> str:
        """A synchronous resolver that returns an awaitable (as a DataLoader's load)."""
        return _later(ValueError(f"pending {self.name}") if self.bad else self.name)  # type: ignore[return-value]

    @strawberry.field
    def sometimes_late(self) -> str:
        """Awaitable for some objects only: a list turns asynchronous part-way."""
        if self.name.endswith("-async"):
            return _later(ValueError(self.name) if self.bad else self.name)  # type: ignore[return-value]
        return self.name

    @strawberry.field
    def required(self) -> str:
        return self.broken_required  # type: ignore[no-any-return]

    @strawberry.field
    def child(self) -> Slow | None:
        return Slow(name=f"{self.name}-child")

    @strawberry.field
    def children(self) -> list[Slow | None]:
        return [Slow(name=f"{self.name}-a"), Slow(name=f"bad-{self.name}-b")]

    @property
    def bad(self) -> bool:
        return self.name.startswith("bad")


SLOW_NAMES = ["a", "bad-b", "c-async", "bad-d-async", "e"]


@strawberry.type
class SlowQuery:
    @strawberry.field
    def items(self) -> list[Slow | None]:
        return [Slow(name=n) for n in SLOW_NAMES]

    @strawberry.field
    def strict(self) -> list[Slow] | None:
        return [Slow(name=n) for n in SLOW_NAMES]

    @strawberry.field
    def mixed(self) -> list[Slow | None]:
        """A synchronous failure before the asynchronous items."""
        return [Slow(name="x", broken_required=None), Slow(name="y-async"), Slow(name="z")]

    @strawberry.field
    def one(self) -> Slow:
        return Slow(name="one")

    @strawberry.field
    def bad_one(self) -> Slow | None:
        return Slow(name="bad-one")


ASYNC_QUERIES = [
    # the wrong answer this executor used to give: graphql-core nulls the failing item
    "{ items { name late } }",
    "{ items { late } }",
    "{ items { name lateOrNull note } }",
    "{ strict { name late } }",
    "{ items { name pending } }",
    "{ strict { pending name } }",
    "{ items { name sometimesLate } }",
    "{ strict { name sometimesLate } }",
    "{ mixed { name required sometimesLate } }",
    "{ one { name child { name late } children { name late } } }",
    "{ badOne { name late child { late } } }",
    "{ one { children { name lateOrNull } } items { name } }",
]


def run_async(schema: strawberry.Schema, query: str) -> dict[str, Any]:
    result = asyncio.run(schema.execute(query))
    return {
        # serialized: the order of the keys is part of the answer
        "data": json.dumps(result.data),
        "errors": sorted((e.message, tuple(e.path or ())) for e in (result.errors or [])),
    }


@pytest.mark.parametrize("query", ASYNC_QUERIES)
def test_same_answers_as_graphql_core_when_resolvers_are_async(query: str) -> None:
    plain = strawberry.Schema(query=SlowQuery)
    fast = strawberry.Schema(query=SlowQuery, execution_context_class=FastExecutor)
    assert run_async(fast, query) == run_async(plain, query)


def test_an_async_error_in_a_nullable_list_item_nulls_that_item_only() -> None:
    """The wrong answer issue 11 found: the fast executor gave `data: null` here."""
    fast = strawberry.Schema(query=SlowQuery, execution_context_class=FastExecutor)
    result = asyncio.run(fast.execute("{ items { name late } }"))
    assert result.data == {
        "items": [
            {"name": "a", "late": "a"},
            None,
            {"name": "c-async", "late": "c-async"},
            None,
            {"name": "e", "late": "e"},
        ]
    }
    assert sorted((e.path or []) for e in result.errors or []) == [
        ["items", 1, "late"],
        ["items", 3, "late"],
    ]


def test_the_async_cases_above_really_fail_somewhere() -> None:
    plain = strawberry.Schema(query=SlowQuery)
    answers = [run_async(plain, q) for q in ASYNC_QUERIES]
    assert sum(1 for a in answers if a["errors"]) >= 8
    assert sum(1 for a in answers if a["errors"] and a["data"] != "null") >= 6


class Upper(SchemaExtension):
    """A resolve hook (graphql-core middleware): it must see every field."""

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kw: Any,
    ) -> Any:
        result = _next(root, info, *args, **kw)
        return result.upper() if isinstance(result, str) else result


@pytest.mark.parametrize("query", QUERIES)
def test_resolve_hooks_see_every_field(query: str) -> None:
    plain = strawberry.Schema(query=Query, config=BLANK, extensions=[Upper])
    fast = strawberry.Schema(
        query=Query, config=BLANK, extensions=[Upper], execution_context_class=FastExecutor
    )
    assert run(fast, query) == run(plain, query)


def test_resolve_hooks_see_every_field_when_async() -> None:
    query = "{ items { name late pending } }"
    plain = strawberry.Schema(query=SlowQuery, extensions=[Upper])
    fast = strawberry.Schema(
        query=SlowQuery, extensions=[Upper], execution_context_class=FastExecutor
    )
    got = run_async(fast, query)
    assert got == run_async(plain, query)
    assert '"name": "A"' in got["data"]  # the hook ran on a basic leaf too


class Refused(Exception):
    pass


@strawberry.type
class Refusal:
    reason: str


class RefusalHandler(strawberry.ExceptionHandler[Refused, Refusal]):
    def handle(self, exception: Refused, *, field: Any, info: Any) -> Refusal:
        return Refusal(reason=str(exception))


@strawberry.type
class HandledQuery:
    @strawberry.field
    def one(self) -> Leaf | Refusal:
        raise Refused("not today")

    @strawberry.field
    def leaves(self) -> list[Leaf]:
        return [make("h")]


def test_exception_handlers_still_turn_errors_into_results() -> None:
    query = "{ one { ... on Refusal { reason } } leaves { name shout } }"
    plain = strawberry.Schema(query=HandledQuery, exception_handlers=[RefusalHandler()])
    fast = strawberry.Schema(
        query=HandledQuery,
        exception_handlers=[RefusalHandler()],
        execution_context_class=FastExecutor,
    )
    expected = run(plain, query)
    assert json.loads(expected["data"])["one"] == {"reason": "not today"}
    assert run(fast, query) == expected


@strawberry.type
class Ticks:
    @strawberry.subscription
    async def ticks(self, count: int) -> AsyncGenerator[Leaf, None]:
        for i in range(count):
            yield make(f"t{i}")


def _live_field_details() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is FieldDetails)


@pytest.mark.parametrize("executor", [DeadlineExecutor, FastExecutor])
def test_a_long_subscription_keeps_nothing_per_event(executor: type[Any]) -> None:
    """graphql-core runs each event on a shallow copy of the subscription's executor; the
    memos it would share grew with every event for as long as a stream lasted (the soak
    saw a server grow megabytes a minute). What the stream holds after 50 events is what
    it holds after 450."""
    schema = strawberry.Schema(
        query=Query, subscription=Ticks, config=BLANK, execution_context_class=executor
    )

    async def follow() -> list[int]:
        stream = await schema.subscribe(
            "subscription { ticks(count: 450) { name children { name } } }"
        )
        assert not isinstance(stream, ExecutionResult)
        held, received = [], 0
        async for result in stream:
            assert result.errors is None
            assert result.data is not None
            received += 1
            if received in (50, 450):
                held.append(_live_field_details())
        assert received == 450
        return held

    after_50, after_450 = asyncio.run(follow())
    assert after_450 - after_50 < 50, (after_50, after_450)
