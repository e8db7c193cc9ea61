"""Sending notifications (domains.notifications) for every domain that uses the channels:
the I/O around the database steps of domains.notifications.channels.Channels.

`deliver_due(factory, channels, config)` claims PENDING e-mail and webhook notifications
with a lease, sends each outside any transaction (smtplib to OPSGRAPH_SMTP_URL, a POST to
the webhook through the egress policy of domains.common.egress), then records the outcome.
A webhook's recorded error is the class of failure ("timeout", "HTTP 500", "refused by
egress policy"), nothing more. smtps:// and smtp+starttls:// verify the server's
certificate and host name against the system trust store, or OPSGRAPH_SMTP_CA_FILE when
set; smtp+starttls:// never falls back to plain text when the server does not offer
STARTTLS. Without OPSGRAPH_SMTP_URL the e-mail rows wait and each run logs why.

A domain's worker module registers a periodic job that calls deliver_due with its own
Channels (workers/downtimes.py: `downtimes.deliver`).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx2 as httpx
from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import unit_of_work
from domains.common.egress import STRICT, EgressPolicy, failure_class, http_status_error
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from domains.notifications.channels import Channels, Delivery, Rendering
from domains.notifications.models import Channel
from workers.metrics import NOTIFICATIONS

log = logging.getLogger("opsgraph.workers.notifications")

BATCH = 20
ERROR_MAX = 1000
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    smtp_url: str | None = None
    smtp_from: str = "opsgraph@localhost"
    smtp_ca_file: str | None = None  # PEM CA bundle; None: the system trust store
    timeout: float = 10.0
    max_attempts: int = 10
    egress: EgressPolicy = STRICT

    @property
    def lease(self) -> timedelta:
        """How long a claimed notification stays with its worker: one send is bounded by
        the timeout (connect, then each SMTP command or the HTTP exchange)."""
        return timedelta(seconds=3 * self.timeout)

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> NotifyConfig:
        return cls(
            smtp_url=settings.smtp_url,
            smtp_from=settings.smtp_from,
            smtp_ca_file=settings.smtp_ca_file,
            timeout=settings.notify_timeout,
            max_attempts=settings.notify_max_attempts,
            egress=EgressPolicy.from_settings(settings),
        )


SMTP_PORTS = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}


def tls_context(config: NotifyConfig) -> ssl.SSLContext:
    """A client context that verifies the server's certificate chain and host name:
    against OPSGRAPH_SMTP_CA_FILE when set, else the system trust store."""
    return ssl.create_default_context(cafile=config.smtp_ca_file)


def _connect(config: NotifyConfig, scheme: str, host: str, port: int | None) -> smtplib.SMTP:
    port = port or SMTP_PORTS[scheme]
    if scheme == "smtps":
        return smtplib.SMTP_SSL(host, port, timeout=config.timeout, context=tls_context(config))
    smtp = smtplib.SMTP(host, port, timeout=config.timeout)
    if scheme == "smtp+starttls":
        try:
            smtp.ehlo()
            # raises SMTPNotSupportedError when not offered: no fallback to plain text
            smtp.starttls(context=tls_context(config))
            smtp.ehlo()  # the server's extensions (AUTH among them) once under TLS
        except BaseException:
            smtp.close()
            raise
    return smtp


def send_email(
    config: NotifyConfig, rendering: Rendering, delivery: Delivery, *, now: datetime
) -> None:
    """One message through the configured SMTP server; raises on any failure."""
    if config.smtp_url is None:
        raise RuntimeError("OPSGRAPH_SMTP_URL is not set")
    url = urlsplit(config.smtp_url)
    scheme = url.scheme.lower()
    if scheme not in SMTP_PORTS:
        raise RuntimeError(f"OPSGRAPH_SMTP_URL: unknown scheme {scheme!r}")
    message = rendering.email(delivery, sender=config.smtp_from, now=now)
    with _connect(config, scheme, url.hostname or "", url.port) as smtp:
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)


class WebhookFailed(Exception):
    """A webhook POST that did not succeed; the message is the class of failure."""


def send_webhook(client: httpx.Client, rendering: Rendering, delivery: Delivery) -> None:
    if not delivery.webhook_url:
        raise WebhookFailed("the subscription has no webhook URL any more")
    response = client.post(
        delivery.webhook_url,
        content=rendering.webhook_body(delivery),
        headers={
            "Content-Type": "application/json",
            # the same for every attempt: a receiver can drop a repeat
            "X-Opsgraph-Delivery": f"{delivery.event_id}-{delivery.subscription_id}",
        },
    )
    if not 200 <= response.status_code < 300:
        raise WebhookFailed(http_status_error(response.status_code))


def _send(
    config: NotifyConfig,
    client: httpx.Client,
    rendering: Rendering,
    delivery: Delivery,
    now: datetime,
) -> None:
    if delivery.channel == Channel.EMAIL:
        send_email(config, rendering, delivery, now=now)
    else:
        try:
            send_webhook(client, rendering, delivery)
        except WebhookFailed:
            raise
        except Exception as exc:
            log.info("webhook POST failed: %s: %s", type(exc).__name__, exc)
            raise WebhookFailed(failure_class(exc)) from exc


def deliver_due(
    factory: sessionmaker[Session],
    channels: Channels[Any],
    config: NotifyConfig,
    *,
    clock: Clock = utcnow,
) -> int:
    """Claim, send, record, batch after batch until nothing of `channels` is due; how many
    were sent."""
    wanted = [Channel.WEBHOOK] if config.smtp_url is None else [Channel.EMAIL, Channel.WEBHOOK]
    if config.smtp_url is None:
        with unit_of_work(factory, write=False) as session:
            waiting = channels.pending_count(session, channel=Channel.EMAIL)
        if waiting:
            log.warning(
                "%d e-mail %s notifications wait: OPSGRAPH_SMTP_URL is not set",
                waiting,
                channels.about,
            )
    sent = 0
    with config.egress.client(timeout=config.timeout) as client:
        while True:
            with unit_of_work(factory) as session:
                batch = channels.claim_due(
                    session, now=clock(), limit=BATCH, lease=config.lease, channels=wanted
                )
            for delivery in batch:
                error: str | None = None
                try:
                    _send(config, client, channels.rendering, delivery, clock())
                except WebhookFailed as exc:
                    error = str(exc)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
                    log.warning(
                        "%s notification %s (%s) failed: %s",
                        channels.about,
                        delivery.id,
                        delivery.channel,
                        error,
                    )
                with unit_of_work(factory) as session:
                    channels.finish_delivery(
                        session,
                        delivery.id,
                        error=error,
                        now=clock(),
                        max_attempts=config.max_attempts,
                    )
                NOTIFICATIONS.labels(
                    channels.about,
                    Channel(delivery.channel).value.lower(),
                    "sent" if error is None else "failed",
                ).inc()
                sent += error is None
            if len(batch) < BATCH:
                return sent
