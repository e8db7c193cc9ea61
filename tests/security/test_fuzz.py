"""Property-based fuzzing against a real `opsgraph serve --demo` process (issue 10, point 11).

- GraphQL: queries and mutations generated from the schema (hypothesis-graphql) with random
  literal arguments, and operations whose every argument is a variable with a random JSON
  value; each sent over HTTP as the anonymous caller or as one of the demo personas.
- REST: the AMS `/v1` routes with random bodies and query parameters against a project the
  caller belongs to, and the downtime feeds with random values of their parameters.

The property: no HTTP 5xx (except AMS's own documented 500 for a wrong ack), and no GraphQL
error with `extensions.code == "INTERNAL"`. Strings mix the demo's real names with odd text;
ids mix real global ids with forged and malformed ones, so that generated calls reach the
service rules and not only the first lookup.

CI runs a fixed number of examples per property, derandomised, on each database backend.
`scripts/fuzz` runs them longer on random seeds (see README, "Security tests and fuzzing");
it sets the OPSGRAPH_FUZZ_* variables read below.

Kept out of the strategies for now, because other parts of issue 10 fix them (see the
`# bounded elsewhere` notes): lone surrogates in strings, node ids whose key does not fit
the database's integer, property-filter trees and variables nested deeply, huge AMS page
sizes, feed times at the end of the calendar.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote, urlencode

import graphql
import httpx2 as httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from gateway.demo import personas_file
from tests.databases import private_database
from tests.server import OPSGRAPH, server_env, serving

F = TypeVar("F", bound=Callable[..., Any])
Json = Any

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
SCHEMA = graphql.build_schema(SCHEMA_FILE.read_text())

# --- how long to fuzz: CI defaults, or what scripts/fuzz asks for ------------------------


def _env_number(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else None


EXAMPLES = _env_number("OPSGRAPH_FUZZ_EXAMPLES")  # per property; default: each one's own
SECONDS = _env_number("OPSGRAPH_FUZZ_SECONDS")  # per property; default: no time limit
SEED = os.environ.get("OPSGRAPH_FUZZ_SEED", "").strip() or None  # default: derandomised
# scripts/fuzz: record every finding (JSON lines) and go on, instead of failing at the first
REPORT = os.environ.get("OPSGRAPH_FUZZ_REPORT", "").strip() or None

_started: dict[str, float] = {}


def fuzzing(examples: int) -> Callable[[F], F]:
    """Hypothesis settings for one property: `examples` in CI (fixed seed), or what the
    OPSGRAPH_FUZZ_* variables say."""

    def apply(test: F) -> F:
        configured = settings(
            max_examples=int(EXAMPLES) if EXAMPLES is not None else examples,
            deadline=None,
            derandomize=SEED is None,
            database=None,
            print_blob=False,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
                HealthCheck.large_base_example,
            ],
        )(test)
        return seed(int(SEED))(configured) if SEED is not None else configured

    return apply


def out_of_time(name: str) -> bool:
    """True once the property `name` has used its OPSGRAPH_FUZZ_SECONDS. Under
    scripts/fuzz (which asks for more examples than the time allows) this ends the property
    at once, as skipped: its findings are in the report."""
    if SECONDS is None:
        return False
    started = _started.setdefault(name, time.monotonic())
    if time.monotonic() - started <= SECONDS:
        return False
    if REPORT is not None:
        pytest.skip(f"{name}: its {SECONDS:g} s are spent")
    return True


# --- the server, its personas and the names and ids in its data --------------------------

PROJECT = "FUZZ"  # the messaging project every persona belongs to
PERSONAS = ("admin", "ngi-manager", "site-admin", "vo-member")
# the admin first: hypothesis draws early list entries more often, and the admin reaches most
CALLERS = (*PERSONAS, "anonymous")
_MESSAGING_ROLES = {
    "admin": ["PROJECT_ADMIN"],
    "ngi-manager": ["PUBLISHER"],
    "site-admin": ["PUBLISHER", "CONSUMER"],
    "vo-member": ["CONSUMER"],
}


@dataclass(frozen=True)
class Persona:
    key: str
    subject: str
    token: str


def _cli(directory: Path, env: dict[str, str], *args: str) -> str:
    """`opsgraph ARGS` in `directory` (where a PostgreSQL demo writes its personas)."""
    done = subprocess.run(
        [OPSGRAPH, *args], env=env, cwd=directory, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"opsgraph {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def demo_personas(directory: Path, database_url: str) -> list[Persona]:
    """The demo personas `opsgraph seed --demo` wrote beside the database (README, Quick
    start), each with its API token."""
    written = personas_file(database_url)
    found = {p["key"]: p for p in json.loads((directory / written).read_text())["personas"]}
    return [Persona(key, found[key]["subject"], found[key]["token"]) for key in PERSONAS]


@dataclass
class Target:
    """A running server and what the strategies draw from."""

    base: str
    log: Path
    client: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)
    subjects: list[str] = field(default_factory=list)
    # natural keys of the demo data, by kind (site short names, host names, ...)
    names: dict[str, list[str]] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)  # real global ids, by type
    protected: set[str] = field(default_factory=set)  # ids the fuzzer must not revoke
    strategies: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)

    def strategy(self, name: str, build: Callable[[], st.SearchStrategy[Any]]) -> Any:
        """`build()` once per server: building a schema's strategies costs more than
        drawing from them."""
        if name not in self.strategies:
            self.strategies[name] = build()
        return self.strategies[name]

    def headers(self, caller: str, request_id: str) -> dict[str, str]:
        headers = {"x-request-id": request_id}
        if caller != "anonymous":
            headers["x-api-key"] = self.tokens[caller]
        return headers

    def graphql(
        self, caller: str, query: str, variables: Json = None, *, strict: bool = True
    ) -> dict[str, Any]:
        """For setting up: the answer's data, which must come without errors if strict."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        answer = self.client.post(
            "/graphql", json=body, headers=self.headers(caller, uuid.uuid4().hex)
        )
        payload = answer.json()
        assert answer.status_code == 200, payload
        assert not (strict and payload.get("errors")), payload
        data: dict[str, Any] = payload["data"] or {}
        return data


