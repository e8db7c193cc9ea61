"""A bad or missing broker URL is a configuration error that names OPSGRAPH_BROKER_URL."""

from __future__ import annotations

import subprocess

import pytest

from domains.common.errors import Invalid
from gateway.config import Settings
from tests.workers.conftest import OPSGRAPH, REPO, Rig
from workers.broker import make_broker

BAD_URLS = ["http://127.0.0.1:5672/", "amqp:/127.0.0.1", "redis://", "kafka://broker:9092"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_broker_urls_are_refused(url: str) -> None:
    with pytest.raises(Invalid) as caught:
        Settings.from_env({"OPSGRAPH_BROKER_URL": url})
    assert caught.value.field == "OPSGRAPH_BROKER_URL"
    with pytest.raises(Invalid) as again:
        make_broker(url)
    assert again.value.field == "OPSGRAPH_BROKER_URL"


def test_no_broker_url_is_the_embedded_mode() -> None:
    assert Settings.from_env({}).broker_url is None
    assert make_broker(None) is None
    assert make_broker("") is None


def test_the_worker_command_reports_a_bad_broker_url(rig: Rig) -> None:
    """Each mode, as the worker command sees it: a broken URL for the brokers; none at all
    for the embedded mode, where `opsgraph worker` has nothing to consume."""
    env = rig.env()
    if rig.mode == "embedded":
        env.pop("OPSGRAPH_BROKER_URL", None)
    else:
        env["OPSGRAPH_BROKER_URL"] = env["OPSGRAPH_BROKER_URL"].replace("://", ":/", 1)
    out = subprocess.run(
        [OPSGRAPH, "worker"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2
    assert "OPSGRAPH_BROKER_URL" in out.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPSGRAPH_WORKER_THREADS", "0"),
        ("OPSGRAPH_RELAY_INTERVAL", "soon"),
        ("OPSGRAPH_RELAY_INTERVAL", "nan"),
        ("OPSGRAPH_BROKER_NAMESPACE", "has space"),
        ("OPSGRAPH_WORKER_IMPORTS", "not a module"),
        ("OPSGRAPH_WORKER_TIME_LIMIT_MS", "10"),
        ("OPSGRAPH_REDIS_MAINTENANCE_CHANCE", "2000000"),
        ("OPSGRAPH_WORKER_MIN_BACKOFF_MS", "99999999"),
        ("OPSGRAPH_METRICS_ADDRESS", "9464"),
        ("OPSGRAPH_METRICS_ADDRESS", "127.0.0.1:"),
        ("OPSGRAPH_METRICS_ADDRESS", ":9464"),
        ("OPSGRAPH_METRICS_ADDRESS", "127.0.0.1:65536"),
        ("OPSGRAPH_METRICS_ADDRESS", "127.0.0.1:http"),
    ],
)
def test_bad_worker_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(Invalid) as caught:
        Settings.from_env({name: value})
    assert caught.value.field == name


def test_worker_variables_are_read() -> None:
    settings = Settings.from_env(
        {
            "OPSGRAPH_BROKER_URL": "redis://127.0.0.1:6379/2",
            "OPSGRAPH_BROKER_NAMESPACE": "ops.graph-1",
            "OPSGRAPH_WORKER_THREADS": "3",
            "OPSGRAPH_WORKER_IMPORTS": "site.handlers, other",
            "OPSGRAPH_WORKER_MAX_RETRIES": "0",
            "OPSGRAPH_WORKER_MIN_BACKOFF_MS": "10",
            "OPSGRAPH_WORKER_MAX_BACKOFF_MS": "20",
            "OPSGRAPH_WORKER_TIME_LIMIT_MS": "5000",
            "OPSGRAPH_RELAY_INTERVAL": "0.25",
            "OPSGRAPH_RELAY_BATCH_SIZE": "7",
            "OPSGRAPH_REDIS_HEARTBEAT_TIMEOUT_MS": "1500",
            "OPSGRAPH_REDIS_MAINTENANCE_CHANCE": "0",
            "OPSGRAPH_METRICS_ADDRESS": "[::1]:9464",
        }
    )
    assert settings.metrics_address == ("::1", 9464)
    assert Settings.from_env({}).metrics_address is None
    assert settings.broker_url == "redis://127.0.0.1:6379/2"
    assert settings.broker_namespace == "ops.graph-1"
    assert (settings.worker_threads, settings.worker_imports) == (3, ("site.handlers", "other"))
    assert (settings.worker_max_retries, settings.worker_min_backoff_ms) == (0, 10)
    assert (settings.worker_max_backoff_ms, settings.worker_time_limit_ms) == (20, 5000)
    assert (settings.relay_interval, settings.relay_batch_size) == (0.25, 7)
    assert (settings.redis_heartbeat_timeout_ms, settings.redis_maintenance_chance) == (1500, 0)


def test_push_variables_are_read_and_configure_the_jobs() -> None:
    from domains.common.outbox import periodic_job_named
    from workers import messaging
    from workers.registry import load_modules

    settings = Settings.from_env(
        {
            "OPSGRAPH_PUSH_INTERVAL": "0.25",
            "OPSGRAPH_PUSH_TIMEOUT": "3",
            "OPSGRAPH_PUSH_CONCURRENCY": "2",
            "OPSGRAPH_MESSAGE_RETENTION_DAYS": "30",
            "OPSGRAPH_ALLOW_INSECURE_PUSH": "true",
        }
    )
    assert (settings.push_interval, settings.push_timeout, settings.push_concurrency) == (
        0.25,
        3.0,
        2,
    )
    try:
        load_modules(settings)
        assert periodic_job_named(messaging.PUSH_JOB).every_seconds == 0.25
        config = messaging.current_config()
        assert (config.timeout, config.concurrency, config.egress.allow_loopback) == (3.0, 2, True)
        assert config.retention_days == 30
        assert config.lease.total_seconds() == 9
    finally:
        load_modules(Settings())
    assert periodic_job_named(messaging.PUSH_JOB).every_seconds == Settings().push_interval


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPSGRAPH_PUSH_INTERVAL", "0"),
        ("OPSGRAPH_PUSH_TIMEOUT", "zero"),
        ("OPSGRAPH_PUSH_CONCURRENCY", "0"),
    ],
)
def test_bad_push_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(Invalid) as caught:
        Settings.from_env({name: value})
    assert caught.value.field == name
