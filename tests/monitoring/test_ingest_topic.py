"""ARGO's metric_data messages published over the AMS REST routes, as ARGO's publishers
send them (attributes type and partition_date, data the base64 of an Avro record), are
ingested by the worker's job: the good ones stored, the bad ones and the undecodable ones
rejected and counted under the topic, each message once; retention deletes old results."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common.identity import PLATFORM
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from domains.identity.service import tokens
from domains.messaging import service as messaging
from domains.monitoring import avro
from domains.monitoring.models.results import MetricResult, ResultRejectionCount, TopicCursor
from domains.monitoring.service import results
from domains.monitoring.service import topic as topic_service
from tests.conftest import AppFactory
from tests.monitoring.ingest_world import add_endpoint, result
from workers import monitoring as worker

PUBLISH = "/v1/projects/monitoring/topics/metric_data:publish"
SOURCE = "topic:monitoring/metric_data"


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL here: a second executor would only repeat the test."""
    return True


@pytest.fixture
def publisher(session: Session) -> str:
    """The monitoring project and topic, a monitoring host allowed to publish; its key."""
    messaging.create_project(session, PLATFORM, name="monitoring", description="results")
    messaging.create_topic(session, PLATFORM, project="monitoring", topic="metric_data")
    messaging.add_member(
        session, PLATFORM, project="monitoring", subject="nagios@egi.eu", roles=["publisher"]
    )
    messaging.modify_topic_acl(
        session, PLATFORM, project="monitoring", topic="metric_data", users=["nagios@egi.eu"]
    )
    _, key = tokens.create_api_token(session, PLATFORM, name="nagios", user_subject="nagios@egi.eu")
    session.commit()
    return key


def _stored(session: Session) -> list[MetricResult]:
    return list(
        session.scalars(
            select(MetricResult)
            .where(col(MetricResult.source) == SOURCE)
            .order_by(col(MetricResult.timestamp))
        )
    )


def test_metric_data_published_over_ams_is_ingested_once(
    make_client: AppFactory,
    session: Session,
    session_factory: sessionmaker[Session],
    publisher: str,
) -> None:
    endpoint = add_endpoint(session)
    session.commit()
    now = utcnow().replace(microsecond=0)
    good = [
        result(endpoint, at=now - dt.timedelta(minutes=10), status="CRITICAL"),
        result(endpoint, at=now - dt.timedelta(minutes=5), status="OK", tags={}),
    ]
    messages: list[dict[str, Any]] = [avro.to_message(r) for r in good]
    messages.insert(1, avro.to_message(result(endpoint, at=now, metric="org.unknown.metric")))
    messages.append(
        {"attributes": {"type": "metric_data"}, "data": base64.b64encode(b"\x07junk").decode()}
    )
    messages.append({"attributes": {"type": "alarm"}, "data": base64.b64encode(b"{}").decode()})
    client = make_client().client
    response = client.post(
        PUBLISH, content=json.dumps({"messages": messages}), headers={"x-api-key": publisher}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["messageIds"]) == 5

    config = worker.IngestConfig(batch=2)  # three batches for five messages
    assert worker.ingest_topic(session_factory, config) == 5
    stored = _stored(session)
    assert [(r.status, r.timestamp) for r in stored] == [(r.status, r.timestamp) for r in good]
    assert stored[0].perfdata == "time=0.1s;1;2"
    assert stored[0].tags == {"vofqan": "ops"}
    counts = {
        c.rule: c.count
        for c in session.scalars(
            select(ResultRejectionCount).where(col(ResultRejectionCount.source) == SOURCE)
        )
    }
    assert counts == {
        "RESULT_METRIC_UNKNOWN": 1,
        "RESULT_AVRO_MALFORMED": 1,
        "RESULT_MESSAGE_TYPE": 1,
    }
    cursor = session.get(TopicCursor, ("monitoring", "metric_data"))
    assert cursor is not None
    assert cursor.next_offset == 5

    # read once: a second run finds nothing; a new message is read alone
    assert worker.ingest_topic(session_factory, config) == 0
    later = result(endpoint, at=now, status="WARNING")
    response = client.post(
        PUBLISH,
        content=json.dumps({"messages": [avro.to_message(later)]}),
        headers={"x-api-key": publisher},
    )
    assert response.status_code == 200
    assert worker.ingest_topic(session_factory, config) == 1
    assert [r.status for r in _stored(session)] == ["CRITICAL", "OK", "WARNING"]

    # retention: everything older than the cut goes, the rest stays
    assert worker.purge_expired(session_factory, retention_days=1, clock=lambda: now) == 0
    gone = worker.purge_expired(
        session_factory, retention_days=1, clock=lambda: now + dt.timedelta(days=1, minutes=-2)
    )
    assert gone == 2
    assert [r.status for r in _stored(session)] == ["WARNING"]


def test_a_topic_not_there_or_made_again_is_read_from_its_start(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    config = worker.IngestConfig(project="nowhere", topic="none")
    assert worker.ingest_topic(session_factory, config) == 0
    messaging.create_project(session, PLATFORM, name="again", description="")
    messaging.create_topic(session, PLATFORM, project="again", topic="t")
    endpoint = add_endpoint(session)
    session.add(TopicCursor(project="again", topic="t", next_offset=40, updated_at=utcnow()))
    messaging.publish(
        session,
        PLATFORM,
        project="again",
        topic="t",
        messages=[avro.to_message(result(endpoint, at=utcnow()))],
    )
    batch = topic_service.ingest_topic(session, project="again", topic="t")
    assert batch is not None
    assert (batch.messages, batch.next_offset, batch.outcome.accepted) == (1, 1, 1)


def test_the_settings_reach_every_path_and_the_jobs(
    session_factory: sessionmaker[Session],
) -> None:
    settings = CoreSettings(
        monitoring_clock_skew_seconds=10,
        monitoring_late_results_hours=5,
        monitoring_project="not-there",
        monitoring_retention_days=30,
    )
    before = results.current_policy()
    try:
        worker.configure(settings)
        assert results.current_policy() == results.IngestPolicy(
            clock_skew=dt.timedelta(seconds=10), late_age=dt.timedelta(hours=5), retention_days=30
        )
        assert worker.current_config().retention_days == 30
        assert worker.ingest_topic_job(session_factory) == 0  # no such topic: nothing
        with session_factory() as session:
            expired = session.execute(
                select(func.count())
                .select_from(MetricResult)
                .where(col(MetricResult.timestamp) < utcnow() - dt.timedelta(days=30))
            ).scalar_one()
        assert worker.purge_expired_job(session_factory) == expired
    finally:
        worker.configure(CoreSettings())
        results.set_policy(before)