_JOIN = """
mutation ($s: String!, $roles: [MessagingRole!]!) {
  addProjectMember(input: {project: "FUZZ", subject: $s, roles: $roles}) { member { subject } }
}
"""

_SETUP_MESSAGING = """
mutation ($topic: String!, $sub: String!, $pushed: String!, $data: String!) {
  createTopic(input: {project: "FUZZ", name: $topic}) { topic { name } }
  createSubscription(input: {project: "FUZZ", name: $sub, topic: $topic}) { subscription { name } }
  push: createSubscription(input: {project: "FUZZ", name: $pushed, topic: $topic,
    pushConfig: {pushEndpoint: "https://127.0.0.1:9/push"}}) { subscription { name } }
  publish(input: {project: "FUZZ", topic: $topic, messages: [{data: $data,
    attributes: [{key: "k", value: "v"}]}, {data: $data}]}) { messageIds }
}
"""

_SETUP_ACLS = """
mutation ($users: [String!]!) {
  setTopicAcl(input: {project: "FUZZ", topic: "t1", users: $users}) { topic { name } }
  setSubscriptionAcl(input: {project: "FUZZ", subscription: "s1", users: $users}) {
    subscription { name } }
}
"""

_SETUP_PULL = """
mutation ($sub: String!) {
  pull(input: {project: "FUZZ", subscription: $sub, maxMessages: 1}) {
    receivedMessages { ackId messageId } }
}
"""

_SETUP_DOWNTIME_SUBSCRIPTION = """
mutation { subscribeToDowntimes(input: {name: "fuzz", events: [DECLARED, ENDED],
  site: "INFN-T1", topic: {project: "FUZZ", topic: "t1"}}) { subscription { id } } }
"""

_NAMES = """
{
  projects { nodes { id name } }
  ngis(first: 100) { nodes { id name } }
  sites(first: 100) { nodes { id shortName country { code }
    services { id hostName endpoints { id name } properties { key } } } }
  serviceTypes(first: 100) { nodes { id name } }
  serviceGroups(first: 100) { nodes { id name } }
  scopes(first: 100) { nodes { id name } }
  downtimes(first: 100, filter: {scopes: []}) { nodes { id primaryKey } }
  messagingProjects { nodes { id name topics { nodes { id name } }
    subscriptions { nodes { id name } } } }
  changes(first: 20) { nodes { id } }
}
"""

_VIEWER = "{ viewer { roles { id } apiTokens { id } } myDowntimeSubscriptions { nodes { id } } }"
_PROTECTED = ("roles", "apiTokens")


