"""`opsgraph` command line: serve, worker, migrate, seed, export-schema, check."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import gc
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.egress import is_loopback_host
from domains.common.errors import DomainError, Invalid
from gateway import migrate
from gateway.config import Settings

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client import CollectorRegistry


@contextmanager
def _migrated_session(settings: Settings) -> Iterator[Session]:
    """The configured database, brought to the newest schema, in one unit of work (a
    writer's: on SQLite it waits its turn behind a running server's writers)."""
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        migrate.upgrade(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _database_is_empty(session: Session) -> bool:
    """No topology yet, opsgraph's own site and NGI (domains/monitoring/selfmon.py) aside."""
    from sqlmodel import col

    from domains.monitoring.service import selfmon
    from domains.topology.models import Ngi, Site

    return not any(
        session.execute(select(func.count()).where(where)).scalar_one()
        for where in (col(Site.short_name) != selfmon.SITE, col(Ngi.name) != selfmon.NGI)
    )


def _listener_url(scheme: str, host: str, port: int) -> str:
    """Where this server is reached from its own host: a wildcard address is reached on
    loopback."""
    wildcards = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104
    host = wildcards.get(host, host)
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    migrate.upgrade(engine)
    print(f"database at revision {migrate.current_revision(engine)}")
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from domains.accounting.seed import seed_demo_accounting
    from domains.downtimes.seed import seed_demo_downtimes, seed_scale_downtimes
    from domains.monitoring.seed import seed_demo_catalogue
    from domains.monitoring.seed.demo_results import seed_demo_results
    from domains.topology.seed import seed_demo, seed_scale

    if args.downtimes is not None and (args.demo or args.downtimes < 0):
        print("--downtimes M goes with --scale N, M not negative", file=sys.stderr)
        return 2
    with _migrated_session(settings) as session:
        if not _database_is_empty(session) and not args.force:
            print("the database already holds topology data; --force seeds anyway", file=sys.stderr)
            return 1
        if args.demo:
            seed_demo(session)
            seed_demo_downtimes(session)
            seed_demo_catalogue(session)
            seed_demo_results(session)  # a week of metric results, after the catalogue
            seed_demo_accounting(session)
            _demo_personas(session, settings)
        else:
            seed_scale(session, args.scale)
            if args.downtimes:
                seed_scale_downtimes(session, args.downtimes)
    print("seeded")
    return 0


def _demo_personas(session: Session, settings: Settings) -> None:
    """Make (or reuse) the demo personas and show their tokens on the console: printed,
    never logged, since log lines travel further than a terminal."""
    from gateway import demo

    path = demo.personas_file(settings.database_url)
    try:
        issued = demo.ensure_personas(session, path)
    except LookupError as exc:
        print(f"no demo personas: {exc}", file=sys.stderr)
        return
    print(demo.describe(issued, path), file=sys.stderr, flush=True)


