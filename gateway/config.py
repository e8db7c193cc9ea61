"""Settings, read from OPSGRAPH_* environment variables only (DESIGN rule 11)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

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


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in env.get(name, "").split(",") if v.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///./opsgraph.db"
    graphiql: bool = True
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
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
    message_retention_days: int = 7
    max_message_bytes: int = 1_572_864  # AMS's 1.5 MiB (AM-372)
    pull_wait_ms: int = 1000
    allow_insecure_push: bool = False

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
        settings = cls(
            database_url=env.get("OPSGRAPH_DATABASE_URL") or d.database_url,
            graphiql=_bool(env, "OPSGRAPH_GRAPHIQL", True),
            max_query_depth=_int(env, "OPSGRAPH_MAX_QUERY_DEPTH", d.max_query_depth),
            max_aliases=_int(env, "OPSGRAPH_MAX_ALIASES", d.max_aliases, minimum=0),
            max_tokens=_int(env, "OPSGRAPH_MAX_TOKENS", d.max_tokens),
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
            message_retention_days=_int(
                env, "OPSGRAPH_MESSAGE_RETENTION_DAYS", d.message_retention_days
            ),
            max_message_bytes=_int(env, "OPSGRAPH_MAX_MESSAGE_BYTES", d.max_message_bytes),
            pull_wait_ms=_int(env, "OPSGRAPH_PULL_WAIT_MS", d.pull_wait_ms, minimum=0),
            allow_insecure_push=_bool(env, "OPSGRAPH_ALLOW_INSECURE_PUSH", False),
        )
        if bool(settings.oidc_client_id) != bool(settings.oidc_client_secret):
            raise Invalid(
                "OPSGRAPH_OIDC_CLIENT_SECRET", "client id and secret are set together or not at all"
            )
        if settings.default_page_size > settings.max_page_size:
            raise Invalid("OPSGRAPH_DEFAULT_PAGE_SIZE", "must not exceed OPSGRAPH_MAX_PAGE_SIZE")
        return settings
