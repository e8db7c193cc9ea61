"""A site's publication overview on both databases (issue 15, item 8): the last time a
message loaded for it (a message sent again moves it), per month the records held and the
sync comparison; its last message only for the site's administrators, its NGI's managers
and platform administrators; and the same through GraphQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.service.loading import load_message
from domains.accounting.service.pivot import Month
from domains.accounting.service.publication import LastMessage, site_publication
from domains.accounting.service.summaries import SyncLine
from domains.common.identity import ANONYMOUS, PLATFORM
from domains.identity.models import EntityKind
from domains.topology.models import Site
from tests.accounting.test_access import grant, user
from tests.accounting.test_formats import job_message
from tests.accounting.test_loading import DN, NOW, a_site, sender
from tests.accounting.test_summaries import job, summary_message
from tests.conftest import Callers


def pk_of(value: int | None) -> int:
    assert value is not None
    return value


HOST = "t2ce06.physics.ox.ac.uk:8443/cream-pbs-gridpp"


def sync_message(site: str, **says: int) -> str:
    """A 2026-11 sync message: per submit host, the jobs the site says it sent."""
    return "APEL-sync-message: v0.1\n" + "%%\n".join(
        f"Site: {site}\nSubmitHost: {host}\nNumberOfJobs: {n}\nMonth: 11\nYear: 2026\n"
        for host, n in says.items()
    )


def publish(session: Session, site: str) -> None:
    """November 2026: three jobs (two from HOST, one from z), one summary, and a sync
    message saying HOST sent 2 and z 2."""
    for message_id, body in (
        ("jobs", job_message(job(site, "1"), job(site, "2"), job(site, "3", SubmitHost="z"))),
        ("summary", summary_message(site, 10, 3600)),
        ("sync", sync_message(site, **{HOST: 2, "z": 2})),
    ):
        outcome = load_message(session, body.encode(), sender(site), message_id, NOW)
        assert outcome.reject_id is None, outcome.reason


def test_the_overview_counts_each_month_and_shows_the_last_message_to_the_site(
    session: Session,
) -> None:
    site, other = a_site(session, 0), a_site(session, 1)
    october, november = Month(2026, 10), Month(2026, 11)
    never = site_publication(session, ANONYMOUS, site, october, november)
    assert never is not None
    assert (never.last_published, never.last_message) == (None, None)
    assert [(m.job_records, m.summaries, m.site_says, m.in_sync) for m in never.months] == [
        (0, 0, None, True),
        (0, 0, None, True),
    ]

    publish(session, site)
    found = site_publication(session, ANONYMOUS, site, october, november)
    assert found is not None
    assert found.last_published == NOW
    assert found.last_message is None  # not anonymous's to see
    empty, full = found.months
    assert (empty.month, empty.job_records, empty.sync) == (october, 0, ())
    assert (full.month, full.job_records, full.summaries, full.normalised_summaries) == (
        november,
        3,
        1,
        0,
    )
    assert (full.site_says, full.in_sync) == (4, False)
    assert full.sync == (SyncLine(HOST, 2, 2), SyncLine("z", 2, 1))
    # the same message sent again a day later: nothing new held, but it is the last one
    later = NOW + timedelta(days=1)
    body = job_message(job(site, "1")).encode()
    assert load_message(session, body, sender(site), "again", later).reject_id is None
    again = site_publication(session, PLATFORM, site, november, november)
    assert again is not None
    assert again.last_published == later
    assert again.last_message == LastMessage("again", DN, "job")
    assert again.months[0].job_records == 3

    site_id, ngi_id = session.execute(
        select(col(Site.id), col(Site.ngi_id)).where(col(Site.short_name) == site)
    ).one()
    other_id = session.execute(
        select(col(Site.id)).where(col(Site.short_name) == other)
    ).scalar_one()
    admin, stranger, manager = (
        user(session, s) for s in ("admin@egi.eu", "other@egi.eu", "ngi@egi.eu")
    )
    grant(session, admin, EntityKind.SITE, pk_of(site_id))
    grant(session, stranger, EntityKind.SITE, pk_of(other_id))
    grant(session, manager, EntityKind.NGI, pk_of(ngi_id))
    for principal, sees in ((admin, True), (manager, True), (stranger, False)):
        shown = site_publication(session, principal, site, november, november)
        assert shown is not None
        assert (shown.last_message is not None) is sees
    assert site_publication(session, ANONYMOUS, "NO-SUCH-SITE", november, november) is None


QUERY = """
query($site: String!, $from: String!, $to: String!) {
  accountingPublication(site: $site, from: $from, to: $to) {
    site lastPublished lastMessage { messageId publisher kind }
    months { month jobRecords summaries normalisedSummaries siteSays inSync
             sync { submitHost siteSays held inSync } }
  }
}"""


def test_graphql_shows_the_overview_to_anyone_and_the_last_message_to_the_site(
    session: Session, callers: Callers
) -> None:
    site = a_site(session)
    publish(session, site)
    site_id = session.execute(select(col(Site.id)).where(col(Site.short_name) == site)).scalar_one()
    grant(session, user(session, "admin@egi.eu"), EntityKind.SITE, pk_of(site_id))
    session.commit()
    arguments = {"site": site, "from": "2026-11", "to": "2026-11"}
    public = callers.anonymous.data(QUERY, arguments)["accountingPublication"]
    assert public["lastMessage"] is None
    assert public["months"] == [
        {
            "month": "2026-11",
            "jobRecords": 3,
            "summaries": 1,
            "normalisedSummaries": 0,
            "siteSays": 4,
            "inSync": False,
            "sync": [
                {"submitHost": HOST, "siteSays": 2, "held": 2, "inSync": True},
                {"submitHost": "z", "siteSays": 2, "held": 1, "inSync": False},
            ],
        }
    ]
    admin = callers.as_user("admin@egi.eu").data(QUERY, arguments)["accountingPublication"]
    assert admin["lastMessage"] == {"messageId": "sync", "publisher": DN, "kind": "sync"}
    backwards = callers.anonymous.error(QUERY, {**arguments, "from": "2026-12"})
    assert backwards["extensions"]["field"] == "to"