def _walk(value: Json) -> Iterator[tuple[str, Json]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _prepare(target: Target) -> None:
    """Topics, subscriptions, messages and downtime subscriptions to aim at; then the
    names and ids the strategies draw from, and the ids they must never revoke (the
    personas' tokens and roles: revoking them would silence a persona for the rest)."""
    data = base64.b64encode(b"fuzz").decode()
    for n in (1, 2):
        target.graphql(
            "admin",
            _SETUP_MESSAGING,
            {"topic": f"t{n}", "sub": f"s{n}", "pushed": f"p{n}", "data": data},
        )
    target.graphql("admin", _SETUP_ACLS, {"users": target.subjects[1:]})
    pulled = target.graphql("admin", _SETUP_PULL, {"sub": "s1"})["pull"]["receivedMessages"]
    for persona in PERSONAS:  # a persona that may not use the topic simply has none
        target.graphql(persona, _SETUP_DOWNTIME_SUBSCRIPTION, strict=False)
    names: dict[str, set[str]] = {
        "project": {PROJECT},
        "topic": {"t1", "t2"},
        "subscription": {"s1", "s2", "p1", "p2"},
        "subject": set(target.subjects),
        "ackId": {m["ackId"] for m in pulled},
    }
    ids: set[str] = set()
    for key, value in _walk(target.graphql("admin", _NAMES)):
        if key == "id":
            ids.add(value)
        elif key in ("name", "shortName", "hostName", "code", "key", "primaryKey") and value:
            names.setdefault(key, set()).add(value)
    for persona in PERSONAS:
        mine = target.graphql(persona, _VIEWER)
        ids.update(s["id"] for s in mine["myDowntimeSubscriptions"]["nodes"])
        for kind in _PROTECTED:
            target.protected.update(item["id"] for item in mine["viewer"][kind])
    target.names = {kind: sorted(values) for kind, values in names.items()}
    for global_id in sorted(ids - target.protected):
        type_name = base64.b64decode(global_id).decode().partition(":")[0]
        target.ids.setdefault(type_name, []).append(global_id)


@pytest.fixture(scope="module")
def target(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """`opsgraph serve --demo` on a fresh database of the parametrized backend, with the
    demo personas, all members of the messaging project FUZZ."""
    directory = tmp_path_factory.mktemp("fuzz")
    with private_database(database_url, directory) as url:
        env = server_env(directory, OPSGRAPH_DATABASE_URL=url, OPSGRAPH_ALLOW_INSECURE_PUSH="true")
        _cli(directory, env, "seed", "--demo")
        _cli(directory, env, "messaging", "create-project", PROJECT)
        personas = demo_personas(directory, url)
        log = directory / "server.log"
        with (
            serving(env, output=log) as base,
            httpx.Client(base_url=base, timeout=120) as client,
        ):
            found = Target(base=base, log=log, client=client)
            found.tokens = {p.key: p.token for p in personas}
            found.subjects = [p.subject for p in personas]
            for persona in personas:
                found.graphql(
                    "admin", _JOIN, {"s": persona.subject, "roles": _MESSAGING_ROLES[persona.key]}
                )
            _prepare(found)
            yield found


# --- what is wrong with an answer -------------------------------------------------------


@dataclass
class Exchange:
    """One request and its answer, as a finding shows it."""

    caller: str
    method: str
    path: str
    request_id: str
    body: Json = None
    params: Json = None
    status: int | None = None
    answer: str = ""


def _server_errors(target: Target, request_id: str) -> list[str]:
    """The tracebacks the server logged for this request."""
    found = []
    for line in target.log.read_text(errors="replace").splitlines():
        if request_id not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("request_id") == request_id and entry.get("exception"):
            found.append(str(entry["exception"]))
    return found


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")
_OUR_FRAME = re.compile(r'File "[^"]*/((?:domains|gateway|workers)/[^"]+)", line (\d+), in (\w+)')


def _signature(problem: str, tracebacks: list[str]) -> str:
    """What makes two findings the same: the exception and our deepest frame it passed."""
    if not tracebacks:
        return problem
    lines = tracebacks[-1].splitlines()
    exception = next((x for x in reversed(lines) if _EXCEPTION_LINE.match(x)), lines[-1])
    frames = _OUR_FRAME.findall(tracebacks[-1])
    where = f" at {frames[-1][0]}:{frames[-1][1]} ({frames[-1][2]})" if frames else ""
    return exception[:120] + where


def _record(target: Target, exchange: Exchange, problem: str) -> None:
    tracebacks = _server_errors(target, exchange.request_id)
    finding = {
        "problem": problem,
        "signature": _signature(problem, tracebacks),
        **exchange.__dict__,
        "server_traceback": tracebacks,
    }
    if REPORT is not None:
        with open(REPORT, "a") as report:
            report.write(json.dumps(finding) + "\n")
        return
    # an AssertionError, not pytest.fail (a BaseException): hypothesis shrinks only the former
    raise AssertionError(json.dumps(finding, indent=2))


def _allowed_500(answer: httpx.Response) -> bool:
    """AMS answers a wrong or unexpected ack with its own 500 (README: kept as AMS has it;
    the library retries those)."""
    try:
        error = answer.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return answer.status_code == 500 and error.get("message") in ("wrong ack", "no ack pending")


def send(
    target: Target, exchange: Exchange, headers: Mapping[str, str] = {}, **request: Any
) -> httpx.Response | None:
    """Send one request; record a finding if the server fails it. None if it did."""
    try:
        answer = target.client.request(
            exchange.method,
            exchange.path,
            headers={**target.headers(exchange.caller, exchange.request_id), **headers},
            **request,
        )
    except httpx.TimeoutException:
        _record(target, exchange, "no answer within 120 s")
        return None
    exchange.status = answer.status_code
    exchange.answer = answer.text[:2000]
    if answer.status_code >= 500 and not _allowed_500(answer):
        _record(target, exchange, f"HTTP {answer.status_code}")
        return None
    return answer


def check_graphql(target: Target, caller: str, query: str, variables: Json = None) -> None:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    exchange = Exchange(caller, "POST", "/graphql", uuid.uuid4().hex, body=body)
    # JSON in ASCII: a lone surrogate drawn into a variable travels as `\ud800`, which the
    # server must refuse (httpx's own encoding would fail on it before sending)
    answer = send(
        target, exchange, {"content-type": "application/json"}, content=json.dumps(body).encode()
    )
    if answer is None or 400 <= answer.status_code < 500:
        return  # refused before execution (a lone surrogate, a body too large): no INTERNAL
    try:
        payload = answer.json()
    except ValueError:
        _record(target, exchange, "an answer that is not JSON")
        return
    errors = payload.get("errors") or [] if isinstance(payload, dict) else []
    internal = [e for e in errors if (e.get("extensions") or {}).get("code") == "INTERNAL"]
    if internal:
        _record(target, exchange, f"INTERNAL at {internal[0].get('path')}")


# --- strategies -------------------------------------------------------------------------

# Text that has broken parsers, databases and renderers before. No lone surrogates: JSON
# carries them (as \\ud800) but they are bounded elsewhere (a variable's surrogate is the
# gateway's to refuse).
ODD_TEXT = (
    "",
    " ",
    "\t\r\n",
    "\x1b[31m",
    "\u0085\u2028\u2029",
    "\ufeff",
    "\ufffe\uffff",
    "\u202e\u200b\u200d",
    "e\u0301\u0301\u0301",
    "\U0001f4a9\U0001f1fa\U0001f1f3",
    "\U0010ffff",
    "Ω≈ç√∫",
    "null",
    "undefined",
    "0",
    "-1",
    "1e309",
    "NaN",
    "true",
    "[]",
    "{}",
    "%s%n%x",
    "%00",
    "../../etc/passwd",
    "' OR 1=1 --",
    '"; DROP TABLE site; --',
    "\\",
    "<script>alert(1)</script>",
    "]]>",
    "&amp;",
    "=cmd|' /C calc'!A0",
    "*",
    "%",
    "_",
    "projects/FUZZ/topics/t1",
    "projects/FUZZ/subscriptions/s1:1",
    "/projects/FUZZ/topics/t1",
    "a" * 256,
    "a" * 4001,
)
URLS = (
    "https://127.0.0.1:9/hook",
    "http://127.0.0.1:9/hook",
    "https://hooks.invalid/x",
    "https://[::1]:9/x",
    "http://localhost:9/",
    "ftp://127.0.0.1/",
    "javascript:alert(1)",
    "https://",
    "https://user:pass@hooks.invalid:99999/x",
    "ldap://bdii.invalid:2170/mds-vo-name=X,o=grid",
    "https://hooks.invalid/" + "x" * 3000,
)
EMAILS = ("fuzz@example.org", "a@b", "@", "x" * 300 + "@example.org", "fuzz@example.org\r\nBcc: x")
DATA = (base64.b64encode(b"fuzz").decode(), "", "=", "not base64!", "AAAA" * 1000)
ROLE_TYPES = (
    "Site Administrator",
    "Site Operations Manager",
    "NGI Operations Manager",
    "NGI Security Officer",
    "COD Staff",
    "Chief Operations Officer",
    "Service Group Administrator",
)
NODE_TYPES = (
    "Project",
    "NGI",
    "Site",
    "Service",
    "Endpoint",
    "ServiceType",
    "ServiceGroup",
    "Scope",
    "Role",
    "ApiToken",
    "Change",
    "Downtime",
    "DowntimeSubscription",
    "MessagingProject",
    "Topic",
    "MessagingSubscription",
)


# U+0000 included: PostgreSQL refuses it in any text, even in a comparison, so the edge
# refuses it first (domains/common/text.py); hypothesis leaves out lone surrogates.
ANY_CHAR = st.characters()
ODD_CHARACTERS = (
    st.sampled_from(("\x00", "\x01", "\x1f"))
    | st.characters(min_codepoint=0, max_codepoint=0x1F)
    | st.sampled_from(
        ("\x7f", "\x85", "\u00a0", "\u2028", "\ufeff", "\ufffe", "\uffff", "\U0010ffff", "'", '"')
    )
)


def _spliced(value: str, odd: str, at: int) -> str:
    at %= len(value) + 1
    return value[:at] + odd + value[at:]


def text_values(target: Target) -> st.SearchStrategy[str]:
    real = st.one_of(*(st.sampled_from(values) for values in target.names.values()))
    return st.one_of(
        # each kind as likely as any other: 690 host names must not drown 7 topic names
        real,
        real,
        # a real name with an odd character in it: past the lookup, into the rules
        st.builds(_spliced, real, ODD_CHARACTERS, st.integers(0, 64)),
        *(st.sampled_from(values) for values in (ODD_TEXT, URLS, EMAILS, DATA, ROLE_TYPES)),
        st.text(ODD_CHARACTERS, max_size=4),
        st.text(ANY_CHAR, max_size=30),  # any code point but surrogates, NUL too
        st.builds(
            lambda s, n: s * n, st.sampled_from(("x", "é", "\U0001f4a9")), st.integers(1, 20_000)
        ),
    )


def _global_id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def id_values(target: Target) -> st.SearchStrategy[str]:
    # Keys up to 2^31-1: PostgreSQL's integer ids; larger ones are bounded elsewhere.
    forged = st.builds(
        _global_id,
        st.sampled_from(NODE_TYPES) | st.text(ANY_CHAR, max_size=12),
        st.integers(0, 2**31 - 1).map(str) | st.sampled_from(("-1", "", "1.5", "x", " 1", "01")),
    ).filter(lambda i: i not in target.protected)
    garbage = st.sampled_from(("", "=", "!!!", "U2l0ZTo=", "U2l0ZQ==", "Ojox")) | st.text(
        max_size=30
    )
    real = st.one_of(*(st.sampled_from(values) for values in target.ids.values()))
    return st.one_of(real, real, real, forged, garbage)


def datetime_values() -> st.SearchStrategy[str]:
    """Times as clients send them, and as they should not."""
    aware = st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001 (bounds of naive values, zoned below)
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.just(UTC) | st.timezones(),
    ).map(lambda d: d.isoformat())
    near = st.integers(-3 * 24 * 3600, 60 * 24 * 3600).map(_from_now)  # what rules accept
    fixed = st.sampled_from(
        (
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00Z",
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59+00:00",
            "9999-12-31T23:59:59.999999-14:00",
            "0001-01-01T00:00:00+14:00",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "now",
            "",
            "T",
            "2026-01-01T25:00:00+00:00",
            "2026-01-01T00:00:00+24:00",
        )
    )
    return st.one_of(aware, near, near, near, near, fixed, st.text(ANY_CHAR, max_size=30))


def date_values() -> st.SearchStrategy[str]:
    """Days as the Date scalar takes them (around today, at the calendar's ends) and text
    that is not one."""
    return st.one_of(
        st.dates().map(lambda d: d.isoformat()),
        st.integers(-40, 40).map(
            lambda n: (datetime.now(UTC).date() + timedelta(days=n)).isoformat()
        ),
        st.sampled_from(("0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "")),
        st.text(ANY_CHAR, max_size=12),
    )


def json_literals() -> st.SearchStrategy[graphql.ValueNode]:
    """GraphQL literals for the JSON scalar (a monitoring profile's document): scalars, lists
    and objects of them. Without a strategy of its own a required JSON argument made
    hypothesis-graphql's generation inconsistent between runs (FlakyStrategyDefinition)."""
    leaves: st.SearchStrategy[graphql.ValueNode] = st.one_of(
        st.text(ANY_CHAR, max_size=20).map(nodes.String),
        st.integers().map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    )
    field_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True)

    def nested(children: st.SearchStrategy[graphql.ValueNode]) -> Any:
        objects = st.lists(
            st.tuples(field_names, children), max_size=4, unique_by=lambda pair: pair[0]
        ).map(
            lambda pairs: nodes.Object(
                [graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in pairs]
            )
        )
        return st.lists(children, max_size=4).map(nodes.List) | objects

    return st.recursive(leaves, nested, max_leaves=12)


def _from_now(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


LONGS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-3, 10),
    st.sampled_from((2**63, -(2**63) - 1, 2**64, 10**30)),
)


def literal_scalars(target: Target) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """hypothesis-graphql `custom_scalars`: value nodes for the schema's scalars, also for
    String and ID, so that generated calls name real objects as often as odd ones."""
    return {
        "String": text_values(target).map(nodes.String),
        "ID": id_values(target).map(nodes.String) | st.integers(-5, 2**31 - 1).map(nodes.Int),
        "DateTime": datetime_values().map(nodes.String) | st.integers().map(nodes.Int),
        "Long": LONGS.map(nodes.Int) | LONGS.map(nodes.String),
        "Date": date_values().map(nodes.String) | st.integers().map(nodes.Int),
        "JSON": json_literals(),
    }


# Argument and input-field names that say which real values fit them: the variables
# property draws from these half of the time, so that calls get past the first lookup.
_TEXT_HINTS: dict[str, tuple[str, ...]] = {
    "project": ("project",),
    "topic": ("topic",),
    "subscription": ("subscription",),
    "site": ("shortName",),
    "shortName": ("shortName",),
    "ngi": ("name",),
    "serviceType": ("name",),
    "scopes": ("name",),
    "host": ("hostName",),
    "hostName": ("hostName",),
    "subject": ("subject",),
    "userSubject": ("subject",),
    "users": ("subject",),
    "actor": ("subject",),
    "ackIds": ("ackId",),
    "countryCode": ("code",),
    "country": ("code",),
    "key": ("key",),
    "primaryKey": ("primaryKey",),
}
_FIXED_HINTS: dict[str, tuple[str, ...]] = {
    "roleType": ROLE_TYPES,
    "data": DATA,
    "email": EMAILS,
    "alarmEmail": EMAILS,
    "csirtEmail": EMAILS,
    "url": URLS,
    "homeUrl": URLS,
    "giisUrl": URLS,
    "webhookUrl": URLS,
    "pushEndpoint": URLS,
    "mattermostUrl": URLS,
}


def _hinted_text(target: Target, name: str) -> st.SearchStrategy[str]:
    hinted = [target.names[k] for k in _TEXT_HINTS.get(name, ()) if target.names.get(k)]
    if name in _FIXED_HINTS:
        hinted.append(list(_FIXED_HINTS[name]))
    if not hinted:
        return text_values(target)
    return _mostly(st.one_of(*(st.sampled_from(v) for v in hinted)), text_values(target), 3)


def _id_type(name: str, root: str) -> str | None:
    """The node type an id argument names: `siteId` a Site, `serviceIds` Services, `id` of
    `deleteDowntimeSubscription` a DowntimeSubscription."""
    stem = "" if name == "id" else name.removesuffix("s").removesuffix("Id").lower()
    by_stem = [t for t in NODE_TYPES if stem and t.lower().endswith(stem)]
    if by_stem:
        return min(by_stem, key=len)
    if stem:
        return None
    by_root = [t for t in NODE_TYPES if t.lower() in root.lower()]
    return max(by_root, key=len) if by_root else None


def _hinted_ids(target: Target, name: str, root: str) -> st.SearchStrategy[str]:
    type_name = _id_type(name, root)
    real = target.ids.get(type_name or "")
    if not real:
        return id_values(target)
    return st.sampled_from(real) | id_values(target)


def _mostly(
    usual: st.SearchStrategy[Json], rare: st.SearchStrategy[Json], one_in: int = 12
) -> st.SearchStrategy[Json]:
    """`usual`, but one draw in `one_in` from `rare`: a call with a dozen fields should
    mostly be well-formed, or every one of them is refused at the first bad field."""
    return st.integers(1, one_in).flatmap(lambda n: rare if n == 1 else usual)


def json_values(
    target: Target, type_: graphql.GraphQLInputType, name: str, root: str, depth: int = 0
) -> st.SearchStrategy[Json]:
    """JSON for a variable of `type_` (an argument or input field `name` of the root field
    `root`): mostly well-typed, now and then of another type."""
    nullable = not isinstance(type_, graphql.GraphQLNonNull)
    inner = graphql.get_nullable_type(type_)
    strategy: st.SearchStrategy[Json]
    if isinstance(inner, graphql.GraphQLList):
        item = json_values(target, inner.of_type, name, root, depth + 1)
        strategy = st.lists(item, max_size=4) | item
    elif isinstance(inner, graphql.GraphQLInputObjectType):
        strategy = _input_objects(target, inner, root, depth)
    elif isinstance(inner, graphql.GraphQLEnumType):
        strategy = _mostly(st.sampled_from(sorted(inner.values)), st.sampled_from(("", "X")))
    elif inner.name == "String":
        strategy = _hinted_text(target, name)
    elif inner.name == "ID":
        strategy = _hinted_ids(target, name, root) | st.integers(-5, 2**31 - 1)
    else:
        strategy = _json_scalars(inner.name)
    if nullable:
        strategy = _mostly(strategy, st.none())
    return _mostly(strategy, _any_json())


def _json_scalars(name: str) -> st.SearchStrategy[Json]:
    return {
        "Int": st.integers(-(2**31), 2**31 - 1) | st.integers(-3, 10_001) | st.integers(),
        "Float": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-200, 200),
        "Boolean": st.booleans(),
        "DateTime": datetime_values()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False),
        "Long": LONGS | LONGS.map(str),
        "Date": date_values() | st.integers(),
    }.get(name, _any_json())


