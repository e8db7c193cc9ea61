"""Site API credentials over GraphQL: `Site.apiCredentials` shown to site editors only (as
GOCDB shows them), the mutations' field errors, the `SiteApiCredential` node, revocation
refused while it would orphan credentials, and a bounded statement count for a list."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import Callers, GraphQLClient, StatementCounter
from tests.identity.helpers import global_id, grant, snapshot

EDITOR = "creds.editor@egi.eu"
DN = "/DC=org/DC=example/O=Example/CN=sync robot"

SITE = """query($name: String!) { site(shortName: $name) {
  id viewerCanManageApiCredentials
  apiCredentials { id identifier kind allowWrite ownerSubject ownerName createdAt lastUsedAt
                   lastRenewedAt unusedFlaggedAt }
} }"""
ADD = """mutation($i: AddSiteApiCredentialInput!) { addSiteApiCredential(input: $i) {
  credential { id identifier kind allowWrite ownerSubject lastRenewedAt } } }"""
UPDATE = """mutation($i: UpdateSiteApiCredentialInput!) { updateSiteApiCredential(input: $i) {
  credential { id identifier kind allowWrite } } }"""


def _site(session: Session) -> tuple[int, str]:
    row = session.execute(text("SELECT id, short_name FROM site ORDER BY id LIMIT 1")).one()
    return int(row[0]), str(row[1])


def _add(client: GraphQLClient, site_id: int, identifier: str = DN) -> dict[str, object]:
    variables = {
        "i": {"siteId": global_id("Site", site_id), "identifier": identifier, "kind": "X509"}
    }
    credential: dict[str, object] = client.data(ADD, variables)["addSiteApiCredential"][
        "credential"
    ]
    return credential


def test_site_editors_manage_credentials_others_see_none(
    callers: Callers, session: Session
) -> None:
    site_id, name = _site(session)
    grant(session, EDITOR, "Site Administrator", "site", name)
    editor = callers.as_user(EDITOR)
    added = _add(editor, site_id)
    assert added["allowWrite"] is False
    assert added["kind"] == "X509"
    assert added["ownerSubject"] == EDITOR
    seen = editor.data(SITE, {"name": name})["site"]
    assert seen["viewerCanManageApiCredentials"] is True
    assert [c["identifier"] for c in seen["apiCredentials"]] == [DN]
    assert seen["apiCredentials"][0]["ownerName"] == "User creds.editor"
    updated = editor.data(UPDATE, {"i": {"id": added["id"], "allowWrite": True}})
    assert updated["updateSiteApiCredential"]["credential"]["allowWrite"] is True

    for other in (callers.anonymous, callers.as_user("no.role@egi.eu")):
        hidden = other.data(SITE, {"name": name})["site"]
        assert hidden["apiCredentials"] == []
        assert hidden["viewerCanManageApiCredentials"] is False
        node = other.data("query($id: ID!) { node(id: $id) { id } }", {"id": added["id"]})["node"]
        assert node is None
    node = editor.data(
        "query($id: ID!) { node(id: $id) { ... on SiteApiCredential { identifier } } }",
        {"id": added["id"]},
    )["node"]
    assert node == {"identifier": DN}

    renewed = editor.data(
        "mutation($i: RenewSiteApiCredentialInput!) { renewSiteApiCredential(input: $i) "
        "{ credential { lastRenewedAt unusedFlaggedAt } } }",
        {"i": {"id": added["id"]}},
    )["renewSiteApiCredential"]["credential"]
    assert renewed["unusedFlaggedAt"] is None
    deleted = editor.data(
        "mutation($id: ID!) { deleteSiteApiCredential(input: {id: $id}) { id } }",
        {"id": added["id"]},
    )
    assert deleted["deleteSiteApiCredential"]["id"] == added["id"]
    assert editor.data(SITE, {"name": name})["site"]["apiCredentials"] == []


def test_bad_input_names_the_field_and_writes_nothing(callers: Callers, session: Session) -> None:
    site_id, name = _site(session)
    grant(session, EDITOR, "Site Administrator", "site", name)
    editor = callers.as_user(EDITOR)
    first = _add(editor, site_id)
    before = snapshot(session)
    for identifier, kind, rule in (
        ("CN=Jane,O=Example", "X509", "API_CREDENTIAL_DN_MALFORMED"),
        ("", "OIDC_SUBJECT", "API_CREDENTIAL_IDENTIFIER_EMPTY"),
        (DN, "X509", "API_CREDENTIAL_TAKEN"),
    ):
        variables = {
            "i": {"siteId": global_id("Site", site_id), "identifier": identifier, "kind": kind}
        }
        error = editor.error(ADD, variables)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert (error["extensions"]["field"], error["extensions"]["rule"]) == ("identifier", rule)
    error = editor.error(UPDATE, {"i": {"id": first["id"], "identifier": "has no slash"}})
    assert error["extensions"]["rule"] == "API_CREDENTIAL_DN_MALFORMED"
    error = editor.error(UPDATE, {"i": {"id": global_id("Site", site_id), "allowWrite": True}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = editor.error(UPDATE, {"i": {"id": global_id("SiteApiCredential", 10**9)}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert snapshot(session) == before


def test_revoking_a_role_that_would_orphan_credentials_is_refused(
    callers: Callers, session: Session
) -> None:
    site_id, name = _site(session)
    grant(session, EDITOR, "Site Administrator", "site", name)
    editor = callers.as_user(EDITOR)
    _add(editor, site_id)
    role_id = editor.data("{ viewer { roles { id status } } }")["viewer"]["roles"][0]["id"]
    before = snapshot(session)
    error = editor.error(
        "mutation($i: RevokeRoleInput!) { revokeRole(input: $i) { role { status } } }",
        {"i": {"roleId": role_id}},
    )
    assert error["extensions"]["rule"] == "ROLE_ORPHANS_API_CREDENTIALS"
    assert f"{name}(1)" in error["message"]
    assert snapshot(session) == before


def test_a_list_of_sites_with_credentials_costs_a_bounded_number_of_statements(
    callers: Callers, session: Session, statements: StatementCounter
) -> None:
    names = list(session.execute(text("SELECT id, short_name FROM site ORDER BY id LIMIT 5")).all())
    for _, name in names:
        grant(session, EDITOR, "Site Administrator", "site", name)
    editor = callers.as_user(EDITOR)
    for site_id, _ in names:
        _add(editor, site_id)
    query = """query($first: Int!) { sites(first: $first) { nodes {
      shortName viewerCanManageApiCredentials apiCredentials { identifier ownerSubject }
    } } }"""
    counts = {}
    for size in (1, 100):
        statements.reset()
        nodes = editor.data(query, {"first": size})["sites"]["nodes"]
        counts[size] = statements.count
    assert counts[1] == counts[100], (counts, statements.statements)
    with_credentials = [n for n in nodes if n["apiCredentials"]]
    assert len(with_credentials) == len(names)
