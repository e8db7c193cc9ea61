"""The response cache (gateway/cache.py) keeps answers whose values change with time until
the first moment one of them changes (domains/common/time.py's changing_at): the downtime
lists filtered on `ongoing` and `upcoming`, the profiles and metrics valid today (both
backends). The monitoring status reads
are tested beside their worlds: tests/monitoring/test_ingest_status.py (`endpointStatus`)
and tests/monitoring/test_status_levels_graphql.py (`status` of a past day)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.models import Metric, OperationsProfile
from tests.conftest import AppFactory, StatementCounter
from tests.gateway.response_cache import a_site, add_downtime, cached_at

LISTS = """
query($s: [String!]) {
  ongoing: downtimes(filter: {site: $s, ongoing: true}) { edges { node { description } } }
  upcoming: downtimes(filter: {site: $s, upcoming: true}) { edges { node { description } } }
}
"""
UPCOMING = "query($s: [String!]) { downtimes(filter: {site: $s, upcoming: true}) { totalCount } }"


def test_a_downtime_list_filtered_on_time_expires_at_the_next_start_or_end(
    make_client: AppFactory, session: Session, statements: StatementCounter
) -> None:
    site = a_site(session)[0]
    starts = datetime(2031, 5, 4, 10, tzinfo=UTC)  # after every seeded downtime
    ends = starts + timedelta(hours=6)
    add_downtime(session, site, starts, ends)
    moment = [starts - timedelta(hours=1)]
    client = cached_at(make_client, moment)

    def mine() -> tuple[bool, bool]:
        found = client.data(LISTS, {"s": [site]})
        return tuple(  # type: ignore[return-value]
            "response cache test" in [e["node"]["description"] for e in found[name]["edges"]]
            for name in ("ongoing", "upcoming")
        )

    assert mine() == (False, True)
    statements.reset()
    assert mine() == (False, True)  # kept: neither list changes before the start
    assert statements.count == 0
    moment[0] = starts  # the start: both lists change
    assert mine() == (True, False)
    statements.reset()
    moment[0] = ends - timedelta(microseconds=1)
    assert mine() == (True, False)  # kept until the end
    assert statements.count == 0
    moment[0] = ends
    assert mine() == (False, False)
    # `upcoming` reads the starts alone: no start ahead, kept past every end
    assert client.data(UPCOMING, {"s": [site]})["downtimes"]["totalCount"] == 0
    statements.reset()
    moment[0] = ends + timedelta(days=365)
    assert client.data(UPCOMING, {"s": [site]})["downtimes"]["totalCount"] == 0
    assert statements.count == 0


def test_the_catalogue_valid_today_is_kept_until_midnight(
    make_client: AppFactory, session: Session, statements: StatementCounter
) -> None:
    """`monitoringProfiles` and `monitoringMetrics` without `validOn` read the versions valid
    on the request's day: kept until the next midnight, when the next versions apply."""
    for model in (Metric, OperationsProfile):
        row = session.scalars(select(model).order_by(col(model.id)).limit(1)).one()
        values = row.model_dump(exclude={"id", "created_at"})
        values.update(date=date(2031, 5, 5), description="horizon")
        session.add(model(**values))
    session.commit()
    moment = [datetime(2031, 5, 4, 23, 59, 59, tzinfo=UTC)]
    client = cached_at(make_client, moment)
    query = (
        "{ monitoringMetrics(first: 100) { nodes { description } } "
        "monitoringProfiles(filter: {kind: OPERATIONS}) { nodes { date } } }"
    )

    def versions() -> tuple[bool, bool]:
        found = client.data(query)
        metrics = [m["description"] for m in found["monitoringMetrics"]["nodes"]]
        profiles = [p["date"] for p in found["monitoringProfiles"]["nodes"]]
        return "horizon" in metrics, "2031-05-05" in profiles

    assert versions() == (False, False)
    statements.reset()
    assert versions() == (False, False)  # kept until midnight
    assert statements.count == 0
    moment[0] = datetime(2031, 5, 5, tzinfo=UTC)
    assert versions() == (True, True)