def _input_objects(
    target: Target, type_: graphql.GraphQLInputObjectType, root: str, depth: int
) -> st.SearchStrategy[Json]:
    # Nested inputs (PropertyFilter trees) stay shallow: deep ones are bounded elsewhere.
    fields = {
        name: f
        for name, f in type_.fields.items()
        if depth < 3 or graphql.is_required_input_field(f) or not _recursive(f.type)
    }
    required = {
        name: json_values(target, f.type, name, root, depth + 1)
        for name, f in fields.items()
        if graphql.is_required_input_field(f)
    }
    optional = {
        name: json_values(target, f.type, name, root, depth + 1)
        for name, f in fields.items()
        if not graphql.is_required_input_field(f)
    }
    objects = st.fixed_dictionaries(required, optional=optional)
    unknown = st.dictionaries(st.text(ANY_CHAR, max_size=8), _any_json(), min_size=1, max_size=2)
    return _mostly(objects, st.builds(lambda a, b: {**b, **a}, objects, unknown))


def _recursive(type_: graphql.GraphQLInputType) -> bool:
    return isinstance(graphql.get_named_type(type_), graphql.GraphQLInputObjectType)


def _any_json() -> st.SearchStrategy[Json]:
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(ANY_CHAR, max_size=20)
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(ANY_CHAR, max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )


