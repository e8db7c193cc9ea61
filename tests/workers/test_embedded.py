"""Embedded mode: events committed while nothing runs are handled once a runtime starts on
the same database; the runtime's loops start, wake on commit and stop cleanly; the periodic
scheduler runs the registered jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common.db import make_session_factory, unit_of_work
from domains.common.outbox import (
    OutboxEvent,
    emit,
    periodic,
    periodic_job_named,
    prune_sent_events,
    run_handler,
    watch_commits,
)
from domains.common.time import utcnow
from tests.workers.conftest import Rig, wait_until
from tests.workers.handlers import FIRST, KIND, SECOND
from workers.runtime import WorkerRuntime

pytestmark = pytest.mark.parametrize("mode", ["embedded"], indirect=True)


def test_events_committed_while_stopped_are_handled_after_a_restart(rig: Rig) -> None:
    ids = rig.emit(5)
    # One handler had already committed for the first event before the "restart".
    with unit_of_work(make_session_factory(rig.engine)) as session:
        assert run_handler(session, FIRST, ids[0])
    runtime = WorkerRuntime(rig.settings(), schedule=False)
    runtime.start()
    try:
        rig.wait_all_handled(ids)
        wait_until(lambda: not rig.unsent(), "every row to be marked sent")
    finally:
        runtime.stop()
    rig.assert_exactly_once(ids)


def test_a_commit_that_emits_wakes_the_relay(rig: Rig) -> None:
    # Polling every hour: only the wake-up can make the relay run again in time.
    runtime = WorkerRuntime(rig.settings(OPSGRAPH_RELAY_INTERVAL="3600"), schedule=False)
    factory = make_session_factory(rig.engine)
    watch_commits(factory, runtime.wake)
    runtime.start()
    try:
        wait_until(lambda: not rig.unsent(), "the first pass")
        with unit_of_work(factory) as session:
            event_id = emit(session, KIND, {}).id
        assert event_id is not None
        rig.wait_all_handled([event_id])
    finally:
        runtime.stop()
    rig.assert_exactly_once([event_id])


def test_watch_commits_wakes_only_after_commits_that_emitted(rig: Rig) -> None:
    factory = make_session_factory(rig.engine)
    woken: list[int] = []
    watch_commits(factory, lambda: woken.append(1))
    with unit_of_work(factory) as session:
        session.get(OutboxEvent, 1)
    assert woken == []
    session = factory()
    emit(session, KIND, {})
    session.rollback()
    session.close()
    with unit_of_work(factory):
        pass
    assert woken == []
    with unit_of_work(factory) as session:
        emit(session, KIND, {})
    assert woken == [1]
    assert rig.count_events() == 1


calls: list[int] = []


@periodic("test.count_calls", every_seconds=0.05)
def count_calls(factory: sessionmaker[Session]) -> int:
    calls.append(1)
    return 1


def test_the_scheduler_runs_periodic_jobs_until_stopped(rig: Rig) -> None:
    calls.clear()
    runtime = WorkerRuntime(rig.settings(), relay=False)
    runtime.start()
    try:
        wait_until(lambda: len(calls) >= 3, "the job to run three times")
    finally:
        runtime.stop()
    after_stop = len(calls)
    assert runtime.run_job(periodic_job_named("test.count_calls")) == 1
    assert len(calls) == after_stop + 1


def test_prune_drops_old_sent_events_only(rig: Rig) -> None:
    factory = make_session_factory(rig.engine)
    old, recent, unsent = rig.emit(3)
    for event_id in (old, recent):
        for handler in (FIRST, SECOND):
            with unit_of_work(factory) as session:
                run_handler(session, handler, event_id)
    now = utcnow()
    with unit_of_work(factory) as session:
        for event_id, sent in ((old, now - timedelta(days=8)), (recent, now - timedelta(days=1))):
            session.execute(
                update(OutboxEvent).where(col(OutboxEvent.id) == event_id).values(sent_at=sent)
            )
    assert periodic_job_named("outbox.prune").fn is prune_sent_events
    assert prune_sent_events(factory) == 1
    assert prune_sent_events(factory) == 0
    assert [row.id for row in rig.unsent()] == [unsent]
    assert rig.count_events() == 2
    assert {event_id for _, event_id in rig.processed()} == {recent}
