"""Fixtures: every test runs on SQLite and on PostgreSQL, inside a transaction that is
rolled back at its end (commits inside only release savepoints); every test that builds
the app runs under both GraphQL executors (EXECUTORS below)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from domains.common.db import make_engine
from domains.common.time import utcnow
from gateway import migrate
from gateway.app import create_app
from gateway.config import Settings
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.server import copy_demo, run_cli, server_env, serving

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_test"
BACKENDS = [
    b.strip()
    for b in os.environ.get("OPSGRAPH_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]


# The GraphQL executors (OPSGRAPH_TEST_EXECUTORS): "fast" is gateway/executor.py, the
# default; "graphql-core" is graphql-core's own (OPSGRAPH_FAST_EXECUTOR=false). Each test that
# builds the app (make_client, the WebSocket fixtures) runs under the fast executor on every
# backend, and under graphql-core's on the first backend only: both executors call the same
# resolvers, which run the same SQL, and differ only in how they turn the results into the
# answer, which the backend does not reach. A second backend would add as much time again
# (PostgreSQL's share is the slower) and no case the first does not check.
EXECUTORS = [
    e.strip()
    for e in os.environ.get("OPSGRAPH_TEST_EXECUTORS", "fast,graphql-core").split(",")
    if e.strip()
]


def _executor_lines() -> list[str]:
    return [
        f"GraphQL executor {e}: "
        + ("every backend" if n == 1 else f"{BACKENDS[0] if BACKENDS else 'no'} backend only")
        for n, e in enumerate(EXECUTORS, start=1)
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselects the executors after the first on the backends after the first (see
    EXECUTORS): deselected, not skipped, so that they count neither way."""
    dropped = []
    for item in items:
        params = getattr(item, "callspec", None)
        chosen = params.params if params is not None else {}
        if (
            EXECUTORS
            and chosen.get("graphql_executor", EXECUTORS[0]) != EXECUTORS[0]
            and chosen.get("database_url", BACKENDS[0]) != BACKENDS[0]
        ):
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(dropped)
        items[:] = [item for item in items if item not in gone]


