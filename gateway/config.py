"""Settings, read from OPSGRAPH_* environment variables only (DESIGN rule 11)."""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from domains.common.db import DEFAULT_BUSY_TIMEOUT_MS
from domains.common.egress import ALLOW_SETTING, is_loopback_host, parse_allow
from domains.common.errors import Invalid
from domains.common.scopes import ScopeDefaults, ScopeMatch

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise Invalid(name, "one of true/false/1/0/yes/no/on/off")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise Invalid(name, "an integer") from exc
    if value < minimum:
        raise Invalid(name, f"at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise Invalid(name, "a number") from exc
    if not value >= minimum:  # also refuses NaN
        raise Invalid(name, f"at least {minimum:g}")
    return value


BROKER_SCHEMES = ("amqp", "amqps", "redis", "rediss")
_NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def broker_url(raw: str | None) -> str | None:
    """The broker URL, checked; None (or empty) means embedded: no broker, in-process work."""
    if not raw:
        return None
    scheme, sep, rest = raw.partition("://")
    if not sep or scheme.lower() not in BROKER_SCHEMES or not rest.split("/")[0].strip("@:"):
        raise Invalid(
            "OPSGRAPH_BROKER_URL",
            "amqp://, amqps://, redis:// or rediss:// with a host; unset for the embedded mode",
        )
    return raw


SMTP_SCHEMES = ("smtp", "smtps", "smtp+starttls")
TLS_SMTP_SCHEMES = ("smtps", "smtp+starttls")
is_loopback = is_loopback_host  # the one definition (domains/common/egress.py)
_SMTP_URL_RULE = "smtp://, smtps:// or smtp+starttls:// with a host (and a valid port)"


def parse_smtp_url(raw: str | None) -> str | None:
    """The SMTP URL, checked: smtp://[user:password@]host[:port] (plain), smtps:// (TLS
    from the first byte) or smtp+starttls:// (plain, then STARTTLS before anything else).
    A login over plain smtp:// is refused unless the host is loopback: the password would
    cross the network in clear. None (or empty): no e-mail is sent, e-mail notifications
    wait."""
    if not raw:
        return None
    parts = urlsplit(raw)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme.lower() not in SMTP_SCHEMES or not parts.hostname or port == -1:
        raise Invalid("OPSGRAPH_SMTP_URL", _SMTP_URL_RULE)
    if (
        parts.scheme.lower() == "smtp"
        and (parts.username or parts.password)
        and not is_loopback(parts.hostname)
    ):
        raise Invalid(
            "OPSGRAPH_SMTP_URL",
            "a login needs smtp+starttls:// or smtps:// (plain smtp:// would send the "
            "password in clear); plain smtp:// carries one only to a loopback host",
        )
    return raw


def parse_smtp_ca_file(raw: str | None) -> str | None:
    """A PEM bundle of the CA certificates the SMTP server's certificate must chain to,
    instead of the system trust store; None (or empty): the system trust store."""
    if not raw:
        return None
    try:
        ssl.create_default_context(cafile=raw)
    except (OSError, ssl.SSLError) as exc:  # missing, unreadable, or no certificate in it
        raise Invalid("OPSGRAPH_SMTP_CA_FILE", "a readable PEM file of CA certificates") from exc
    return raw


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in env.get(name, "").split(",") if v.strip())


