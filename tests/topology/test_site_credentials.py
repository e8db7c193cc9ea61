"""Site API credentials in the service layer (GOCDB's APIAuthentication): managed by those
who may edit the site, validated with rule codes, audited on the site; the questions the
gateway asks of a caller's identifiers; the unused flag; GOCDB's orphan rule on revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from domains.common.audit import AuditEntry
from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.time import utcnow
from domains.identity.models import Role, User
from domains.topology import ownership, roles
from domains.topology import service as topology
from domains.topology.models import CredentialKind, SiteApiCredential
from domains.topology.rules import TopologyRule
from domains.topology.service import pi
from tests.identity.helpers import grant

DN = "/DC=org/DC=example/O=Example/CN=robot/host.example.org"
ADMIN = "creds.site.admin@egi.eu"
NGI_MANAGER = "creds.ngi.manager@egi.eu"


def _site(session: Session, offset: int = 0) -> tuple[int, str, int]:
    row = session.execute(
        text("SELECT id, short_name, ngi_id FROM site ORDER BY id LIMIT 1 OFFSET :o"), {"o": offset}
    ).one()
    return int(row.id), str(row.short_name), int(row.ngi_id)


def _ngi_name(session: Session, ngi_id: int) -> str:
    return str(session.execute(text("SELECT name FROM ngi WHERE id = :i"), {"i": ngi_id}).one()[0])


def _principal(session: Session, subject: str, **extra: object) -> Principal:
    user = session.execute(select(User).where(User.subject == subject)).scalar_one()  # type: ignore[arg-type]
    return Principal(subject=subject, name=user.name, user_id=user.id, **extra)  # type: ignore[arg-type]


def _count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(SiteApiCredential)).scalar_one())


@pytest.fixture
def site_admin(session: Session) -> tuple[Principal, int]:
    site_id, short_name, _ = _site(session)
    grant(session, ADMIN, "Site Administrator", "site", short_name)
    return _principal(session, ADMIN), site_id


def test_a_site_admin_adds_lists_edits_renews_and_deletes(
    session: Session, site_admin: tuple[Principal, int]
) -> None:
    admin, site_id = site_admin
    cred = topology.add_site_credential(
        session, admin, site_id=site_id, identifier=DN, kind=CredentialKind.X509
    )
    assert cred.allow_write is False  # GOCDB: new credentials may not write
    assert cred.user_id == admin.user_id
    assert cred.last_used_at is None
    assert cred.unused_flagged_at is None
    assert [
        v.credential.id for v in topology.list_site_credentials(session, admin, site_id=site_id)
    ] == [cred.id]
    updated = topology.update_site_credential(
        session, admin, credential_id=cred.id or 0, allow_write=True
    )
    assert updated.allow_write is True
    before = updated.last_renewed_at
    renewed = topology.renew_site_credential(session, admin, credential_id=cred.id or 0)
    assert renewed.last_renewed_at >= before
    assert topology.delete_site_credential(session, admin, credential_id=cred.id or 0) == cred.id
    assert _count(session) == 0
    actions = session.execute(
        select(AuditEntry.action)  # type: ignore[call-overload]
        .where(AuditEntry.entity_type == "site", AuditEntry.entity_id == site_id)
        .order_by(AuditEntry.id)
    ).scalars()
    assert [a for a in actions if "api_credential" in a] == [
        "site.add_api_credential",
        "site.update_api_credential",
        "site.renew_api_credential",
        "site.delete_api_credential",
    ]
    added = session.execute(
        select(AuditEntry).where(AuditEntry.action == "site.add_api_credential")  # type: ignore[arg-type]
    ).scalar_one()
    assert added.changes[f"api_credential:{cred.id}:identifier"] == [None, DN]


def test_an_ngi_manager_may_manage_the_sites_of_the_ngi(session: Session) -> None:
    site_id, _, ngi_id = _site(session)
    grant(session, NGI_MANAGER, "NGI Operations Manager", "ngi", _ngi_name(session, ngi_id))
    manager = _principal(session, NGI_MANAGER)
    cred = topology.add_site_credential(
        session, manager, site_id=site_id, identifier="abc-123", kind=CredentialKind.OIDC_SUBJECT
    )
    assert cred.kind is CredentialKind.OIDC_SUBJECT


def test_editing_makes_the_editor_the_owner_and_renews(
    session: Session, site_admin: tuple[Principal, int]
) -> None:
    admin, site_id = site_admin
    cred = topology.add_site_credential(
        session, admin, site_id=site_id, identifier=DN, kind=CredentialKind.X509
    )
    session.execute(
        text("UPDATE site_api_credential SET last_renewed_at = :t WHERE id = :i"),
        {"t": utcnow() - timedelta(days=400), "i": cred.id},
    )
    session.expire_all()
    _, short_name, _ = _site(session)
    grant(session, "second.admin@egi.eu", "Site Administrator", "site", short_name)
    other = _principal(session, "second.admin@egi.eu")
    edited = topology.update_site_credential(
        session, other, credential_id=cred.id or 0, identifier=DN + "2"
    )
    assert edited.user_id == other.user_id
    assert edited.last_renewed_at > utcnow() - timedelta(minutes=5)


@pytest.mark.parametrize(
    ("identifier", "kind", "rule"),
    [
        ("", CredentialKind.X509, TopologyRule.API_CREDENTIAL_IDENTIFIER_EMPTY),
        ("   ", CredentialKind.OIDC_SUBJECT, TopologyRule.API_CREDENTIAL_IDENTIFIER_EMPTY),
        ("CN=Jane,O=Example", CredentialKind.X509, TopologyRule.API_CREDENTIAL_DN_MALFORMED),
        ("/DC=org/=x", CredentialKind.X509, TopologyRule.API_CREDENTIAL_DN_MALFORMED),
        ("/DC=org/CN=", CredentialKind.X509, TopologyRule.API_CREDENTIAL_DN_MALFORMED),
        ("a subject", CredentialKind.OIDC_SUBJECT, TopologyRule.API_CREDENTIAL_SUBJECT_MALFORMED),
    ],
)
def test_bad_identifiers_are_refused_and_nothing_is_written(
    session: Session,
    site_admin: tuple[Principal, int],
    identifier: str,
    kind: CredentialKind,
    rule: TopologyRule,
) -> None:
    admin, site_id = site_admin
    with pytest.raises(Invalid) as caught:
        topology.add_site_credential(
            session, admin, site_id=site_id, identifier=identifier, kind=kind
        )
    assert (caught.value.field, caught.value.rule) == ("identifier", rule)
    assert _count(session) == 0


def test_identifier_length_and_uniqueness_per_site(
    session: Session, site_admin: tuple[Principal, int]
) -> None:
    admin, site_id = site_admin
    with pytest.raises(Invalid) as too_long:
        topology.add_site_credential(
            session, admin, site_id=site_id, identifier="/CN=" + "x" * 510, kind=CredentialKind.X509
        )
    assert too_long.value.field == "identifier"
    first = topology.add_site_credential(
        session, admin, site_id=site_id, identifier=DN, kind=CredentialKind.X509
    )
    second = topology.add_site_credential(
        session, admin, site_id=site_id, identifier=DN + "2", kind=CredentialKind.X509
    )
    with pytest.raises(Invalid) as taken:
        topology.add_site_credential(
            session, admin, site_id=site_id, identifier=DN, kind=CredentialKind.OIDC_SUBJECT
        )
    assert taken.value.rule is TopologyRule.API_CREDENTIAL_TAKEN
    with pytest.raises(Invalid) as taken_by_edit:
        topology.update_site_credential(session, admin, credential_id=second.id or 0, identifier=DN)
    assert taken_by_edit.value.rule is TopologyRule.API_CREDENTIAL_TAKEN
    # the same identifier may be registered at another site
    assert first.identifier == DN


def test_callers_who_may_not_edit_the_site_are_refused(
    session: Session, site_admin: tuple[Principal, int]
) -> None:
    admin, site_id = site_admin
    cred = topology.add_site_credential(
        session, admin, site_id=site_id, identifier=DN, kind=CredentialKind.X509
    )
    other_site, _, _ = _site(session, offset=1)
    with pytest.raises(Forbidden):
        topology.add_site_credential(
            session, admin, site_id=other_site, identifier=DN, kind=CredentialKind.X509
        )
    with pytest.raises((Forbidden, Unauthenticated)):
        topology.list_site_credentials(session, ANONYMOUS, site_id=site_id)
    stranger = Principal(subject="stranger@egi.eu", user_id=None)
    for call in (
        lambda: topology.update_site_credential(
            session, stranger, credential_id=cred.id or 0, allow_write=True
        ),
        lambda: topology.renew_site_credential(session, stranger, credential_id=cred.id or 0),
        lambda: topology.delete_site_credential(session, stranger, credential_id=cred.id or 0),
    ):
        with pytest.raises(Forbidden):
            call()
    assert topology.credentials_visible(session, admin, site_id=site_id)
    assert not topology.credentials_visible(session, stranger, site_id=site_id)
    with pytest.raises(NotFound):
        topology.renew_site_credential(session, admin, credential_id=10**9)


def test_the_platform_registers_for_a_named_owner_but_not_for_nobody(
    session: Session, site_admin: tuple[Principal, int]
) -> None:
    admin, site_id = site_admin
    with pytest.raises(Invalid) as caught:
        topology.add_site_credential(
            session, PLATFORM, site_id=site_id, identifier=DN, kind=CredentialKind.X509
        )
    assert caught.value.rule is TopologyRule.API_CREDENTIAL_OWNER_UNKNOWN
    cred = topology.add_site_credential(
        session,
        PLATFORM,
        site_id=site_id,
        identifier=DN,
        kind=CredentialKind.X509,
        owner_id=admin.user_id,
    )
    assert cred.user_id == admin.user_id
    with pytest.raises(NotFound):
        topology.add_site_credential(
            session, PLATFORM, site_id=10**9, identifier=DN, kind=CredentialKind.X509, owner_id=1
        )


def test_what_the_gateway_asks_of_a_callers_identifiers(
    session: Session, site_admin: tuple[Principal, int]
) -> None:
    admin, site_id = site_admin
    other_site, _, _ = _site(session, offset=1)
    unlinked = Principal(subject=DN, name=DN, client_dn=DN)
    assert topology.api_identifiers(unlinked) == (DN,)
    assert topology.api_identifiers(ANONYMOUS) == ()
    assert topology.api_identifiers(PLATFORM) == ()
    both = Principal(subject="sub-1", user_id=admin.user_id, client_dn=DN)
    assert topology.api_identifiers(both) == (DN, "sub-1")
    assert not topology.has_any_site_credential(session, unlinked)
    assert not pi.reads_personal_data(session, unlinked)
    assert not topology.has_any_site_credential(session, ANONYMOUS)
    assert topology.site_credentials_for(session, ANONYMOUS, site_id=site_id) == []
    cred = topology.add_site_credential(
        session, admin, site_id=site_id, identifier=DN, kind=CredentialKind.X509
    )
    assert topology.has_any_site_credential(session, unlinked)
    # GOCDB's protection level 3: a registered credential reads personal data
    assert pi.reads_personal_data(session, unlinked)
    assert [c.id for c in topology.site_credentials_for(session, unlinked, site_id=site_id)] == [
        cred.id
    ]
    assert topology.site_credentials_for(session, unlinked, site_id=other_site) == []
    session.execute(
        text("UPDATE site_api_credential SET unused_flagged_at = :t WHERE id = :i"),
        {"t": utcnow(), "i": cred.id},
    )
    topology.note_credential_use(session, cred.id or 0)
    session.expire_all()
    used = topology.get_site_credential(session, cred.id or 0)
    assert used is not None
    assert used.last_used_at is not None
    assert used.unused_flagged_at is None


def _age(session: Session, cred_id: int, *, used_days: int | None, renewed_days: int) -> None:
    now = utcnow()
    session.execute(
        text(
            "UPDATE site_api_credential SET last_used_at = :u, last_renewed_at = :r WHERE id = :i"
        ),
        {
            "u": None if used_days is None else now - timedelta(days=used_days),
            "r": now - timedelta(days=renewed_days),
            "i": cred_id,
        },
    )
    session.expire_all()


def test_credentials_unused_and_unrenewed_are_flagged_once(
    session: Session, site_admin: tuple[Principal, int]
) -> None:
    admin, site_id = site_admin
    ids = [
        topology.add_site_credential(
            session, admin, site_id=site_id, identifier=f"{DN}{n}", kind=CredentialKind.X509
        ).id
        or 0
        for n in range(4)
    ]
    _age(session, ids[0], used_days=None, renewed_days=500)  # never used, old: flagged
    _age(session, ids[1], used_days=450, renewed_days=500)  # used long ago: flagged
    _age(session, ids[2], used_days=10, renewed_days=500)  # used lately: kept
    _age(session, ids[3], used_days=None, renewed_days=10)  # renewed lately: kept
    cutoff = utcnow() - timedelta(days=395)
    assert topology.flag_unused_credentials(session, unused_since=cutoff) == 2
    assert topology.flag_unused_credentials(session, unused_since=cutoff) == 0  # idempotent
    flagged = session.execute(
        select(SiteApiCredential.id)  # type: ignore[call-overload]
        .where(SiteApiCredential.unused_flagged_at.is_not(None))  # type: ignore[union-attr]
        .order_by(SiteApiCredential.id)
    ).scalars()
    assert list(flagged) == ids[:2]
    audited = session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "site.flag_unused_api_credential")  # type: ignore[arg-type]
    ).scalar_one()
    assert audited == 2
    renewed = topology.renew_site_credential(session, admin, credential_id=ids[0])
    assert renewed.unused_flagged_at is None


def _role_id(session: Session, subject: str, kind: str, name: str) -> int:
    entity_id = ownership.id_of(session, kind, name)
    return int(
        session.execute(
            select(Role.id)  # type: ignore[call-overload]
            .join(User, User.id == Role.user_id)
            .where(User.subject == subject, Role.entity_id == entity_id)
        ).scalar_one()
    )


def test_revoking_the_last_role_over_a_credentials_site_is_refused(
    session: Session, site_admin: tuple[Principal, int]
) -> None:
    admin, site_id = site_admin
    _, short_name, ngi_id = _site(session)
    topology.add_site_credential(
        session, admin, site_id=site_id, identifier=DN, kind=CredentialKind.X509
    )
    role_id = _role_id(session, ADMIN, "site", short_name)
    with pytest.raises(Invalid) as caught:
        roles.revoke_role(session, admin, role_id=role_id)
    assert caught.value.rule is TopologyRule.ROLE_ORPHANS_API_CREDENTIALS
    assert f"{short_name}(1)" in caught.value.message
    status = session.execute(select(Role.status).where(Role.id == role_id)).scalar_one()  # type: ignore[call-overload]
    assert status.value == "GRANTED"
    # with a role over the site's NGI as well, the site role may go
    grant(session, ADMIN, "Regional Staff (ROD)", "ngi", _ngi_name(session, ngi_id))
    assert roles.revoke_role(session, admin, role_id=role_id).status.value == "REVOKED"


def test_revoking_an_ngi_role_checks_the_sites_of_the_ngi(session: Session) -> None:
    site_id, short_name, ngi_id = _site(session)
    ngi = _ngi_name(session, ngi_id)
    grant(session, NGI_MANAGER, "NGI Operations Manager", "ngi", ngi)
    manager = _principal(session, NGI_MANAGER)
    topology.add_site_credential(
        session, manager, site_id=site_id, identifier=DN, kind=CredentialKind.X509
    )
    role_id = _role_id(session, NGI_MANAGER, "ngi", ngi)
    role = session.get(Role, role_id)
    assert role is not None
    assert topology.orphaned_credential_sites(session, role) == {short_name: 1}
    with pytest.raises(Invalid):
        roles.revoke_role(session, manager, role_id=role_id)
    grant(session, NGI_MANAGER, "Site Administrator", "site", short_name)
    assert topology.orphaned_credential_sites(session, role) == {}


def test_roles_over_other_kinds_orphan_nothing(session: Session) -> None:
    grant(
        session, "sg.admin@egi.eu", "Service Group Administrator", "service_group", _group(session)
    )
    role_id = int(
        session.execute(
            select(Role.id)  # type: ignore[call-overload]
            .join(User, User.id == Role.user_id)
            .where(User.subject == "sg.admin@egi.eu")
        ).scalar_one()
    )
    role = session.get(Role, role_id)
    assert role is not None
    assert topology.orphaned_credential_sites(session, role) == {}


def _group(session: Session) -> str:
    return str(session.execute(text("SELECT name FROM service_group ORDER BY id LIMIT 1")).one()[0])


def test_empty_questions_ask_nothing(session: Session, site_admin: tuple[Principal, int]) -> None:
    assert topology.credentials_by_site(session, []) == {}
    _, short_name, _ = _site(session)
    role = session.get(Role, _role_id(session, ADMIN, "site", short_name))
    assert role is not None
    assert topology.orphaned_credential_sites(session, role) == {}  # owns no credential
