"""The reject store and the sender grants through GraphQL: platform administrators browse,
read, load again and delete rejects (audited; a reject refused again keeps its row with the
new reason, a signed one is verified again rather than trusted from its row); grants are
made, listed and revoked by administrators and the NGI's operations managers; nobody else
sees or changes anything."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import JobRecord, RejectedMessage
from domains.accounting.rules import AccountingRule as R
from domains.accounting.service.intake import receive_posted, receive_signed
from domains.accounting.service.loading import Sender, load_message, reject
from domains.accounting.service.rejects import reload_reject
from domains.accounting.service.senders import grant_sender_scope
from domains.accounting.smime import CryptoConfig
from domains.common.audit import AuditEntry
from domains.common.errors import Invalid
from domains.common.identity import PLATFORM, Principal
from domains.common.models import pk
from domains.identity.service.users import user_by_subject
from domains.topology import service as topology
from domains.topology.models import CredentialKind, Site
from tests.accounting.test_intake import crypto, records, register_apel_host, sign
from tests.accounting.test_loading import DN, NOW, a_site, jobs
from tests.accounting.test_senders import two_ngis
from tests.compat.tls import Pki, make_pki
from tests.conftest import Callers
from tests.identity.helpers import global_id, grant
from tests.refusals import assert_invalid, assert_refused

ADMIN = ("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",)
MUTATIONS = frozenset(
    {
        "reloadAccountingReject",
        "deleteAccountingRejects",
        "deleteAccountingRejectsMatching",
        "grantAccountingSenderScope",
        "revokeAccountingSenderScope",
    }
)
LIST = """query($f: AccountingRejectFilter) { accountingRejects(filter: $f) { totalCount
  nodes { id sender messageId rule field signed size body { encoding content } } } }"""
ONE = "query($id: ID!) { accountingReject(id: $id) { id rule } node(id: $id) { id } }"
RELOAD = """mutation($id: ID!) { reloadAccountingReject(input: {id: $id}) { loaded records
  reject { id rule field sender reason } } }"""
DELETE = "mutation($ids: [ID!]!) { deleteAccountingRejects(input: {ids: $ids}) { ids } }"
MATCHING = """mutation($f: AccountingRejectFilter!) {
  deleteAccountingRejectsMatching(input: {filter: $f}) { count } }"""
GRANTS = "{ accountingSenderGrants { totalCount nodes { id dn scopeKind scopeName } } }"
GRANT = """mutation($i: GrantAccountingSenderScopeInput!) { grantAccountingSenderScope(input: $i)
  { grant { id dn scopeKind scopeName grantedBy } } }"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("reject-pki"))


def _unsigned_reject(session: Session, site: str) -> str:
    """A message of `site` from a DN that accounts for no site: rejected, unsigned."""
    outcome = load_message(session, jobs(site, "1"), Sender(DN, frozenset(), "t"), "m-u", NOW)
    assert outcome.rule == "ACCOUNTING_SITE_NOT_SENDERS"
    return global_id("AccountingReject", outcome.reject_id)


def test_callers_without_the_right_are_refused_and_see_nothing(
    callers: Callers, session: Session
) -> None:
    ngi, sites, other_ngi = two_ngis(session)
    reject_id = _unsigned_reject(session, sites[0])
    made = grant_sender_scope(session, PLATFORM, dn=DN, ngi=other_ngi)
    session.commit()
    cases: dict[str, dict[str, Any]] = {
        "reloadAccountingReject": {"id": reject_id},
        "deleteAccountingRejects": {"ids": [reject_id]},
        "deleteAccountingRejectsMatching": {"filter": {"sender": DN}},
        "grantAccountingSenderScope": {"dn": DN, "site": sites[0]},
        "revokeAccountingSenderScope": {"grantId": global_id("AccountingSenderGrant", pk(made))},
    }
    assert cases.keys() == MUTATIONS
    # an operations manager of one NGI: no rejects, and no grants of another NGI
    grant(session, "acct.ngi@egi.eu", "NGI Operations Manager", "ngi", ngi)
    stranger = callers.as_user("stranger@egi.eu")
    stranger.data("{ viewer { subject } }")  # first sight writes the user row
    manager = callers.as_user("acct.ngi@egi.eu")
    for name, values in cases.items():
        assert_refused(callers.anonymous, session, name, values, "UNAUTHENTICATED")
        assert_refused(stranger, session, name, values, "FORBIDDEN")
        if name != "grantAccountingSenderScope":
            assert_refused(manager, session, name, values, "FORBIDDEN")
    for client, code in (
        (callers.anonymous, "UNAUTHENTICATED"),
        (stranger, "FORBIDDEN"),
        (manager, "FORBIDDEN"),
    ):
        assert client.error(LIST)["extensions"]["code"] == code
        assert client.data(ONE, {"id": reject_id}) == {"accountingReject": None, "node": None}
        assert client.data(GRANTS)["accountingSenderGrants"]["totalCount"] == 0

    # the manager grants for its NGI's site, sees that grant only, and revokes it
    granted = manager.data(GRANT, {"i": {"dn": DN, "site": sites[0], "note": "regional"}})
    node = granted["grantAccountingSenderScope"]["grant"]
    assert (node["scopeKind"], node["scopeName"], node["grantedBy"]) == (
        "SITE",
        sites[0],
        "acct.ngi@egi.eu",
    )
    seen = manager.data(GRANTS)["accountingSenderGrants"]
    assert [n["id"] for n in seen["nodes"]] == [node["id"]]
    admin = callers.as_user("admin@egi.eu", entitlements=ADMIN)
    assert admin.data(GRANTS)["accountingSenderGrants"]["totalCount"] == 2
    revoke = "mutation($g: ID!) { revokeAccountingSenderScope(input: {grantId: $g}) { id } }"
    assert (
        manager.data(revoke, {"g": node["id"]})["revokeAccountingSenderScope"]["id"] == (node["id"])
    )
    assert_invalid(
        admin, session, GRANT, {"i": {"dn": "CN=not-slash-form"}}, "dn", "ACCOUNTING_DN_INVALID"
    )