def _egress_allow(env: Mapping[str, str]) -> tuple[str, ...]:
    entries = _list(env, ALLOW_SETTING)
    parse_allow(entries)  # Invalid naming the variable
    return entries


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///./opsgraph.db"
    # how long a SQLite writer waits for the write lock (domains/common/db.py) before it fails
    sqlite_busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    graphiql: bool = True
    introspection: bool = True  # false: __schema and __type are refused
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    # query cost (gateway/cost.py): the fields an answer may hold, estimated before it runs
    max_query_cost: int = 500_000
    max_query_cost_anonymous: int = 100_000
    default_list_size: int = 10
    default_page_size: int = 20
    max_page_size: int = 100
    scope_defaults: ScopeDefaults = field(default_factory=ScopeDefaults)
    log_level: str = "INFO"
    log_format: str = "json"
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    admin_entitlements: tuple[str, ...] = ()
    restrict_personal_data: bool = True
    session_secret: str | None = None
    public_url: str | None = None
    session_https_only: bool = False
    # GraphQL subscriptions and the messaging service
    max_subscriptions_per_connection: int = 10
    # seconds between re-checks of a live stream's credential (also checked on every event)
    stream_recheck_seconds: float = 30.0
    message_retention_days: int = 7
    max_message_bytes: int = 1_572_864  # AMS's 1.5 MiB (AM-372)
    pull_wait_ms: int = 1000
    allow_insecure_push: bool = False  # also: loopback allowed by the egress policy
    egress_allow: tuple[str, ...] = ()  # CIDRs / host names (domains/common/egress.py)
    # seconds `serve` waits for open connections on shutdown (TLS peers that never send
    # close_notify would otherwise hold it for asyncio's 30 s)
    shutdown_timeout: int = 10
    # PostgreSQL LISTEN/NOTIFY between replicas (off behind a transaction-pooling proxy such
    # as pgbouncer, which cannot LISTEN; waiting pulls then see other replicas' publishes
    # only when their wait ends)
    pg_listen: bool = True
    push_interval: float = 1.0  # seconds between looks for due push subscriptions
    push_timeout: float = 10.0  # seconds an endpoint may take to answer a push POST
    push_concurrency: int = 4  # push POSTs in flight at once, per worker process
    broker_url: str | None = None
    broker_namespace: str = "opsgraph"
    worker_threads: int = 8
    worker_imports: tuple[str, ...] = ()
    worker_max_retries: int = 20
    worker_min_backoff_ms: int = 5000
    worker_max_backoff_ms: int = 3_600_000
    worker_time_limit_ms: int = 600_000
    relay_interval: float = 1.0
    relay_batch_size: int = 100
    redis_heartbeat_timeout_ms: int = 60_000
    redis_maintenance_chance: int = 1000
    # downtime notifications (workers/downtimes.py)
    smtp_url: str | None = None  # unset: e-mail notifications wait, nothing is lost
    smtp_ca_file: str | None = None  # CA bundle (PEM) for smtps/STARTTLS; unset: system store
    smtp_from: str = "opsgraph@localhost"
    downtime_tick: float = 10.0  # seconds between looks for downtimes starting / ending
    notify_interval: float = 5.0  # seconds between looks for notifications to deliver
    notify_timeout: float = 10.0  # seconds an SMTP server or a webhook may take
    notify_max_attempts: int = 10  # failed deliveries before a notification is given up
    # execution bounds (issue 10): seconds a request may work (0: no limit), response size
    request_timeout: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    # HTTP requests (gateway/body.py, gateway/protocol.py)
    max_body_bytes: int = 4 * 1024 * 1024
    max_publish_bytes: int = 16 * 1024 * 1024  # AMS's :publish, a batch of messages
    header_timeout: float = 10.0  # seconds to receive a request line and headers
    body_timeout: float = 60.0  # seconds to receive a request body

    @property
    def login_enabled(self) -> bool:
        """Whether the browser login routes (/auth/*) exist."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.session_secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        scopes = tuple(
            s.strip() for s in env.get("OPSGRAPH_DEFAULT_SCOPE", "").split(",") if s.strip()
        )
        match_raw = env.get("OPSGRAPH_DEFAULT_SCOPE_MATCH", "all").lower()
        if match_raw not in {"all", "any"}:
            raise Invalid("OPSGRAPH_DEFAULT_SCOPE_MATCH", "one of all, any")
        log_format = env.get("OPSGRAPH_LOG_FORMAT", "json").lower()
        if log_format not in {"json", "text"}:
            raise Invalid("OPSGRAPH_LOG_FORMAT", "one of json, text")
        namespace = env.get("OPSGRAPH_BROKER_NAMESPACE") or d.broker_namespace
        if not _NAMESPACE.fullmatch(namespace):
            raise Invalid(
                "OPSGRAPH_BROKER_NAMESPACE", "letters, digits, '_', '.', '-'; at most 100"
            )
        imports = _list(env, "OPSGRAPH_WORKER_IMPORTS")
        for module in imports:
            if not _MODULE.fullmatch(module):
                raise Invalid("OPSGRAPH_WORKER_IMPORTS", "comma-separated Python module names")
        settings = cls(
            database_url=env.get("OPSGRAPH_DATABASE_URL") or d.database_url,
            sqlite_busy_timeout_ms=_int(
                env, "OPSGRAPH_SQLITE_BUSY_TIMEOUT_MS", d.sqlite_busy_timeout_ms, minimum=0
            ),
            graphiql=_bool(env, "OPSGRAPH_GRAPHIQL", True),
            introspection=_bool(env, "OPSGRAPH_INTROSPECTION", True),
            max_query_depth=_int(env, "OPSGRAPH_MAX_QUERY_DEPTH", d.max_query_depth),
            max_aliases=_int(env, "OPSGRAPH_MAX_ALIASES", d.max_aliases, minimum=0),
            max_tokens=_int(env, "OPSGRAPH_MAX_TOKENS", d.max_tokens),
            max_query_cost=_int(env, "OPSGRAPH_MAX_QUERY_COST", d.max_query_cost),
            max_query_cost_anonymous=_int(
                env, "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS", d.max_query_cost_anonymous
            ),
            default_list_size=_int(env, "OPSGRAPH_DEFAULT_LIST_SIZE", d.default_list_size, 0),
            default_page_size=_int(env, "OPSGRAPH_DEFAULT_PAGE_SIZE", d.default_page_size),
            max_page_size=_int(env, "OPSGRAPH_MAX_PAGE_SIZE", d.max_page_size),
            scope_defaults=ScopeDefaults(scopes=scopes, match=ScopeMatch(match_raw)),
            log_level=env.get("OPSGRAPH_LOG_LEVEL", "INFO").upper(),
            log_format=log_format,
            oidc_issuer=env.get("OPSGRAPH_OIDC_ISSUER") or None,
            oidc_audience=env.get("OPSGRAPH_OIDC_AUDIENCE") or None,
            oidc_client_id=env.get("OPSGRAPH_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("OPSGRAPH_OIDC_CLIENT_SECRET") or None,
            admin_entitlements=_list(env, "OPSGRAPH_ADMIN_ENTITLEMENTS"),
            restrict_personal_data=_bool(env, "OPSGRAPH_RESTRICT_PERSONAL_DATA", True),
            session_secret=env.get("OPSGRAPH_SESSION_SECRET") or None,
            public_url=(env.get("OPSGRAPH_PUBLIC_URL") or "").rstrip("/") or None,
            session_https_only=_bool(env, "OPSGRAPH_SESSION_HTTPS_ONLY", False),
            max_subscriptions_per_connection=_int(
                env, "OPSGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION", d.max_subscriptions_per_connection
            ),
            stream_recheck_seconds=_float(
                env, "OPSGRAPH_STREAM_RECHECK_SECONDS", d.stream_recheck_seconds, 0.1
            ),
            message_retention_days=_int(
                env, "OPSGRAPH_MESSAGE_RETENTION_DAYS", d.message_retention_days
            ),
            max_message_bytes=_int(env, "OPSGRAPH_MAX_MESSAGE_BYTES", d.max_message_bytes),
            pull_wait_ms=_int(env, "OPSGRAPH_PULL_WAIT_MS", d.pull_wait_ms, minimum=0),
            allow_insecure_push=_bool(env, "OPSGRAPH_ALLOW_INSECURE_PUSH", False),
            egress_allow=_egress_allow(env),
            shutdown_timeout=_int(env, "OPSGRAPH_SHUTDOWN_TIMEOUT", d.shutdown_timeout, minimum=0),
            pg_listen=_bool(env, "OPSGRAPH_PG_LISTEN", True),
            push_interval=_float(env, "OPSGRAPH_PUSH_INTERVAL", d.push_interval, 0.05),
            push_timeout=_float(env, "OPSGRAPH_PUSH_TIMEOUT", d.push_timeout, 0.1),
            push_concurrency=_int(env, "OPSGRAPH_PUSH_CONCURRENCY", d.push_concurrency),
            broker_url=broker_url(env.get("OPSGRAPH_BROKER_URL")),
            broker_namespace=namespace,
            worker_threads=_int(env, "OPSGRAPH_WORKER_THREADS", d.worker_threads),
            worker_imports=imports,
            worker_max_retries=_int(
                env, "OPSGRAPH_WORKER_MAX_RETRIES", d.worker_max_retries, minimum=0
            ),
            worker_min_backoff_ms=_int(
                env, "OPSGRAPH_WORKER_MIN_BACKOFF_MS", d.worker_min_backoff_ms
            ),
            worker_max_backoff_ms=_int(
                env, "OPSGRAPH_WORKER_MAX_BACKOFF_MS", d.worker_max_backoff_ms
            ),
            worker_time_limit_ms=_int(
                env, "OPSGRAPH_WORKER_TIME_LIMIT_MS", d.worker_time_limit_ms, minimum=1000
            ),
            relay_interval=_float(env, "OPSGRAPH_RELAY_INTERVAL", d.relay_interval, 0.01),
            relay_batch_size=_int(env, "OPSGRAPH_RELAY_BATCH_SIZE", d.relay_batch_size),
            redis_heartbeat_timeout_ms=_int(
                env, "OPSGRAPH_REDIS_HEARTBEAT_TIMEOUT_MS", d.redis_heartbeat_timeout_ms, 100
            ),
            redis_maintenance_chance=_int(
                env, "OPSGRAPH_REDIS_MAINTENANCE_CHANCE", d.redis_maintenance_chance, 0
            ),
            smtp_url=parse_smtp_url(env.get("OPSGRAPH_SMTP_URL")),
            smtp_ca_file=parse_smtp_ca_file(env.get("OPSGRAPH_SMTP_CA_FILE")),
            smtp_from=env.get("OPSGRAPH_SMTP_FROM") or d.smtp_from,
            downtime_tick=_float(env, "OPSGRAPH_DOWNTIME_TICK", d.downtime_tick, 0.05),
            notify_interval=_float(env, "OPSGRAPH_NOTIFY_INTERVAL", d.notify_interval, 0.05),
            notify_timeout=_float(env, "OPSGRAPH_NOTIFY_TIMEOUT", d.notify_timeout, 0.1),
            notify_max_attempts=_int(env, "OPSGRAPH_NOTIFY_MAX_ATTEMPTS", d.notify_max_attempts),
            request_timeout=_float(env, "OPSGRAPH_REQUEST_TIMEOUT", d.request_timeout, 0),
            max_response_bytes=_int(env, "OPSGRAPH_MAX_RESPONSE_BYTES", d.max_response_bytes),
            max_body_bytes=_int(env, "OPSGRAPH_MAX_BODY_BYTES", d.max_body_bytes),
            max_publish_bytes=_int(env, "OPSGRAPH_MAX_PUBLISH_BYTES", d.max_publish_bytes),
            header_timeout=_float(env, "OPSGRAPH_HEADER_TIMEOUT", d.header_timeout, 0.1),
            body_timeout=_float(env, "OPSGRAPH_BODY_TIMEOUT", d.body_timeout, 0.1),
        )
        if bool(settings.oidc_client_id) != bool(settings.oidc_client_secret):
            raise Invalid(
                "OPSGRAPH_OIDC_CLIENT_SECRET", "client id and secret are set together or not at all"
            )
        if settings.default_page_size > settings.max_page_size:
            raise Invalid("OPSGRAPH_DEFAULT_PAGE_SIZE", "must not exceed OPSGRAPH_MAX_PAGE_SIZE")
        if settings.max_query_cost_anonymous > settings.max_query_cost:
            raise Invalid(
                "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS", "must not exceed OPSGRAPH_MAX_QUERY_COST"
            )
        if settings.worker_min_backoff_ms > settings.worker_max_backoff_ms:
            raise Invalid(
                "OPSGRAPH_WORKER_MIN_BACKOFF_MS", "must not exceed OPSGRAPH_WORKER_MAX_BACKOFF_MS"
            )
        if (
            settings.smtp_ca_file
            and settings.smtp_url
            and urlsplit(settings.smtp_url).scheme.lower() not in TLS_SMTP_SCHEMES
        ):
            raise Invalid(
                "OPSGRAPH_SMTP_CA_FILE",
                "only with an smtps:// or smtp+starttls:// OPSGRAPH_SMTP_URL (smtp:// is plain)",
            )
        if "@" not in settings.smtp_from.strip("@"):
            raise Invalid("OPSGRAPH_SMTP_FROM", "an e-mail address")
        # a GraphQL or AMS publish of one largest message (base64: 4 bytes per 3) must fit
        one_message = 4 * -(-settings.max_message_bytes // 3) + 65536
        for name, value in (
            ("OPSGRAPH_MAX_BODY_BYTES", settings.max_body_bytes),
            ("OPSGRAPH_MAX_PUBLISH_BYTES", settings.max_publish_bytes),
        ):
            if value < one_message:
                raise Invalid(
                    name,
                    f"at least {one_message}: one message of OPSGRAPH_MAX_MESSAGE_BYTES, "
                    "base64-encoded, and 64 KiB more",
                )
        if settings.redis_maintenance_chance > 1_000_000:
            raise Invalid("OPSGRAPH_REDIS_MAINTENANCE_CHANCE", "at most 1000000 (per million)")
        return settings
