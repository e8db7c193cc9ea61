"""Subscriptions: creation rules, push configuration and verification, offsets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domains.common.audit import AuditEntry
from domains.common.egress import EgressPolicy
from domains.common.errors import Invalid, NotFound
from domains.messaging import service as msg
from domains.messaging.errors import AlreadyExists, AmsConflict, VerificationFailed
from domains.messaging.rows import SubscriptionView
from domains.messaging.rules import PULL
from tests.identity.helpers import snapshot
from tests.messaging.conftest import T0, World

P = "ARGO"
HOOK = "https://push.example.org/receive"


def create(world: World, name: str = "S9", **kwargs: Any) -> SubscriptionView:
    kwargs.setdefault("topic", "projects/ARGO/topics/T1")
    return msg.create_subscription(
        world.session, world.owner, project=P, subscription=name, **kwargs
    )


def push(world: World, config: dict[str, Any] | None, name: str = "S1", **kw: Any) -> Any:
    return msg.modify_push_config(
        world.session, world.owner, project=P, subscription=name, push_config=config, **kw
    )


def test_create_defaults(world: World) -> None:
    sub = create(world, topic="/projects/ARGO/topics/T1")
    assert (sub.name, sub.topic, sub.full_name) == ("S9", "T1", "/projects/ARGO/subscriptions/S9")
    assert sub.ack_deadline == 10
    assert not sub.push.is_push
    assert create(world, "S10", ack_deadline=0).ack_deadline == 10
    assert create(world, "S11", ack_deadline=600).ack_deadline == 600


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"name": "bad name"}, "Invalid Subscription name", "subscription"),
        ({"name": "a/b"}, "Invalid Subscription name", "subscription"),
        ({"topic": "topics/T1"}, "Invalid Topic name", "topic"),
        ({"topic": "projects/ARGO/topics/T 1"}, "Invalid Topic name", "topic"),
        ({"ack_deadline": 601}, "ackDeadlineSeconds", "ackDeadlineSeconds"),
        ({"ack_deadline": -1}, "ackDeadlineSeconds", "ackDeadlineSeconds"),
        ({"push_config": {"pushEndpoint": "http://x.org/h"}}, "valid https url", None),
        ({"push_config": {"type": "carrier-pigeon"}}, "http_endpoint", "pushConfig.type"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(
    world: World, kwargs: dict[str, Any], error: str, field: str | None
) -> None:
    kwargs = dict(kwargs)  # parameters are shared between the two databases' runs
    name = kwargs.pop("name", "S9")
    before = snapshot(world.session)
    with pytest.raises(Invalid, match=error) as caught:
        create(world, name, **kwargs)
    if field:
        assert caught.value.field == field
    assert snapshot(world.session) == before


def test_create_needs_an_existing_topic_of_the_project(world: World) -> None:
    with pytest.raises(NotFound, match="Topic doesn't exist"):
        create(world, topic="projects/ARGO/topics/NOPE")
    with pytest.raises(NotFound, match="Topic doesn't exist"):
        create(world, topic="projects/OTHER/topics/T1")


def test_create_twice_is_already_exists(world: World) -> None:
    with pytest.raises(AlreadyExists, match="Subscription already exists") as caught:
        create(world, "S1")
    assert (caught.value.http_code, caught.value.ams_status, caught.value.code) == (
        409,
        "ALREADY_EXISTS",
        "CONFLICT",
    )


def test_push_endpoint_without_type_means_http_endpoint_with_ams_defaults(world: World) -> None:
    sub = push(world, {"pushEndpoint": HOOK, "retryPolicy": {"type": "linear", "period": 300}})
    p = sub.push
    assert (p.push_type, p.push_endpoint, p.push_max_messages) == ("http_endpoint", HOOK, 1)
    assert (p.retry_type, p.retry_period_ms) == ("linear", 300)
    assert (p.auth_header_type, len(p.auth_header_value)) == ("autogen", 40)
    assert (len(p.verification_hash), p.verified) == (40, False)
    sub = push(world, {"pushEndpoint": HOOK}, name="S2")
    assert (sub.push.retry_type, sub.push.retry_period_ms) == ("linear", 3000)


def test_push_config_options(world: World) -> None:
    sub = push(
        world,
        {
            "type": "http_endpoint",
            "pushEndpoint": HOOK,
            "maxMessages": 5,
            "authorizationHeader": {"type": "disabled"},
            "retryPolicy": {"type": "slowstart", "period": 999},
            "base64Decode": True,
        },
    )
    p = sub.push
    assert (p.push_max_messages, p.auth_header_type, p.auth_header_value) == (5, "disabled", "")
    assert (p.retry_type, p.retry_period_ms, p.base64_decode) == ("slowstart", 0, True)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"pushEndpoint": "http://push.example.org/h"}, "pushConfig.pushEndpoint"),
        ({"pushEndpoint": "https://"}, "pushConfig.pushEndpoint"),
        ({"pushEndpoint": "ftp://push.example.org"}, "pushConfig.pushEndpoint"),
        ({"pushEndpoint": HOOK, "retryPolicy": {"type": "eager"}}, "pushConfig.retryPolicy.type"),
        ({"pushEndpoint": HOOK, "retryPolicy": {"period": -5}}, "pushConfig.retryPolicy.period"),
        (
            {"pushEndpoint": HOOK, "authorizationHeader": {"type": "basic"}},
            "pushConfig.authorizationHeader.type",
        ),
        ({"pushEndpoint": HOOK, "maxMessages": "5"}, "pushConfig.maxMessages"),
        ({"pushEndpoint": HOOK, "base64Decode": "yes"}, "pushConfig.base64Decode"),
        ({"type": "mattermost"}, "pushConfig.mattermostUrl"),
        ({"retryPolicy": {"type": "linear"}}, "pushConfig.type"),
    ],
)
def test_bad_push_configs_are_invalid_and_change_nothing(
    world: World, config: dict[str, Any], field: str
) -> None:
    before, sub = snapshot(world.session), world.sub()
    with pytest.raises(Invalid) as caught:
        push(world, config)
    assert caught.value.field == field
    assert snapshot(world.session) == before
    assert world.sub() == sub


def test_insecure_loopback_endpoints_need_the_explicit_flag(world: World) -> None:
    for url in ("http://127.0.0.1:8080/h", "http://localhost/h"):
        with pytest.raises(Invalid):
            push(world, {"pushEndpoint": url})
        assert (
            push(
                world, {"pushEndpoint": url}, egress=EgressPolicy(allow_loopback=True)
            ).push.push_endpoint
            == url
        )
    with pytest.raises(Invalid):
        push(
            world,
            {"pushEndpoint": "http://example.org/h"},
            egress=EgressPolicy(allow_loopback=True),
        )


def test_same_endpoint_keeps_hash_verification_and_header(world: World) -> None:
    first = push(world, {"pushEndpoint": HOOK}).push
    verify(world, first.verification_hash)
    again = push(world, {"pushEndpoint": HOOK, "retryPolicy": {"period": 100}}).push
    assert again.verification_hash == first.verification_hash
    assert again.verified
    assert again.auth_header_value == first.auth_header_value
    assert again.retry_period_ms == 100


def test_a_new_endpoint_needs_verifying_again(world: World) -> None:
    first = push(world, {"pushEndpoint": HOOK}).push
    verify(world, first.verification_hash)
    moved = push(world, {"pushEndpoint": "https://elsewhere.example.org/h"}).push
    assert not moved.verified
    assert moved.verification_hash != first.verification_hash


def test_mattermost_is_verified_at_once(world: World) -> None:
    sub = push(
        world,
        {
            "type": "mattermost",
            "mattermostUrl": "https://mm.example.org/hooks/abc",
            "mattermostUsername": "argo",
            "mattermostChannel": "alerts",
        },
    )
    assert (sub.push.push_type, sub.push.verified) == ("mattermost", True)
    assert (sub.push.mattermost_username, sub.push.mattermost_channel) == ("argo", "alerts")
    with pytest.raises(AmsConflict, match="not in http push mode"):
        verify(world, "anything")


def test_empty_push_config_turns_it_back_into_a_pull_subscription(world: World) -> None:
    push(world, {"pushEndpoint": HOOK})
    for empty in ({}, None, {"pushEndpoint": "", "retryPolicy": {}}):
        push(world, {"pushEndpoint": HOOK})
        sub = push(world, empty)
        assert not sub.push.is_push
        assert sub.push == PULL


def verify(world: World, body: str, status: int = 200, name: str = "S1") -> Any:
    seen: list[str] = []

    def fetch(url: str) -> tuple[int, str]:
        seen.append(url)
        return status, body

    result = msg.verify_push_endpoint(
        world.session, world.owner, project=P, subscription=name, fetch=fetch, now=T0
    )
    assert seen == ["https://push.example.org/ams_verification_hash"]
    return result


def test_verification_gets_the_hash_from_the_endpoint_host(world: World) -> None:
    config = push(world, {"pushEndpoint": HOOK}).push
    sub = verify(world, config.verification_hash + "\n")
    assert sub.push.verified
    with pytest.raises(AmsConflict, match="already verified"):
        verify(world, config.verification_hash)


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [(200, "wrong", "Wrong verification hash"), (404, "", "Wrong response status code")],
)
def test_failed_verification_is_401_and_changes_nothing(
    world: World, status: int, body: str, why: str
) -> None:
    config = push(world, {"pushEndpoint": HOOK}).push
    before = snapshot(world.session)
    with pytest.raises(VerificationFailed, match=why) as caught:
        verify(world, body or config.verification_hash, status)
    assert (caught.value.http_code, caught.value.ams_status) == (401, "UNAUTHORIZED")
    assert caught.value.ams_message.startswith("Endpoint verification failed.")
    assert not world.sub().push.verified
    assert snapshot(world.session) == before


def test_an_unreachable_endpoint_fails_verification(world: World) -> None:
    push(world, {"pushEndpoint": HOOK})

    def fetch(url: str) -> tuple[int, str]:
        raise ConnectionRefusedError(url)

    with pytest.raises(VerificationFailed, match="connection failed"):
        msg.verify_push_endpoint(
            world.session, world.owner, project=P, subscription="S1", fetch=fetch
        )


def test_verification_of_a_pull_subscription_is_a_conflict(world: World) -> None:
    with pytest.raises(AmsConflict, match="not in http push mode"):
        verify(world, "x")


def test_push_changes_are_audited_without_secrets(world: World) -> None:
    config = push(world, {"pushEndpoint": HOOK}).push
    entries = (
        world.session.execute(
            select(AuditEntry).where(AuditEntry.action == "msg_subscription.push_config")  # type: ignore[arg-type]
        )
        .scalars()
        .all()
    )
    assert len(entries) == 1
    changes = entries[0].changes
    assert changes["push_endpoint"] == ["", HOOK]
    # set (it was empty), but not what it is
    assert changes["verification_hash"] == ["", "***"]
    assert changes["auth_header_value"] == ["", "***"]
    assert config.verification_hash not in str(changes)
    assert config.auth_header_value not in str(changes)


def _entries(world: World, action: str) -> list[AuditEntry]:
    return list(
        world.session.execute(
            select(AuditEntry).where(AuditEntry.action == action)  # type: ignore[arg-type]
        ).scalars()
    )


def test_a_mattermost_hook_is_audited_masked(world: World) -> None:
    """A Mattermost incoming-webhook URL is a secret (whoever has it posts to the channel):
    the change log keeps its scheme and host only."""
    hook = "https://chat.example.org/hooks/xqz7k3secretkey"
    push(world, {"type": "mattermost", "mattermostUrl": hook})
    create(world, "S9", push_config={"type": "mattermost", "mattermostUrl": hook + "2"})
    logged = [
        *_entries(world, "msg_subscription.push_config"),
        *(e for e in _entries(world, "msg_subscription.create") if e.entity_name == "ARGO/S9"),
    ]
    assert [e.changes["mattermost_url"] for e in logged] == [
        ["", "https://chat.example.org/***"]
    ] * 2
    assert "xqz7k3secretkey" not in str([e.changes for e in logged])


# --- offsets ----------------------------------------------------------------------------


def offsets(world: World) -> tuple[int, int, int]:
    o = msg.offsets(world.session, world.con_in, project=P, subscription="S1")
    return o.min, o.current, o.max


def test_offsets_follow_publish_and_ack(world: World) -> None:
    assert offsets(world) == (0, 0, 0)
    world.publish("a", "b", "c")
    assert offsets(world) == (0, 0, 3)
    world.pull(2, now=T0)
    world.ack(1, now=T0)
    assert offsets(world) == (0, 2, 3)


def test_modify_offset_rewinds_and_drops_the_pending_ack(world: World) -> None:
    world.publish("a", "b", "c")
    world.pull(3, now=T0)
    world.ack(2, now=T0)
    msg.modify_offset(world.session, world.con_in, project=P, subscription="S1", offset=1)
    assert offsets(world) == (0, 1, 3)
    assert [m.data for m in world.pull(5, now=T0)] == [b"b", b"c"]
    msg.modify_offset(world.session, world.con_in, project=P, subscription="S1", offset=3)
    assert world.sub().pending_ack_at is None
    assert world.pull(now=T0) == []


@pytest.mark.parametrize("offset", [-1, 4])
def test_modify_offset_out_of_bounds_is_invalid(world: World, offset: int) -> None:
    world.publish("a", "b", "c")
    before = world.sub()
    with pytest.raises(Invalid, match="Offset out of bounds") as caught:
        msg.modify_offset(world.session, world.owner, project=P, subscription="S1", offset=offset)
    assert caught.value.field == "offset"
    assert world.sub() == before


def test_time_to_offset_accepts_both_library_forms(world: World) -> None:
    for i in range(3):
        world.publish(f"m{i}", now=T0 + timedelta(seconds=10 * i))

    def at(when: str) -> int:
        return msg.time_to_offset(
            world.session, world.con_in, project=P, subscription="S1", time=when
        )

    assert at("2026-03-01T12:00:00.000Z") == 0
    assert at("2026-03-01 12:00:05.000Z") == 1  # the library's space form
    assert at("2026-03-01T12:00:10.500Z") == 2
    assert at("2026-03-01T12:00:20Z") == 2
    assert at("2026-01-01T00:00:00.000Z") == 0  # before the first: the first
    with pytest.raises(AmsConflict, match="out of bounds"):
        at("2026-03-01T12:00:20.001Z")


@pytest.mark.parametrize(
    "bad", ["2026-03-01", "2026-03-01T12:00:00", "2026-03-01T12:00:00+01:00", "yesterday", ""]
)
def test_time_to_offset_rejects_other_formats(world: World, bad: str) -> None:
    with pytest.raises(Invalid, match="Zulu") as caught:
        msg.time_to_offset(world.session, world.owner, project=P, subscription="S1", time=bad)
    assert caught.value.field == "time"
