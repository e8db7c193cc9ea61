"""The delivery job against a real SMTP server and a real HTTP receiver on loopback:
what an e-mail and a webhook carry, leases, failures backing off, giving up, and e-mail
waiting (not lost) while no SMTP server is configured."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domains.common.egress import EgressPolicy
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.downtimes import notifications as notes
from domains.downtimes import service as downtimes
from domains.notifications.channels import retry_delay
from domains.notifications.models import Channel, NotificationStatus
from tests.compat.tls import ServerCertificate, make_certificate
from tests.downtimes.notify_world import (
    Target,
    declare,
    events,
    handle_all,
    notifications,
    spec,
)
from tests.messaging.receiver import Receiver
from tests.notifications.smtp import SmtpServer
from workers.metrics import WORK
from workers.notifications import NotifyConfig, deliver_due

SENDER = "downtimes@ops.example.org"

LOOPBACK = EgressPolicy(allow_loopback=True)  # the receivers listen on loopback


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def config(smtp: SmtpServer | None, **kw: object) -> NotifyConfig:
    values: dict[str, object] = {
        "smtp_url": smtp.url if smtp else None,
        "smtp_from": SENDER,
        "timeout": 5.0,
        "egress": LOOPBACK,
    }
    values.update(kw)
    return NotifyConfig(**values)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


def _deliveries(channel: str, outcome: str) -> float:
    """The process's notification counter (workers/metrics.py)."""
    labels = {"about": "downtime", "channel": channel, "outcome": outcome}
    return WORK.get_sample_value("opsgraph_notification_deliveries_total", labels) or 0.0


def test_an_e_mail_and_a_webhook_are_delivered_once(
    session: Session,
    session_factory: sessionmaker[Session],
    smtp: SmtpServer,
    receiver: Receiver,
    alice: Principal,
    where: Target,
) -> None:
    sub = notes.subscribe(
        session,
        alice,
        spec=spec(webhook_url=f"{receiver.url}/hook"),
        egress=LOOPBACK,
    )
    declare(session, where.services)
    handle_all(session)
    session.commit()
    before = {c: _deliveries(c, "sent") for c in ("email", "webhook")}
    assert deliver_due(session_factory, notes.CHANNELS, config(smtp)) == 2
    assert deliver_due(session_factory, notes.CHANNELS, config(smtp)) == 0
    assert {c: _deliveries(c, "sent") - before[c] for c in before} == {"email": 1, "webhook": 1}

    (event,) = events(session, downtimes.EVENT_DECLARED)
    (mail,) = smtp.received()
    assert mail["To"] == "alice@example.org"
    assert mail["From"] == SENDER
    assert mail["Message-ID"] == f"<downtime-{pk(event)}-{pk(sub)}@ops.example.org>"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    snapshot = event.payload
    for part in (
        where.site,
        *where.hosts,
        *where.types,
        "OUTAGE",
        snapshot["classification"],
        "Replacing the storage controller",
        datetime.fromisoformat(snapshot["startsAt"]).strftime("%Y-%m-%d %H:%M UTC"),
        datetime.fromisoformat(snapshot["endsAt"]).strftime("%Y-%m-%d %H:%M UTC"),
    ):
        assert part in body, part
    assert where.site in str(mail["Subject"])

    (post,) = receiver.posts("/hook")
    assert post.json() == {"event": downtimes.EVENT_DECLARED, "downtime": snapshot}
    assert post.headers["x-opsgraph-delivery"] == f"{pk(event)}-{pk(sub)}"
    rows = notifications(session)
    assert {(r.channel, r.status, r.attempts) for r in rows} == {
        (Channel.EMAIL, NotificationStatus.SENT, 1),
        (Channel.WEBHOOK, NotificationStatus.SENT, 1),
    }


def test_a_failed_webhook_backs_off_then_succeeds(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    alice: Principal,
    where: Target,
) -> None:
    notes.subscribe(
        session,
        alice,
        spec=spec(email=False, webhook_url=f"{receiver.url}/hook"),
        egress=LOOPBACK,
    )
    declare(session, where.services)
    handle_all(session)
    session.commit()
    receiver.fail_next = 1
    clock = Clock()
    failed = _deliveries("webhook", "failed")
    assert deliver_due(session_factory, notes.CHANNELS, config(None), clock=clock) == 0
    assert _deliveries("webhook", "failed") == failed + 1
    (row,) = notifications(session)
    assert (row.status, row.attempts, row.last_error) == (
        NotificationStatus.PENDING,
        1,
        "HTTP 500",
    )
    assert (
        deliver_due(session_factory, notes.CHANNELS, config(None), clock=clock) == 0
    )  # not due yet
    assert len(receiver.posts()) == 1
    clock.offset = retry_delay(1) + timedelta(seconds=1)
    assert deliver_due(session_factory, notes.CHANNELS, config(None), clock=clock) == 1
    (row,) = notifications(session)
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 2, None)
    assert len(receiver.posts()) == 2


