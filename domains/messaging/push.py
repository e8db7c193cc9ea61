"""Push delivery (AMS push server semantics, reference notes §1.4), as database steps that
the workers (workers/messaging.py) run around an HTTP call they make themselves:

    ids = claim_due(session, now=..., limit=..., lease=...)          # tx: claim + lease
    batch = begin_cycle(session, subscription_id, now=...)           # tx 1: read messages
    result = send(batch.request)                                     # no transaction
    outcome = finish_cycle(session, batch, result, now=...)          # tx 2: commit offset

Claiming moves `next_attempt_at` forward by a lease, in the claiming transaction (FOR
UPDATE SKIP LOCKED on PostgreSQL; one writer at a time on SQLite), so two workers never
deliver the same subscription at once. A worker that dies between the POST and tx 2 leaves
the committed offset where it was: once the lease runs out the messages are delivered again
(at least once). tx 2 moves the offset only if it is still the one tx 1 read
(compare-and-set), so a concurrent modifyOffset wins.

Schedule (`next_backoff_ms`): a cycle runs only when messages wait beyond the committed
offset, and not before `next_attempt_at`:
- linear: `period` ms from the end of one cycle to the start of the next, after a success
  as after a failure (AMS's linear worker re-arms its timer with `period` after every
  cycle). So a backlog drains at max_messages per period; a message published to an idle
  subscription whose period has passed goes out at once (the publish wakes the job).
- slowstart (AMS `retrypolicies/slowstart.go`): 1 s at first; after a success half the
  previous delay, at least 300 ms; after a failure twice the previous delay, at most 24 h;
  the first success after failures starts again at 1 s. The current delay is `backoff_ms`.

Push status, as AMS's push worker reports it: "Subscription /projects/P/subscriptions/S is
currently active" after a success; "<UTC time> - Could not send message, <error>" after a
failure. The counters (message_count, bytes_out, delivered_count) count what was POSTed;
no user's usage is charged: the push worker is the platform, not a user.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from domains.common.egress import (
    REFUSED,
    STRICT,
    EgressPolicy,
    failure_class,
    http_status_error,
)
from domains.messaging import rules
from domains.messaging.formats import message_json
from domains.messaging.models import MsgSubscription
from domains.messaging.rows import ReceivedMessage
from domains.messaging.rules import (
    AUTH_AUTOGEN,
    PUSH_HTTP,
    PUSH_MATTERMOST,
    RETRY_SLOWSTART,
    SLOWSTART_INITIAL_BACKOFF_MS,
)
from domains.messaging.service import T_MESSAGE, T_PROJECT, T_SUB, read_messages

log = logging.getLogger("opsgraph.messaging.push")

SLOWSTART_MIN_MS = 300
SLOWSTART_MAX_MS = 24 * 3600 * 1000
HTTP_DELIVERED = frozenset({200, 201, 204, 102})
MATTERMOST_DELIVERED = frozenset({200})
ERROR_MAX = 2000


# --- retry policies (pure) ------------------------------------------------------------


def next_backoff_ms(
    retry_type: str, period_ms: int, backoff_ms: int, *, success: bool, failures_before: int
) -> int:
    """The delay until the next cycle, given the policy, the current delay (`backoff_ms`),
    the outcome of the cycle just run and the consecutive failures before it."""
    if retry_type != RETRY_SLOWSTART:
        return period_ms if period_ms > 0 else rules.DEFAULT_RETRY_PERIOD_MS
    current = backoff_ms if backoff_ms > 0 else SLOWSTART_INITIAL_BACKOFF_MS
    if success:
        if failures_before > 0:
            return SLOWSTART_INITIAL_BACKOFF_MS
        return max(SLOWSTART_MIN_MS, current // 2)
    return min(SLOWSTART_MAX_MS, current * 2)


# --- messages on the wire (pure) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One POST: what the caller's HTTP function sends."""

    url: str
    body: bytes
    headers: Mapping[str, str]
    delivered_statuses: frozenset[int] = HTTP_DELIVERED

    def json(self) -> Any:
        return json.loads(self.body)


# The caller's HTTP POST: (status, response text); raises on transport errors.
Send = Callable[[PushRequest], tuple[int, str]]


def subscription_ref(project: str, subscription: str) -> str:
    """How a pushed message names its subscription (no leading slash, as AMS sends it)."""
    return f"projects/{project}/subscriptions/{subscription}"


def active_status(project: str, subscription: str) -> str:
    return f"Subscription /projects/{project}/subscriptions/{subscription} is currently active"


def failure_status(now: datetime, error: str) -> str:
    return f"{now.strftime('%Y-%m-%dT%H:%M:%S')} - Could not send message, {error}"


