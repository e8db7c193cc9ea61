"""The HTTP server's settings: CoreSettings (domains/common/settings.py: the database, the
broker and workers, outbound delivery, logging), extended by what only the server reads
(GraphQL limits, OIDC and login, HTTP bounds, messaging's request side), from OPSGRAPH_*
environment variables only (DESIGN rule 11)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from domains.common.errors import Invalid
from domains.common.scopes import ScopeDefaults, ScopeMatch
from domains.common.settings import CoreSettings, env_bool, env_float, env_int, env_list
from gateway.auth.x509 import Network, parse_networks


@dataclass(frozen=True, slots=True)
class Settings(CoreSettings):
    graphiql: bool = True
    # the web app's build (gateway/web.py); None: the package's gateway/static/app
    app_dir: str | None = None
    # what `opsgraph serve` was started with (its flags, not environment variables): the demo
    # personas reach the browser only with --demo on a loopback --host (gateway/auth/browser.py)
    demo: bool = False
    host: str | None = None
    introspection: bool = True  # false: __schema and __type are refused
    federation: bool = False  # an Apollo Federation v2 subgraph (gateway/federation.py)
    # federation routers' own subjects: their `_entities`/`_service` fetches pass trusted mode
    federation_gateway_subjects: tuple[str, ...] = ()
    # gateway/executor.py's shortcuts; false: graphql-core's own executor (and the deadline)
    fast_executor: bool = True
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
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    # seconds each call to the issuer (discovery, JWKS, introspection) may take
    oidc_http_timeout: float = 5.0
    admin_entitlements: tuple[str, ...] = ()
    restrict_personal_data: bool = True
    session_secret: str | None = None
    session_https_only: bool = False
    # GraphQL subscriptions and the messaging service
    max_subscriptions_per_connection: int = 10
    # seconds between re-checks of a live stream's credential (also checked on every event)
    stream_recheck_seconds: float = 30.0
    max_message_bytes: int = 1_572_864  # AMS's 1.5 MiB (AM-372)
    pull_wait_ms: int = 1000
    # seconds `serve` waits for open connections on shutdown (TLS peers that never send
    # close_notify would otherwise hold it for asyncio's 30 s)
    shutdown_timeout: int = 10
    # `serve` processes (gateway/processes.py); the in-process workers run in one of them
    processes: int = 1
    # PostgreSQL LISTEN/NOTIFY between replicas (off behind a transaction-pooling proxy such
    # as pgbouncer, which cannot LISTEN; waiting pulls then see other replicas' publishes
    # only when their wait ends)
    pg_listen: bool = True
    # a PostgreSQL streaming standby for reads (domains/common/replica.py); None: the primary
    database_read_url: str | None = None
    # execution bounds (issue 10): seconds a request may work (0: no limit), response size
    request_timeout: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    # HTTP requests (gateway/body.py, gateway/protocol.py)
    max_body_bytes: int = 4 * 1024 * 1024
    max_publish_bytes: int = 16 * 1024 * 1024  # AMS's :publish, a batch of messages
    header_timeout: float = 10.0  # seconds to receive a request line and headers
    # X.509 behind a TLS-terminating proxy (gateway/auth/x509.py): the header carrying the
    # verified client DN, honoured only from these peers
    client_dn_header: str | None = None
    trusted_proxies: tuple[Network, ...] = ()
    body_timeout: float = 60.0  # seconds to receive a request body
    # persisted operations (gateway/persisted.py): `only` runs the manifest's documents only
    trusted_documents: str = "off"
    trusted_documents_manifest: str | None = None  # None: the web app's build's manifest
    persisted_queries_max: int = 10_000  # documents registered by callers, per process
    cache_url: str | None = None  # redis://: registered documents shared by replicas
    # answers of queries kept until a write changes what they read (gateway/cache.py); 0: off
    response_cache_max: int = 2000
    # GET /metrics (gateway/metrics.py) answers the bearer of this token; None: 404
    metrics_token: str | None = None

    @property
    def login_enabled(self) -> bool:
        """Whether the browser login routes (/auth/*) exist."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.session_secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        core = CoreSettings.from_env(env)
        d = cls()
        scopes = env_list(env, "OPSGRAPH_DEFAULT_SCOPE")
        try:
            trusted_proxies = parse_networks(env_list(env, "OPSGRAPH_TRUSTED_PROXIES"))
        except ValueError as exc:
            raise Invalid(
                "OPSGRAPH_TRUSTED_PROXIES", f"IP addresses or CIDR ranges: {exc}"
            ) from exc
        match_raw = env.get("OPSGRAPH_DEFAULT_SCOPE_MATCH", "all").lower()
        if match_raw not in {"all", "any"}:
            raise Invalid("OPSGRAPH_DEFAULT_SCOPE_MATCH", "one of all, any")
        settings = cls(
            **core.values(),
            graphiql=env_bool(env, "OPSGRAPH_GRAPHIQL", True),
            app_dir=env.get("OPSGRAPH_APP_DIR") or None,
            introspection=env_bool(env, "OPSGRAPH_INTROSPECTION", True),
            federation=env_bool(env, "OPSGRAPH_FEDERATION", False),
            federation_gateway_subjects=env_list(env, "OPSGRAPH_FEDERATION_GATEWAY_SUBJECTS"),
            fast_executor=env_bool(env, "OPSGRAPH_FAST_EXECUTOR", True),
            max_query_depth=env_int(env, "OPSGRAPH_MAX_QUERY_DEPTH", d.max_query_depth),
            max_aliases=env_int(env, "OPSGRAPH_MAX_ALIASES", d.max_aliases, minimum=0),
            max_tokens=env_int(env, "OPSGRAPH_MAX_TOKENS", d.max_tokens),
            max_query_cost=env_int(env, "OPSGRAPH_MAX_QUERY_COST", d.max_query_cost),
            max_query_cost_anonymous=env_int(
                env, "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS", d.max_query_cost_anonymous
            ),
            default_list_size=env_int(env, "OPSGRAPH_DEFAULT_LIST_SIZE", d.default_list_size, 0),
            default_page_size=env_int(env, "OPSGRAPH_DEFAULT_PAGE_SIZE", d.default_page_size),
            max_page_size=env_int(env, "OPSGRAPH_MAX_PAGE_SIZE", d.max_page_size),
            scope_defaults=ScopeDefaults(scopes=scopes, match=ScopeMatch(match_raw)),
            oidc_issuer=env.get("OPSGRAPH_OIDC_ISSUER") or None,
            oidc_audience=env.get("OPSGRAPH_OIDC_AUDIENCE") or None,
            oidc_client_id=env.get("OPSGRAPH_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("OPSGRAPH_OIDC_CLIENT_SECRET") or None,
            oidc_http_timeout=env_float(
                env, "OPSGRAPH_OIDC_HTTP_TIMEOUT", d.oidc_http_timeout, 0.1
            ),
            admin_entitlements=env_list(env, "OPSGRAPH_ADMIN_ENTITLEMENTS"),
            restrict_personal_data=env_bool(env, "OPSGRAPH_RESTRICT_PERSONAL_DATA", True),
            session_secret=env.get("OPSGRAPH_SESSION_SECRET") or None,
            session_https_only=env_bool(env, "OPSGRAPH_SESSION_HTTPS_ONLY", False),
            max_subscriptions_per_connection=env_int(
                env, "OPSGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION", d.max_subscriptions_per_connection
            ),
            stream_recheck_seconds=env_float(
                env, "OPSGRAPH_STREAM_RECHECK_SECONDS", d.stream_recheck_seconds, 0.1
            ),
            max_message_bytes=env_int(env, "OPSGRAPH_MAX_MESSAGE_BYTES", d.max_message_bytes),
            pull_wait_ms=env_int(env, "OPSGRAPH_PULL_WAIT_MS", d.pull_wait_ms, minimum=0),
            shutdown_timeout=env_int(
                env, "OPSGRAPH_SHUTDOWN_TIMEOUT", d.shutdown_timeout, minimum=0
            ),
            processes=env_int(env, "OPSGRAPH_PROCESSES", d.processes, minimum=1),
            pg_listen=env_bool(env, "OPSGRAPH_PG_LISTEN", True),
            database_read_url=env.get("OPSGRAPH_DATABASE_READ_URL") or None,
            request_timeout=env_float(env, "OPSGRAPH_REQUEST_TIMEOUT", d.request_timeout, 0),
            max_response_bytes=env_int(env, "OPSGRAPH_MAX_RESPONSE_BYTES", d.max_response_bytes),
            max_body_bytes=env_int(env, "OPSGRAPH_MAX_BODY_BYTES", d.max_body_bytes),
            max_publish_bytes=env_int(env, "OPSGRAPH_MAX_PUBLISH_BYTES", d.max_publish_bytes),
            header_timeout=env_float(env, "OPSGRAPH_HEADER_TIMEOUT", d.header_timeout, 0.1),
            body_timeout=env_float(env, "OPSGRAPH_BODY_TIMEOUT", d.body_timeout, 0.1),
            client_dn_header=(env.get("OPSGRAPH_CLIENT_DN_HEADER") or "").strip().lower() or None,
            trusted_proxies=trusted_proxies,
            trusted_documents=(env.get("OPSGRAPH_TRUSTED_DOCUMENTS") or "off").strip().lower(),
            trusted_documents_manifest=env.get("OPSGRAPH_TRUSTED_DOCUMENTS_MANIFEST") or None,
            persisted_queries_max=env_int(
                env, "OPSGRAPH_PERSISTED_QUERIES_MAX", d.persisted_queries_max, minimum=0
            ),
            cache_url=env.get("OPSGRAPH_CACHE_URL") or None,
            response_cache_max=env_int(
                env, "OPSGRAPH_RESPONSE_CACHE_MAX", d.response_cache_max, minimum=0
            ),
            metrics_token=env.get("OPSGRAPH_METRICS_TOKEN") or None,
        )
        if settings.trusted_documents not in {"off", "only"}:
            raise Invalid("OPSGRAPH_TRUSTED_DOCUMENTS", "one of off, only")
        if settings.federation_gateway_subjects and not settings.federation:
            raise Invalid(
                "OPSGRAPH_FEDERATION_GATEWAY_SUBJECTS",
                "names a federation router's credential: set OPSGRAPH_FEDERATION=true too",
            )
        if settings.cache_url and settings.cache_url.split("://")[0] not in {"redis", "rediss"}:
            raise Invalid("OPSGRAPH_CACHE_URL", "a redis:// or rediss:// URL")
        if settings.database_read_url and not all(
            url.startswith("postgresql") for url in (settings.database_read_url, core.database_url)
        ):
            raise Invalid(
                "OPSGRAPH_DATABASE_READ_URL",
                "a postgresql:// URL of a standby, with OPSGRAPH_DATABASE_URL on PostgreSQL too",
            )
        if settings.client_dn_header and not settings.trusted_proxies:
            raise Invalid(
                "OPSGRAPH_TRUSTED_PROXIES",
                "OPSGRAPH_CLIENT_DN_HEADER is honoured only from trusted proxies: name them",
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
        return settings


def trusted_manifest(settings: Settings, default: Path) -> dict[str, str]:
    """The trusted-documents manifest (gateway/persisted.py) as hash -> document:
    OPSGRAPH_TRUSTED_DOCUMENTS_MANIFEST, else `default` (beside the built web app) if it
    exists. Codegen's keys are `sha256:<hex>` (a bare hex key is taken too); each is checked
    against its document, so a manifest edited by hand cannot make one hash run another
    document. Without a manifest, OPSGRAPH_TRUSTED_DOCUMENTS=only refuses to start."""
    name = "OPSGRAPH_TRUSTED_DOCUMENTS_MANIFEST"
    configured = settings.trusted_documents_manifest
    path = Path(configured) if configured else default
    if not path.is_file():
        if configured or settings.trusted_documents == "only":
            raise Invalid(name, f"{path} is not a file (the web app's build writes one)")
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as bad:
        raise Invalid(name, f"{path}: not JSON ({bad})") from bad
    if not isinstance(raw, dict):
        raise Invalid(name, f"{path}: a JSON object of hash to document")
    manifest: dict[str, str] = {}
    for key, document in raw.items():
        digest = str(key).removeprefix("sha256:")
        if not isinstance(document, str) or hashlib.sha256(document.encode()).hexdigest() != digest:
            raise Invalid(name, f"{path}: {key} is not the SHA-256 of its document")
        manifest[digest] = document
    return manifest
