"""The change log: secrets masked in the stored entries, and each caller reads only the
entries about what they may read (domains/changelog/service.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from domains.changelog.service import ChangeFilter, list_changes
from domains.common import audit
from domains.common.audit import AuditEntry, mask_changes, mask_value
from domains.common.errors import Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.pagination import PageRequest
from domains.downtimes import notifications as notes
from domains.identity.service import tokens
from domains.messaging import service as msg
from tests.conftest import Callers, StatementCounter
from tests.downtimes.notify_world import spec, subscriber
from tests.identity.helpers import grant

WEBHOOK = "https://hooks.example.org/services/T0/B0/alice-webhook-secret?token=s3cr3t"
MATTERMOST = "https://chat.example.org/hooks/other-project-hook-secret"


@dataclass
class Log:
    alice: Principal  # holds a downtime subscription with a webhook, and an API token
    site_admin: Principal  # Site Administrator of `site`
    other_admin: Principal  # project admin of messaging project OTHER (a Mattermost hook)
    ngi_manager: Principal  # NGI Operations Manager of the NGI of `site`
    site: str
    site_id: int
    other_site: str  # of another NGI
    other_site_id: int


def _subscriber_of_role(
    session: Session, subject: str, role: str, kind: str, name: str
) -> Principal:
    grant(session, subject, role, kind, name)
    return subscriber(session, subject)


@pytest.fixture
def log(session: Session) -> Log:
    site_id, site, ngi = session.execute(
        text(
            "SELECT s.id, s.short_name, n.name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "ORDER BY s.id LIMIT 1"
        )
    ).one()
    other_id, other = session.execute(
        text(
            "SELECT s.id, s.short_name FROM site s WHERE s.ngi_id <> "
            "(SELECT ngi_id FROM site WHERE id = :s) ORDER BY s.id LIMIT 1"
        ),
        {"s": site_id},
    ).one()
    alice = subscriber(session, "alice@egi.eu")
    notes.subscribe(session, alice, spec=spec(name="alice's hook", webhook_url=WEBHOOK))
    tokens.create_api_token(session, alice, name="alice's token")
    msg.create_project(session, PLATFORM, name="OTHER")
    msg.add_member(
        session, PLATFORM, project="OTHER", subject="other.admin@egi.eu", roles=["project_admin"]
    )
    other_admin = subscriber(session, "other.admin@egi.eu")
    msg.create_topic(session, other_admin, project="OTHER", topic="alerts")
    msg.create_subscription(
        session,
        other_admin,
        project="OTHER",
        subscription="to-chat",
        topic="projects/OTHER/topics/alerts",
        push_config={"type": "mattermost", "mattermostUrl": MATTERMOST},
    )
    site_admin = _subscriber_of_role(
        session, "site.admin@egi.eu", "Site Administrator", "site", other
    )
    ngi_manager = _subscriber_of_role(
        session, "ngi.manager@egi.eu", "NGI Operations Manager", "ngi", ngi
    )
    session.flush()
    return Log(alice, site_admin, other_admin, ngi_manager, site, site_id, other, other_id)


def entry(session: Session, entity_type: str, entity_id: int) -> None:
    audit.record(
        session,
        PLATFORM,
        action=f"{entity_type}.update",
        entity_type=entity_type,
        entity_id=entity_id,
    )


def changes(session: Session, who: Principal, **filter: object) -> list[AuditEntry]:
    page = list_changes(
        session,
        who,
        filter=ChangeFilter(**filter),  # type: ignore[arg-type]
        page=PageRequest.build(None, None, default=1000, maximum=1000),
    )
    return [AuditEntry(**dict(row._mapping)) for row in page.items]


def test_secrets_are_masked_in_the_stored_entries(session: Session, log: Log) -> None:
    stored = str([(e.action, e.changes) for e in session.execute(select(AuditEntry)).scalars()])
    assert "alice-webhook-secret" not in stored
    assert "s3cr3t" not in stored
    assert "other-project-hook-secret" not in stored
    webhook = next(
        e.changes["webhook_url"]
        for e in session.execute(select(AuditEntry)).scalars()
        if e.action == "downtime_subscription.create"
    )
    assert webhook == [None, "https://hooks.example.org/***"]


def test_mask_keeps_scheme_host_and_port_and_is_idempotent() -> None:
    assert (
        mask_value("webhook_url", "https://u:p@h.example:8443/x?y=1")
        == "https://h.example:8443/***"
    )
    assert mask_value("webhook_url", "https://[::1]:9/x") == "https://[::1]:9/***"
    assert mask_value("webhook_url", "not a url") == "***"
    assert mask_value("mattermost_url", "https://h.example/***") == "https://h.example/***"
    assert mask_value("auth_header_value", "Bearer abc") == "***"
    assert mask_value("auth_header_value", "") == ""
    assert mask_value("verification_hash", None) is None
    assert mask_value("description", "kept") == "kept"
    once = mask_changes({"webhook_url": [None, WEBHOOK], "name": ["a", "b"]})
    assert once == {"webhook_url": [None, "https://hooks.example.org/***"], "name": ["a", "b"]}
    assert mask_changes(once) == once


def test_a_site_administrator_reads_neither_others_webhooks_nor_others_projects(
    session: Session, log: Log
) -> None:
    seen = changes(session, log.site_admin)
    kinds = {e.entity_type for e in seen}
    assert "downtime_subscription" not in kinds
    assert "api_token" not in kinds
    assert not kinds & {"msg_project", "msg_topic", "msg_subscription"}
    # what their role reaches: their site's entries (the role grant itself is one)
    assert ("site", log.other_site_id) in {(e.entity_type, e.entity_id) for e in seen}
    assert ("site", log.site_id) not in {(e.entity_type, e.entity_id) for e in seen}


def test_each_caller_reads_their_own(session: Session, log: Log) -> None:
    alice = {e.entity_type for e in changes(session, log.alice)}
    assert alice == {"downtime_subscription", "api_token"}
    other = changes(session, log.other_admin)
    assert {e.entity_type for e in other} == {"msg_project", "msg_topic", "msg_subscription"}
    assert {e.entity_name for e in other} >= {"OTHER", "OTHER/alerts", "OTHER/to-chat"}
    # a consumer of the project, in no ACL, reads the project's entries only
    msg.add_member(session, PLATFORM, project="OTHER", subject="alice@egi.eu", roles=["consumer"])
    assert {e.entity_type for e in changes(session, log.alice)} == {
        "downtime_subscription",
        "api_token",
        "msg_project",
    }
    msg.modify_subscription_acl(
        session, log.other_admin, project="OTHER", subscription="to-chat", users=["alice@egi.eu"]
    )
    assert "msg_subscription" in {e.entity_type for e in changes(session, log.alice)}


def test_an_ngi_role_reaches_the_sites_services_and_downtimes_under_it(
    session: Session, log: Log
) -> None:
    service_id = session.execute(
        text("SELECT id FROM service WHERE site_id = :s ORDER BY id LIMIT 1"), {"s": log.site_id}
    ).scalar_one()
    entry(session, "service", service_id)
    manager = {(e.entity_type, e.entity_id) for e in changes(session, log.ngi_manager)}
    assert ("service", service_id) in manager
    assert ("service", service_id) not in {
        (e.entity_type, e.entity_id) for e in changes(session, log.site_admin)
    }
    admin = Principal(subject="root@egi.eu", is_admin=True)
    everything = session.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
    page = list_changes(
        session, admin, filter=ChangeFilter(), page=PageRequest.build(1, None, default=1, maximum=1)
    )
    assert page.total_count == everything


def test_the_anonymous_caller_reads_nothing(session: Session, log: Log) -> None:
    with pytest.raises(Unauthenticated):
        changes(session, ANONYMOUS)


def test_statements_do_not_grow_with_the_log(
    session: Session, log: Log, statements: StatementCounter
) -> None:
    def count() -> int:
        session.expire_all()
        statements.reset()
        changes(session, log.ngi_manager)
        return statements.count

    before = count()
    for n in range(30):
        entry(session, "site", log.site_id if n % 2 else log.other_site_id)
    assert count() == before


CHANGES = """{ changes(first: 100) { nodes { entityType entityName changes } } }"""


def test_over_graphql(callers: Callers, session: Session, log: Log) -> None:
    session.commit()
    seen = callers.as_user("site.admin@egi.eu").data(CHANGES)["changes"]["nodes"]
    assert seen
    assert "alice-webhook-secret" not in str(seen)
    assert "other-project-hook-secret" not in str(seen)
    assert {n["entityType"] for n in seen} <= {"site", "service", "endpoint", "downtime"} | {
        "country",
        "scope",
        "service_type",
    }
    nobody = callers.as_user("no.role@egi.eu").data(CHANGES)["changes"]["nodes"]
    assert nobody == []
