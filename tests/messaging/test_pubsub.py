"""Publish, pull and acknowledge with AMS's Kafka-offset semantics (reference §1.3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from domains.common.errors import Invalid
from domains.common.identity import PLATFORM
from domains.messaging import service as msg
from domains.messaging.errors import AckRejected, AckTimeout, AmsConflict, MessageTooLarge
from domains.messaging.models import MsgMessage, MsgSubscription, MsgTopic
from domains.messaging.rows import Usage
from tests.identity.helpers import snapshot
from tests.messaging.conftest import T0, World, b64

P = "ARGO"


def test_publish_assigns_consecutive_offsets_from_zero(world: World) -> None:
    assert world.publish("a", "b", "c") == [0, 1, 2]
    assert world.publish("d") == [3]
    assert world.publish("e", topic="T2") == [0]  # offsets are per topic


def test_pull_returns_messages_in_order_with_ack_ids_and_times(world: World) -> None:
    msg.publish(
        world.session,
        world.pub_in,
        project=P,
        topic="T1",
        messages=[{"data": b64("one"), "attributes": {"b": "2", "a": "1"}}, {"data": b64("two")}],
        now=T0,
    )
    got = world.pull(10)
    assert [(m.offset, m.message_id, m.data) for m in got] == [(0, "0", b"one"), (1, "1", b"two")]
    assert [m.ack_id for m in got] == [
        "projects/ARGO/subscriptions/S1:0",
        "projects/ARGO/subscriptions/S1:1",
    ]
    assert got[0].attributes == {"a": "1", "b": "2"}
    assert got[1].attributes == {}
    assert got[0].publish_time == T0


def test_pull_reads_at_most_max_messages_and_at_least_one(world: World) -> None:
    world.publish("a", "b", "c")
    assert [m.offset for m in world.pull(2)] == [0, 1]
    assert [m.offset for m in world.pull(0)] == [0]  # 0 (or less) means the default, 1


def test_a_new_subscription_sees_only_messages_published_after_it(world: World) -> None:
    world.publish("old1", "old2")
    msg.create_subscription(
        world.session, world.owner, project=P, subscription="LATE", topic="projects/ARGO/topics/T1"
    )
    assert world.pull(sub="LATE") == []
    world.publish("new")
    assert [m.data for m in world.pull(sub="LATE")] == [b"new"]
    assert [m.data for m in world.pull(sub="S1")] == [b"old1", b"old2", b"new"]


def test_unacked_messages_come_again_on_the_next_pull_even_before_the_deadline(
    world: World,
) -> None:
    world.publish("a", "b", "c")
    assert [m.offset for m in world.pull(2, now=T0)] == [0, 1]
    assert [m.offset for m in world.pull(2, now=T0 + timedelta(seconds=1))] == [0, 1]
    world.ack(0, now=T0 + timedelta(seconds=2))
    assert [m.offset for m in world.pull(5, now=T0 + timedelta(seconds=3))] == [1, 2]


def test_ack_is_cumulative(world: World) -> None:
    world.publish("a", "b", "c")
    world.pull(3, now=T0)
    world.ack(2, now=T0)  # only the last one
    sub = world.sub()
    assert (sub.offset, sub.pending_ack_at) == (3, None)
    assert world.pull(now=T0) == []


def test_the_highest_ack_id_of_a_list_counts(world: World) -> None:
    world.publish("a", "b", "c")
    world.pull(3, now=T0)
    world.ack(1, 0, now=T0)
    assert world.sub().offset == 2


def test_ack_without_a_pull_is_no_ack_pending(world: World) -> None:
    world.publish("a")
    with pytest.raises(AckRejected, match="no ack pending") as caught:
        world.ack(0)
    assert caught.value.http_code == 500
    assert caught.value.code == "CONFLICT"


def test_a_second_ack_is_no_ack_pending(world: World) -> None:
    world.publish("a", "b")
    world.pull(2, now=T0)
    world.ack(1, now=T0)
    with pytest.raises(AckRejected, match="no ack pending"):
        world.ack(1, now=T0)


def test_ack_beyond_what_was_pulled_is_a_wrong_ack_and_changes_nothing(world: World) -> None:
    world.publish("a", "b", "c")
    world.pull(2, now=T0)
    before = world.sub()
    with pytest.raises(AckRejected, match="wrong ack"):
        world.ack(2, now=T0)  # offset 2 was not pulled: 3 is outside (0, 2]
    assert world.sub() == before


def test_ack_of_an_already_committed_offset_is_a_wrong_ack(world: World) -> None:
    world.publish("a", "b", "c")
    world.pull(1, now=T0)
    world.ack(0, now=T0)
    world.pull(2, now=T0)
    with pytest.raises(AckRejected, match="wrong ack"):
        world.ack(0, now=T0)  # 1 is not in (1, 3]
    world.ack(2, now=T0)
    assert world.sub().offset == 3


def test_ack_after_an_empty_pull_is_a_wrong_ack(world: World) -> None:
    assert world.pull(now=T0) == []
    with pytest.raises(AckRejected, match="wrong ack"):
        world.ack(0, now=T0)


@pytest.mark.parametrize(
    "ack_id",
    [
        "projects/ARGO/subscriptions/S1",
        "projects/ARGO/subscriptions/S1:",
        "projects/ARGO/subscriptions/S1:x",
        "projects/ARGO/subscriptions/S1:-1",
        "projects/ARGO/subscriptions/S2:0",
        "projects/OTHER/subscriptions/S1:0",
        "/projects/ARGO/subscriptions/S1:0",
        "S1:0",
    ],
)
def test_malformed_ack_ids_are_invalid_and_change_nothing(world: World, ack_id: str) -> None:
    world.publish("a")
    world.pull(now=T0)
    before = world.sub()
    with pytest.raises(Invalid, match="Invalid ack id") as caught:
        msg.acknowledge(
            world.session,
            world.owner,
            project=P,
            subscription="S1",
            ack_ids=["projects/ARGO/subscriptions/S1:0", ack_id],
        )
    assert caught.value.field == "ackIds[1]"
    assert world.sub() == before


def test_an_empty_ack_list_is_invalid(world: World) -> None:
    with pytest.raises(Invalid, match="Invalid ack id"):
        msg.acknowledge(world.session, world.owner, project=P, subscription="S1", ack_ids=[])


def test_ack_at_the_deadline_is_in_time(world: World) -> None:
    world.publish("a")
    world.pull(now=T0)
    world.ack(0, now=T0 + timedelta(seconds=10))
    assert world.sub().offset == 1


def test_ack_one_second_after_the_deadline_times_out_and_changes_nothing(world: World) -> None:
    world.publish("a")
    world.pull(now=T0)
    before = world.sub()
    with pytest.raises(AckTimeout, match="ack timeout") as caught:
        world.ack(0, now=T0 + timedelta(seconds=11))
    assert (caught.value.http_code, caught.value.ams_status) == (408, "TIMEOUT")
    assert caught.value.code == "BAD_USER_INPUT"
    assert world.sub() == before
    # the message is still there, and a new pull restarts the clock
    assert [m.offset for m in world.pull(now=T0 + timedelta(seconds=20))] == [0]
    world.ack(0, now=T0 + timedelta(seconds=30))


def test_the_deadline_is_counted_in_whole_seconds_as_ams_does(world: World) -> None:
    world.publish("a", "b")
    world.pull(1, now=T0)
    world.ack(0, now=T0 + timedelta(seconds=10, microseconds=999_999))  # 10 s after truncation
    world.pull(1, now=T0 + timedelta(seconds=20, microseconds=900_000))
    with pytest.raises(AckTimeout):
        world.ack(1, now=T0 + timedelta(seconds=31))  # 31 - 20 = 11 whole seconds


def test_the_deadline_follows_modify_ack_deadline(world: World) -> None:
    msg.modify_ack_deadline(
        world.session, world.con_in, project=P, subscription="S1", ack_deadline=30
    )
    world.publish("a")
    world.pull(now=T0)
    world.ack(0, now=T0 + timedelta(seconds=30))
    assert world.sub().ack_deadline == 30


@pytest.mark.parametrize("value", [-1, 601, True])
def test_ack_deadline_out_of_range_is_invalid(world: World, value: int) -> None:
    before = snapshot(world.session)
    with pytest.raises(Invalid) as caught:
        msg.modify_ack_deadline(
            world.session, world.owner, project=P, subscription="S1", ack_deadline=value
        )
    assert caught.value.field == "ackDeadlineSeconds"
    assert world.sub().ack_deadline == 10
    assert snapshot(world.session) == before


def test_ack_deadline_zero_means_the_default(world: World) -> None:
    msg.modify_ack_deadline(
        world.session, world.owner, project=P, subscription="S1", ack_deadline=600
    )
    assert world.sub().ack_deadline == 600
    msg.modify_ack_deadline(
        world.session, world.owner, project=P, subscription="S1", ack_deadline=0
    )
    assert world.sub().ack_deadline == 10


def _topic_row(world: World, name: str = "T1") -> tuple[int, int, int]:
    world.session.expire_all()
    topic = world.session.execute(select(MsgTopic).where(col(MsgTopic.name) == name)).scalar_one()
    return topic.next_offset, topic.message_count, topic.bytes_in


@pytest.mark.parametrize(
    ("messages", "field"),
    [
        ([], "messages"),
        ("not a list", "messages"),
        ([{"data": b64("ok")}, {"data": "not base64!"}], "messages[1].data"),
        ([{"data": "aGVsbG8"}], "messages[0].data"),  # missing padding: strict base64
        ([{"data": 42}], "messages[0].data"),
        ([{"data": b64("ok"), "attributes": {"k": 1}}], "messages[0].attributes"),
        ([{"data": b64("ok"), "attributes": ["k"]}], "messages[0].attributes"),
        ([{"data": b64("ok")}, "text"], "messages[1]"),
    ],
)
def test_bad_publishes_are_invalid_and_change_nothing(
    world: World, messages: object, field: str
) -> None:
    world.publish("first")
    before, counters = snapshot(world.session), _topic_row(world)
    with pytest.raises(Invalid, match="Invalid Message Arguments") as caught:
        msg.publish(world.session, world.owner, project=P, topic="T1", messages=messages)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert snapshot(world.session) == before
    assert _topic_row(world) == counters


def test_an_oversized_message_is_413_and_changes_nothing(world: World) -> None:
    before, counters = snapshot(world.session), _topic_row(world)
    with pytest.raises(MessageTooLarge, match="Message size is too large") as caught:
        msg.publish(
            world.session,
            world.owner,
            project=P,
            topic="T1",
            messages=[{"data": b64("x" * 10)}, {"data": b64("y" * 8), "attributes": {"k": "vw"}}],
            max_message_bytes=10,
        )
    assert (caught.value.http_code, caught.value.field) == (413, "messages[1]")
    assert caught.value.code == "BAD_USER_INPUT"
    assert snapshot(world.session) == before
    assert _topic_row(world) == counters


def test_a_message_of_exactly_the_limit_is_accepted(world: World) -> None:
    offsets = msg.publish(
        world.session,
        world.owner,
        project=P,
        topic="T1",
        messages=[{"data": b64("x" * 7), "attributes": {"a": "bc"}}],
        max_message_bytes=10,
    )
    assert offsets == [0]


def test_empty_data_and_missing_attributes_are_fine(world: World) -> None:
    msg.publish(world.session, world.owner, project=P, topic="T1", messages=[{"data": ""}])
    (got,) = world.pull()
    assert (got.data, got.attributes) == (b"", {})


def test_binary_payloads_round_trip(world: World) -> None:
    payload = bytes(range(256))
    msg.publish(
        world.session, world.owner, project=P, topic="T1", messages=[{"data": b64(payload)}]
    )
    assert world.pull()[0].data == payload


def test_counters_of_topic_subscription_project_and_users(world: World) -> None:
    s = world.session
    msg.publish(s, world.pub_in, project=P, topic="T1", messages=[{"data": b64("abc")}] * 2)
    msg.publish(
        s,
        world.owner,
        project=P,
        topic="T1",
        messages=[{"data": b64("z"), "attributes": {"k": "v"}}],
    )
    msg.pull(s, world.con_in, project=P, subscription="S1", max_messages=2, now=T0)
    msg.pull(s, world.con_in, project=P, subscription="S1", max_messages=3, now=T0)  # again

    topic = msg.topic_metrics(s, world.owner, project=P, topic="T1")
    assert (topic.messages, topic.bytes, topic.subscriptions) == (3, 9, 1)
    assert topic.published_at is not None
    sub = msg.subscription_metrics(s, world.owner, project=P, subscription="S1")
    assert (sub.messages, sub.bytes) == (5, 15)  # redelivered messages count again
    project = msg.project_metrics(s, world.owner, project=P)
    assert (project.topics, project.subscriptions) == (2, 2)
    assert project.usage == Usage(messages_in=3, bytes_in=9, messages_out=5, bytes_out=15)
    assert project.per_user == {
        "con.in@egi.eu": Usage(messages_out=5, bytes_out=15),
        "owner@egi.eu": Usage(messages_in=1, bytes_in=3),
        "pub.in@egi.eu": Usage(messages_in=2, bytes_in=6),
    }
    assert msg.user_usage(s, world.pub_in) == {"ARGO": Usage(messages_in=2, bytes_in=6)}
    assert msg.user_usage(s, world.admin, subject="con.in@egi.eu") == {
        "ARGO": Usage(messages_out=5, bytes_out=15)
    }


def test_the_platform_publishes_and_pulls_without_usage_rows(world: World) -> None:
    s = world.session
    msg.publish(s, PLATFORM, project=P, topic="T1", messages=[{"data": b64("abc")}])
    assert [m.data for m in msg.pull(s, PLATFORM, project=P, subscription="S1")] == [b"abc"]
    assert msg.project_metrics(s, world.owner, project=P).per_user == {}


def test_a_subscription_of_a_deleted_topic_cannot_pull(world: World) -> None:
    world.publish("a")
    world.publish("b", topic="T2")
    msg.delete_topic(world.session, world.owner, project=P, topic="T1")
    sub = world.sub()
    assert (sub.topic_id, sub.topic, sub.full_topic) == (None, "T1", "/projects/ARGO/topics/T1")
    for call in (
        lambda: world.pull(),
        lambda: msg.offsets(world.session, world.owner, project=P, subscription="S1"),
        lambda: msg.modify_offset(
            world.session, world.owner, project=P, subscription="S1", offset=0
        ),
    ):
        with pytest.raises(AmsConflict, match="Subscription's topic doesn't exist") as caught:
            call()
        assert (caught.value.http_code, caught.value.ams_status) == (409, "CONFLICT")
    assert world.session.execute(select(func.count()).select_from(MsgMessage)).scalar_one() == 1
    assert world.sub("S2").topic_id is not None  # other topics' subscriptions are untouched


def test_publish_wakes_idle_verified_push_subscriptions_only(world: World) -> None:
    s = world.session
    for name, config in [
        ("MM", {"type": "mattermost", "mattermostUrl": "https://mm.example.org/h"}),
        ("BUSY", {"type": "mattermost", "mattermostUrl": "https://mm.example.org/h"}),
        ("UNVERIFIED", {"pushEndpoint": "https://push.example.org/h"}),
    ]:
        msg.create_subscription(
            s,
            world.owner,
            project=P,
            subscription=name,
            topic="projects/ARGO/topics/T1",
            push_config=config,
        )
    rows = {r.name: r for r in s.execute(select(MsgSubscription)).scalars()}
    later = T0 + timedelta(hours=1)
    rows["MM"].next_attempt_at = None  # idle: delivered everything
    rows["BUSY"].next_attempt_at = later  # in backoff
    s.flush()
    world.publish("x", now=T0)
    s.expire_all()
    rows = {r.name: r for r in s.execute(select(MsgSubscription)).scalars()}
    assert rows["MM"].next_attempt_at == T0
    assert rows["BUSY"].next_attempt_at == later
    assert rows["UNVERIFIED"].next_attempt_at is None
    assert rows["S1"].next_attempt_at is None  # a pull subscription
