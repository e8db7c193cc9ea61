"""Declaring downtimes through GraphQL: what a site administrator gets, the 24- and
48-hour boundaries to the second, and every declaration rule broken by a caller allowed to
declare: BAD_USER_INPUT naming the field and the rule, and nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.errors import CommonRule
from tests.conftest import GraphQLClient
from tests.downtimes.conftest import DECLARE, NOW, SiteFixture, declare, declare_input
from tests.identity.helpers import global_id, snapshot
from tests.refusals import assert_invalid

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_site_admin_declares_and_gets_the_computed_fields(
    site_admin: GraphQLClient, session: Session, target: SiteFixture
) -> None:
    endpoint = global_id("Endpoint", target.endpoint_ids[0])
    made = declare(site_admin, target, start=48 * H, end=50 * H, endpoints=[endpoint])
    assert made["classification"] == "SCHEDULED"
    assert made["severity"] == "OUTAGE"
    assert made["site"]["shortName"] == target.site
    assert [s["id"] for s in made["services"]] == target.services
    assert [e["id"] for e in made["endpoints"]] == [endpoint]
    # the service whose endpoint was named is affected at that endpoint only
    assert [a["allEndpoints"] for a in made["affectedServices"]] == [False, True]
    assert made["ongoing"] is False
    assert made["announcedAt"] == (NOW + 24 * H).isoformat()
    pk = session.execute(text("SELECT max(id) FROM downtime")).scalar_one()
    assert made["primaryKey"] == f"{pk}G0"
    audit = session.execute(
        text("SELECT action, actor FROM audit_entry WHERE entity_type = 'downtime'")
    ).all()
    assert [tuple(a) for a in audit] == [("downtime.declare", "dt.admin@egi.eu")]
    kinds = session.execute(
        text("SELECT kind FROM outbox_event WHERE kind LIKE 'downtime.%'")
    ).scalars()
    assert list(kinds) == ["downtime.declared"]


def test_unscheduled_when_the_start_is_near_and_announced_at_declaration(
    site_admin: GraphQLClient, target: SiteFixture
) -> None:
    made = declare(site_admin, target, start=-H, end=2 * H, severity="WARNING")
    assert made["classification"] == "UNSCHEDULED"
    assert made["ongoing"] is True
    assert made["announcedAt"] == made["declaredAt"]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (24 * H - S, "UNSCHEDULED"),
        (24 * H, "UNSCHEDULED"),
        (24 * H + S, "SCHEDULED"),
    ],
)
def test_24_hour_boundary_to_the_second(
    site_admin: GraphQLClient, target: SiteFixture, start: timedelta, expected: str
) -> None:
    made = declare(site_admin, target, start=start, end=start + H)
    assert made["classification"] == expected


def test_48_hour_boundary_to_the_second(
    site_admin: GraphQLClient, session: Session, target: SiteFixture
) -> None:
    made = declare(site_admin, target, start=-48 * H, end=H)
    assert made["startsAt"] == (NOW - 48 * H).isoformat()
    assert_invalid(
        site_admin,
        session,
        DECLARE,
        {"i": declare_input(target, start=-48 * H - S, end=H)},
        "input.startsAt",
        "DOWNTIME_START_TOO_FAR_IN_PAST",
    )


def test_times_without_a_utc_offset_are_refused(
    site_admin: GraphQLClient, session: Session, target: SiteFixture
) -> None:
    value = declare_input(target, start=H, end=2 * H)
    value["startsAt"] = "2026-12-01T13:00:00"
    assert_invalid(
        site_admin, session, DECLARE, {"i": value}, "input.startsAt", "DOWNTIME_TIME_WITHOUT_OFFSET"
    )


def _cases(target: SiteFixture) -> list[tuple[dict[str, Any], str, str]]:
    services = target.services
    other = global_id("Service", target.other_service_id)
    foreign_endpoint = global_id("Endpoint", target.other_endpoint_id)
    return [
        (
            declare_input(target, start=H, end=2 * H, services=[]),
            "input.serviceIds",
            "DOWNTIME_SERVICES_REQUIRED",
        ),
        (
            declare_input(target, start=H, end=2 * H, services=[services[0], other]),
            "input.serviceIds",
            "DOWNTIME_SERVICES_OF_ONE_SITE",
        ),
        (
            declare_input(target, start=H, end=2 * H, services=[services[0], services[0]]),
            "input.serviceIds",
            "DOWNTIME_IDS_REPEATED",
        ),
        (
            declare_input(target, start=H, end=2 * H, services=[global_id("Service", 10**8)]),
            "input.serviceIds",
            "DOWNTIME_SERVICE_UNKNOWN",
        ),
        (
            declare_input(target, start=H, end=2 * H, services=[global_id("Site", 1)]),
            "input.serviceIds",
            "WRONG_ID_TYPE",
        ),
        (
            declare_input(target, start=H, end=2 * H, endpoints=[foreign_endpoint]),
            "input.endpointIds",
            "DOWNTIME_ENDPOINTS_OF_CHOSEN_SERVICES",
        ),
        (
            declare_input(target, start=H, end=2 * H, endpoints=[global_id("Endpoint", 10**8)]),
            "input.endpointIds",
            "DOWNTIME_ENDPOINT_UNKNOWN",
        ),
        (declare_input(target, start=2 * H, end=H), "input.endsAt", "DOWNTIME_END_NOT_AFTER_START"),
        (declare_input(target, start=H, end=H), "input.endsAt", "DOWNTIME_END_NOT_AFTER_START"),
        (
            declare_input(target, start=H, end=2 * H, description="   "),
            "input.description",
            "DOWNTIME_DESCRIPTION_EMPTY",
        ),
        (
            declare_input(target, start=H, end=2 * H, description="x" * 4001),
            "input.description",
            "DOWNTIME_DESCRIPTION_TOO_LONG",
        ),
        (
            declare_input(target, start=H, end=2 * H, description="reboot; then <b>"),
            "input.description",
            "DOWNTIME_DESCRIPTION_FORBIDDEN_CHARACTERS",
        ),
        (
            declare_input(target, start=H, end=2 * H, description='the "big" one'),
            "input.description",
            "DOWNTIME_DESCRIPTION_FORBIDDEN_CHARACTERS",
        ),
        # what XML forbids would make the public RSS feed unreadable (issue 10)
        *(
            (
                declare_input(target, start=H, end=2 * H, description=f"disk{c}swap"),
                "input.description",
                CommonRule.TEXT_NOT_XML.code,
            )
            for c in ("\x01", "\x0c", "\ufffe", "\uffff")
        ),
    ]


@pytest.mark.parametrize("case", range(17))
def test_each_declaration_rule_refused_by_name(
    site_admin: GraphQLClient, session: Session, target: SiteFixture, case: int
) -> None:
    value, field, rule = _cases(target)[case]
    assert_invalid(site_admin, session, DECLARE, {"i": value}, field, rule)


def test_description_of_4000_characters_is_accepted(
    site_admin: GraphQLClient, target: SiteFixture
) -> None:
    made = declare(site_admin, target, start=H, end=2 * H, description="y" * 4000)
    assert len(made["description"]) == 4000


MULTI = """
mutation($i: DeclareDowntimesInput!) {
  declareDowntimes(input: $i) {
    downtimes { id site { shortName } services { id } endpoints { id } }
  }
}
"""


def test_multi_site_declaration_makes_one_downtime_per_site(
    both_admin: GraphQLClient, session: Session, target: SiteFixture
) -> None:
    other = global_id("Service", target.other_service_id)
    endpoint = global_id("Endpoint", target.other_endpoint_id)
    value = declare_input(
        target, start=H, end=3 * H, services=[*target.services, other], endpoints=[endpoint]
    )
    made = both_admin.data(MULTI, {"i": value})["declareDowntimes"]["downtimes"]
    by_site = {d["site"]["shortName"]: d for d in made}
    assert set(by_site) == {target.site, target.other_site}
    assert [s["id"] for s in by_site[target.site]["services"]] == target.services
    assert by_site[target.site]["endpoints"] == []
    assert [s["id"] for s in by_site[target.other_site]["services"]] == [other]
    assert [e["id"] for e in by_site[target.other_site]["endpoints"]] == [endpoint]


def test_multi_site_declaration_is_all_or_nothing(
    site_admin: GraphQLClient, session: Session, target: SiteFixture
) -> None:
    """A role on one of the two sites: neither downtime is written."""
    other = global_id("Service", target.other_service_id)
    value = declare_input(target, start=H, end=3 * H, services=[*target.services, other])
    before = snapshot(session)
    error = site_admin.error(MULTI, {"i": value})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert snapshot(session) == before
    assert_invalid(
        site_admin,
        session,
        MULTI,
        {"i": declare_input(target, start=-49 * H, end=3 * H)},
        "input.startsAt",
        "DOWNTIME_START_TOO_FAR_IN_PAST",
    )