def _port_taken(host: str, port: int) -> str | None:
    """Why the address cannot be bound, checked before anything starts (migrations, the
    workers): a busy port should fail at once with a clear message, not after start-up."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot resolve --host {host}: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # as uvicorn binds: a port left in TIME_WAIT by a previous run is not "taken"
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.processes import remove_metrics, share_metrics

    processes = args.processes if args.processes is not None else settings.processes
    if processes < 1:
        print("--processes: at least 1", file=sys.stderr)
        return 2
    # several processes: their metrics are summed through files, set up before the app's
    # imports load prometheus_client
    shared = share_metrics() if processes > 1 else None
    try:
        return _serve(settings, args, processes)
    finally:
        if shared is not None:  # the parent's; a child never returns here
            remove_metrics(shared)


def _serve(settings: Settings, args: argparse.Namespace, processes: int) -> int:
    import uvicorn

    from domains.accounting.seed import seed_demo_accounting
    from domains.common.outbox import watch_commits
    from domains.common.replica import routed_session_factory
    from domains.downtimes.seed import seed_demo_downtimes
    from domains.monitoring.seed import seed_demo_catalogue
    from domains.monitoring.seed.demo_results import seed_demo_results
    from domains.topology.seed import seed_demo
    from gateway.app import create_app, read_replica
    from gateway.processes import serve as serve_processes
    from gateway.protocol import timed_h11
    from gateway.tls import ClientCertificates, TLSWebSocketProtocol
    from workers.runtime import WorkerRuntime

    # the app (gateway/auth/browser.py) offers the demo personas only with --demo on loopback
    scheme = "https" if args.ssl_certfile else "http"
    settings = dataclasses.replace(
        settings,
        demo=args.demo,
        host=args.host,
        listener_url=_listener_url(scheme, args.host, args.port),
    )
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        print("--ssl-certfile and --ssl-keyfile go together", file=sys.stderr)
        return 2
    clients = None
    if args.ssl_ca_certs is not None:
        clients = ClientCertificates(args.ssl_ca_certs, args.ssl_crl_dir)
        wrong = clients.check() or (
            None if args.ssl_certfile else "--ssl-ca-certs needs --ssl-certfile and --ssl-keyfile"
        )
        if wrong:
            print(wrong, file=sys.stderr)
            return 2
    elif args.ssl_crl_dir is not None:
        print("--ssl-crl-dir goes with --ssl-ca-certs", file=sys.stderr)
        return 2
    if settings.login_enabled and not settings.public_url and not is_loopback_host(args.host):
        print(
            "configuration error: OPSGRAPH_PUBLIC_URL: the login routes need the server's "
            "public URL when it listens beyond loopback (the Host header is not trusted)",
            file=sys.stderr,
        )
        return 2
    taken = _port_taken(args.host, args.port)
    if taken:
        print(f"{taken} (choose another port with --port)", file=sys.stderr)
        return 1
    if settings.metrics_address is not None:
        taken = _port_taken(*settings.metrics_address)
        if taken:
            print(f"OPSGRAPH_METRICS_ADDRESS: {taken}", file=sys.stderr)
            return 1
    # Requests declare their sessions readers or writers (domains/common/db.py): on SQLite only a
    # writer's transaction takes the write lock, when it begins.
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    migrate.upgrade(engine)
    # the requests' readers on OPSGRAPH_DATABASE_READ_URL's standby, if set; the workers'
    # sessions (their own factory) and every writer on the primary
    factory = routed_session_factory(engine, read_replica(settings, engine))
    if args.demo:
        with unit_of_work(factory) as session:
            if _database_is_empty(session):
                seed_demo(session)
                seed_demo_downtimes(session)
                seed_demo_catalogue(session)
                seed_demo_results(session)
                seed_demo_accounting(session)
            _demo_personas(session, settings)
    # opsgraph's own report: ensured by the process running the probe scheduler (this one
    # when embedded, else the workers), at its first monitoring.sync_checks
    # Embedded (no broker): the handlers and periodic jobs run in this process. With a
    # broker, this process only relays the outbox (at once after each commit that emitted
    # events); `opsgraph worker` consumes and runs the periodic jobs.
    app = create_app(settings, engine=engine, session_factory=factory)

    def make_server() -> uvicorn.Server:
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level="warning",
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
            timeout_graceful_shutdown=settings.shutdown_timeout,
            http=timed_h11(settings.header_timeout),  # closes slow or silent connections
            ws=TLSWebSocketProtocol,  # the client certificate reaches WebSocket handshakes too
            ssl_context_factory=None if clients is None else clients.context_factory,
        )
        return uvicorn.Server(config)

    # What start-up built (schema, modules, caches) lives as long as the process: moving it
    # out of the collector's sight makes full collections much shorter (benchmark p95), and
    # keeps it shared between forked processes.
    gc.collect()
    gc.freeze()
    print(
        f"opsgraph on {scheme}://{args.host}:{args.port}/graphql"
        + (f" ({processes} processes)" if processes > 1 else ""),
        file=sys.stderr,
        flush=True,
    )

    def start_metrics(runtime: WorkerRuntime) -> Callable[[], None]:
        """The broker's queue depths on the app's /metrics, and OPSGRAPH_METRICS_ADDRESS's
        listener (in the process running the background work); returns what stops it."""
        registry = app.state.metrics.registry
        if runtime.queue_depths is not None:
            registry.register(runtime.queue_depths)
        server = _metrics_listener(settings, registry)
        return _noop if server is None else server.shutdown

    if processes > 1:
        return serve_processes(
            processes=processes,
            host=args.host,
            port=args.port,
            settings=settings,
            engine=engine,
            factory=factory,
            make_server=make_server,
            start_metrics=start_metrics,
        )
    runtime = WorkerRuntime(settings, schedule=settings.broker_url is None)
    watch_commits(factory, runtime.wake)
    # uvicorn shuts down on SIGTERM/SIGINT, then re-raises the signal with the handlers it
    # found restored: these make that a normal return, so the runtime below stops cleanly.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _ignore_signal)
    stop_metrics = start_metrics(runtime)
    runtime.start()
    try:
        make_server().run()
    finally:
        runtime.stop()
        stop_metrics()
    return 0


def _metrics_listener(settings: Settings, registry: CollectorRegistry) -> WSGIServer | None:
    """OPSGRAPH_METRICS_ADDRESS's listener, when set (workers/metrics.py)."""
    from workers.metrics import listen

    if settings.metrics_address is None:
        return None
    host, port = settings.metrics_address
    server = listen(host, port, registry)
    print(f"metrics on {_listener_url('http', host, port)}/metrics", file=sys.stderr)
    return server


