"""Every mutation: the anonymous caller gets UNAUTHENTICATED, a caller whose roles do not
reach (a sideways role, or too weak a role) gets FORBIDDEN, and neither writes anything,
audit entries included. The right role succeeds and leaves one audit entry at least."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.identity import service as identity
from domains.topology import service as topology
from domains.topology.models import CredentialKind
from tests.conftest import Callers
from tests.identity.helpers import global_id, grant, snapshot
from tests.refusals import fingerprint


@dataclass(frozen=True)
class Target:
    """A site of the demo data, and things on it, found fresh for every test."""

    site: str
    site_id: int
    ngi: str
    other_site: str
    service_id: int
    endpoint_id: int
    property_key: str
    open_scope: str
    credential_id: int


def find_target(session: Session) -> Target:
    row = session.execute(
        text(
            "SELECT s.id, s.short_name, n.name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "WHERE s.certification_status = 'Certified' AND EXISTS "
            "(SELECT 1 FROM site_property p WHERE p.site_id = s.id) ORDER BY s.id LIMIT 1"
        )
    ).one()
    other = session.execute(
        text(
            "SELECT short_name FROM site WHERE ngi_id != (SELECT ngi_id FROM site WHERE id = :s) "
            "ORDER BY id LIMIT 1"
        ),
        {"s": row[0]},
    ).scalar_one()
    service_id, endpoint_id = session.execute(
        text(
            "SELECT v.id, e.id FROM service v JOIN endpoint e ON e.service_id = v.id "
            "WHERE v.site_id = :s ORDER BY v.id, e.id LIMIT 1"
        ),
        {"s": row[0]},
    ).one()
    key = session.execute(
        text("SELECT key FROM site_property WHERE site_id = :s ORDER BY key LIMIT 1"), {"s": row[0]}
    ).scalar_one()
    owner = identity.ensure_user(session, issuer="test", subject="credential.owner@egi.eu")
    credential = topology.add_site_credential(
        session,
        PLATFORM,
        site_id=row[0],
        identifier="/DC=org/DC=example/CN=access robot",
        kind=CredentialKind.X509,
        owner_id=pk(owner),
    )
    return Target(
        row[1], row[0], row[2], other, service_id, endpoint_id, key, "Local", pk(credential)
    )


Request = tuple[str, dict[str, Any]]


class RoleGrant(NamedTuple):
    """A role of `role_type` over the `kind` entity named `entity`."""

    role_type: str
    kind: str
    entity: str


def site_admin_role(t: Target) -> RoleGrant:
    return RoleGrant("Site Administrator", "site", t.site)


@dataclass(frozen=True)
class Case:
    name: str  # the Mutation field
    build: Callable[[Target], Request]
    allowed: Callable[[Target], RoleGrant]  # a role that allows it
    denied: Callable[[Target], RoleGrant]  # a role that must not


CASES: list[Case] = [
    Case(
        "createSite",
        lambda t: (
            "mutation($i: CreateSiteInput!) { createSite(input: $i) { site { id } } }",
            {"i": {"ngi": t.ngi, "shortName": "BRAND-NEW-SITE", "countryCode": "DE"}},
        ),
        lambda t: RoleGrant("NGI Operations Manager", "ngi", t.ngi),
        lambda t: RoleGrant("Regional Staff (ROD)", "ngi", t.ngi),  # NGI staff may not add sites
    ),
    Case(
        "updateSite",
        lambda t: (
            "mutation($i: UpdateSiteInput!) { updateSite(input: $i) { site { id } } }",
            {"i": {"id": global_id("Site", t.site_id), "description": "Renewed racks"}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),  # sideways
    ),
    Case(
        "changeCertificationStatus",
        lambda t: (
            "mutation($i: ChangeCertificationStatusInput!) "
            "{ changeCertificationStatus(input: $i) { site { id } } }",
            {
                "i": {
                    "siteId": global_id("Site", t.site_id),
                    "status": "SUSPENDED",
                    "reason": "Security incident under investigation",
                }
            },
        ),
        lambda t: RoleGrant("NGI Operations Manager", "ngi", t.ngi),
        site_admin_role,  # site admins may not change their own certification
    ),
    Case(
        "createService",
        lambda t: (
            "mutation($i: CreateServiceInput!) { createService(input: $i) { service { id } } }",
            {
                "i": {
                    "siteId": global_id("Site", t.site_id),
                    "serviceType": "webdav",
                    "hostName": "new-dav.example.org",
                }
            },
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "updateService",
        lambda t: (
            "mutation($i: UpdateServiceInput!) { updateService(input: $i) { service { id } } }",
            {"i": {"id": global_id("Service", t.service_id), "url": "https://x.example.org"}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "deleteService",
        lambda t: (
            "mutation($id: ID!) { deleteService(input: {id: $id}) { id } }",
            {"id": global_id("Service", t.service_id)},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "addEndpoint",
        lambda t: (
            "mutation($i: AddEndpointInput!) { addEndpoint(input: $i) { endpoint { id } } }",
            {"i": {"serviceId": global_id("Service", t.service_id), "name": "extra"}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "updateEndpoint",
        lambda t: (
            "mutation($i: UpdateEndpointInput!) { updateEndpoint(input: $i) { endpoint { id } } }",
            {"i": {"id": global_id("Endpoint", t.endpoint_id), "url": "https://e.example.org"}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "deleteEndpoint",
        lambda t: (
            "mutation($id: ID!) { deleteEndpoint(input: {id: $id}) { id } }",
            {"id": global_id("Endpoint", t.endpoint_id)},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "setProperty",
        lambda t: (
            "mutation($i: SetPropertyInput!) { setProperty(input: $i) { property { key } } }",
            {"i": {"entityId": global_id("Site", t.site_id), "key": "new_key", "value": "v"}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "removeProperty",
        lambda t: (
            "mutation($i: RemovePropertyInput!) { removeProperty(input: $i) { removed } }",
            {"i": {"entityId": global_id("Site", t.site_id), "key": t.property_key}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "tagScopes",
        lambda t: (
            "mutation($i: TagScopesInput!) { tagScopes(input: $i) { scopes { name } } }",
            {"i": {"entityId": global_id("Site", t.site_id), "scopes": [t.open_scope]}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "untagScopes",
        lambda t: (
            "mutation($i: UntagScopesInput!) { untagScopes(input: $i) { scopes { name } } }",
            {"i": {"entityId": global_id("Site", t.site_id), "scopes": ["wlcg", "FedCloud"]}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "addSiteApiCredential",
        lambda t: (
            "mutation($i: AddSiteApiCredentialInput!) "
            "{ addSiteApiCredential(input: $i) { credential { id } } }",
            {
                "i": {
                    "siteId": global_id("Site", t.site_id),
                    "identifier": "/DC=org/CN=new robot",
                    "kind": "X509",
                }
            },
        ),
        lambda t: RoleGrant("NGI Operations Manager", "ngi", t.ngi),
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "updateSiteApiCredential",
        lambda t: (
            "mutation($i: UpdateSiteApiCredentialInput!) "
            "{ updateSiteApiCredential(input: $i) { credential { id } } }",
            {"i": {"id": global_id("SiteApiCredential", t.credential_id), "allowWrite": True}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "renewSiteApiCredential",
        lambda t: (
            "mutation($i: RenewSiteApiCredentialInput!) "
            "{ renewSiteApiCredential(input: $i) { credential { lastRenewedAt } } }",
            {"i": {"id": global_id("SiteApiCredential", t.credential_id)}},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
    Case(
        "deleteSiteApiCredential",
        lambda t: (
            "mutation($id: ID!) { deleteSiteApiCredential(input: {id: $id}) { id } }",
            {"id": global_id("SiteApiCredential", t.credential_id)},
        ),
        site_admin_role,
        lambda t: RoleGrant("Site Administrator", "site", t.other_site),
    ),
]

ALLOWED = "allowed.user@egi.eu"
DENIED = "denied.user@egi.eu"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_mutation_access(callers: Callers, session: Session, case: Case) -> None:
    target = find_target(session)
    query, variables = case.build(target)
    grant(session, ALLOWED, *case.allowed(target))
    grant(session, DENIED, *case.denied(target))
    before = snapshot(session)
    untouched = fingerprint(session)

    # given no token: UNAUTHENTICATED, nothing written
    error = callers.anonymous.error(query, variables)
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    assert fingerprint(session) == untouched

    # given a role that does not reach: FORBIDDEN, nothing written (not even the user row)
    error = callers.as_user(DENIED).error(query, variables)
    assert error["extensions"]["code"] == "FORBIDDEN", error
    assert fingerprint(session) == untouched

    # given the right role: done, and audited
    data = callers.as_user(ALLOWED).data(query, variables)
    assert data[case.name] is not None
    after = snapshot(session)
    assert after["audit_entry"] > before["audit_entry"]
    actors = (
        session.execute(
            text("SELECT DISTINCT actor FROM audit_entry WHERE id > :n"),
            {"n": _max_audit_id(session, before["audit_entry"])},
        )
        .scalars()
        .all()
    )
    assert actors == [ALLOWED]


def _max_audit_id(session: Session, count: int) -> int:
    # ids of the entries that existed before: the count-th smallest id
    ids = session.execute(text("SELECT id FROM audit_entry ORDER BY id")).scalars().all()
    return int(ids[count - 1]) if count else 0


MUTATIONS = frozenset(case.name for case in CASES)
