"""The notification settings: parsed from OPSGRAPH_* variables, bad values name them."""

from __future__ import annotations

from pathlib import Path

import pytest

from domains.common.errors import Invalid
from gateway.config import Settings
from tests.compat.tls import make_certificate
from workers.notifications import NotifyConfig


def test_defaults_send_no_e_mail() -> None:
    settings = Settings.from_env({})
    assert settings.smtp_url is None
    assert (settings.downtime_tick, settings.notify_interval) == (10.0, 5.0)


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "OPSGRAPH_SMTP_URL": "smtps://mailer:s%40cret@smtp.example.org:465",
            "OPSGRAPH_SMTP_FROM": "downtimes@example.org",
            "OPSGRAPH_DOWNTIME_TICK": "2.5",
            "OPSGRAPH_NOTIFY_INTERVAL": "1",
            "OPSGRAPH_NOTIFY_TIMEOUT": "4",
            "OPSGRAPH_NOTIFY_MAX_ATTEMPTS": "3",
        }
    )
    assert settings.smtp_url == "smtps://mailer:s%40cret@smtp.example.org:465"
    assert settings.smtp_from == "downtimes@example.org"
    assert (settings.downtime_tick, settings.notify_interval, settings.notify_timeout) == (
        2.5,
        1.0,
        4.0,
    )
    assert settings.notify_max_attempts == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPSGRAPH_SMTP_URL", "http://smtp.example.org"),
        ("OPSGRAPH_SMTP_URL", "smtp://"),
        ("OPSGRAPH_SMTP_URL", "smtp://smtp.example.org:notaport"),
        ("OPSGRAPH_SMTP_FROM", "nobody"),
        ("OPSGRAPH_DOWNTIME_TICK", "0"),
        ("OPSGRAPH_NOTIFY_MAX_ATTEMPTS", "0"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(Invalid) as caught:
        Settings.from_env({name: value})
    assert caught.value.field == name


# --- TLS: smtp+starttls://, smtps://, OPSGRAPH_SMTP_CA_FILE --------------------------------


def test_starttls_and_a_private_ca_are_read(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path / "tls")
    settings = Settings.from_env(
        {
            "OPSGRAPH_SMTP_URL": "smtp+starttls://mailer:s%40cret@smtp.example.org",
            "OPSGRAPH_SMTP_CA_FILE": str(cert.ca_file),
        }
    )
    assert settings.smtp_url == "smtp+starttls://mailer:s%40cret@smtp.example.org"
    assert settings.smtp_ca_file == str(cert.ca_file)
    config = NotifyConfig.from_settings(settings)
    assert config.smtp_ca_file == str(cert.ca_file)
    assert Settings.from_env({}).smtp_ca_file is None  # unset: the system trust store


@pytest.mark.parametrize(
    "url",
    [
        "smtp://mailer:pw@127.0.0.1:2525",
        "smtp://mailer:pw@127.0.0.9",
        "smtp://mailer:pw@localhost:25",
        "smtp://mailer:pw@[::1]:25",
        "smtps://mailer:pw@smtp.example.org",
        "SMTP+STARTTLS://mailer:pw@smtp.example.org:25",
        "smtp://smtp.example.org",  # no login: nothing secret crosses the network
    ],
)
def test_a_login_goes_over_tls_or_to_loopback(url: str) -> None:
    assert Settings.from_env({"OPSGRAPH_SMTP_URL": url}).smtp_url == url


@pytest.mark.parametrize(
    "url",
    [
        "smtp://mailer:pw@smtp.example.org",
        "smtp://mailer@smtp.example.org:25",
        "smtp://mailer:pw@10.0.0.25:587",
        "smtp://mailer:pw@localhost.example.org",
    ],
)
def test_a_login_over_plain_smtp_across_the_network_is_refused(url: str) -> None:
    with pytest.raises(Invalid) as caught:
        Settings.from_env({"OPSGRAPH_SMTP_URL": url})
    assert caught.value.field == "OPSGRAPH_SMTP_URL"
    assert "smtp+starttls://" in str(caught.value)
    assert str(caught.value).startswith("OPSGRAPH_SMTP_URL: ")


@pytest.mark.parametrize(
    "url", ["smtp+starttls://", "smtp+ssl://smtp.example.org", "smtp+starttls://h:x"]
)
def test_bad_starttls_urls_name_the_variable(url: str) -> None:
    with pytest.raises(Invalid) as caught:
        Settings.from_env({"OPSGRAPH_SMTP_URL": url})
    assert caught.value.field == "OPSGRAPH_SMTP_URL"


@pytest.mark.parametrize("kind", ["missing", "a directory", "not PEM", "a key, no certificate"])
def test_a_bad_ca_file_names_the_variable(tmp_path: Path, kind: str) -> None:
    cert = make_certificate(tmp_path / "tls")
    text = tmp_path / "notes.txt"
    text.write_text("not a certificate\n")
    path = {
        "missing": tmp_path / "nowhere.pem",
        "a directory": tmp_path,
        "not PEM": text,
        "a key, no certificate": cert.key_file,
    }[kind]
    env = {"OPSGRAPH_SMTP_URL": "smtps://smtp.example.org", "OPSGRAPH_SMTP_CA_FILE": str(path)}
    with pytest.raises(Invalid) as caught:
        Settings.from_env(env)
    assert caught.value.field == "OPSGRAPH_SMTP_CA_FILE"


def test_a_ca_file_with_plain_smtp_is_refused(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path / "tls")
    env = {"OPSGRAPH_SMTP_URL": "smtp://127.0.0.1", "OPSGRAPH_SMTP_CA_FILE": str(cert.ca_file)}
    with pytest.raises(Invalid) as caught:
        Settings.from_env(env)
    assert caught.value.field == "OPSGRAPH_SMTP_CA_FILE"