def test_a_notification_is_given_up_after_the_last_attempt(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    alice: Principal,
    where: Target,
) -> None:
    notes.subscribe(
        session,
        alice,
        spec=spec(email=False, webhook_url=f"{receiver.url}/hook"),
        egress=LOOPBACK,
    )
    declare(session, where.services)
    handle_all(session)
    session.commit()
    receiver.fail_next = 5
    clock = Clock()
    for attempt in (1, 2):
        assert (
            deliver_due(session_factory, notes.CHANNELS, config(None, max_attempts=2), clock=clock)
            == 0
        )
        clock.offset += retry_delay(attempt) + timedelta(seconds=1)
    assert (
        deliver_due(session_factory, notes.CHANNELS, config(None, max_attempts=2), clock=clock) == 0
    )
    (row,) = notifications(session)
    assert (row.status, row.attempts) == (NotificationStatus.FAILED, 2)
    assert len(receiver.posts()) == 2


def test_without_an_smtp_server_e_mail_waits_and_says_why(
    session: Session,
    session_factory: sessionmaker[Session],
    smtp: SmtpServer,
    receiver: Receiver,
    alice: Principal,
    where: Target,
    caplog: pytest.LogCaptureFixture,
) -> None:
    notes.subscribe(
        session,
        alice,
        spec=spec(webhook_url=f"{receiver.url}/hook"),
        egress=LOOPBACK,
    )
    declare(session, where.services)
    handle_all(session)
    session.commit()
    with caplog.at_level(logging.WARNING, logger="opsgraph.workers.notifications"):
        assert deliver_due(session_factory, notes.CHANNELS, config(None)) == 1  # the webhook only
    assert "1 e-mail downtime notifications wait: OPSGRAPH_SMTP_URL is not set" in caplog.text
    statuses = {r.channel: (r.status, r.attempts) for r in notifications(session)}
    assert statuses[Channel.EMAIL] == (NotificationStatus.PENDING, 0)
    assert smtp.received() == []
    assert deliver_due(session_factory, notes.CHANNELS, config(smtp)) == 1
    assert len(smtp.received()) == 1


def test_a_lease_keeps_a_claimed_notification_from_others_until_it_runs_out(
    session: Session,
    session_factory: sessionmaker[Session],
    smtp: SmtpServer,
    alice: Principal,
    where: Target,
) -> None:
    sub = notes.subscribe(session, alice, spec=spec())
    declare(session, where.services)
    handle_all(session)
    session.commit()
    now, lease = utcnow(), timedelta(seconds=30)
    with session_factory.begin() as s:
        (claimed,) = notes.CHANNELS.claim_due(s, now=now, limit=10, lease=lease)
    with session_factory.begin() as s:
        assert (
            notes.CHANNELS.claim_due(s, now=now + timedelta(seconds=29), limit=10, lease=lease)
            == []
        )
    # the claimer died before sending: once the lease ran out, another worker sends it,
    # with the Message-ID every attempt of this (subscription, event) carries
    clock = Clock()
    clock.offset = lease + timedelta(seconds=1)
    assert deliver_due(session_factory, notes.CHANNELS, config(smtp), clock=clock) == 1
    (mail,) = smtp.received()
    assert mail["Message-ID"] == claimed.message_id("ops.example.org")
    assert claimed.subscription_id == pk(sub)
    # the first claimer comes back late: the row is SENT, its outcome is not recorded
    with session_factory.begin() as s:
        late = notes.CHANNELS.finish_delivery(
            s, claimed.id, error="boom", now=utcnow(), max_attempts=3
        )
    assert late is None
    (row,) = notifications(session)
    assert (row.status, row.last_error) == (NotificationStatus.SENT, None)


def test_the_smtp_url_may_carry_a_login(
    session: Session, session_factory: sessionmaker[Session], alice: Principal, where: Target
) -> None:
    server = SmtpServer(login=("mailer", "s@cret")).start()
    try:
        notes.subscribe(session, alice, spec=spec())
        declare(session, where.services)
        handle_all(session)
        session.commit()
        wrong = config(None, smtp_url=f"smtp://mailer:nope@127.0.0.1:{server.port}")
        assert deliver_due(session_factory, notes.CHANNELS, wrong) == 0
        (row,) = notifications(session)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
        assert "SMTPAuthenticationError" in (row.last_error or "")
        right = config(None, smtp_url=f"smtp://mailer:s%40cret@127.0.0.1:{server.port}")
        clock = Clock()
        clock.offset = retry_delay(1) + timedelta(seconds=1)
        assert deliver_due(session_factory, notes.CHANNELS, right, clock=clock) == 1
        assert len(server.received()) == 1
    finally:
        server.stop()


# --- TLS: smtp+starttls:// and smtps:// verify the server's certificate -------------------


def _pending_email(session: Session, alice: Principal, where: Target) -> None:
    notes.subscribe(session, alice, spec=spec())
    declare(session, where.services)
    handle_all(session)
    session.commit()


def _tls_server(
    certificate: ServerCertificate,
    tls: Literal["starttls", "implicit"] = "starttls",
    login: tuple[str, str] | None = None,
) -> SmtpServer:
    return SmtpServer(login=login, certificate=certificate, tls=tls).start()


