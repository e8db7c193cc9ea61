"""CoreSettings (domains/common/settings.py): what every process reads; the server's
Settings extend them and read the same variables the same way."""

from __future__ import annotations

import dataclasses

import pytest

from domains.common.errors import Invalid
from domains.common.settings import CoreSettings
from gateway.config import Settings

ENV = {
    "OPSGRAPH_DATABASE_URL": "postgresql+psycopg://u@h/db",
    "OPSGRAPH_SQLITE_BUSY_TIMEOUT_MS": "1234",
    "OPSGRAPH_LOG_FORMAT": "text",
    "OPSGRAPH_BROKER_URL": "redis://broker:6379/0",
    "OPSGRAPH_BROKER_NAMESPACE": "ops.test",
    "OPSGRAPH_WORKER_THREADS": "3",
    "OPSGRAPH_SMTP_URL": "smtps://mail.example:465",
    "OPSGRAPH_NOTIFY_MAX_ATTEMPTS": "4",
    "OPSGRAPH_EGRESS_ALLOW": "10.0.0.0/8",
    "OPSGRAPH_GRAPHIQL": "off",
}


def test_the_server_reads_the_core_variables_as_the_workers_do() -> None:
    core = CoreSettings.from_env(ENV)
    server = Settings.from_env(ENV)
    assert core.database_url == "postgresql+psycopg://u@h/db"
    assert (core.sqlite_busy_timeout_ms, core.worker_threads) == (1234, 3)
    assert core.egress_allow == ("10.0.0.0/8",)
    for f in dataclasses.fields(CoreSettings):
        assert getattr(server, f.name) == getattr(core, f.name), f.name
    assert server.graphiql is False


def test_core_settings_hold_no_server_setting() -> None:
    core_names = {f.name for f in dataclasses.fields(CoreSettings)}
    assert "graphiql" not in core_names
    assert "oidc_issuer" not in core_names
    assert core_names < {f.name for f in dataclasses.fields(Settings)}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPSGRAPH_BROKER_URL", "http://broker"),
        ("OPSGRAPH_WORKER_MIN_BACKOFF_MS", "99999999"),
        ("OPSGRAPH_SMTP_FROM", "nobody"),
        ("OPSGRAPH_LOG_FORMAT", "xml"),
    ],
)
def test_bad_core_values_name_the_variable_for_every_process(name: str, value: str) -> None:
    for settings in (CoreSettings, Settings):
        with pytest.raises(Invalid) as caught:
            settings.from_env({name: value})
        assert caught.value.field == name