def test_operators_browse_reload_and_delete_rejects(callers: Callers, session: Session) -> None:
    site = a_site(session)
    unsigned = _unsigned_reject(session, site)
    # a signed reject whose row names a registered DN: the app has no CA, so it is not
    # trusted on reload but verified, and refused with what the verification says
    signed_row = reject(
        session,
        b"Content-Type: multipart/signed; protocol=...\n\nnot really",
        Sender(DN, frozenset(), "subscription:accounting/loader"),
        "m-s",
        Invalid("message", R.ACCOUNTING_SIGNER_NOT_VALID),
        signed=True,
    )
    signed = global_id("AccountingReject", pk(signed_row))
    binary = load_message(session, b"\xff\xfe", Sender(DN, frozenset(), "t"), "m-b", NOW)
    session.commit()
    admin = callers.as_user("admin@egi.eu", entitlements=ADMIN)

    listed = admin.data(LIST, {"f": {"sender": DN}})["accountingRejects"]
    assert listed["totalCount"] == 3
    newest, middle, oldest = listed["nodes"]  # newest first
    assert (oldest["id"], oldest["rule"], oldest["field"]) == (
        unsigned,
        "ACCOUNTING_SITE_NOT_SENDERS",
        "record[1].Site",
    )
    assert oldest["body"] == {"encoding": "TEXT", "content": jobs(site, "1").decode()}
    assert (middle["signed"], newest["size"]) == (True, 2)
    assert newest["body"] == {"encoding": "BASE64", "content": "//4="}
    by_rule = admin.data(LIST, {"f": {"rule": "ACCOUNTING_NOT_UTF8"}})["accountingRejects"]
    assert [n["messageId"] for n in by_rule["nodes"]] == ["m-b"]
    later = {"receivedAfter": "2999-01-01T00:00:00Z"}
    assert admin.data(LIST, {"f": later})["accountingRejects"]["totalCount"] == 0
    naive = {"f": {"receivedBefore": "2026-12-05T00:00:00"}}
    assert_invalid(
        admin, session, LIST, naive, "filter.receivedBefore", "ACCOUNTING_TIME_WITHOUT_OFFSET"
    )
    assert admin.data(ONE, {"id": unsigned})["accountingReject"]["rule"] == (
        "ACCOUNTING_SITE_NOT_SENDERS"
    )

    # refused again: the answer names field and rule, the row keeps the new reason
    again = admin.data(RELOAD, {"id": signed})["reloadAccountingReject"]
    assert (again["loaded"], again["records"]) == (False, 0)
    assert again["reject"]["id"] == signed
    assert (again["reject"]["rule"], again["reject"]["field"], again["reject"]["sender"]) == (
        "ACCOUNTING_SIGNATURE_INVALID",
        "message",
        "",
    )
    session.expire_all()
    assert session.get(RejectedMessage, pk(signed_row)).rule == "ACCOUNTING_SIGNATURE_INVALID"  # type: ignore[union-attr]

    # the topology fixed (the DN's APEL host registered at the site): it loads, and is gone
    register_apel_host(session, DN)
    session.commit()
    loaded = admin.data(RELOAD, {"id": unsigned})["reloadAccountingReject"]
    assert loaded == {"loaded": True, "records": 1, "reject": None}
    assert admin.data(ONE, {"id": unsigned})["accountingReject"] is None
    assert session.execute(select(col(JobRecord.publisher))).scalars().all() == [DN]

    deleted = admin.data(DELETE, {"ids": [signed, global_id("AccountingReject", binary.reject_id)]})
    assert len(deleted["deleteAccountingRejects"]["ids"]) == 2
    assert admin.data(LIST)["accountingRejects"]["totalCount"] == 0
    assert admin.error(DELETE, {"ids": [signed]})["extensions"]["code"] == "NOT_FOUND"
    actions = session.execute(
        select(col(AuditEntry.action))
        .where(col(AuditEntry.entity_type) == "accounting_reject")
        .order_by(col(AuditEntry.id))
    ).scalars()
    assert list(actions) == [
        "accounting_reject.reload",
        "accounting_reject.reload",
        "accounting_reject.delete",
        "accounting_reject.delete",
    ]


