"""Waiting pulls wake when a publish COMMITS, not before and not on rollback."""

from __future__ import annotations

import asyncio
import threading

from domains.messaging import notify
from tests.messaging.conftest import World


def topic_id(world: World) -> int:
    topic = world.sub("S1").topic_id
    assert topic is not None
    return topic


def test_waiters_wake_after_commit_only(world: World) -> None:
    tid = topic_id(world)
    world.session.commit()
    token = notify.token(tid)
    world.publish("a")
    assert notify.token(tid) == token
    assert notify.wait_for_messages(tid, 0, since=token) is False
    world.session.commit()
    assert notify.token(tid) == token + 1
    assert notify.wait_for_messages(tid, 0, since=token) is True


def test_a_rolled_back_publish_wakes_nobody(world: World) -> None:
    tid = topic_id(world)
    world.session.commit()
    token = notify.token(tid)
    world.publish("a")
    world.session.rollback()
    world.session.commit()  # a later, empty commit of the same session
    assert notify.token(tid) == token


def test_only_the_published_topics_wake(world: World) -> None:
    tid = topic_id(world)
    other = world.sub("S2").topic_id
    assert other is not None
    world.session.commit()
    before = notify.token(other)
    world.publish("a", topic="T1")
    world.session.commit()
    assert notify.token(other) == before
    assert notify.token(tid) > 0


def test_a_waiting_thread_is_woken(world: World) -> None:
    tid = topic_id(world)
    world.session.commit()
    token = notify.token(tid)
    result: list[bool] = []
    waiter = threading.Thread(
        target=lambda: result.append(notify.wait_for_messages(tid, 60, since=token))
    )
    waiter.start()
    world.publish("a")
    world.session.commit()
    waiter.join()
    assert result == [True]


def test_an_asyncio_waiter_is_woken_from_another_thread(world: World) -> None:
    tid = topic_id(world)
    world.session.commit()
    token = notify.token(tid)

    def publish_and_commit() -> None:
        world.publish("a")
        world.session.commit()

    async def main() -> bool:
        waiting = asyncio.ensure_future(notify.wait_for_messages_async(tid, 60, since=token))
        await asyncio.get_running_loop().run_in_executor(None, publish_and_commit)
        return await waiting

    assert asyncio.run(main()) is True


def test_waiting_without_a_publish_times_out() -> None:
    assert notify.wait_for_messages(-1, 0.01) is False
    assert asyncio.run(notify.wait_for_messages_async(-1, 0.01)) is False
    assert notify._waiters.get(-1) is None  # nothing left behind
