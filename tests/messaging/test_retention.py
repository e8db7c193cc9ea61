"""Retention: purge_expired_messages drops old messages; offsets and pulls follow."""

from __future__ import annotations

from datetime import timedelta

from domains.messaging import service as msg
from tests.messaging.conftest import T0, World


def test_purge_drops_old_messages_and_pulls_skip_to_the_oldest_left(world: World) -> None:
    for i in range(3):
        world.publish(f"m{i}", now=T0 + timedelta(seconds=10 * i))
    world.publish("other", topic="T2", now=T0)
    removed = msg.purge_expired_messages(world.session, older_than=T0 + timedelta(seconds=15))
    assert removed == 3  # two of T1, one of T2
    o = msg.offsets(world.session, world.owner, project="ARGO", subscription="S1")
    assert (o.min, o.current, o.max) == (2, 2, 3)
    (got,) = world.pull(now=T0)
    assert (got.offset, got.data) == (2, b"m2")
    world.ack(2, now=T0)
    assert world.sub().offset == 3


def test_purge_of_everything_leaves_the_offsets_at_the_end(world: World) -> None:
    world.publish("a", "b", now=T0)
    assert msg.purge_expired_messages(world.session, older_than=T0 + timedelta(days=1)) == 2
    o = msg.offsets(world.session, world.owner, project="ARGO", subscription="S1")
    assert (o.min, o.current, o.max) == (2, 2, 2)
    assert world.pull(now=T0) == []
    world.publish("c", now=T0)
    assert [m.data for m in world.pull(now=T0)] == [b"c"]


def test_purge_keeps_what_is_left_contiguous(world: World) -> None:
    world.publish("late", now=T0 + timedelta(seconds=20))
    world.publish("early", now=T0)  # clocks disagree: a later offset with an older time
    world.publish("fresh", now=T0 + timedelta(seconds=30))
    assert msg.purge_expired_messages(world.session, older_than=T0 + timedelta(seconds=10)) == 2
    assert [m.offset for m in world.pull(10, now=T0)] == [2]


def test_purge_with_nothing_old_removes_nothing(world: World) -> None:
    world.publish("a", now=T0)
    assert msg.purge_expired_messages(world.session, older_than=T0) == 0
