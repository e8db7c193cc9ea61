"""Push delivery against a real HTTP endpoint on loopback: verification by hash, the exact
bodies and headers, failures and retries with the state they leave, the retry policies'
schedule to the millisecond (the clock is the tests'), order, leases, compare-and-set."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domains.common.egress import STRICT, EgressPolicy
from domains.messaging import push
from domains.messaging import service as msg
from domains.messaging.errors import VerificationFailed
from domains.messaging.formats import rfc3339_nano, subscription_json
from domains.messaging.rows import SubscriptionView
from tests.messaging.conftest import T0, World, b64
from tests.messaging.receiver import Receiver
from workers import messaging as jobs
from workers.messaging import PushConfig, PushHttp

LEASE = timedelta(seconds=30)
P = "ARGO"

LOOPBACK = EgressPolicy(allow_loopback=True)  # the receivers listen on loopback


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def http() -> Iterator[PushHttp]:
    with PushHttp(timeout=10, egress=LOOPBACK) as client:
        yield client


def make_push(
    world: World,
    receiver: Receiver,
    http: PushHttp,
    name: str = "P1",
    *,
    verify: bool = True,
    **config: Any,
) -> SubscriptionView:
    view = msg.create_subscription(
        world.session,
        world.owner,
        project=P,
        subscription=name,
        topic="projects/ARGO/topics/T1",
        push_config={"pushEndpoint": f"{receiver.url}/push/{name}", **config},
        egress=LOOPBACK,
        now=T0,
    )
    if verify:
        receiver.hash = view.push.verification_hash
        view = msg.verify_push_endpoint(
            world.session, world.owner, project=P, subscription=name, fetch=http.fetch, now=T0
        )
    return view


def cycle(
    world: World, http: PushHttp, now: Any, *, insecure: bool = True
) -> list[push.PushOutcome]:
    """What one worker does in one round, in the test's session and with its clock."""
    outcomes = []
    for sub_id in push.claim_due(world.session, now=now, limit=10, lease=LEASE):
        batch = push.begin_cycle(world.session, sub_id, egress=LOOPBACK if insecure else STRICT)
        assert batch is not None
        status, error = push.send_batch(batch, http.send)
        outcomes.append(push.finish_cycle(world.session, batch, status, error, now=now))
    return outcomes


def sub(world: World, name: str = "P1") -> SubscriptionView:
    return world.sub(name)


# --- verification ---------------------------------------------------------------------


