"""A subscription's push configuration and the proof that its HTTP endpoint is the
caller's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domains.common.egress import STRICT, EgressPolicy, failure_class
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.messaging import rules
from domains.messaging.errors import AmsConflict, VerificationFailed
from domains.messaging.models import MsgSubscription
from domains.messaging.rows import SubscriptionView
from domains.messaging.rules import PUSH_HTTP, Action
from domains.messaging.service._common import (
    apply_push,
    check_destination,
    project_for,
    push_changes,
    record_audit,
    record_event,
    settings_of,
    sub_row,
    sub_view,
)

Fetch = Callable[[str], tuple[int, str]]


def modify_push_config(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    push_config: Mapping[str, Any] | None,
    egress: EgressPolicy = STRICT,
    now: datetime | None = None,
) -> SubscriptionView:
    """`{}` (or None) turns the subscription back into a pull one (rules.parse_push_config)."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    sub = sub_row(session, pk(proj), subscription)
    before = settings_of(sub)
    after = rules.parse_push_config(push_config, before, allow_insecure=egress.allow_loopback)
    if after != before:
        check_destination(after, egress)
        apply_push(sub, after, now or utcnow())
        session.flush()
        record_audit(
            session,
            principal,
            "msg_subscription.push_config",
            "msg_subscription",
            pk(sub),
            f"{project}/{subscription}",
            push_changes(before, after),
        )
        record_event(session, "messaging.push_changed", {"subscription_id": pk(sub)})
    return sub_view(project, sub)


def _unverified_push_sub(
    session: Session, principal: Principal, project: str, subscription: str
) -> MsgSubscription:
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    sub = sub_row(session, pk(proj), subscription)
    if sub.push_type != PUSH_HTTP:
        raise AmsConflict("Subscription is not in http push mode")
    if sub.verified:
        raise AmsConflict("Push endpoint is already verified")
    return sub


def push_verification_url(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> str:
    """What `verify_push_endpoint` will GET, checked as it will check it: lets a caller
    fetch it with no transaction open, then replay the answer to verify_push_endpoint."""
    sub = _unverified_push_sub(session, principal, project, subscription)
    return rules.verification_url(sub.push_endpoint)


def verify_push_endpoint(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    fetch: Fetch,
    now: datetime | None = None,
) -> SubscriptionView:
    """Prove the endpoint's ownership: `fetch(url)` (the caller's HTTP GET, returning
    (status, body)) of {scheme}://{host}/ams_verification_hash must give 200 and the hash."""
    sub = _unverified_push_sub(session, principal, project, subscription)
    url = rules.verification_url(sub.push_endpoint)
    try:
        status, body = fetch(url)
    except Exception as exc:  # whatever the caller's HTTP client raises: not verified
        # the class of failure only: "connection failed" vs "timeout" per port is a scanner
        raise VerificationFailed(f"Could not reach {url}: {failure_class(exc)}") from exc
    if status != 200:
        raise VerificationFailed("Wrong response status code")
    if body.strip() != sub.verification_hash:
        raise VerificationFailed("Wrong verification hash")
    sub.verified = True
    sub.next_attempt_at = now or utcnow()
    session.flush()
    record_audit(
        session,
        principal,
        "msg_subscription.verify",
        "msg_subscription",
        pk(sub),
        f"{project}/{subscription}",
        {"verified": [False, True]},
    )
    record_event(session, "messaging.push_changed", {"subscription_id": pk(sub)})
    return sub_view(project, sub)
