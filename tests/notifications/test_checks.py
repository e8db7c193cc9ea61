"""The channels a subscription asks for (domains.notifications.checks): each refusal names
the input field and its NOTIFICATION_ code; what passes becomes the channel columns."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from domains.common.egress import STRICT, EgressPolicy
from domains.common.errors import Invalid
from domains.identity.models import User
from domains.notifications.checks import TopicRef, channel_values
from domains.notifications.models import WEBHOOK_URL_MAX
from domains.notifications.rules import NotificationRule as Rule
from tests.downtimes.notify_world import subscriber


def _owner(session: Session, email: str | None = "") -> User:
    principal = subscriber(session, "owner.checks@egi.eu", email=email)
    user = session.get(User, principal.user_id)
    assert user is not None
    return user


@pytest.mark.parametrize(
    ("choice", "field", "rule"),
    [
        ({"email": False}, "input.email", Rule.NOTIFICATION_CHANNEL_REQUIRED),
        (
            {"webhook_url": "https://h.example.org/" + "x" * WEBHOOK_URL_MAX},
            "input.webhookUrl",
            Rule.NOTIFICATION_WEBHOOK_URL_TOO_LONG,
        ),
        (
            {"webhook_url": "ftp://h.example.org/x"},
            "input.webhookUrl",
            Rule.NOTIFICATION_WEBHOOK_URL_NOT_HTTPS,
        ),
        (
            {"webhook_url": "https:///no-host"},
            "input.webhookUrl",
            Rule.NOTIFICATION_WEBHOOK_URL_NOT_HTTPS,
        ),
        (
            {"webhook_url": "https://127.0.0.1/hook"},
            "input.webhookUrl",
            Rule.NOTIFICATION_WEBHOOK_DESTINATION_REFUSED,
        ),
        (
            {"topic": TopicRef("NOPROJECT", "T1")},
            "input.topic",
            Rule.NOTIFICATION_TOPIC_NOT_PUBLISHABLE,
        ),
    ],
)
def test_a_refused_channel_names_the_field_and_the_code(
    session: Session, choice: dict[str, object], field: str, rule: Rule
) -> None:
    values: dict[str, object] = {"email": False, "topic": None, "webhook_url": None}
    values.update(choice)
    with pytest.raises(Invalid) as caught:
        channel_values(session, _owner(session), egress=STRICT, **values)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_e_mail_needs_an_address(session: Session) -> None:
    with pytest.raises(Invalid) as caught:
        channel_values(
            session,
            _owner(session, email=None),
            email=True,
            topic=None,
            webhook_url=None,
            egress=STRICT,
        )
    assert caught.value.rule == Rule.NOTIFICATION_EMAIL_ADDRESS_MISSING


def test_the_chosen_channels_become_the_channel_columns(session: Session) -> None:
    loopback = EgressPolicy(allow_loopback=True)
    assert channel_values(
        session,
        _owner(session),
        email=True,
        topic=None,
        webhook_url=" http://127.0.0.1:9/hook ",
        egress=loopback,
    ) == {
        "email": True,
        "topic_project": None,
        "topic_name": None,
        "webhook_url": "http://127.0.0.1:9/hook",
    }
