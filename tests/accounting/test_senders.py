"""Wider sender scopes: an accounting host (a regional accounting server) may send records of
a site or of an NGI's sites once a platform administrator or the NGI's operations manager
grants it; grants and revocations are audited, and nobody else may make them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.service.loading import Sender, load_message
from domains.accounting.service.senders import (
    grant_sender_scope,
    revoke_sender_scope,
    sites_for_dn,
)
from domains.common.audit import AuditEntry
from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM
from domains.common.models import pk
from tests.accounting.test_loading import jobs
from tests.identity.helpers import grant
from tests.monitoring.alerts_world import user

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
DN = "/C=IT/O=INFN/OU=Host/CN=regional-apel.example.it"


def two_ngis(session: Session) -> tuple[str, list[str], str]:
    """An NGI with sites, its sites, and another NGI with sites."""
    rows = session.execute(
        text(
            "SELECT n.name, s.short_name FROM site s JOIN ngi n ON n.id = s.ngi_id"
            " ORDER BY n.id, s.id"
        )
    ).all()
    by_ngi: dict[str, list[str]] = {}
    for ngi, site in rows:
        by_ngi.setdefault(str(ngi), []).append(str(site))
    first, other = list(by_ngi)[:2]
    return first, by_ngi[first], other


def test_an_ngi_grant_lets_a_regional_server_send_for_every_site_of_the_ngi(
    session: Session,
) -> None:
    ngi, sites, other_ngi = two_ngis(session)
    assert sites_for_dn(session, DN) == frozenset()
    manager = user(session, "acct.manager@egi.eu")
    grant(session, "acct.manager@egi.eu", "NGI Operations Manager", "ngi", ngi)
    made = grant_sender_scope(session, manager, dn=DN, ngi=ngi, note="regional APEL")
    assert sites_for_dn(session, DN) == frozenset(sites)
    # granting it again changes nothing
    assert pk(grant_sender_scope(session, manager, dn=DN, ngi=ngi)) == pk(made)
    sender = Sender(DN, sites_for_dn(session, DN), "test")
    assert load_message(session, jobs(sites[0], "1"), sender, "m", NOW).records == 1
    # the other NGI's manager may not grant for this NGI, nor the manager for the other NGI
    with pytest.raises(Forbidden):
        grant_sender_scope(session, manager, dn=DN, ngi=other_ngi)
    entries = (
        session.execute(
            select(AuditEntry).where(col(AuditEntry.entity_type) == "accounting_sender_grant")
        )
        .scalars()
        .all()
    )
    assert [e.action for e in entries] == ["accounting_sender_grant.create"]
    assert revoke_sender_scope(session, manager, grant_id=pk(made)) == pk(made)
    assert sites_for_dn(session, DN) == frozenset()
    with pytest.raises(NotFound):
        revoke_sender_scope(session, manager, grant_id=pk(made))


def test_a_site_grant_and_who_may_not_grant(session: Session) -> None:
    ngi, sites, _ = two_ngis(session)
    grant_sender_scope(session, PLATFORM, dn=DN, site=sites[-1])
    assert sites_for_dn(session, DN) == frozenset({sites[-1]})
    nobody = user(session, "acct.nobody@egi.eu")
    with pytest.raises(Forbidden):
        grant_sender_scope(session, nobody, dn=DN, site=sites[0])
    officer = user(session, "acct.officer@egi.eu")
    grant(session, "acct.officer@egi.eu", "NGI Security Officer", "ngi", ngi)
    with pytest.raises(Forbidden):
        grant_sender_scope(session, officer, dn=DN, ngi=ngi)
    with pytest.raises(Unauthenticated):
        grant_sender_scope(session, ANONYMOUS, dn=DN, ngi=ngi)


@pytest.mark.parametrize(
    ("dn", "site", "ngi", "rule", "field"),
    [
        ("CN=host", None, "x", "ACCOUNTING_DN_INVALID", "dn"),
        ("/CN=host", None, "x", "ACCOUNTING_DN_INVALID", "dn"),
        (DN, None, None, "ACCOUNTING_SCOPE_INVALID", "scope"),
        (DN, "a", "b", "ACCOUNTING_SCOPE_INVALID", "scope"),
        (DN, "NO-SUCH-SITE", None, "ACCOUNTING_SCOPE_INVALID", "site"),
        (DN, None, "NO-SUCH-NGI", "ACCOUNTING_SCOPE_INVALID", "ngi"),
    ],
)
def test_bad_grants_name_the_field_and_the_rule(
    session: Session, dn: str, site: str | None, ngi: str | None, rule: str, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        grant_sender_scope(session, PLATFORM, dn=dn, site=site, ngi=ngi)
    assert (caught.value.field, caught.value.rule_code) == (field, rule)
