"""`statusChanges` over graphql-transport-ws against an app on a database of its own (each
read of the stream a committed transaction of its own), both backends: an anonymous
subscriber gets the changes ingestion commits, filtered, with their site and NGI; a stream
resumed with `after` misses nothing; bad input is refused by name."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col
from starlette.testclient import TestClient, WebSocketTestSession

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import ANONYMOUS
from domains.common.time import utcnow
from domains.downtimes.models import Classification, Downtime, DowntimeService, Severity
from domains.monitoring.models.catalogue import Metric
from domains.monitoring.service import changes
from domains.monitoring.service import results as ingest
from domains.topology.models import Service, ServiceType, Site
from domains.topology.seed import seed_demo
from gateway.app import create_app
from gateway.config import Settings
from tests.databases import private_database
from tests.monitoring import levels_world
from tests.monitoring.ingest_world import add_endpoint, result
from tests.websocket import receive_json
from workers import monitoring as worker

PROTOCOL = ["graphql-transport-ws"]
STREAM = """subscription($f: StatusChangeFilter, $after: Long) {
  statusChanges(filter: $f, after: $after) {
    id timestamp hostname serviceType metric status previousStatus summary site ngi
  }
}"""
Endpoint = tuple[str, str, str]  # host, service type, site


@pytest.fixture(scope="module")
def live_engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with private_database(database_url, tmp_path_factory.mktemp("statuslive")) as url:
        engine = make_engine(url)
        with unit_of_work(make_session_factory(engine)) as session:
            seed_demo(session)
            add_endpoint(session)
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def live(
    live_engine: Engine, database_url: str
) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    factory = make_session_factory(live_engine)
    settings = Settings(database_url=database_url, log_format="text", pg_listen=False)
    app = create_app(settings, engine=live_engine, session_factory=factory)
    with TestClient(app) as client:
        yield client, factory


def _two_sites(factory: sessionmaker[Session]) -> tuple[Endpoint, Endpoint]:
    with unit_of_work(factory) as session:
        rows = session.execute(
            select(col(Service.host_name), col(ServiceType.name), col(Site.short_name))
            .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
            .join(Site, col(Site.id) == col(Service.site_id))
            .order_by(col(Service.id))
        ).all()
    first = (str(rows[0][0]), str(rows[0][1]), str(rows[0][2]))
    second = next((str(r[0]), str(r[1]), str(r[2])) for r in rows if r[2] != first[2])
    return first, second


def _publish(factory: sessionmaker[Session], endpoint: Endpoint, status: str) -> None:
    with unit_of_work(factory) as session:
        done = ingest.ingest_results(
            session, "test-stream", [result(endpoint[:2], at=utcnow(), status=status)]
        )
        assert not done.rejected, done.rejected


def _last(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return changes.last_change_id(session, ANONYMOUS)


def _subscribe(socket: WebSocketTestSession, variables: dict[str, Any]) -> None:
    socket.send_json({"type": "connection_init", "payload": {}})  # anonymous
    assert receive_json(socket)["type"] == "connection_ack"
    socket.send_json(
        {"id": "1", "type": "subscribe", "payload": {"query": STREAM, "variables": variables}}
    )


def _next(socket: WebSocketTestSession) -> dict[str, Any]:
    message = receive_json(socket)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"]["statusChanges"]
    return event


def test_changes_arrive_filtered_and_resume_with_after(
    live: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = live
    mine, other = _two_sites(factory)
    after = _last(factory)
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _subscribe(socket, {"f": {"site": [mine[2]]}, "after": after})
        _publish(factory, other, "OK")  # another site: filtered out
        _publish(factory, mine, "WARNING")
        first = _next(socket)
        assert (first["hostname"], first["serviceType"], first["site"]) == mine
        assert (first["status"], first["previousStatus"]) == ("WARNING", None)
        assert first["ngi"]
        assert dt.datetime.fromisoformat(first["timestamp"]).tzinfo is not None
        _publish(factory, mine, "CRITICAL")
        second = _next(socket)
        assert (second["status"], second["previousStatus"]) == ("CRITICAL", "WARNING")
        assert int(second["id"]) > int(first["id"])
        socket.send_json({"id": "1", "type": "complete"})
    # resuming after the first hands out the second again, nothing before it
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _subscribe(socket, {"f": {"status": ["CRITICAL", "WARNING"]}, "after": first["id"]})
        assert _next(socket)["id"] == second["id"]
        socket.send_json({"id": "1", "type": "complete"})


def test_a_stream_without_after_starts_at_the_newest(
    live: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = live
    mine, _ = _two_sites(factory)
    _publish(factory, mine, "UNKNOWN")  # before the stream: not told
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _subscribe(socket, {"f": {"hostname": [mine[0]], "status": ["OK"]}})
        # the stream starts when it is subscribed; the publish below may come before that,
        # so publish until one arrives
        for _ in range(50):
            _publish(factory, mine, "OK")
            _publish(factory, mine, "UNKNOWN")
            try:
                event = receive_json(socket, seconds=2.0)
            except TimeoutError:
                continue
            break
        assert event["type"] == "next", event
        assert event["payload"]["data"]["statusChanges"]["status"] == "OK"
        socket.send_json({"id": "1", "type": "complete"})


@pytest.mark.parametrize(
    ("variables", "field", "rule"),
    [
        ({"after": -1}, "after", "STATUS_CHANGE_AFTER_NEGATIVE"),
        ({"f": {"status": ["MISSING"]}}, "filter.status", "STATUS_FILTER_STATUS_UNKNOWN"),
        ({"f": {"site": []}}, "filter.site", "STATUS_FILTER_VALUE_COUNT"),
        ({"f": {"level": []}}, "filter.level", "STATUS_FILTER_VALUE_COUNT"),
        ({"f": {"level": ["SITE"], "report": [""]}}, "filter.report", "STATUS_FILTER_NAME_INVALID"),
    ],
)
def test_bad_input_is_refused_by_name(
    live: tuple[TestClient, sessionmaker[Session]], variables: dict[str, Any], field: str, rule: str
) -> None:
    client, _ = live
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _subscribe(socket, variables)
        message = receive_json(socket)
        assert message["type"] == "error" or message["payload"].get("errors"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert (errors[0]["extensions"]["field"], errors[0]["extensions"]["rule"]) == (field, rule)


LEVEL_STREAM = """subscription($f: StatusChangeFilter) {
  statusChanges(filter: $f) { level name report status previousStatus site ngi hostname metric }
}"""


def _levels_world(factory: sessionmaker[Session]) -> None:
    """tests/monitoring/levels_world.py and its metric m1 in the module's database, once."""
    with unit_of_work(factory) as session:
        if session.scalar(select(col(Site.id)).where(col(Site.short_name) == "LVL-A")):
            return
        levels_world.build(session)
        session.add(
            Metric(
                uuid=str(uuid.uuid4()),
                date=dt.date(2025, 1, 1),
                name="m1",
                probe_name="p",
                probe_version="1",
            )
        )