def _ignore_signal(_signum: int, _frame: object) -> None:
    return None


def _noop() -> None:
    return None


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry

    from gateway.logs import configure_logging
    from workers.metrics import WORK, Forward
    from workers.runtime import WorkerRuntime

    if settings.broker_url is None:
        print(
            "configuration error: OPSGRAPH_BROKER_URL: `opsgraph worker` needs a broker "
            "(amqp:// or redis://); without one, `opsgraph serve` runs the work in-process",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level, settings.log_format)
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current != head:
        print(f"the database is at {current}, not {head}: run `opsgraph migrate`", file=sys.stderr)
        engine.dispose()
        return 1
    if settings.metrics_address is not None:
        taken = _port_taken(*settings.metrics_address)
        if taken:
            print(f"OPSGRAPH_METRICS_ADDRESS: {taken}", file=sys.stderr)
            engine.dispose()
            return 1
    runtime = WorkerRuntime(settings, engine, consume=True, threads=args.threads)
    registry = CollectorRegistry()
    registry.register(Forward(WORK))
    if runtime.queue_depths is not None:
        registry.register(runtime.queue_depths)
    metrics_server = _metrics_listener(settings, registry)
    stop = threading.Event()

    def request_stop(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    runtime.start()
    print(
        f"opsgraph worker: {args.threads or settings.worker_threads} threads on queue "
        f"{settings.broker_namespace!r}",
        file=sys.stderr,
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    print("opsgraph worker: stopping", file=sys.stderr, flush=True)
    runtime.stop(timeout=args.shutdown_timeout)
    if metrics_server is not None:
        metrics_server.shutdown()
    engine.dispose()
    return 0


def cmd_export_schema(_settings: Settings, args: argparse.Namespace) -> int:
    from gateway.schema import export_sdl

    sdl = export_sdl(federation=args.federation)
    if args.output:
        Path(args.output).write_text(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


def schema_drift(schema_file: Path) -> list[str]:
    """Unified diff between the committed SDL and the one the code exports."""
    from gateway.schema import export_sdl

    committed = schema_file.read_text() if schema_file.exists() else ""
    return list(
        difflib.unified_diff(
            committed.splitlines(),
            export_sdl().splitlines(),
            str(schema_file),
            "exported",
            lineterm="",
        )
    )


def migration_drift(database_url: str | None = None) -> list[str]:
    """Upgrade an empty database to head and list what still differs from the models."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url or f"sqlite:///{tmp}/drift.db")
        try:
            migrate.upgrade(engine)
            return [repr(diff) for diff in migrate.model_drift(engine)]
        finally:
            engine.dispose()


def cmd_check(_settings: Settings, args: argparse.Namespace) -> int:
    problems = schema_drift(Path(args.schema_file))
    for line in problems:
        print(line)
    drift = migration_drift(args.database_url)
    for line in drift:
        print(f"migration drift: {line}")
    if problems or drift:
        print(
            "check failed: run `opsgraph export-schema --output schema.graphql` or add a migration",
            file=sys.stderr,
        )
        return 1
    print("schema.graphql and migrations match the code")
    return 0


def cmd_db_revision(_settings: Settings, args: argparse.Namespace) -> int:
    try:
        path = migrate.new_revision(args.message, autogenerate=not args.empty)
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    print(path)
    return 0


def cmd_admin_grant_role(settings: Settings, args: argparse.Namespace) -> int:
    from domains.common.identity import PLATFORM
    from domains.identity.models import EntityKind
    from domains.topology import ownership, roles

    targets = {
        EntityKind.SITE: args.site,
        EntityKind.NGI: args.ngi,
        EntityKind.PROJECT: args.project,
        EntityKind.SERVICE_GROUP: args.service_group,
    }
    kind, name = next((k, v) for k, v in targets.items() if v is not None)
    with _migrated_session(settings) as session:
        entity_id = ownership.id_of(session, kind.value, name)
        if entity_id is None:
            print(f"no {kind.value.replace('_', ' ')} named {name!r}", file=sys.stderr)
            return 1
        role = roles.grant_role_directly(
            session,
            PLATFORM,
            subject=args.subject,
            role_type=args.role,
            kind=kind,
            entity_id=entity_id,
        )
        print(f"{args.subject}: {role.role_type} over {kind.value} {name} ({role.status.value})")
    return 0


def cmd_admin_make_admin(settings: Settings, args: argparse.Namespace) -> int:
    from domains.common.identity import PLATFORM
    from domains.identity import service as identity

    with _migrated_session(settings) as session:
        identity.make_admin(session, PLATFORM, subject=args.subject)
    print(f"{args.subject} is a platform administrator")
    return 0


def cmd_messaging_create_project(settings: Settings, args: argparse.Namespace) -> int:
    from domains.common.identity import PLATFORM
    from domains.messaging import service as messaging

    with _migrated_session(settings) as session:
        messaging.create_project(session, PLATFORM, name=args.name, description=args.description)
    print(f"messaging project {args.name} created")
    return 0


def cmd_messaging_issue_token(settings: Settings, args: argparse.Namespace) -> int:
    """Make the user a member of the project with the roles, and print a new API token
    for them: all an operator needs to wire up an AMS client."""
    from domains.common.identity import PLATFORM
    from domains.identity.service import tokens
    from domains.messaging import service as messaging

    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    with _migrated_session(settings) as session:
        messaging.add_member(
            session, PLATFORM, project=args.project, subject=args.subject, roles=roles
        )
        _, secret = tokens.create_api_token(
            session,
            PLATFORM,
            name=args.name or f"{args.project} ({','.join(roles)})",
            user_subject=args.subject,
        )
    print(secret)
    return 0


def cmd_admin_issue_token(settings: Settings, args: argparse.Namespace) -> int:
    """A personal API token for any user (created if new), with the user's own rights and
    no messaging membership: for automation, a calendar's feed URL, or trying the API."""
    from datetime import timedelta

    from domains.common.identity import PLATFORM
    from domains.common.time import utcnow
    from domains.identity.service import tokens

    if args.expires_in_days is not None and args.expires_in_days < 1:
        print("--expires-in-days must be at least 1", file=sys.stderr)
        return 2
    expires = utcnow() + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    with _migrated_session(settings) as session:
        _, secret = tokens.create_api_token(
            session,
            PLATFORM,
            name=args.name or "personal token",
            user_subject=args.subject,
            expires_at=expires,
        )
    print(secret)
    return 0


def cmd_admin_link_identity(settings: Settings, args: argparse.Namespace) -> int:
    from domains.common.identity import PLATFORM
    from domains.identity import service as identity

    if args.x509 is not None:
        if args.issuer or args.identity_subject:
            print("--x509 replaces --issuer and --identity-subject", file=sys.stderr)
            return 2
        if not args.x509.startswith("/"):
            print("--x509: a DN in OpenSSL's slash form (/DC=org/.../CN=Name)", file=sys.stderr)
            return 2
        issuer, subject = identity.X509_ISSUER, args.x509
    elif args.issuer and args.identity_subject:
        issuer, subject = args.issuer, args.identity_subject
    else:
        print("give --issuer and --identity-subject, or --x509 DN", file=sys.stderr)
        return 2
    with _migrated_session(settings) as session:
        identity.link_identity(
            session, PLATFORM, user_subject=args.subject, issuer=issuer, subject=subject
        )
    print(f"{subject} at {issuer} now signs in as {args.subject}")
    return 0


def cmd_import_gocdb(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.gocdb_import import STEPS, DirectorySource, HttpSource, Options, run_import
    from gateway.gocdb_import.report import BarProgress, print_summary
    from gateway.gocdb_import.runner import Step
    from gateway.gocdb_import.sources import Source

    url_only = args.cert or args.ca_certs or args.header
    if (args.key is None) != (args.cert is None) or (args.dir and url_only):
        print(
            "--cert and --key go together; they, --ca-certs and --header need --url",
            file=sys.stderr,
        )
        return 2
    if args.batch_size < 1:
        print("--batch-size is at least 1", file=sys.stderr)
        return 2
    steps: tuple[Step, ...] = STEPS
    if args.only:
        wanted = {m.strip() for m in args.only.split(",") if m.strip()}
        steps = tuple(s for s in STEPS if s.method in wanted)
        unknown = wanted - {s.method for s in steps}
        if unknown:
            known = ", ".join(s.method for s in STEPS)
            print(f"--only: no such method {', '.join(sorted(unknown))} ({known})", file=sys.stderr)
            return 2
    source: Source
    if args.dir:
        if not Path(args.dir).is_dir():
            print(f"{args.dir}: no such directory", file=sys.stderr)
            return 2
        source = DirectorySource(Path(args.dir))
    else:
        headers = {}
        for header in args.header:
            name, sep, value = header.partition(":")
            if not sep or not name.strip():
                print(f"--header {header!r}: expected NAME: VALUE", file=sys.stderr)
                return 2
            headers[name.strip()] = value.strip()
        source = HttpSource(
            args.url, cert=args.cert, key=args.key, ca=args.ca_certs, headers=headers
        )
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        migrate.upgrade(engine)
        options = Options(checkin_issuer=settings.oidc_issuer, batch_size=args.batch_size)
        with BarProgress(sys.stderr) as progress:
            result = run_import(
                make_session_factory(engine),
                source,
                options=options,
                progress=progress,
                steps=steps,
            )
    finally:
        engine.dispose()
        if isinstance(source, HttpSource):
            source.__exit__(None, None, None)
    print_summary(result, sys.stdout)
    return 1 if result.failure else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opsgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed demo data into an empty database")
    serve.add_argument("--ssl-certfile", help="serve HTTPS with this PEM certificate (chain)")
    serve.add_argument("--ssl-keyfile", help="the certificate's PEM private key")
    serve.add_argument(
        "--ssl-ca-certs",
        metavar="DIR_OR_FILE",
        help="ask for an optional client certificate and verify it against these CAs: a "
        "directory of hashed names (<hash>.0, as IGTF installs them) or a PEM bundle",
    )
    serve.add_argument(
        "--ssl-crl-dir",
        metavar="DIR",
        help="with --ssl-ca-certs: check client certificates against the CRLs here (<hash>.r0)",
    )
    serve.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="N",
        help="serve with N processes, the in-process workers in one of them "
        "(OPSGRAPH_PROCESSES, default 1)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser(
        "worker", help="consume from the broker, relay the outbox, run the periodic jobs"
    )
    worker.add_argument(
        "--threads", type=int, default=None, help="worker threads (OPSGRAPH_WORKER_THREADS)"
    )
    worker.add_argument(
        "--shutdown-timeout",
        type=float,
        default=30.0,
        help="seconds running handlers get to finish on SIGTERM/SIGINT",
    )
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="upgrade the database to the newest schema").set_defaults(
        func=cmd_migrate
    )

    seed = sub.add_parser("seed", help="fill an empty database")
    what = seed.add_mutually_exclusive_group(required=True)
    what.add_argument("--demo", action="store_true", help="a realistic small federation")
    what.add_argument("--scale", type=int, metavar="N", help="a synthetic federation of N sites")
    seed.add_argument(
        "--downtimes", type=int, metavar="M", help="with --scale: also M synthetic downtimes"
    )
    seed.add_argument("--force", action="store_true", help="seed even if data is present")
    seed.set_defaults(func=cmd_seed)

    export = sub.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", help="write to this file instead of standard output")
    export.add_argument(
        "--federation",
        action="store_true",
        help="the Apollo Federation v2 subgraph SDL (as OPSGRAPH_FEDERATION=true serves it)",
    )
    export.set_defaults(func=cmd_export_schema)

    check = sub.add_parser("check", help="schema drift and migration drift")
    check.add_argument("--schema-file", default="schema.graphql")
    check.add_argument(
        "--database-url", help="an EMPTY database to check the migrations on (default: temp SQLite)"
    )
    check.set_defaults(func=cmd_check)
    db = sub.add_parser("db", help="the database schema's migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    revision = db_sub.add_parser(
        "revision",
        help="write the next migration into migrations/versions, its operations generated "
        "from what the models hold beyond head (review them; test on SQLite and PostgreSQL)",
    )
    revision.add_argument("-m", "--message", required=True, help="what the migration does")
    revision.add_argument(
        "--empty", action="store_true", help="no generated operations (a data migration)"
    )
    revision.set_defaults(func=cmd_db_revision)

    admin = sub.add_parser("admin", help="bootstrap users and roles, acting as the platform")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    grant = admin_sub.add_parser("grant-role", help="give a user a role (created if new)")
    grant.add_argument("--subject", required=True, help="the user's subject (voperson_id)")
    grant.add_argument("--role", required=True, help='e.g. "Site Administrator"')
    over = grant.add_mutually_exclusive_group(required=True)
    over.add_argument("--site", help="site short name")
    over.add_argument("--ngi", help="NGI name")
    over.add_argument("--project", help="project name")
    over.add_argument("--service-group", help="service group name")
    grant.set_defaults(func=cmd_admin_grant_role)
    make_admin = admin_sub.add_parser("make-admin", help="make a user a platform administrator")
    make_admin.add_argument("--subject", required=True)
    make_admin.set_defaults(func=cmd_admin_make_admin)
    token = admin_sub.add_parser(
        "issue-token", help="print a new personal API token for a user (created if new)"
    )
    token.add_argument("--subject", required=True, help="the user's subject")
    token.add_argument("--name", help="what the token is for (shown in the token list)")
    token.add_argument("--expires-in-days", type=int, help="default: the token does not expire")
    token.set_defaults(func=cmd_admin_issue_token)
    link = admin_sub.add_parser("link-identity", help="let another identity sign in as a user")
    link.add_argument("--subject", required=True, help="the existing user's subject")
    link.add_argument("--issuer", help="the other identity's issuer")
    link.add_argument("--identity-subject", help="its subject at that issuer")
    link.add_argument(
        "--x509",
        metavar="DN",
        help="a client certificate's subject DN in slash form (issuer X.509), instead",
    )
    link.set_defaults(func=cmd_admin_link_identity)

    imp = sub.add_parser("import", help="load another registry's data")
    imp_sub = imp.add_subparsers(dest="import_command", required=True)
    gocdb = imp_sub.add_parser(
        "gocdb",
        help="a GOCDB, through its PI or saved PI answers, keeping its ids and primary keys "
        "(again: updates in place)",
    )
    where = gocdb.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="the PI's base URL, e.g. https://goc.egi.eu/gocdbpi")
    where.add_argument(
        "--dir", help="a directory of saved answers: <method>.xml or <method>.<n>.xml"
    )
    gocdb.add_argument("--cert", help="PEM client certificate (the protected methods need one)")
    gocdb.add_argument("--key", help="its PEM private key")
    gocdb.add_argument("--ca-certs", help="CA file or directory the PI's certificate is checked on")
    gocdb.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="sent with every request, e.g. 'Authorization: Bearer T' (repeatable)",
    )
    gocdb.add_argument(
        "--batch-size", type=int, default=100, help="rows per transaction (default 100)"
    )
    gocdb.add_argument(
        "--only",
        metavar="METHOD,...",
        help="read only these PI methods (e.g. get_downtime_nested_services, to bring the "
        "downtimes up to date again)",
    )
    gocdb.set_defaults(func=cmd_import_gocdb)

    msg = sub.add_parser("messaging", help="bootstrap the messaging service (AMS)")
    msg_sub = msg.add_subparsers(dest="messaging_command", required=True)
    create = msg_sub.add_parser("create-project", help="create a messaging project")
    create.add_argument("name")
    create.add_argument("--description", default="")
    create.set_defaults(func=cmd_messaging_create_project)
    issue = msg_sub.add_parser(
        "issue-token", help="add a user to a project and print a new API token for them"
    )
    issue.add_argument("--subject", required=True, help="the user's subject (created if new)")
    issue.add_argument("--project", required=True)
    issue.add_argument(
        "--roles", required=True, help="comma-separated: project_admin, publisher, consumer"
    )
    issue.add_argument("--name", help="what the token is for (shown in the token list)")
    issue.set_defaults(func=cmd_messaging_issue_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except Invalid as exc:
        print(f"configuration error: {exc.message}", file=sys.stderr)
        return 2
    if settings.cache_url:  # every committed write changes the shared response cache's view
        from gateway.cache import publish_writes

        publish_writes(settings.cache_url)
    try:
        return int(args.func(settings, args))
    except DomainError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