def test_operators_delete_the_rejects_a_filter_matches(callers: Callers, session: Session) -> None:
    site = a_site(session)
    for n in range(3):  # three of the DN's: two ACCOUNTING_SITE_NOT_SENDERS, one not UTF-8
        body = b"\xff" if n == 2 else jobs(site, str(n))
        load_message(session, body, Sender(DN, frozenset(), "t"), f"m-{n}", NOW)
    load_message(session, b"\xff", Sender("/CN=other", frozenset(), "t"), "m-o", NOW)
    session.commit()
    admin = callers.as_user("admin@egi.eu", entitlements=ADMIN)
    naive = {"f": {"rule": "ACCOUNTING_NOT_UTF8", "receivedAfter": "2026-12-05T00:00:00"}}
    field = "input.filter.receivedAfter"
    assert_invalid(admin, session, MATCHING, naive, field, "ACCOUNTING_TIME_WITHOUT_OFFSET")
    every: dict[str, Any] = {"f": {}}
    assert_invalid(
        admin, session, MATCHING, every, "input.filter", "ACCOUNTING_REJECT_FILTER_EMPTY"
    )
    wanted = {
        "sender": DN,
        "rule": "ACCOUNTING_SITE_NOT_SENDERS",
        "receivedBefore": "2999-01-01T00:00:00Z",
    }
    gone = admin.data(MATCHING, {"f": wanted})["deleteAccountingRejectsMatching"]
    assert gone == {"count": 2}
    left = session.execute(select(col(RejectedMessage.message_id))).scalars().all()
    assert sorted(left) == ["m-2", "m-o"]
    audited = session.execute(
        select(col(AuditEntry.entity_name)).where(
            col(AuditEntry.action) == "accounting_reject.delete"
        )
    ).scalars()
    assert sorted(audited) == ["m-0", "m-1"]


def test_a_signed_reject_is_verified_again_not_trusted_from_its_row(
    session: Session, pki: Pki
) -> None:
    site = register_apel_host(session, pki.valid.dn)
    signed = sign(records(site, "1"), pki.other.cert_file, pki.other.key_file)
    first = receive_signed(session, signed, message_id="e", source="t", crypto=crypto(pki), now=NOW)
    assert first.rule == "ACCOUNTING_SIGNER_NOT_VALID"
    row = session.get(RejectedMessage, first.reject_id)
    assert row is not None
    row.sender = pki.valid.dn  # a row claiming the registered host: not believed
    session.flush()
    again = reload_reject(session, PLATFORM, reject_id=pk(row), crypto=crypto(pki), now=NOW)
    assert (again.outcome.rule, again.reject) == ("ACCOUNTING_SIGNER_NOT_VALID", row)
    assert row.sender == pki.other.dn
    # once the signer may send for the site, the same reject loads under the signer's DN
    grant_sender_scope(session, PLATFORM, dn=pki.other.dn, site=site)
    loaded = reload_reject(session, PLATFORM, reject_id=pk(row), crypto=crypto(pki), now=NOW)
    assert (loaded.outcome.records, loaded.reject) == (1, None)
    assert session.execute(select(col(JobRecord.publisher))).scalars().all() == [pki.other.dn]
    assert session.get(RejectedMessage, first.reject_id) is None


def _writing_credential(session: Session, site: str, identifier: str) -> None:
    topology.add_site_credential(
        session,
        PLATFORM,
        site_id=pk(session.execute(select(Site).where(col(Site.short_name) == site)).scalar_one()),
        identifier=identifier,
        kind=CredentialKind.X509,
        allow_write=True,
        owner_id=pk(user_by_subject(session, "poster.owner@egi.eu", create=True)),
    )


def test_a_posted_reject_loads_for_the_sites_its_credential_may_send_for(
    session: Session,
) -> None:
    poster = "/DC=org/DC=example/O=Example/CN=poster.example.org"
    _writing_credential(session, register_apel_host(session, "/DC=org/CN=apel0"), poster)
    other = a_site(session, 1)
    caller = Principal(subject=poster, client_dn=poster)
    _, first = receive_posted(session, caller, records(other, "1"), message_id=None, now=NOW)
    assert first.rule == "ACCOUNTING_SITE_NOT_SENDERS"
    assert first.reject_id is not None
    unused = CryptoConfig(ca_path=None)  # an unsigned reject is not opened
    again = reload_reject(session, PLATFORM, reject_id=first.reject_id, crypto=unused, now=NOW)
    assert again.outcome.rule == "ACCOUNTING_SITE_NOT_SENDERS"
    # the credential registered at the other site too (the DN itself is no host's)
    assert register_apel_host(session, "/DC=org/CN=apel1", 1) == other
    _writing_credential(session, other, poster)
    loaded = reload_reject(session, PLATFORM, reject_id=first.reject_id, crypto=unused, now=NOW)
    assert (loaded.outcome.records, loaded.reject) == (1, None)
