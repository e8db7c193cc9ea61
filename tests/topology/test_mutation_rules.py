"""Each rule of the topology write API, broken through GraphQL by a caller allowed to make
the change: BAD_USER_INPUT naming the field and the rule, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import Callers, GraphQLClient
from tests.identity.helpers import global_id, grant
from tests.refusals import assert_invalid

UPDATE_SITE = "mutation($i: UpdateSiteInput!) { updateSite(input: $i) { site { id } } }"
STATUS = (
    "mutation($i: ChangeCertificationStatusInput!) "
    "{ changeCertificationStatus(input: $i) { site { id } } }"
)
CREATE_SERVICE = "mutation($i: CreateServiceInput!) { createService(input: $i) { service { id } } }"
UPDATE_SERVICE = "mutation($i: UpdateServiceInput!) { updateService(input: $i) { service { id } } }"
ADD_ENDPOINT = "mutation($i: AddEndpointInput!) { addEndpoint(input: $i) { endpoint { id } } }"
SET_PROPERTY = "mutation($i: SetPropertyInput!) { setProperty(input: $i) { property { key } } }"
TAG = "mutation($i: TagScopesInput!) { tagScopes(input: $i) { scopes { name } } }"
UNTAG = "mutation($i: UntagScopesInput!) { untagScopes(input: $i) { scopes { name } } }"


def site_with(session: Session, status: str) -> tuple[int, str, str]:
    row = session.execute(
        text(
            "SELECT s.id, s.short_name, n.name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "WHERE s.certification_status = :st ORDER BY s.id LIMIT 1"
        ),
        {"st": status},
    ).one()
    return int(row[0]), str(row[1]), str(row[2])


REASON = "SITE_STATUS_REASON_LENGTH"


@pytest.fixture
def manager(callers: Callers, session: Session) -> GraphQLClient:
    """An NGI Operations Manager over every NGI: may make every change below."""
    for (ngi,) in session.execute(text("SELECT name FROM ngi")).all():
        grant(session, "rules.manager@egi.eu", "NGI Operations Manager", "ngi", ngi)
    return callers.as_user("rules.manager@egi.eu")


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("Closed", "CERTIFIED", "SITE_STATUS_CHANGE_NOT_ALLOWED"),
        ("Candidate", "CERTIFIED", "SITE_STATUS_CHANGE_NOT_ALLOWED"),
        ("Suspended", "CERTIFIED", "SITE_STATUS_CHANGE_NOT_ALLOWED"),
        ("Certified", "CERTIFIED", "SITE_STATUS_UNCHANGED"),
    ],
)
def test_certification_transitions(
    manager: GraphQLClient, session: Session, old: str, new: str, rule: str
) -> None:
    site_id, _, _ = site_with(session, old)
    assert_invalid(
        manager,
        session,
        STATUS,
        {"i": {"siteId": global_id("Site", site_id), "status": new, "reason": "Try it"}},
        "status",
        rule,
    )


def test_allowed_transition_and_reason_rules(manager: GraphQLClient, session: Session) -> None:
    site_id, _, _ = site_with(session, "Candidate")
    variables = {"i": {"siteId": global_id("Site", site_id), "status": "UNCERTIFIED"}}
    assert_invalid(
        manager, session, STATUS, {"i": {**variables["i"], "reason": "  "}}, "reason", REASON
    )
    assert_invalid(
        manager, session, STATUS, {"i": {**variables["i"], "reason": "x" * 301}}, "reason", REASON
    )
    done = manager.data(STATUS, {"i": {**variables["i"], "reason": "Passed the checks"}})
    assert done["changeCertificationStatus"]["site"]["id"] == global_id("Site", site_id)


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"latitude": 91.0}, "latitude", "SITE_LATITUDE_RANGE"),
        ({"longitude": 181.0}, "longitude", "SITE_LONGITUDE_RANGE"),
        ({"giisUrl": "http://bdii.example.org"}, "giisUrl", "SITE_GIIS_URL_NOT_LDAP"),
        ({"shortName": "has space"}, "shortName", "SITE_SHORT_NAME_CHARACTERS"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "SITE_TIMEZONE_UNKNOWN"),
        ({"description": "quote'd"}, "description", "TOPOLOGY_DESCRIPTION_CHARACTERS"),
        ({"countryCode": "XX"}, "input.countryCode", "COUNTRY_UNKNOWN"),
        ({"notify": None}, "input.notify", "TOPOLOGY_FIELD_NULL"),
    ],
)
def test_site_field_rules(
    manager: GraphQLClient, session: Session, changes: dict[str, Any], field: str, rule: str
) -> None:
    site_id, _, _ = site_with(session, "Certified")
    assert_invalid(
        manager,
        session,
        UPDATE_SITE,
        {"i": {"id": global_id("Site", site_id), **changes}},
        field,
        rule,
    )


def test_duplicate_short_name(manager: GraphQLClient, session: Session) -> None:
    site_id, _, _ = site_with(session, "Certified")
    _, other, _ = site_with(session, "Closed")
    assert_invalid(
        manager,
        session,
        UPDATE_SITE,
        {"i": {"id": global_id("Site", site_id), "shortName": other}},
        "shortName",
        "TOPOLOGY_VALUE_TAKEN",
    )


def test_production_requires_monitoring(manager: GraphQLClient, session: Session) -> None:
    service_id = session.execute(
        text(
            "SELECT v.id FROM service v JOIN service_type t ON t.id = v.service_type_id "
            "WHERE v.production AND NOT t.monitoring_exception AND t.name = 'ARC-CE' LIMIT 1"
        )
    ).scalar_one()
    assert_invalid(
        manager,
        session,
        UPDATE_SERVICE,
        {"i": {"id": global_id("Service", service_id), "monitored": False}},
        "monitored",
        "SERVICE_PRODUCTION_UNMONITORED",
    )


def test_host_and_type_unique_across_sites(manager: GraphQLClient, session: Session) -> None:
    host, type_name, site_id = session.execute(
        text(
            "SELECT v.host_name, t.name, v.site_id FROM service v "
            "JOIN service_type t ON t.id = v.service_type_id ORDER BY v.id LIMIT 1"
        )
    ).one()
    other_site = session.execute(
        text("SELECT id FROM site WHERE id != :s ORDER BY id LIMIT 1"), {"s": site_id}
    ).scalar_one()
    assert_invalid(
        manager,
        session,
        CREATE_SERVICE,
        {
            "i": {
                "siteId": global_id("Site", other_site),
                "serviceType": type_name,
                "hostName": host,
            }
        },
        "hostName",
        "SERVICE_HOST_TAKEN",
    )


def test_endpoint_names_unique_within_a_service(manager: GraphQLClient, session: Session) -> None:
    service_id, name = session.execute(
        text("SELECT service_id, name FROM endpoint ORDER BY id LIMIT 1")
    ).one()
    assert_invalid(
        manager,
        session,
        ADD_ENDPOINT,
        {"i": {"serviceId": global_id("Service", service_id), "name": name}},
        "name",
        "ENDPOINT_NAME_TAKEN",
    )


def test_property_limits(manager: GraphQLClient, session: Session) -> None:
    site_id, _, _ = site_with(session, "Certified")
    target = global_id("Site", site_id)
    assert_invalid(
        manager,
        session,
        SET_PROPERTY,
        {"i": {"entityId": target, "key": "k", "value": "v" * 256}},
        "value",
        "TEXT_TOO_LONG",
    )
    count = session.execute(
        text("SELECT count(*) FROM site_property WHERE site_id = :s"), {"s": site_id}
    ).scalar_one()
    for i in range(20 - int(count)):
        manager.data(SET_PROPERTY, {"i": {"entityId": target, "key": f"fill{i}", "value": "v"}})
    assert_invalid(
        manager,
        session,
        SET_PROPERTY,
        {"i": {"entityId": target, "key": "one_too_many", "value": "v"}},
        "key",
        "PROPERTY_LIMIT_REACHED",
    )


def test_reserved_scopes_need_the_parent_or_an_admin(callers: Callers, session: Session) -> None:
    site_id, site, _ = session.execute(
        text(
            "SELECT s.id, s.short_name, n.name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "WHERE NOT EXISTS (SELECT 1 FROM ngi_scope l JOIN scope c ON c.id = l.scope_id "
            "WHERE l.ngi_id = n.id AND c.name = 'tier1') "
            "AND NOT EXISTS (SELECT 1 FROM site_scope l JOIN scope c ON c.id = l.scope_id "
            "WHERE l.site_id = s.id AND c.name = 'tier1') ORDER BY s.id LIMIT 1"
        )
    ).one()
    grant(session, "scoper@egi.eu", "Site Administrator", "site", site)
    site_admin = callers.as_user("scoper@egi.eu")
    target = global_id("Site", site_id)
    assert_invalid(
        site_admin,
        session,
        TAG,
        {"i": {"entityId": target, "scopes": ["tier1"]}},
        "scopes",
        "SCOPE_RESERVED",
    )
    admin = callers.as_user(
        "scope.admin@egi.eu",
        entitlements=("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",),
    )
    tagged = admin.data(TAG, {"i": {"entityId": target, "scopes": ["tier1"]}})["tagScopes"][
        "scopes"
    ]
    assert "tier1" in [s["name"] for s in tagged]


def test_untag_keeps_an_open_scope_and_cascades_reserved(
    manager: GraphQLClient, session: Session
) -> None:
    site_id = session.execute(
        text(
            "SELECT l.site_id FROM site_scope l JOIN scope c ON c.id = l.scope_id "
            "WHERE c.name = 'wlcg' ORDER BY l.site_id LIMIT 1"
        )
    ).scalar_one()
    target = global_id("Site", site_id)
    open_scopes = (
        session.execute(
            text(
                "SELECT c.name FROM site_scope l JOIN scope c ON c.id = l.scope_id "
                "WHERE l.site_id = :s AND NOT c.reserved"
            ),
            {"s": site_id},
        )
        .scalars()
        .all()
    )
    assert_invalid(
        manager,
        session,
        UNTAG,
        {"i": {"entityId": target, "scopes": list(open_scopes)}},
        "scopes",
        "SCOPE_LAST_OPEN",
    )
    with_wlcg = session.execute(
        text(
            "SELECT count(*) FROM service_scope l JOIN scope c ON c.id = l.scope_id "
            "JOIN service v ON v.id = l.service_id WHERE v.site_id = :s AND c.name = 'wlcg'"
        ),
        {"s": site_id},
    ).scalar_one()
    assert with_wlcg > 0, "demo data: a wlcg site with wlcg services"
    manager.data(UNTAG, {"i": {"entityId": target, "scopes": ["wlcg"]}})
    left = session.execute(
        text(
            "SELECT count(*) FROM service_scope l JOIN scope c ON c.id = l.scope_id "
            "JOIN service v ON v.id = l.service_id WHERE v.site_id = :s AND c.name = 'wlcg'"
        ),
        {"s": site_id},
    ).scalar_one()
    assert left == 0


def test_wrong_id_types_name_the_argument(manager: GraphQLClient, session: Session) -> None:
    service_id = session.execute(text("SELECT id FROM service LIMIT 1")).scalar_one()
    assert_invalid(
        manager,
        session,
        UPDATE_SITE,
        {"i": {"id": global_id("Service", service_id)}},
        "input.id",
        "WRONG_ID_TYPE",
    )


# Characters XML forbids (issue 10): the feeds and XML routes render these fields.
NOT_XML = ["\x01", "\x1f", "\ufffe", "\uffff"]


@pytest.mark.parametrize("char", NOT_XML)
@pytest.mark.parametrize("field", ["description", "officialName", "homeUrl", "telephone"])
def test_site_text_refuses_what_xml_forbids(
    manager: GraphQLClient, session: Session, field: str, char: str
) -> None:
    site_id, _, _ = site_with(session, "Certified")
    assert_invalid(
        manager,
        session,
        UPDATE_SITE,
        {"i": {"id": global_id("Site", site_id), field: f"before{char}after"}},
        field,
        "TEXT_NOT_XML",
    )


def test_service_endpoint_property_and_reason_text_refuse_what_xml_forbids(
    manager: GraphQLClient, session: Session
) -> None:
    service_id, endpoint_id, site_id = session.execute(
        text(
            "SELECT e.service_id, e.id, s.site_id FROM endpoint e JOIN service s "
            "ON s.id = e.service_id ORDER BY e.id LIMIT 1"
        )
    ).one()
    service, site = global_id("Service", service_id), global_id("Site", site_id)
    cases: list[tuple[str, dict[str, Any], str]] = [
        (UPDATE_SERVICE, {"id": service, "operatingSystem": "Linux\ufffe"}, "operatingSystem"),
        (UPDATE_SERVICE, {"id": service, "description": "disk\x0b"}, "description"),
        (ADD_ENDPOINT, {"serviceId": service, "name": "ep\uffff"}, "name"),
        (ADD_ENDPOINT, {"serviceId": service, "name": "ep", "url": "https://x/\x02"}, "url"),
        (SET_PROPERTY, {"entityId": site, "key": "k", "value": "v\x01"}, "value"),
        (STATUS, {"siteId": site, "status": "SUSPENDED", "reason": "why\x1b"}, "reason"),
    ]
    for query, value, field in cases:
        assert_invalid(manager, session, query, {"i": value}, field, "TEXT_NOT_XML")
    # NUL is refused earlier, as the body is decoded (tests/gateway/test_bad_input.py)
    nul = {"i": {"entityId": site, "key": "k", "value": "v\x00"}}
    refused = manager.client.post("/graphql", json={"query": SET_PROPERTY, "variables": nul})
    assert (refused.status_code, refused.text) == (
        400,
        "variables.i.value: U+0000 (NUL) cannot be stored",
    )
    # tab, line ends and every other character stay allowed
    ok = "tab\there\r\nline — 冷却 🔧 \u2028\ufffd"
    manager.data(UPDATE_SERVICE, {"i": {"id": service, "operatingSystem": ok}})