def test_verification_fetches_the_hash_from_the_endpoint(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    view = make_push(world, receiver, http, verify=False)
    assert not view.push.verified
    receiver.hash = "not-the-hash"
    with pytest.raises(VerificationFailed):
        msg.verify_push_endpoint(
            world.session, world.owner, project=P, subscription="P1", fetch=http.fetch, now=T0
        )
    assert not sub(world).push.verified
    receiver.hash = view.push.verification_hash
    verified = msg.verify_push_endpoint(
        world.session, world.owner, project=P, subscription="P1", fetch=http.fetch, now=T0
    )
    assert verified.push.verified
    assert [g.path for g in receiver.gets()] == ["/ams_verification_hash"] * 2
    assert (
        verified.push_status == "Subscription /projects/ARGO/subscriptions/P1 is currently active"
    )


def test_an_unverified_subscription_gets_nothing(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http, verify=False)
    world.publish("a", now=T0)
    assert cycle(world, http, T0 + timedelta(hours=1)) == []
    assert receiver.posts() == []


# --- bodies and headers -----------------------------------------------------------------


def test_one_message_body_and_headers_exactly(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    view = make_push(world, receiver, http)
    msg.publish(
        world.session,
        world.owner,
        project=P,
        topic="T1",
        messages=[{"data": b64("hello"), "attributes": {"b": "2", "a": "1"}}],
        now=T0,
    )
    (outcome,) = cycle(world, http, T0)
    assert (outcome.delivered, outcome.status, outcome.error, outcome.offset) == (1, 200, None, 1)
    (post,) = receiver.posts()
    assert post.path == "/push/P1"
    assert post.json() == {
        "message": {
            "messageId": "0",
            "attributes": {"a": "1", "b": "2"},
            "data": b64("hello"),
            "publishTime": rfc3339_nano(T0),
        },
        "subscription": "projects/ARGO/subscriptions/P1",
    }
    assert post.headers["content-type"] == "application/json"
    assert post.headers["authorization"] == view.push.auth_header_value
    assert len(view.push.auth_header_value) == 40
    after = sub(world)
    assert (after.offset, after.delivery.delivered_count, after.message_count) == (1, 1, 1)
    assert after.bytes_out == len(b"hello") + 4
    assert after.delivery.last_success_at == T0
    assert after.push_status == "Subscription /projects/ARGO/subscriptions/P1 is currently active"
    assert subscription_json(after)["pushStatus"] == after.push_status


def test_batched_body_and_the_linear_period_between_cycles(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http, maxMessages=3)
    world.publish("m0", "m1", "m2", "m3", "m4", now=T0)
    (first,) = cycle(world, http, T0)
    assert first.delivered == 3
    assert first.next_attempt_at == T0 + timedelta(milliseconds=3000)
    body = receiver.posts()[0].json()
    assert list(body) == ["messages"]
    assert [item["subscription"] for item in body["messages"]] == [
        "projects/ARGO/subscriptions/P1"
    ] * 3
    assert [base64.b64decode(i["message"]["data"]) for i in body["messages"]] == [
        b"m0",
        b"m1",
        b"m2",
    ]
    # the rest waits the full period: not at 2.999 s, at 3 s
    assert cycle(world, http, T0 + timedelta(milliseconds=2999)) == []
    (second,) = cycle(world, http, T0 + timedelta(milliseconds=3000))
    assert second.delivered == 2
    assert receiver.message_ids() == ["0", "1", "2", "3", "4"]
    assert len(receiver.posts()[1].json()["messages"]) == 2  # a short batch keeps the shape
    assert sub(world).offset == 5


def test_no_authorization_header_when_disabled(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http, authorizationHeader={"type": "disabled"})
    world.publish("x", now=T0)
    cycle(world, http, T0)
    (post,) = receiver.posts()
    assert "authorization" not in post.headers


def test_base64_decode_sends_the_payload_itself(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http, base64Decode=True)
    world.publish("plain text ✓", now=T0)
    cycle(world, http, T0)
    assert receiver.posts()[0].json()["message"]["data"] == "plain text ✓"


def test_mattermost_gets_text_username_and_channel(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    view = msg.create_subscription(
        world.session,
        world.owner,
        project=P,
        subscription="MM",
        topic="projects/ARGO/topics/T1",
        push_config={
            "type": "mattermost",
            "mattermostUrl": f"{receiver.url}/hooks/abc",
            "mattermostUsername": "argo-bot",
            "mattermostChannel": "alerts",
        },
        egress=LOOPBACK,
        now=T0,
    )
    assert view.push.verified  # at once, no hash
    world.publish("site DOWN", "site UP", now=T0)
    (outcome,) = cycle(world, http, T0)
    assert outcome.delivered == 1  # one message per post
    (post,) = receiver.posts("/hooks/abc")
    assert post.json() == {"text": "site DOWN", "username": "argo-bot", "channel": "alerts"}
    assert post.headers["content-type"] == "application/json"
    receiver.ok_status = 201  # Mattermost's one success is 200
    cycle(world, http, T0 + timedelta(seconds=3))
    assert sub(world, "MM").delivery.consecutive_failures == 1
    assert sub(world, "MM").offset == 1


@pytest.mark.parametrize("status", [200, 201, 204])
def test_success_statuses(world: World, receiver: Receiver, http: PushHttp, status: int) -> None:
    make_push(world, receiver, http)
    receiver.ok_status = status
    world.publish("x", now=T0)
    (outcome,) = cycle(world, http, T0)
    assert (outcome.status, outcome.error, outcome.delivered) == (status, None, 1)


# --- failures and retries ---------------------------------------------------------------


def test_failures_then_success_with_the_state_visible(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http, retryPolicy={"type": "linear", "period": 500})
    receiver.fail_next = 2
    receiver.fail_body = "endpoint\nbroken"
    world.publish("only", now=T0)

    (failed,) = cycle(world, http, T0)
    assert (failed.delivered, failed.status, failed.offset) == (0, 500, 0)
    state = sub(world)
    assert state.delivery.consecutive_failures == 1
    # the class of failure, not what the endpoint answered (issue 10: no SSRF reading)
    assert state.delivery.last_error == "HTTP 500"
    assert state.push_status == "2026-03-01T12:00:00 - Could not send message, HTTP 500"
    assert subscription_json(state)["pushStatus"] == state.push_status
    assert state.delivery.next_attempt_at == T0 + timedelta(milliseconds=500)
    assert state.offset == 0
    assert state.delivery.delivered_count == 0

    assert cycle(world, http, T0 + timedelta(milliseconds=499)) == []
    (again,) = cycle(world, http, T0 + timedelta(milliseconds=500))
    assert again.error is not None
    assert sub(world).delivery.consecutive_failures == 2

    (ok,) = cycle(world, http, T0 + timedelta(milliseconds=1000))
    assert (ok.delivered, ok.error) == (1, None)
    state = sub(world)
    assert (state.delivery.consecutive_failures, state.delivery.last_error, state.offset) == (
        0,
        None,
        1,
    )
    assert state.push_status.endswith("is currently active")
    assert state.delivery.next_attempt_at == T0 + timedelta(milliseconds=1500)
    assert receiver.message_ids() == ["0", "0", "0"]  # the same message until it got through
    assert state.delivery.delivered_count == 1


def test_an_unreachable_endpoint_is_a_failure(world: World, http: PushHttp) -> None:
    gone = Receiver()
    make_push(world, gone, http)
    gone.close()  # verified, then nothing listens there any more
    world.publish("x", now=T0)
    (outcome,) = cycle(world, http, T0)
    assert outcome.status is None
    assert outcome.error is not None
    assert outcome.error == "connection failed"  # not the system's words for the port
    assert sub(world).delivery.consecutive_failures == 1
    assert sub(world).offset == 0


def test_slowstart_schedule_to_the_millisecond(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http, retryPolicy={"type": "slowstart"})
    assert sub(world).delivery.backoff_ms == 1000
    world.publish(*[f"m{i}" for i in range(20)], now=T0)
    now = T0
    expected: list[int] = []
    seen: list[int] = []

    def step(fail: bool, delay: int) -> None:
        nonlocal now
        receiver.fail_next = 1 if fail else 0
        (outcome,) = cycle(world, http, now)
        assert (outcome.error is not None) == fail
        assert outcome.next_attempt_at is not None
        seen.append(int((outcome.next_attempt_at - now) / timedelta(milliseconds=1)))
        expected.append(delay)
        assert cycle(world, http, outcome.next_attempt_at - timedelta(milliseconds=1)) == []
        now = outcome.next_attempt_at

    step(False, 500)  # success: 1000 / 2
    step(False, 300)  # 250 would be below the floor
    step(False, 300)
    step(True, 600)  # failure: doubles
    step(True, 1200)
    step(True, 2400)
    step(False, 1000)  # the first success after failures starts again at 1 s
    step(False, 500)
    assert seen == expected
    assert sub(world).delivery.backoff_ms == 500


def test_backoff_math() -> None:
    nb = push.next_backoff_ms
    assert nb("linear", 3000, 0, success=True, failures_before=0) == 3000
    assert nb("linear", 3000, 0, success=False, failures_before=5) == 3000
    assert nb("linear", 250, 0, success=False, failures_before=0) == 250
    assert nb("slowstart", 0, 1000, success=True, failures_before=0) == 500
    assert nb("slowstart", 0, 599, success=True, failures_before=0) == 300
    assert nb("slowstart", 0, 601, success=True, failures_before=0) == 300
    assert nb("slowstart", 0, 700, success=True, failures_before=0) == 350
    assert nb("slowstart", 0, 300, success=False, failures_before=0) == 600
    assert nb("slowstart", 0, 50_000_000, success=False, failures_before=9) == 86_400_000
    assert nb("slowstart", 0, 86_400_000, success=False, failures_before=10) == 86_400_000
    assert nb("slowstart", 0, 86_400_000, success=True, failures_before=10) == 1000
    assert nb("slowstart", 0, 0, success=True, failures_before=0) == 500  # unset: from 1 s


# --- order, exactly-once acks, leases, concurrency ----------------------------------------


def test_messages_arrive_in_order_and_each_is_acked_once(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http, maxMessages=2, retryPolicy={"period": 100})
    world.publish("a", "b", "c", now=T0)
    now = T0
    for round_ in range(10):
        if round_ == 1:
            world.publish("d", now=now)
        if round_ == 2:
            world.publish("e", "f", "g", now=now)
        cycle(world, http, now)
        now += timedelta(milliseconds=100)
    assert receiver.message_ids() == ["0", "1", "2", "3", "4", "5", "6"]
    state = sub(world)
    assert (state.offset, state.delivery.delivered_count, state.message_count) == (7, 7, 7)
    assert cycle(world, http, now + timedelta(days=1)) == []  # nothing left: not claimed


def test_a_claim_leases_the_subscription_until_it_runs_out(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    view = make_push(world, receiver, http)
    world.publish("x", now=T0)
    assert push.claim_due(world.session, now=T0, limit=10, lease=LEASE) == [view.id]
    # claimed: no other worker takes it while the lease runs
    assert (
        push.claim_due(
            world.session, now=T0 + LEASE - timedelta(microseconds=1), limit=10, lease=LEASE
        )
        == []
    )
    # the claimer died before committing anything: the lease runs out, it comes again
    assert push.claim_due(world.session, now=T0 + LEASE, limit=10, lease=LEASE) == [view.id]
    assert sub(world).offset == 0


def test_an_offset_moved_during_the_post_is_kept(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    view = make_push(world, receiver, http)
    world.publish("a", "b", "c", now=T0)
    (sub_id,) = push.claim_due(world.session, now=T0, limit=10, lease=LEASE)
    batch = push.begin_cycle(world.session, sub_id, egress=LOOPBACK)
    assert batch is not None
    assert batch.read_offset == 0
    status, error = push.send_batch(batch, http.send)
    msg.modify_offset(world.session, world.owner, project=P, subscription="P1", offset=2)
    outcome = push.finish_cycle(world.session, batch, status, error, now=T0)
    assert outcome.offset_moved_meanwhile
    assert outcome.offset == 2
    assert sub(world).offset == 2
    assert sub(world).delivery.delivered_count == 1
    assert view.id == sub_id


def test_a_subscription_turned_to_pull_during_the_post_is_not_rescheduled(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http)
    world.publish("a", now=T0)
    (sub_id,) = push.claim_due(world.session, now=T0, limit=10, lease=LEASE)
    batch = push.begin_cycle(world.session, sub_id, egress=LOOPBACK)
    assert batch is not None
    status, error = push.send_batch(batch, http.send)
    msg.modify_push_config(world.session, world.owner, project=P, subscription="P1", push_config={})
    outcome = push.finish_cycle(world.session, batch, status, error, now=T0)
    assert outcome.next_attempt_at is None
    assert push.begin_cycle(world.session, sub_id) is None


def test_an_insecure_endpoint_is_refused_unless_allowed(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    make_push(world, receiver, http)
    world.publish("a", now=T0)
    (outcome,) = cycle(world, http, T0, insecure=False)
    assert outcome.error is not None
    assert "OPSGRAPH_ALLOW_INSECURE_PUSH" in outcome.error
    assert receiver.posts() == []
    assert sub(world).delivery.consecutive_failures == 1


# --- the workers' job functions, through units of work ----------------------------------


def test_push_round_and_deliver_commit_through_units_of_work(
    world: World, receiver: Receiver, http: PushHttp, session_factory: sessionmaker[Session]
) -> None:
    make_push(world, receiver, http, maxMessages=10)
    make_push(world, receiver, http, "P2")
    world.publish("a", "b", now=T0)
    world.session.commit()  # a savepoint: visible to the units of work below
    config = PushConfig(timeout=10, concurrency=4, egress=LOOPBACK)
    outcomes = jobs.push_round(session_factory, http.send, config, clock=lambda: T0)
    assert sorted(o.delivered for o in outcomes) == [1, 2]
    assert receiver.message_ids("/push/P1") == ["0", "1"]
    assert receiver.message_ids("/push/P2") == ["0"]
    assert jobs.push_round(session_factory, http.send, config, clock=lambda: T0) == []


def test_retention_job_deletes_only_old_messages(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    world.publish("old", now=T0 - timedelta(days=8))
    world.publish("edge", now=T0 - timedelta(days=7) + timedelta(seconds=1))
    world.publish("new", now=T0)
    world.session.commit()
    assert jobs.purge_expired(session_factory, retention_days=7, clock=lambda: T0) == 1
    assert [m.data for m in world.pull(10, now=T0)] == [b"edge", b"new"]
    assert jobs.purge_expired(session_factory, retention_days=7, clock=lambda: T0) == 0


def test_a_publish_is_an_outbox_event_only_where_a_push_subscription_takes_it(
    world: World, receiver: Receiver, http: PushHttp
) -> None:
    """Pull subscriptions need no work elsewhere; a verified push subscription does, and
    the event that starts it is written in the publish's own transaction."""
    from sqlalchemy import select

    from domains.common.outbox import OutboxEvent

    def published_events() -> list[dict[str, Any]]:
        world.session.flush()
        rows = world.session.execute(
            select(OutboxEvent).where(OutboxEvent.kind == "messaging.published")  # type: ignore[arg-type]
        ).scalars()
        return [dict(r.payload) for r in rows]

    world.publish("to pull subscribers only")
    assert published_events() == []
    make_push(world, receiver, http, verify=False)
    world.publish("unverified push: nothing to deliver yet")
    assert published_events() == []
    make_push(world, receiver, http, "P2")
    (first,) = world.publish("to a verified push subscription")
    assert published_events() == [
        {
            "topic_id": sub(world, "P2").topic_id,
            "project": P,
            "topic": "T1",
            "first": first,
            "count": 1,
        }
    ]


def test_one_run_of_the_push_job_drains_a_backlog_behind_a_short_period(
    world: World,
    receiver: Receiver,
    http: PushHttp,
    session_factory: sessionmaker[Session],
) -> None:
    """maxMessages 1, linear period 50 ms: each message comes due 50 ms after the one
    before, sooner than the job's next tick (1 s); the run waits for it instead."""
    make_push(world, receiver, http, maxMessages=1, retryPolicy={"type": "linear", "period": 50})
    world.publish("a", "b", "c")
    world.session.commit()
    before = jobs.CONFIG.replace(
        PushConfig(timeout=10, concurrency=1, interval=1.0, egress=LOOPBACK)
    )
    try:
        assert jobs.push_due(session_factory) == 3
    finally:
        jobs.CONFIG.replace(before)
    assert receiver.message_ids("/push/P1") == ["0", "1", "2"]
