"""Settings come from OPSGRAPH_* variables; bad values name the variable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from domains.common.errors import Invalid
from domains.common.scopes import ScopeMatch
from gateway.config import Settings


def test_defaults_are_the_embedded_mode() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///./opsgraph.db"
    assert settings.graphiql is True
    assert settings.introspection is True
    assert settings.federation is False
    assert settings.fast_executor is True
    assert settings.scope_defaults.scopes == ()


def test_variables_set_their_settings() -> None:
    settings = Settings.from_env(
        {
            "OPSGRAPH_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "OPSGRAPH_GRAPHIQL": "off",
            "OPSGRAPH_INTROSPECTION": "false",
            "OPSGRAPH_FEDERATION": "true",
            "OPSGRAPH_FEDERATION_GATEWAY_SUBJECTS": "router@example.org, /DC=org/CN=router",
            "OPSGRAPH_FAST_EXECUTOR": "false",
            "OPSGRAPH_MAX_QUERY_DEPTH": "7",
            "OPSGRAPH_MAX_ALIASES": "3",
            "OPSGRAPH_MAX_TOKENS": "900",
            "OPSGRAPH_DEFAULT_PAGE_SIZE": "10",
            "OPSGRAPH_MAX_PAGE_SIZE": "50",
            "OPSGRAPH_DEFAULT_SCOPE": "EGI, wlcg",
            "OPSGRAPH_DEFAULT_SCOPE_MATCH": "any",
            "OPSGRAPH_LOG_LEVEL": "debug",
            "OPSGRAPH_LOG_FORMAT": "text",
            "OPSGRAPH_OIDC_HTTP_TIMEOUT": "12.5",
            "OPSGRAPH_DATABASE_READ_URL": "postgresql+psycopg://u@standby/db",
        }
    )
    assert settings.database_read_url == "postgresql+psycopg://u@standby/db"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.graphiql is False
    assert settings.introspection is False
    assert settings.federation is True
    assert settings.federation_gateway_subjects == ("router@example.org", "/DC=org/CN=router")
    assert settings.fast_executor is False
    assert (settings.max_query_depth, settings.max_aliases, settings.max_tokens) == (7, 3, 900)
    assert (settings.default_page_size, settings.max_page_size) == (10, 50)
    assert settings.scope_defaults.scopes == ("EGI", "wlcg")
    assert settings.scope_defaults.match is ScopeMatch.ANY
    assert (settings.log_level, settings.log_format) == ("DEBUG", "text")
    assert settings.oidc_http_timeout == 12.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPSGRAPH_GRAPHIQL", "maybe"),
        ("OPSGRAPH_INTROSPECTION", "sometimes"),
        ("OPSGRAPH_FAST_EXECUTOR", "fast"),
        ("OPSGRAPH_FEDERATION_GATEWAY_SUBJECTS", "router@example.org"),  # not a subgraph
        ("OPSGRAPH_MAX_QUERY_DEPTH", "deep"),
        ("OPSGRAPH_MAX_PAGE_SIZE", "0"),
        ("OPSGRAPH_DEFAULT_SCOPE_MATCH", "some"),
        ("OPSGRAPH_LOG_FORMAT", "xml"),
        ("OPSGRAPH_OIDC_HTTP_TIMEOUT", "0"),
        # a standby for reads beside the default SQLite database
        ("OPSGRAPH_DATABASE_READ_URL", "postgresql+psycopg://u@standby/db"),
        ("OPSGRAPH_OTLP_ENDPOINT", "collector:4318"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(Invalid) as caught:
        Settings.from_env({name: value})
    assert caught.value.field == name


def test_default_page_size_may_not_exceed_the_cap() -> None:
    with pytest.raises(Invalid) as caught:
        Settings.from_env({"OPSGRAPH_DEFAULT_PAGE_SIZE": "200", "OPSGRAPH_MAX_PAGE_SIZE": "100"})
    assert caught.value.field == "OPSGRAPH_DEFAULT_PAGE_SIZE"


class _RecordingEnv(dict[str, str]):
    """An empty environment that remembers every name asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False


def _variables_in(text: str) -> set[str]:
    return set(re.findall(r"OPSGRAPH_[A-Z0-9_]+", text))


def test_every_variable_named_in_the_code_is_read_and_in_readme(repo_root: Path) -> None:
    """A variable the code names but Settings.from_env never reads is a setting that does
    nothing; one README does not list is one nobody finds."""
    env = _RecordingEnv()
    Settings.from_env(env)
    named: set[str] = set()
    for package in ("gateway", "domains", "workers", "migrations"):
        for path in (repo_root / package).rglob("*.py"):
            named |= _variables_in(path.read_text())
    assert env.asked, "Settings.from_env read nothing"
    assert named - env.asked == set(), "named in the code, never read by Settings.from_env"
    assert env.asked - _variables_in((repo_root / "README.md").read_text()) == set(), (
        "read, not documented in README"
    )