def _leaf_selection(type_: graphql.GraphQLOutputType) -> str:
    """Every argument-less scalar field of the returned type, one level down."""
    named = graphql.get_named_type(type_)
    if not isinstance(named, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
        return ""
    leaves = [
        name
        for name, f in named.fields.items()
        if not any(graphql.is_required_argument(a) for a in f.args.values())
        and isinstance(
            graphql.get_named_type(f.type), graphql.GraphQLScalarType | graphql.GraphQLEnumType
        )
    ]
    return " { __typename " + " ".join(leaves) + " }"


@dataclass(frozen=True)
class Operation:
    document: str
    variables: dict[str, Json]


@st.composite
def operations_with_variables(
    draw: st.DrawFn, target: Target, root: graphql.GraphQLObjectType, kind: str
) -> Operation:
    """One root field whose every argument is a variable of the argument's own type, with
    a random JSON value (or left out, for a nullable one)."""
    name = draw(st.sampled_from(sorted(root.fields)))
    field_ = root.fields[name]
    declarations, arguments, variables = [], [], {}
    for arg_name, arg in field_.args.items():
        declarations.append(f"${arg_name}: {arg.type}")
        arguments.append(f"{arg_name}: ${arg_name}")
        if graphql.is_required_argument(arg) or draw(st.booleans()):
            values = target.strategy(
                f"{name}({arg_name})", partial(json_values, target, arg.type, arg_name, name)
            )
            variables[arg_name] = draw(values)
    head = f"{kind} Fuzz({', '.join(declarations)})" if declarations else kind
    call = f"{name}({', '.join(arguments)})" if arguments else name
    return Operation(f"{head} {{ {call}{_leaf_selection(field_.type)} }}", variables)


# --- the properties ---------------------------------------------------------------------

# Calls that would take the fuzzer's own ground away (the shared project, the personas'
# memberships): covered by operations_with_variables, where the guard below applies.
NOT_GENERATED = {"deleteMessagingProject", "removeProjectMember"}


def _harmless(operation: Operation) -> bool:
    value = operation.variables.get("input")
    if not isinstance(value, dict):
        return True
    if "deleteMessagingProject" in operation.document:
        return value.get("name") != PROJECT
    if "removeProjectMember" in operation.document:
        return value.get("project") != PROJECT
    return True


callers = st.sampled_from(CALLERS)
assert SCHEMA.query_type is not None
assert SCHEMA.mutation_type is not None
QUERY_FIELDS = sorted(SCHEMA.query_type.fields)
MUTATION_FIELDS = sorted(set(SCHEMA.mutation_type.fields) - NOT_GENERATED)


def generated(target: Target, kind: str, data: st.DataObject) -> str:
    """A document of `kind` generated by hypothesis-graphql on a root field drawn
    uniformly (its own sampler favours the first fields of the schema)."""
    names = QUERY_FIELDS if kind == "query" else MUTATION_FIELDS
    name = data.draw(st.sampled_from(names), label=f"{kind} field")
    make = queries if kind == "query" else mutations
    strategy = target.strategy(
        f"{kind} {name}",
        lambda: make(SCHEMA, fields=[name], custom_scalars=literal_scalars(target), allow_x00=True),
    )
    document: str = data.draw(strategy, label=kind)
    return document


@fuzzing(examples=100)
@given(data=st.data())
def test_generated_queries_never_fail_internally(target: Target, data: st.DataObject) -> None:
    query = generated(target, "query", data)
    caller = data.draw(callers, label="caller")
    if not out_of_time("queries"):  # checked after drawing: hypothesis replays draws
        check_graphql(target, caller, query)


@fuzzing(examples=100)
@given(data=st.data())
def test_generated_mutations_never_fail_internally(target: Target, data: st.DataObject) -> None:
    mutation = generated(target, "mutation", data)
    caller = data.draw(callers, label="caller")
    if not out_of_time("mutations"):
        check_graphql(target, caller, mutation)


@fuzzing(examples=150)
@given(data=st.data())
def test_operations_with_random_variables_never_fail_internally(
    target: Target, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(("query", "mutation")), label="kind")
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root is not None
    operation = data.draw(
        operations_with_variables(target, root, kind).filter(_harmless), label="operation"
    )
    caller = data.draw(callers, label="caller")
    if not out_of_time("variables"):
        check_graphql(target, caller, operation.document, operation.variables)


# --- REST: the AMS routes, the feeds, and /graphql's own envelope -------------------------

AMS_ACTIONS = {
    "project": ("", "metrics", "bogus"),
    "topic": ("", "publish", "acl", "modifyAcl", "metrics", "bogus"),
    "subscription": (
        *("", "pull", "acknowledge", "modifyAckDeadline", "modifyPushConfig"),
        *("verifyPushEndpoint", "offsets", "timeToOffset", "modifyOffset"),
        *("acl", "modifyAcl", "metrics", "bogus"),
    ),
    "member": ("", "add", "remove", "bogus"),
}
METHODS = ("GET", "POST", "PUT", "DELETE")


def _segment(name: str) -> str:
    return quote(name, safe="")


def _ams_bodies(target: Target) -> st.SearchStrategy[Json]:
    """AMS request bodies: the keys the routes read, with values of any JSON type."""
    strings = text_values(target)
    numbers = st.integers(-(2**40), 2**40) | st.integers(-2, 700)
    loose = strings | numbers | _any_json()
    push = st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(("http_endpoint", "mattermost", "")) | loose,
            "pushEndpoint": st.sampled_from(URLS) | loose,
            "maxMessages": numbers | loose,
            "retryPolicy": st.fixed_dictionaries(
                {},
                optional={
                    "type": st.sampled_from(("linear", "slowstart")) | loose,
                    "period": numbers | loose,
                },
            )
            | loose,
            "authorization_header": st.fixed_dictionaries(
                {}, optional={"type": st.sampled_from(("autogen", "disabled")) | loose}
            )
            | loose,
            "base64Decode": st.booleans() | loose,
            "mattermostUrl": st.sampled_from(URLS) | loose,
            "mattermostUsername": loose,
            "mattermostChannel": loose,
        },
    )
    message = st.fixed_dictionaries(
        {},
        optional={
            "data": st.sampled_from(DATA) | loose,
            "attributes": st.dictionaries(strings, strings | loose, max_size=3) | loose,
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "topic": st.sampled_from(["projects/FUZZ/topics/t1", "/projects/FUZZ/topics/t2"])
            | loose,
            "ackDeadlineSeconds": numbers | loose,
            "pushConfig": push | loose,
            "messages": st.lists(message, max_size=3) | loose,
            "maxMessages": numbers.map(str) | loose,
            # "false" waits OPSGRAPH_PULL_WAIT_MS for a publish: allowed, rarely
            "returnImmediately": st.sampled_from(("true", "True", "")) | loose,
            "ackIds": st.lists(st.sampled_from(target.names["ackId"]) | strings, max_size=3)
            | loose,
            "offset": numbers | loose,
            "authorized_users": st.lists(strings, max_size=3) | loose,
            "roles": st.lists(
                st.sampled_from(("project_admin", "publisher", "consumer")) | strings, max_size=3
            )
            | loose,
            "projects": loose,
            "description": loose,
        },
    )


