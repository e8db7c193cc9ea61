"""`Viewer.declarableSites` (issue 12): the sites on which the viewer may declare a downtime,
asked directly instead of paging through every site's `viewerCanDeclareDowntime`. For each
demo persona it is exactly the set of sites whose field is true (scopes aside), for the
anonymous caller nothing; it pages by id; and it is found from the caller's roles, not by
deciding site after site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM, Principal
from domains.common.pagination import PageRequest
from domains.downtimes import service as downtimes
from domains.identity.models import EntityKind
from domains.topology import ownership, roles
from gateway.demo import ensure_personas
from tests.conftest import GraphQLClient, StatementCounter

EVERY_SITE = """
query($after: String) {
  sites(filter: {scopes: []}, first: 100, after: $after) {
    nodes { shortName viewerCanDeclareDowntime }
    pageInfo { hasNextPage endCursor }
  }
}"""

DECLARABLE = """
query($first: Int, $after: String) {
  viewer {
    declarableSites(first: $first, after: $after) {
      nodes { id shortName viewerCanDeclareDowntime ngi { name } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
      totalCount
    }
  }
}"""


def _all_pages(client: GraphQLClient, query: str, path: tuple[str, ...], first: int) -> list[Any]:
    found: list[Any] = []
    after = None
    while True:
        data: Any = client.data(query, {"first": first, "after": after})
        for key in path:
            if data is None:
                return found
            data = data[key]
        found += data["nodes"]
        if not data["pageInfo"]["hasNextPage"]:
            return found
        after = data["pageInfo"]["endCursor"]


@pytest.fixture
def personas(gql: GraphQLClient, session: Session, tmp_path: Path) -> dict[str, GraphQLClient]:
    issued = ensure_personas(session, tmp_path / "personas.json")
    session.commit()
    clients = {p.key: GraphQLClient(gql.client, {"x-api-key": p.token}) for p in issued}
    clients["anonymous"] = gql
    return clients


def test_declarable_sites_are_those_whose_viewer_can_declare_downtime(
    personas: dict[str, GraphQLClient], session: Session
) -> None:
    total = session.execute(text("SELECT count(*) FROM site")).scalar_one()
    ngi_de = set(
        session.execute(
            text(
                "SELECT s.short_name FROM site s JOIN ngi n ON n.id = s.ngi_id"
                " WHERE n.name = 'NGI_DE'"
            )
        ).scalars()
    )
    sizes = {}
    for key, client in personas.items():
        every = _all_pages(client, EVERY_SITE, ("sites",), 100)
        assert len(every) == total
        expected = {s["shortName"] for s in every if s["viewerCanDeclareDowntime"]}
        found = _all_pages(client, DECLARABLE, ("viewer", "declarableSites"), 7)
        names = [s["shortName"] for s in found]
        assert len(names) == len(set(names)), key  # no site twice across pages
        assert set(names) == expected, key
        assert all(s["viewerCanDeclareDowntime"] for s in found)
        sizes[key] = len(names)
        if key != "anonymous":
            count = client.data(DECLARABLE, {"first": 1})["viewer"]["declarableSites"]
            assert count["totalCount"] == len(expected)
    # the personas' roles, as gateway/demo.py grants them
    assert sizes["admin"] == total
    assert sizes["ngi-manager"] == len(ngi_de) > 1
    assert sizes["site-admin"] == 1
    assert sizes["vo-member"] == 0
    assert sizes["anonymous"] == 0  # no viewer at all


def test_pages_are_ordered_by_id_and_continue_after_the_cursor(
    personas: dict[str, GraphQLClient],
) -> None:
    client = personas["ngi-manager"]
    first = client.data(DECLARABLE, {"first": 2})["viewer"]["declarableSites"]
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "endCursor": first["pageInfo"]["endCursor"],
    }
    rest = client.data(DECLARABLE, {"first": 100, "after": first["pageInfo"]["endCursor"]})[
        "viewer"
    ]["declarableSites"]
    assert rest["pageInfo"]["hasPreviousPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False
    everything = first["nodes"] + rest["nodes"]
    assert {s["ngi"]["name"] for s in everything} == {"NGI_DE"}
    assert len(everything) == first["totalCount"]


def test_a_bad_cursor_or_page_size_is_refused_in_words(
    personas: dict[str, GraphQLClient],
) -> None:
    client = personas["site-admin"]
    error = client.error(DECLARABLE, {"first": 1, "after": "not-a-cursor"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["rule"] == "MALFORMED_CURSOR"
    error = client.error(DECLARABLE, {"first": -1})
    assert error["extensions"]["rule"] == "PAGE_SIZE_NEGATIVE"


def test_roles_are_followed_down_and_the_policy_decides(session: Session) -> None:
    """A project role reaches the project's sites but allows no declaration there (the
    policy's EDIT_OBJECT on a site is for site and NGI roles): such sites are candidates
    the policy refuses. A site role on one site and an NGI role elsewhere add up."""
    site_id, ngi_id = session.execute(text("SELECT id, ngi_id FROM site ORDER BY id LIMIT 1")).one()
    other_ngi = session.execute(
        text("SELECT id FROM ngi WHERE id <> :n ORDER BY id LIMIT 1"), {"n": ngi_id}
    ).scalar_one()
    project_id = session.execute(text("SELECT id FROM project ORDER BY id LIMIT 1")).scalar_one()
    subject = "many.roles@egi.eu"
    for role, kind, entity in (
        ("Site Administrator", EntityKind.SITE, site_id),
        ("NGI Security Officer", EntityKind.NGI, other_ngi),
        ("COD Staff", EntityKind.PROJECT, project_id),
    ):
        granted = roles.grant_role_directly(
            session, PLATFORM, subject=subject, role_type=role, kind=kind, entity_id=entity
        )
    principal = Principal(subject=subject, user_id=granted.user_id)
    page = downtimes.declarable_sites(
        session, principal, page=PageRequest.build(100, None, default=50, maximum=100)
    )
    expected = {site_id} | set(
        session.execute(text("SELECT id FROM site WHERE ngi_id = :n"), {"n": other_ngi}).scalars()
    )
    assert {row.id for row in page.items} == expected
    assert [row.id for row in page.items] == sorted(expected)
    assert page.total_count == len(expected)
    # the project's other sites were reached and refused
    reached = {s for s, _ in ownership.sites_under(session, [("project", project_id)])}
    assert reached - expected


def test_a_user_with_no_role_asks_the_database_nothing_per_site(
    session: Session, statements: StatementCounter
) -> None:
    subject = "lonely@egi.eu"
    from domains.identity import service as identity

    user = identity.ensure_user(session, issuer="test", subject=subject)
    principal = Principal(subject=subject, user_id=user.id)
    statements.reset()
    page = downtimes.declarable_sites(
        session, principal, page=PageRequest.build(50, None, default=50, maximum=100)
    )
    assert page.items == []
    assert statements.count <= 3