def _decoded(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _pushed_message(message: ReceivedMessage, base64_decode: bool) -> dict[str, Any]:
    body = message_json(message)
    if base64_decode:
        body["data"] = _decoded(message.data)
    return body


def http_request(
    *,
    endpoint: str,
    project: str,
    subscription: str,
    max_messages: int,
    auth_header_type: str,
    auth_header_value: str,
    base64_decode: bool,
    messages: Sequence[ReceivedMessage],
) -> PushRequest:
    """AMS's bodies: one message `{"message": M, "subscription": S}` when maxMessages is 1,
    else `{"messages": [{"message": M, "subscription": S}, ...]}`."""
    ref = subscription_ref(project, subscription)
    items = [{"message": _pushed_message(m, base64_decode), "subscription": ref} for m in messages]
    payload: dict[str, Any] = items[0] if max_messages <= 1 else {"messages": items}
    headers = {"Content-Type": "application/json"}
    if auth_header_type == AUTH_AUTOGEN and auth_header_value:
        headers["Authorization"] = auth_header_value
    return PushRequest(url=endpoint, body=_dumps(payload), headers=headers)


def mattermost_request(
    *, url: str, username: str, channel: str, message: ReceivedMessage
) -> PushRequest:
    """A Mattermost incoming webhook: the message's (decoded) data as the text; username
    and channel only when set. Mattermost answers 200 and nothing else on success."""
    payload: dict[str, Any] = {"text": _decoded(message.data)}
    if username:
        payload["username"] = username
    if channel:
        payload["channel"] = channel
    return PushRequest(
        url=url,
        body=_dumps(payload),
        headers={"Content-Type": "application/json"},
        delivered_statuses=MATTERMOST_DELIVERED,
    )


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- claiming ----------------------------------------------------------------------------


def _has_messages() -> Any:
    return exists().where(
        T_MESSAGE.c.topic_id == T_SUB.c.topic_id, T_MESSAGE.c.offset >= T_SUB.c.offset
    )


def _deliverable() -> list[Any]:
    return [
        T_SUB.c.push_type.in_((PUSH_HTTP, PUSH_MATTERMOST)),
        T_SUB.c.verified.is_(True),
        T_SUB.c.topic_id.is_not(None),
    ]


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Ids of up to `limit` verified push subscriptions that are due (next_attempt_at <=
    now) and have messages beyond their committed offset, oldest due first. Each is leased:
    next_attempt_at moves to now + lease, so no other worker takes it until this one
    finishes its cycle (which sets the real next time) or dies (and the lease runs out).
    The caller commits at once."""
    due = (
        select(T_SUB.c.id)
        .where(*_deliverable(), T_SUB.c.next_attempt_at <= now, _has_messages())
        .order_by(T_SUB.c.next_attempt_at, T_SUB.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.execute(due).scalars())
    if not ids:
        return []
    # conditional: on a database without row locks a concurrent claimer may have won
    claimed = session.execute(
        update(T_SUB)
        .where(T_SUB.c.id.in_(ids), T_SUB.c.next_attempt_at <= now)
        .values(next_attempt_at=now + lease, last_attempt_at=now)
        .returning(T_SUB.c.id)
    ).scalars()
    result = sorted(claimed, key=ids.index)
    session.flush()
    return result


def next_due_at(session: Session) -> datetime | None:
    """When the soonest deliverable subscription with messages waiting comes due."""
    found: datetime | None = session.execute(
        select(func.min(T_SUB.c.next_attempt_at)).where(*_deliverable(), _has_messages())
    ).scalar_one_or_none()
    return found


# --- one cycle ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushBatch:
    """What tx 1 read: the messages to POST and the offset they were read from."""

    subscription_id: int
    project: str
    subscription: str
    read_offset: int
    messages: tuple[ReceivedMessage, ...]
    request: PushRequest | None  # None: nothing to send (no messages, or refused)
    refusal: str | None = None  # why nothing may be sent (e.g. an insecure endpoint)

    @property
    def end_offset(self) -> int:
        return self.messages[-1].offset + 1 if self.messages else self.read_offset

    @property
    def bytes(self) -> int:
        return sum(m.size for m in self.messages)


@dataclass(frozen=True, slots=True)
class PushOutcome:
    subscription_id: int
    delivered: int  # messages POSTed and acknowledged by the endpoint
    status: int | None  # the endpoint's HTTP status (None: not reached, or nothing sent)
    error: str | None
    offset: int | None  # the committed offset afterwards (None: subscription gone)
    next_attempt_at: datetime | None
    offset_moved_meanwhile: bool = False  # the offset changed during the POST: kept as is


def _load(session: Session, subscription_id: int, *, lock: bool) -> MsgSubscription | None:
    stmt = (
        select(MsgSubscription)
        .where(T_SUB.c.id == subscription_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def _deliverable_sub(sub: MsgSubscription) -> bool:
    return sub.push_type in (PUSH_HTTP, PUSH_MATTERMOST) and sub.verified and bool(sub.topic_id)


def begin_cycle(
    session: Session, subscription_id: int, *, egress: EgressPolicy = STRICT
) -> PushBatch | None:
    """tx 1: read up to maxMessages messages from the committed offset and build the POST.
    None when the subscription is gone or no longer a verified push subscription. The
    URL's scheme is judged here by `egress`; its addresses when the POST connects."""
    sub = _load(session, subscription_id, lock=False)
    if sub is None or not _deliverable_sub(sub):
        return None
    project = session.execute(
        select(T_PROJECT.c.name).where(T_PROJECT.c.id == sub.project_id)
    ).scalar_one()
    assert sub.topic_id is not None  # _deliverable_sub
    messages = tuple(
        read_messages(
            session,
            topic_id=sub.topic_id,
            offset=sub.offset,
            limit=1 if sub.push_type == PUSH_MATTERMOST else sub.push_max_messages,
            ack_prefix=rules.ack_prefix(project, sub.name),
        )
    )
    batch = PushBatch(
        subscription_id=subscription_id,
        project=project,
        subscription=sub.name,
        read_offset=sub.offset,
        messages=messages,
        request=None,
    )
    if not messages:
        return batch
    target = sub.mattermost_url if sub.push_type == PUSH_MATTERMOST else sub.push_endpoint
    parts = urlsplit(target)
    reason = egress.scheme_refusal(parts.scheme, parts.hostname or "")
    if reason is not None:
        return replace(batch, refusal=f"{REFUSED}: {reason}")
    request: PushRequest
    if sub.push_type == PUSH_MATTERMOST:
        request = mattermost_request(
            url=sub.mattermost_url,
            username=sub.mattermost_username,
            channel=sub.mattermost_channel,
            message=messages[0],
        )
    else:
        request = http_request(
            endpoint=sub.push_endpoint,
            project=project,
            subscription=sub.name,
            max_messages=sub.push_max_messages,
            auth_header_type=sub.auth_header_type,
            auth_header_value=sub.auth_header_value,
            base64_decode=sub.base64_decode,
            messages=messages,
        )
    return replace(batch, request=request)


def send_batch(batch: PushBatch, send: Send) -> tuple[int | None, str | None]:
    """POST the batch with the caller's function: (status, error); error None = delivered.
    Outside any transaction. Whatever `send` raises is a failed attempt, not a crash."""
    if batch.request is None:
        return None, batch.refusal
    try:
        status, _text = send(batch.request)
    except Exception as exc:
        # what the subscriber sees is the class of failure (push status, pushDelivery), not
        # the system's words for the remote port's state; the operator's log has those
        log.info("push POST failed: %s: %s", type(exc).__name__, exc)
        return None, failure_class(exc)
    if status in batch.request.delivered_statuses:
        return status, None
    return status, http_status_error(status)


def finish_cycle(
    session: Session,
    batch: PushBatch,
    status: int | None,
    error: str | None,
    *,
    now: datetime,
) -> PushOutcome:
    """tx 2: record the cycle's outcome and schedule the next one by the retry policy.

    Delivered: commit the offset past the delivered messages if it is still the one tx 1
    read (else leave it: someone moved it meanwhile), count them, clear the failure state.
    Failed: record the error, count the failure, keep the offset (they come again).
    Nothing to send: just schedule (a retention purge or an offset move emptied it)."""
    sub = _load(session, batch.subscription_id, lock=True)
    if sub is None:
        return PushOutcome(batch.subscription_id, 0, status, error, None, None)
    failures_before = sub.consecutive_failures
    delivered = 0
    moved_meanwhile = False
    if batch.request is not None and error is None:
        delivered = len(batch.messages)
        if sub.offset == batch.read_offset:
            sub.offset = batch.end_offset
            sub.next_offset = batch.end_offset
            sub.pending_ack_at = None
        else:
            moved_meanwhile = True
        sub.message_count += delivered
        sub.bytes_out += batch.bytes
        sub.delivered_count += delivered
        sub.last_success_at = now
        sub.consecutive_failures = 0
        sub.last_error = None
        sub.push_status = active_status(batch.project, batch.subscription)
        success = True
    elif error is not None:
        sub.consecutive_failures += 1
        sub.last_error = error[:ERROR_MAX]
        sub.push_status = failure_status(now, error)[:255]
        success = False
    else:  # nothing was there to send (an offset move emptied it): not a cycle at all
        success = None
    if success is not None:
        sub.backoff_ms = next_backoff_ms(
            sub.retry_type,
            sub.retry_period_ms,
            sub.backoff_ms,
            success=success,
            failures_before=failures_before,
        )
    delay = sub.backoff_ms if sub.retry_type == RETRY_SLOWSTART else sub.retry_period_ms
    if success is None:
        sub.next_attempt_at = now
    elif _deliverable_sub(sub):
        sub.next_attempt_at = now + timedelta(milliseconds=delay)
    else:  # turned into a pull subscription (or unverified) during the POST
        sub.next_attempt_at = None
    session.flush()
    return PushOutcome(
        subscription_id=batch.subscription_id,
        delivered=delivered,
        status=status,
        error=error,
        offset=sub.offset,
        next_attempt_at=sub.next_attempt_at,
        offset_moved_meanwhile=moved_meanwhile,
    )