def test_levels_above_the_metric_arrive_on_request(
    live: tuple[TestClient, sessionmaker[Session]],
) -> None:
    """A subscriber of SITE and ENDPOINT changes of lvl-report gets se.a's change and then
    LVL-A's when a result of se.a's m1 changes them (tests/monitoring/levels_world.py, whose
    results are of another day: today all but se.a is MISSING, and so is LVL-A unless se.a
    is CRITICAL)."""
    client, factory = live
    _levels_world(factory)
    host = "se.a.lvl.example.org"
    wanted = {"level": ["SITE", "ENDPOINT"], "report": [levels_world.REPORT]}
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        socket.send_json({"type": "connection_init", "payload": {}})
        assert receive_json(socket)["type"] == "connection_ack"
        socket.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": LEVEL_STREAM, "variables": {"f": wanted}},
            }
        )
        # the stream starts when it is subscribed: publish, CRITICAL and OK in turn (each
        # commit one change of se.a and of LVL-A: MISSING AND OK is MISSING), until events come
        for turn in range(50):
            with unit_of_work(factory) as session:
                status = "CRITICAL" if turn % 2 == 0 else "OK"
                record = result(
                    (host, levels_world.STORAGE), at=utcnow(), status=status, metric="m1"
                )
                outcome = ingest.ingest_results(session, "test-stream", [record])
                assert not outcome.rejected, outcome.rejected
            try:
                first = receive_json(socket, seconds=2.0)
            except TimeoutError:
                continue
            break
        assert first["type"] == "next", first
        event = first["payload"]["data"]["statusChanges"]
        assert (event["level"], event["name"], event["report"]) == (
            "ENDPOINT",
            host,
            levels_world.REPORT,
        )
        assert (event["hostname"], event["metric"], event["site"]) == (host, "", "LVL-A")
        assert event["status"] in {"CRITICAL", "OK"}
        site = _next(socket)
        assert (site["level"], site["name"], site["hostname"]) == ("SITE", "LVL-A", "")
        assert site["status"] == ("CRITICAL" if event["status"] == "CRITICAL" else "MISSING")
        socket.send_json({"id": "1", "type": "complete"})


def test_a_downtime_starting_is_told_above_the_metric_when_it_starts(
    live: tuple[TestClient, sessionmaker[Session]],
) -> None:
    """A subscriber of ce1.b's ENDPOINT changes (levels_world: MISSING today) hears it turn
    DOWNTIME when an OUTAGE declared to start a second later starts, as the worker job
    `monitoring.downtime_moments` records the moment; no result arrives meanwhile."""
    client, factory = live
    _levels_world(factory)
    host = "ce1.b.lvl.example.org"
    worker.record_downtime_moments(factory)  # its cursor: from now on
    after = _last(factory)
    wanted = {"level": ["ENDPOINT"], "hostname": [host], "report": [levels_world.REPORT]}
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        socket.send_json({"type": "connection_init", "payload": {}})
        assert receive_json(socket)["type"] == "connection_ack"
        socket.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": STREAM_AFTER, "variables": {"f": wanted, "after": after}},
            }
        )
        starts = utcnow() + dt.timedelta(seconds=1)
        with unit_of_work(factory) as session:
            site, service = session.execute(
                select(col(Service.site_id), col(Service.id)).where(col(Service.host_name) == host)
            ).one()
            downtime = Downtime(
                severity=Severity.OUTAGE,
                classification=Classification.SCHEDULED,
                description="starts in a second",
                site_id=site,
                declared_by="test",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
            )
            session.add(downtime)
            session.flush()
            assert downtime.id is not None
            assert service is not None
            session.add(DowntimeService(downtime_id=downtime.id, service_id=service))
        assert worker.record_downtime_moments(factory) == 0  # not started yet
        while utcnow() <= starts:
            time.sleep(0.1)
        assert worker.record_downtime_moments(factory) >= 1
        event = _next(socket)
        assert (event["level"], event["name"], event["site"]) == ("ENDPOINT", host, "LVL-B")
        assert (event["status"], event["previousStatus"]) == ("DOWNTIME", "MISSING")
        assert event["metric"] == ""
        assert int(event["id"]) > after
        socket.send_json({"id": "1", "type": "complete"})


STREAM_AFTER = """subscription($f: StatusChangeFilter, $after: Long) {
  statusChanges(filter: $f, after: $after) { id level name status previousStatus site metric }
}"""
