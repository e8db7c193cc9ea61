"""Fired alerts go out through the shared channels: an e-mail through a loopback SMTP
server (once, whatever runs twice), and the webhook's and topic's JSON (both backends)."""

from __future__ import annotations

import base64
import json

from sqlalchemy.orm import Session, sessionmaker

from domains.monitoring.service import alerts as svc
from domains.notifications.channels import Delivery
from domains.notifications.models import Channel
from tests.monitoring import alerts_world as w
from tests.notifications.smtp import SmtpServer, smtp  # noqa: F401 (a fixture)
from workers import monitoring as worker
from workers.notifications import NotifyConfig, deliver_due


def test_an_alert_e_mail_is_delivered_once(
    session: Session,
    session_factory: sessionmaker[Session],
    smtp: SmtpServer,  # noqa: F811
) -> None:
    where = w.place(session)
    w.cursor_at_end(session)
    owner = w.user(session, "alert.mail@egi.eu", admin=True)
    w.rule(session, owner, site=where.site)
    at = w.feed(session, where, "OC")
    w.evaluate(session, at)
    w.handle_all(session)
    session.commit()
    config = NotifyConfig(smtp_url=smtp.url, smtp_from="opsgraph@ops.test", timeout=5.0)
    assert deliver_due(session_factory, svc.CHANNELS, config) == 1
    assert deliver_due(session_factory, svc.CHANNELS, config) == 0
    assert worker.deliver_alerts_job(session_factory) == 0  # nothing left (and no SMTP set)
    assert svc.prune_notifications(session_factory) == 0  # delivered just now: kept
    [message] = smtp.received()
    assert message["To"] == "alert.mail@example.org"
    assert " ".join(str(message["Subject"]).split()) == (  # unfolded
        f"[alert critical] {where.site}: {where.host} ({where.service_type}) "
        f"is CRITICAL: {where.metric} CRITICAL"
    )
    assert f"Site:     {where.site} (NGI {where.ngi})" in message.get_payload()
    assert f"Failing:  {where.metric} CRITICAL" in message.get_payload()


def test_the_webhook_and_topic_carry_the_alert_as_json() -> None:
    payload = {
        "alert": "FAILING",
        "failures": 3,
        "hostname": "ce.example.org",
        "serviceType": "CREAM-CE",
        "failingMetrics": [
            {"metric": "org.a", "status": "CRITICAL"},
            {"metric": "org.b", "status": "WARNING"},
        ],
        "site": "SITE",
        "ngi": "NGI",
    }
    delivery = Delivery(
        id=1,
        subscription_id=2,
        event_id=3,
        kind=svc.ALERT_EVENT,
        channel=Channel.WEBHOOK,
        payload=payload,
        attempts=0,
        email=None,
        webhook_url="https://hooks.example.org/x",
        about="alert",
    )
    body = json.loads(svc.AlertMessages().webhook_body(delivery))
    assert body == {"event": "monitoring.alert", "alert": payload}
    message = svc.AlertMessages().topic_message(svc.ALERT_EVENT, payload)
    assert json.loads(base64.b64decode(message["data"])) == body
    assert message["attributes"] == {"event": "monitoring.alert", "alert": "FAILING"}
    assert svc.subject_line(payload) == (
        "ce.example.org (CREAM-CE) has failed 3 times in a row: org.a CRITICAL, org.b WARNING"
    )