_POSTED = {"publish", "modifyAcl", "pull", "acknowledge", "modifyAckDeadline"}
_POSTED |= {"modifyPushConfig", "verifyPushEndpoint", "modifyOffset", "add", "remove"}
_READ_ONLY = {"/v1/status", "/v1/users/profile", "/v1/projects", "members", "topics"}
_READ_ONLY |= {"subscriptions", "topic subscriptions"}


def _in_urls(target: Target) -> st.SearchStrategy[str]:
    """Text short enough for a URL (the client refuses URLs over 64 KiB)."""
    return text_values(target).filter(lambda s: len(s.encode()) < 2000)


class AmsCall(NamedTuple):
    method: str
    path: str
    params: Json  # query parameters
    body: Json  # a JSON value, or raw text


@st.composite
def ams_requests(draw: st.DrawFn, target: Target) -> AmsCall:
    """One /v1 call, with the method the route and action expect (and now and then
    another)."""
    names = _in_urls(target)
    actions: list[str] = []

    def named(kind: str) -> str:
        real = target.names.get(kind, [])
        name: str = draw(_mostly(st.sampled_from(real), names, 3) if real else names)
        action: str = draw(st.sampled_from(AMS_ACTIONS.get(kind, ("",))))
        actions.append(action)
        return _segment(name) + (f":{action}" if action else "")

    kind = draw(
        st.sampled_from(sorted(_READ_ONLY | {"project", "member", "topic", "subscription"}))
    )
    project = "/v1/projects/" + named("project") if kind.startswith(("p", "m", "t", "s")) else ""
    path = {
        "project": lambda: project,
        "members": lambda: project + "/members",
        "member": lambda: project + "/members/" + named("member"),
        "topics": lambda: project + "/topics",
        "topic": lambda: project + "/topics/" + named("topic"),
        "topic subscriptions": lambda: project + "/topics/" + named("topic") + "/subscriptions",
        "subscriptions": lambda: project + "/subscriptions",
        "subscription": lambda: project + "/subscriptions/" + named("subscription"),
    }.get(kind, lambda: kind)()
    action = actions[-1] if actions else ""
    if kind in _READ_ONLY:
        usual = st.just("GET")
    elif action in _POSTED:
        usual = st.just("POST")
    elif action:
        usual = st.just("GET")
    else:
        usual = st.sampled_from(METHODS)
    method: str = draw(_mostly(usual, st.sampled_from(METHODS), 10))
    params = draw(
        st.fixed_dictionaries(
            {},
            optional={
                # up to 2^31: huge page sizes are bounded elsewhere
                "pageSize": st.integers(-5, 2**31).map(str) | names,
                "pageToken": names | st.integers().map(str),
                "time": datetime_values() | names,
            },
        )
    )
    body = draw(_mostly(_ams_bodies(target), _any_json() | text_values(target), 5))
    return AmsCall(method, path, params, body)


