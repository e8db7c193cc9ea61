"""The settings every process reads — the server, `opsgraph worker`, the CLI and the
migrations — from OPSGRAPH_* environment variables only (DESIGN rule 11): the database, the
broker and workers, outbound delivery (push, e-mail, webhooks) and logging. The HTTP
server's own settings extend these in gateway/config.py."""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from domains.common.db import DEFAULT_BUSY_TIMEOUT_MS
from domains.common.egress import ALLOW_SETTING, is_loopback_host, parse_allow
from domains.common.errors import Invalid

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise Invalid(name, "one of true/false/1/0/yes/no/on/off")


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
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


def env_float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
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


def env_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(v.strip() for v in env.get(name, "").split(",") if v.strip())


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
        and not is_loopback_host(parts.hostname)
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


def _egress_allow(env: Mapping[str, str]) -> tuple[str, ...]:
    entries = env_list(env, ALLOW_SETTING)
    parse_allow(entries)  # Invalid naming the variable
    return entries


def parse_listen_address(name: str, raw: str | None) -> tuple[str, int] | None:
    """`host:port` (an IPv6 host in brackets) -> (host, port); unset or empty -> None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    host, sep, port = raw.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise Invalid(name, "host:port to listen on, e.g. 127.0.0.1:9464 or [::1]:9464")
    return host, int(port)


def _plugin_dir(raw: str | None) -> str | None:
    """The directory external Nagios plugins run from (an absolute path); None (or
    empty): no plugin runs, built-in probes only."""
    if not raw:
        return None
    if not raw.startswith("/"):
        raise Invalid("OPSGRAPH_PROBE_PLUGIN_DIR", "an absolute path")
    return raw


@dataclass(frozen=True, slots=True)
class CoreSettings:
    database_url: str = "sqlite:///./opsgraph.db"
    # how long a SQLite writer waits for the write lock (domains/common/db.py) before it fails
    sqlite_busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    log_level: str = "INFO"
    log_format: str = "json"
    message_retention_days: int = 7
    allow_insecure_push: bool = False  # also: loopback allowed by the egress policy
    egress_allow: tuple[str, ...] = ()  # CIDRs / host names (domains/common/egress.py)
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
    # months without use (or renewal) after which a site API credential is flagged unused
    api_credential_unused_months: int = 13
    # monitoring probes (domains/monitoring/probes, workers/monitoring.py)
    # off by default: a demo or test database's hosts are real names, never to be probed
    probe_schedule: bool = False
    probe_plugin_dir: str | None = None  # the only directory external plugins run from
    probe_concurrency: int = 200  # probes in flight at once, per worker process
    probe_time_limit: float = 30.0  # seconds a probe or plugin may take: then UNKNOWN
    # the server's public base URL (OPSGRAPH_PUBLIC_URL): the login callback, links in the
    # feeds and compat APIs, and the listener opsgraph's own report probes
    public_url: str | None = None
    # where `serve` listens when no public URL is set (set by `serve`, not from the
    # environment): its own report probes it there (domains/monitoring/selfmon.py)
    listener_url: str | None = None
    # seconds between a worker process's heartbeats (domains/monitoring/service/heartbeat.py)
    heartbeat_interval: float = 30.0
    # a listener of its own serving GET /metrics without a token (workers/metrics.py), in
    # `serve` and in `opsgraph worker`; None: none
    metrics_address: tuple[str, int] | None = None
    # metric results (domains/monitoring/service/results.py, workers/monitoring.py)
    monitoring_clock_skew_seconds: int = 300  # how far ahead of our clock a result may be
    monitoring_late_results_hours: int = 72  # how old a result may still arrive
    monitoring_retention_days: int = 90  # results and status history kept this long
    monitoring_project: str = "monitoring"  # the AMS project and topic of ARGO's metric_data
    monitoring_topic: str = "metric_data"
    monitoring_ingest_interval: float = 1.0  # seconds between looks at the topic
    monitoring_ingest_batch: int = 1000  # messages ingested per transaction
    # accounting (domains/accounting/service/intake.py, workers/accounting.py): the AMS
    # subscription sites' signed APEL messages are consumed from, and what verifies them
    accounting_project: str = "accounting"
    accounting_subscription: str = "loader"
    accounting_ingest_interval: float = 1.0  # seconds between looks at the subscription
    accounting_ca_path: str | None = None  # a directory of hashed CA certificates, or a file
    accounting_server_cert: str | None = None  # for messages encrypted to this server
    accounting_server_key: str | None = None
    # refuse signers whose CA has no CRL in accounting_ca_path (SSM's check_crls = true)
    accounting_crl_required: bool = False
    # the `egi` VO group of the accounting views (GraphQL `accounting`, the portal's
    # routes); empty: every VO
    accounting_egi_vos: tuple[str, ...] = ()
    # OpenTelemetry traces (domains/common/tracing.py): exported over OTLP/HTTP to this base
    # URL (its /v1/traces) when set; unset, no span is made at all
    otlp_endpoint: str | None = None
    service_name: str = "opsgraph"  # the traces' service.name

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CoreSettings:
        """Read and check the variables; Invalid names the variable at fault."""
        env = os.environ if env is None else env
        d = CoreSettings()
        log_format = env.get("OPSGRAPH_LOG_FORMAT", "json").lower()
        if log_format not in {"json", "text"}:
            raise Invalid("OPSGRAPH_LOG_FORMAT", "one of json, text")
        namespace = env.get("OPSGRAPH_BROKER_NAMESPACE") or d.broker_namespace
        if not _NAMESPACE.fullmatch(namespace):
            raise Invalid(
                "OPSGRAPH_BROKER_NAMESPACE", "letters, digits, '_', '.', '-'; at most 100"
            )
        imports = env_list(env, "OPSGRAPH_WORKER_IMPORTS")
        for module in imports:
            if not _MODULE.fullmatch(module):
                raise Invalid("OPSGRAPH_WORKER_IMPORTS", "comma-separated Python module names")
        settings = CoreSettings(
            database_url=env.get("OPSGRAPH_DATABASE_URL") or d.database_url,
            sqlite_busy_timeout_ms=env_int(
                env, "OPSGRAPH_SQLITE_BUSY_TIMEOUT_MS", d.sqlite_busy_timeout_ms, minimum=0
            ),
            log_level=env.get("OPSGRAPH_LOG_LEVEL", "INFO").upper(),
            log_format=log_format,
            message_retention_days=env_int(
                env, "OPSGRAPH_MESSAGE_RETENTION_DAYS", d.message_retention_days
            ),
            allow_insecure_push=env_bool(env, "OPSGRAPH_ALLOW_INSECURE_PUSH", False),
            egress_allow=_egress_allow(env),
            push_interval=env_float(env, "OPSGRAPH_PUSH_INTERVAL", d.push_interval, 0.05),
            push_timeout=env_float(env, "OPSGRAPH_PUSH_TIMEOUT", d.push_timeout, 0.1),
            push_concurrency=env_int(env, "OPSGRAPH_PUSH_CONCURRENCY", d.push_concurrency),
            broker_url=broker_url(env.get("OPSGRAPH_BROKER_URL")),
            broker_namespace=namespace,
            worker_threads=env_int(env, "OPSGRAPH_WORKER_THREADS", d.worker_threads),
            worker_imports=imports,
            worker_max_retries=env_int(
                env, "OPSGRAPH_WORKER_MAX_RETRIES", d.worker_max_retries, minimum=0
            ),
            worker_min_backoff_ms=env_int(
                env, "OPSGRAPH_WORKER_MIN_BACKOFF_MS", d.worker_min_backoff_ms
            ),
            worker_max_backoff_ms=env_int(
                env, "OPSGRAPH_WORKER_MAX_BACKOFF_MS", d.worker_max_backoff_ms
            ),
            worker_time_limit_ms=env_int(
                env, "OPSGRAPH_WORKER_TIME_LIMIT_MS", d.worker_time_limit_ms, minimum=1000
            ),
            relay_interval=env_float(env, "OPSGRAPH_RELAY_INTERVAL", d.relay_interval, 0.01),
            relay_batch_size=env_int(env, "OPSGRAPH_RELAY_BATCH_SIZE", d.relay_batch_size),
            redis_heartbeat_timeout_ms=env_int(
                env, "OPSGRAPH_REDIS_HEARTBEAT_TIMEOUT_MS", d.redis_heartbeat_timeout_ms, 100
            ),
            redis_maintenance_chance=env_int(
                env, "OPSGRAPH_REDIS_MAINTENANCE_CHANCE", d.redis_maintenance_chance, 0
            ),
            smtp_url=parse_smtp_url(env.get("OPSGRAPH_SMTP_URL")),
            smtp_ca_file=parse_smtp_ca_file(env.get("OPSGRAPH_SMTP_CA_FILE")),
            smtp_from=env.get("OPSGRAPH_SMTP_FROM") or d.smtp_from,
            downtime_tick=env_float(env, "OPSGRAPH_DOWNTIME_TICK", d.downtime_tick, 0.05),
            notify_interval=env_float(env, "OPSGRAPH_NOTIFY_INTERVAL", d.notify_interval, 0.05),
            notify_timeout=env_float(env, "OPSGRAPH_NOTIFY_TIMEOUT", d.notify_timeout, 0.1),
            notify_max_attempts=env_int(env, "OPSGRAPH_NOTIFY_MAX_ATTEMPTS", d.notify_max_attempts),
            api_credential_unused_months=env_int(
                env, "OPSGRAPH_API_CREDENTIAL_UNUSED_MONTHS", d.api_credential_unused_months
            ),
            probe_schedule=env_bool(env, "OPSGRAPH_PROBE_SCHEDULE", d.probe_schedule),
            probe_plugin_dir=_plugin_dir(env.get("OPSGRAPH_PROBE_PLUGIN_DIR")),
            probe_concurrency=env_int(env, "OPSGRAPH_PROBE_CONCURRENCY", d.probe_concurrency),
            probe_time_limit=env_float(env, "OPSGRAPH_PROBE_TIME_LIMIT", d.probe_time_limit, 0.1),
            public_url=(env.get("OPSGRAPH_PUBLIC_URL") or "").rstrip("/") or None,
            heartbeat_interval=env_float(
                env, "OPSGRAPH_HEARTBEAT_INTERVAL", d.heartbeat_interval, 0.1
            ),
            metrics_address=parse_listen_address(
                "OPSGRAPH_METRICS_ADDRESS", env.get("OPSGRAPH_METRICS_ADDRESS")
            ),
            monitoring_clock_skew_seconds=env_int(
                env,
                "OPSGRAPH_MONITORING_CLOCK_SKEW_SECONDS",
                d.monitoring_clock_skew_seconds,
                minimum=0,
            ),
            monitoring_late_results_hours=env_int(
                env, "OPSGRAPH_MONITORING_LATE_RESULTS_HOURS", d.monitoring_late_results_hours
            ),
            monitoring_retention_days=env_int(
                env, "OPSGRAPH_MONITORING_RETENTION_DAYS", d.monitoring_retention_days
            ),
            monitoring_project=env.get("OPSGRAPH_MONITORING_PROJECT") or d.monitoring_project,
            monitoring_topic=env.get("OPSGRAPH_MONITORING_TOPIC") or d.monitoring_topic,
            monitoring_ingest_interval=env_float(
                env, "OPSGRAPH_MONITORING_INGEST_INTERVAL", d.monitoring_ingest_interval, 0.05
            ),
            monitoring_ingest_batch=env_int(
                env, "OPSGRAPH_MONITORING_INGEST_BATCH", d.monitoring_ingest_batch
            ),
            accounting_project=env.get("OPSGRAPH_ACCOUNTING_PROJECT") or d.accounting_project,
            accounting_subscription=env.get("OPSGRAPH_ACCOUNTING_SUBSCRIPTION")
            or d.accounting_subscription,
            accounting_ingest_interval=env_float(
                env, "OPSGRAPH_ACCOUNTING_INGEST_INTERVAL", d.accounting_ingest_interval, 0.05
            ),
            accounting_ca_path=env.get("OPSGRAPH_ACCOUNTING_CA_PATH") or None,
            accounting_server_cert=env.get("OPSGRAPH_ACCOUNTING_SERVER_CERT") or None,
            accounting_server_key=env.get("OPSGRAPH_ACCOUNTING_SERVER_KEY") or None,
            accounting_crl_required=env_bool(
                env, "OPSGRAPH_ACCOUNTING_CRL_REQUIRED", d.accounting_crl_required
            ),
            accounting_egi_vos=env_list(env, "OPSGRAPH_ACCOUNTING_EGI_VOS"),
            otlp_endpoint=(env.get("OPSGRAPH_OTLP_ENDPOINT") or "").rstrip("/") or None,
            service_name=env.get("OPSGRAPH_SERVICE_NAME") or d.service_name,
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
        if settings.public_url:
            public = urlsplit(settings.public_url)
            if public.scheme.lower() not in {"http", "https"} or not public.hostname:
                raise Invalid("OPSGRAPH_PUBLIC_URL", "an http:// or https:// URL with a host")
        if settings.otlp_endpoint:
            otlp = urlsplit(settings.otlp_endpoint)
            if otlp.scheme.lower() not in {"http", "https"} or not otlp.hostname:
                raise Invalid("OPSGRAPH_OTLP_ENDPOINT", "an http:// or https:// URL with a host")
        if "@" not in settings.smtp_from.strip("@"):
            raise Invalid("OPSGRAPH_SMTP_FROM", "an e-mail address")
        if settings.redis_maintenance_chance > 1_000_000:
            raise Invalid("OPSGRAPH_REDIS_MAINTENANCE_CHANCE", "at most 1000000 (per million)")
        return settings

    def values(self) -> dict[str, Any]:
        """The fields by name: the keyword arguments that build a class extending this one
        from these values (gateway/config.py)."""
        return {f.name: getattr(self, f.name) for f in fields(CoreSettings)}

    @property
    def self_url(self) -> str | None:
        """The base URL of this server's own listeners: OPSGRAPH_PUBLIC_URL, else where
        `serve` listens (None in a process that knows neither)."""
        return self.public_url or self.listener_url