def pg_test_url() -> str:
    """The PostgreSQL database the tests use (OPSGRAPH_TEST_DATABASE_URL): under pytest-xdist
    one per worker (its name suffixed with the worker's id), as each wipes its own at start."""
    url = make_url(os.environ.get("OPSGRAPH_TEST_DATABASE_URL", DEFAULT_PG_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        url = url.set(database=f"{url.database}_{worker}")
    return url.render_as_string(hide_password=False)


def _backend_lines() -> list[str]:
    pg = make_url(pg_test_url())
    where = {
        "sqlite": "SQLite (a temporary file per run)",
        "postgresql": f"PostgreSQL at {pg.render_as_string(hide_password=True)}",
    }
    return [
        f"database backend {n} of {len(BACKENDS)}: {where.get(b, b)}"
        for n, b in enumerate(BACKENDS, start=1)
    ]


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Which databases this run uses: each test runs once per backend (OPSGRAPH_TEST_BACKENDS),
    and which GraphQL executors (OPSGRAPH_TEST_EXECUTORS)."""
    return _backend_lines() + _executor_lines()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_sep("-", "database backends and GraphQL executors")
    for line in _backend_lines() + _executor_lines():
        terminalreporter.write_line(line)


def _ensure_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def _reset_pg(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'opsgraph-test.db'}"
    if request.param == "postgresql":
        url = pg_test_url()
        _ensure_pg_database(url)
        return url
    raise ValueError(f"unknown backend {request.param!r} in OPSGRAPH_TEST_BACKENDS")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """A freshly migrated database of the parametrized kind, with the demo data committed."""
    from domains.monitoring.seed import seed_demo_catalogue
    from domains.topology.seed import seed_demo

    eng = make_engine(database_url)
    if eng.dialect.name == "postgresql":
        _reset_pg(eng)
    migrate.upgrade(eng)
    with Session(eng) as session:
        seed_demo(session)
        seed_demo_catalogue(session)  # the monitoring catalogue's EGI-like defaults
        session.commit()
    yield eng
    eng.dispose()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, every finished span kept in memory (domains/common/tracing.py), for the
    test only."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from domains.common import tracing

    exporter = InMemorySpanExporter()
    tracing.install(exporter, batch=False)
    try:
        yield exporter
    finally:
        tracing.uninstall()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def statements(connection: Connection) -> Iterator[StatementCounter]:
    counter = StatementCounter()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            counter.statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield counter
    event.remove(connection, "before_cursor_execute", record)


@dataclass
class GraphQLClient:
    client: TestClient
    headers: dict[str, str] = field(default_factory=dict)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        first: dict[str, Any] = body["errors"][0]
        return first


AppFactory = Callable[..., GraphQLClient]


@pytest.fixture(params=EXECUTORS)
def graphql_executor(request: pytest.FixtureRequest) -> str:
    """Which GraphQL executor the test's app uses (EXECUTORS)."""
    if request.param not in {"fast", "graphql-core"}:
        raise ValueError(f"unknown executor {request.param!r} in OPSGRAPH_TEST_EXECUTORS")
    return str(request.param)


@pytest.fixture
def fast_executor(graphql_executor: str) -> bool:
    """The app's Settings.fast_executor under the test's executor."""
    return graphql_executor == "fast"


@pytest.fixture
def make_client(
    engine: Engine,
    session_factory: sessionmaker[Session],
    database_url: str,
    fast_executor: bool,
) -> Iterator[AppFactory]:
    clients: list[TestClient] = []

    def build(**overrides: Any) -> GraphQLClient:
        # no LISTEN connection per test app: one process, the in-process wake-ups suffice
        # (tests/compat/test_replicas.py covers LISTEN/NOTIFY between real servers)
        overrides.setdefault("pg_listen", False)
        # no response cache: tests write through their own session on the app's connection,
        # unseen by the cache (tests/gateway/test_response_cache.py turns it on)
        overrides.setdefault("response_cache_max", 0)
        overrides.setdefault("fast_executor", fast_executor)
        # the test issuer answers from a thread of this process: on a loaded 2-core machine
        # a call to it took longer than the default 5 s, and a valid token was refused
        overrides.setdefault("oidc_http_timeout", 60.0)
        clock = overrides.pop("clock", utcnow)  # the time the service rules read
        egress = overrides.pop("egress", None)  # an EgressPolicy (tests inject the resolver)
        settings = replace(Settings(database_url=database_url, log_format="text"), **overrides)
        app = create_app(
            settings, engine=engine, session_factory=session_factory, clock=clock, egress=egress
        )
        # One event loop for the client's whole life (lifespan included): the token
        # validator's HTTP connections belong to the loop they were opened in.
        client = TestClient(app).__enter__()
        clients.append(client)
        return GraphQLClient(client)

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def gql(make_client: AppFactory) -> GraphQLClient:
    return make_client()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[OIDCIssuer]:
    """A real OIDC issuer on loopback (discovery, JWKS, token, introspection)."""
    issuer = OIDCIssuer()
    issuer.start()
    try:
        yield issuer
    finally:
        issuer.stop()


@dataclass
class Callers:
    """One app that trusts the test issuer, and GraphQL clients acting as various callers."""

    client: GraphQLClient
    issuer: OIDCIssuer

    @property
    def anonymous(self) -> GraphQLClient:
        return self.client

    def as_user(
        self, subject: str, *, entitlements: tuple[str, ...] = (), **claims: Any
    ) -> GraphQLClient:
        user = {
            "sub": subject,
            "voperson_id": subject,
            "name": f"User {subject.split('@')[0]}",
            "email": f"{subject.split('@')[0]}@example.org",
            "eduperson_entitlement": list(entitlements),
            **claims,
        }
        token = self.issuer.issue_access_token(user)
        return GraphQLClient(self.client.client, headers={"authorization": f"Bearer {token}"})


@pytest.fixture
def callers(make_client: AppFactory, oidc_issuer: OIDCIssuer) -> Callers:
    client = make_client(
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        admin_entitlements=("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",),
    )
    return Callers(client, oidc_issuer)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database, seeded by the CLI once (seeding takes most of a demo server's
    start); servers start on copies of it (tests.server.copy_demo)."""
    tmp_path = tmp_path_factory.mktemp("demo-seed")
    done = run_cli(tmp_path, "seed", "--demo")
    assert done.returncode == 0, done.stderr
    return tmp_path / "cli.db"


@pytest.fixture(scope="session")
def demo_server(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of one `opsgraph serve --demo` on a copy of the demo database, shared by
    every test that only reads from it (a test that writes starts a server of its own)."""
    tmp_path = tmp_path_factory.mktemp("demo-server")
    copy_demo(demo_database, tmp_path)
    with serving(server_env(tmp_path), "--demo") as base:
        yield base