@fuzzing(examples=80)
@given(data=st.data())
def test_ams_routes_never_answer_5xx(target: Target, data: st.DataObject) -> None:
    method, path, params, body = data.draw(ams_requests(target), label="request")
    caller = data.draw(callers, label="caller")
    content = body if isinstance(body, str) else json.dumps(body)
    exchange = Exchange(caller, method, path, uuid.uuid4().hex, body=body, params=params)
    if not out_of_time("ams"):
        send(target, exchange, params=params, content=content.encode())


FEED_KINDS = ("ics", "rss", "csv", "json")


@st.composite
def feed_parameters(draw: st.DrawFn, target: Target) -> list[tuple[str, str]]:
    """Random values of the documented feed parameters, some repeated, some unknown."""
    names = _in_urls(target)

    def real(kind: str) -> st.SearchStrategy[str]:
        return _mostly(st.sampled_from(target.names[kind]), names, 3)

    # `to` at the end of the calendar is bounded elsewhere
    times = datetime_values().filter(lambda t: not t.startswith("9999")) | names
    values: dict[str, st.SearchStrategy[str]] = {
        "site": real("shortName"),
        "ngi": real("name"),
        "serviceType": real("name"),
        "scope": real("name") | st.just(""),
        "severity": st.sampled_from(("OUTAGE", "WARNING", "outage", "OUTAGE,WARNING")) | names,
        "ongoing": st.sampled_from(("true", "false", "TRUE")) | names,
        "from": times,
        "to": times,
        "mine": st.sampled_from(("true", "false")) | names,
        "limit": st.integers(-1, 1001).map(str) | names,
        "token": st.sampled_from(sorted(target.tokens.values())) | names,
        "key": st.sampled_from(sorted(target.tokens.values())) | names,
        "bogus": names,
    }
    chosen = draw(st.lists(st.sampled_from(sorted(values)), max_size=6))
    return [(name, draw(values[name])) for name in chosen]


