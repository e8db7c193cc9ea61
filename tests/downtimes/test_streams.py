"""`downtimeEvents` over graphql-transport-ws, against an app on a database of its own
(each read of the stream is a committed transaction of its own): declared, changed,
started, ended and cancelled events arrive in order, filtered, and a stream resumed with
`after` misses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient, WebSocketTestSession

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.common.time import utcnow
from domains.downtimes import events
from domains.downtimes import service as downtimes
from domains.downtimes.models import Severity
from domains.topology.seed import seed_demo
from gateway.app import create_app
from gateway.config import Settings
from tests.databases import private_database
from tests.websocket import receive_json

PROTOCOL = ["graphql-transport-ws"]
STREAM = """subscription($f: DowntimeEventFilter, $after: Long) {
  downtimeEvents(filter: $f, after: $after) {
    sequence kind downtimeId site ngi severity classification startsAt endsAt
    services { hostName serviceType endedAt }
  }
}"""
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def live_engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with private_database(database_url, tmp_path_factory.mktemp("dtlive")) as url:
        engine = make_engine(url)
        with unit_of_work(make_session_factory(engine)) as session:
            seed_demo(session)
        yield engine
        engine.dispose()


@pytest.fixture
def live(
    live_engine: Engine, database_url: str, fast_executor: bool
) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    factory = make_session_factory(live_engine)
    settings = Settings(
        database_url=database_url,
        log_format="text",
        pg_listen=False,
        fast_executor=fast_executor,
    )
    app = create_app(settings, engine=live_engine, session_factory=factory)
    with TestClient(app) as client:
        yield client, factory


def _two_sites(session: Session) -> tuple[tuple[int, str], tuple[int, str]]:
    rows = session.execute(
        text(
            "SELECT sv.id, s.short_name FROM service sv JOIN site s ON s.id = sv.site_id "
            "ORDER BY sv.id"
        )
    ).all()
    first = rows[0]
    second = next(r for r in rows if r[1] != first[1])
    return (int(first[0]), str(first[1])), (int(second[0]), str(second[1]))


def _declare(factory: sessionmaker[Session], service_id: int, start: timedelta) -> int:
    now = utcnow()
    with unit_of_work(factory) as session:
        made = downtimes.declare_downtime(
            session,
            PLATFORM,
            declaration=downtimes.Declaration(
                service_ids=[service_id],
                severity=Severity.OUTAGE,
                starts_at=now + start,
                ends_at=now + start + H,
                description="Live test",
            ),
            now=now,
        )
        return pk(made)


def _now_sequence(factory: sessionmaker[Session]) -> int:
    """Where the stream starts: a stream without `after` starts at the newest event when it
    begins, which may come after the test's next commit; so these tests give it."""
    with unit_of_work(factory) as session:
        return events.last_sequence(session, PLATFORM)


def _subscribe(socket: WebSocketTestSession, variables: dict[str, Any]) -> None:
    socket.send_json({"type": "connection_init", "payload": {}})
    assert receive_json(socket)["type"] == "connection_ack"
    socket.send_json(
        {"id": "1", "type": "subscribe", "payload": {"query": STREAM, "variables": variables}}
    )


def _next(socket: WebSocketTestSession) -> dict[str, Any]:
    message = receive_json(socket)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"]["downtimeEvents"]
    return event


def test_events_arrive_in_order_and_filtered(
    live: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = live
    with unit_of_work(factory) as session:
        (mine, site), (other, _other_site) = _two_sites(session)
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _subscribe(socket, {"f": {"site": [site]}, "after": _now_sequence(factory)})
        ignored = _declare(factory, other, H)  # another site: filtered out
        made = _declare(factory, mine, 2 * H)
        declared = _next(socket)
        assert declared["kind"] == "DECLARED"
        assert declared["site"] == site
        assert declared["classification"] == "UNSCHEDULED"
        with unit_of_work(factory) as session:
            downtimes.update_downtime(
                session, PLATFORM, downtime_id=made, description="Moved", now=utcnow()
            )
        assert _next(socket)["kind"] == "CHANGED"
        with unit_of_work(factory) as session:
            downtimes.delete_downtime(session, PLATFORM, downtime_id=made, now=utcnow())
        cancelled = _next(socket)
        assert cancelled["kind"] == "CANCELLED"
        assert cancelled["downtimeId"] == declared["downtimeId"]
        assert int(cancelled["sequence"]) > int(declared["sequence"])
        socket.send_json({"id": "1", "type": "complete"})
    with unit_of_work(factory) as session:  # the ignored one is still there, unannounced
        downtimes.delete_downtime(session, PLATFORM, downtime_id=ignored, now=utcnow())


def test_started_and_ended_from_the_transitions_job_and_resume_with_after(
    live: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = live
    with unit_of_work(factory) as session:
        (mine, site), _ = _two_sites(session)
    first = _declare(factory, mine, -H / 2)  # ongoing
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _subscribe(
            socket,
            {"f": {"site": [site], "kind": ["STARTED", "ENDED"]}, "after": _now_sequence(factory)},
        )
        with unit_of_work(factory) as session:
            downtimes.emit_transitions(session, now=utcnow() + 2 * H)
        started = _next(socket)
        ended = _next(socket)
        assert (started["kind"], ended["kind"]) == ("STARTED", "ENDED")
        socket.send_json({"id": "1", "type": "complete"})
    # resuming after the STARTED event hands out the ENDED one again, nothing before it
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _subscribe(socket, {"f": {"site": [site]}, "after": started["sequence"]})
        again = _next(socket)
        assert (again["kind"], again["sequence"]) == ("ENDED", ended["sequence"])
        socket.send_json({"id": "1", "type": "complete"})
    assert first > 0


def test_a_negative_after_is_refused_by_name(
    live: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, _ = live
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _subscribe(socket, {"after": -1})
        message = receive_json(socket)
        assert message["type"] == "error" or message["payload"].get("errors"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert errors[0]["extensions"]["field"] == "after"
