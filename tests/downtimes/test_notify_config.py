"""The notification settings: parsed from OPSGRAPH_* variables, bad values name them."""

from __future__ import annotations

import pytest

from domains.common.errors import Invalid
from gateway.config import Settings


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