@fuzzing(examples=50)
@given(data=st.data())
def test_feed_parameters_never_answer_5xx(target: Target, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(FEED_KINDS), label="format")
    params = data.draw(feed_parameters(target), label="parameters")
    caller = data.draw(callers, label="caller")
    exchange = Exchange(caller, "GET", f"/feeds/downtimes.{kind}", uuid.uuid4().hex, params=params)
    if not out_of_time("feeds"):
        send(target, exchange, params=params)


@fuzzing(examples=40)
@given(data=st.data())
def test_graphql_envelopes_never_answer_5xx(target: Target, data: st.DataObject) -> None:
    """What surrounds the document: bodies that are not the expected object, fields of the
    wrong type, odd content types, GET with query parameters."""
    document = st.sampled_from(
        (
            "{ viewer { subject } }",
            "query Q { sites { totalCount } }",
            "mutation { publish }",
            "subscription { downtimeEvents { kind } }",
            "query A { __typename } query B { __typename }",
        )
    )
    envelope = st.fixed_dictionaries(
        {},
        optional={
            "query": document | _any_json(),
            "variables": _any_json(),
            "operationName": st.sampled_from(("A", "B", "Q", "")) | _any_json(),
            "extensions": _any_json(),
        },
    )
    caller = data.draw(callers, label="caller")
    method = data.draw(st.sampled_from(("GET", "POST")), label="method")
    sent = data.draw(envelope | _any_json(), label="body")
    exchange = Exchange(caller, method, "/graphql", uuid.uuid4().hex, body=sent)
    if method == "GET":
        fields = sent if isinstance(sent, dict) else {"query": sent}
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        exchange.params = params
        # percent-encoded by hand: a lone surrogate goes out as the bytes UTF-8 would give it
        # (invalid UTF-8 for the server to refuse); httpx would fail to encode it
        query = urlencode(params, encoding="utf-8", errors="surrogatepass")
        if not out_of_time("envelopes"):
            send(target, replace(exchange, path=f"/graphql?{query}"))
        return
    content_type = data.draw(
        st.sampled_from(
            (
                "application/json",
                "text/plain",
                "application/graphql",
                "multipart/form-data; boundary=x",
                "",
            )
        ),
        label="content type",
    )
    if not out_of_time("envelopes"):
        send(target, exchange, {"content-type": content_type}, content=json.dumps(sent).encode())