def test_an_e_mail_arrives_over_starttls_with_a_login(
    session: Session,
    session_factory: sessionmaker[Session],
    alice: Principal,
    where: Target,
    tmp_path: Path,
) -> None:
    cert = make_certificate(tmp_path / "tls")
    server = _tls_server(cert, login=("mailer", "s@cret"))
    try:
        _pending_email(session, alice, where)
        # the server takes no mail before STARTTLS (nor offers AUTH): plain smtp:// fails
        plain = config(None, smtp_url=f"smtp://127.0.0.1:{server.port}")
        assert deliver_due(session_factory, notes.CHANNELS, plain) == 0
        (row,) = notifications(session)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
        assert "Must issue a STARTTLS command first" in (row.last_error or "")

        url = f"smtp+starttls://mailer:s%40cret@127.0.0.1:{server.port}"
        tls = config(None, smtp_url=url, smtp_ca_file=str(cert.ca_file))
        clock = Clock()
        clock.offset = retry_delay(1) + timedelta(seconds=1)
        assert deliver_due(session_factory, notes.CHANNELS, tls, clock=clock) == 1
        (mail,) = server.received()
        assert mail["To"] == "alice@example.org"
        assert server.encrypted == [True]
        (row,) = notifications(session)
        assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 2, None)
    finally:
        server.stop()


def test_a_wrong_login_over_starttls_is_refused(
    session: Session,
    session_factory: sessionmaker[Session],
    alice: Principal,
    where: Target,
    tmp_path: Path,
) -> None:
    cert = make_certificate(tmp_path / "tls")
    server = _tls_server(cert, login=("mailer", "s@cret"))
    try:
        _pending_email(session, alice, where)
        url = f"smtp+starttls://mailer:nope@127.0.0.1:{server.port}"
        assert (
            deliver_due(
                session_factory,
                notes.CHANNELS,
                config(None, smtp_url=url, smtp_ca_file=str(cert.ca_file)),
            )
            == 0
        )
        (row,) = notifications(session)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
        assert "SMTPAuthenticationError" in (row.last_error or "")
        assert server.received() == []
    finally:
        server.stop()


@pytest.mark.parametrize("trust", ["system store", "another CA"])
@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_an_untrusted_certificate_is_refused_and_the_e_mail_waits(
    session: Session,
    session_factory: sessionmaker[Session],
    alice: Principal,
    where: Target,
    tmp_path: Path,
    trust: str,
    tls: Literal["starttls", "implicit"],
) -> None:
    cert = make_certificate(tmp_path / "tls")
    other = make_certificate(tmp_path / "other")
    server = _tls_server(cert, tls)
    try:
        _pending_email(session, alice, where)
        ca_file = None if trust == "system store" else str(other.ca_file)
        untrusted = config(None, smtp_url=server.url, smtp_ca_file=ca_file)
        assert deliver_due(session_factory, notes.CHANNELS, untrusted) == 0
        (row,) = notifications(session)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
        assert (row.last_error or "").startswith("SSLCertVerificationError:")
        assert "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "")
        assert server.received() == []

        # nothing is lost: once the relay's CA is configured, the retry delivers it
        trusted = config(None, smtp_url=server.url, smtp_ca_file=str(cert.ca_file))
        clock = Clock()
        assert (
            deliver_due(session_factory, notes.CHANNELS, trusted, clock=clock) == 0
        )  # not due yet
        clock.offset = retry_delay(1) + timedelta(seconds=1)
        assert deliver_due(session_factory, notes.CHANNELS, trusted, clock=clock) == 1
        assert len(server.received()) == 1
        assert server.encrypted == [True]
        (row,) = notifications(session)
        assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 2, None)
    finally:
        server.stop()


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_a_certificate_for_another_host_is_refused(
    session: Session,
    session_factory: sessionmaker[Session],
    alice: Principal,
    where: Target,
    tmp_path: Path,
    tls: Literal["starttls", "implicit"],
) -> None:
    cert = make_certificate(tmp_path / "tls", names=("mail.example.org",))
    server = _tls_server(cert, tls)
    try:
        _pending_email(session, alice, where)
        assert (
            deliver_due(
                session_factory,
                notes.CHANNELS,
                config(None, smtp_url=server.url, smtp_ca_file=str(cert.ca_file)),
            )
            == 0
        )
        (row,) = notifications(session)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
        assert "SSLCertVerificationError" in (row.last_error or "")
        assert "IP address mismatch" in (row.last_error or "")
        assert server.received() == []
    finally:
        server.stop()


def test_starttls_is_not_given_up_for_plain_text(
    session: Session,
    session_factory: sessionmaker[Session],
    smtp: SmtpServer,
    alice: Principal,
    where: Target,
) -> None:
    """A server that does not offer STARTTLS gets nothing: no fallback to plain text."""
    _pending_email(session, alice, where)
    url = f"smtp+starttls://127.0.0.1:{smtp.port}"
    assert deliver_due(session_factory, notes.CHANNELS, config(None, smtp_url=url)) == 0
    (row,) = notifications(session)
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
    assert "SMTPNotSupportedError" in (row.last_error or "")
    assert "STARTTLS" in (row.last_error or "")
    assert smtp.received() == []
