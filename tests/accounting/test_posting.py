"""Unsigned messages posted over HTTP by site API credentials (`intake.receive_posted`): a
credential that allows writing, at a site with an accounting service, sends that site's
records (and its DN's granted scopes); anyone else is refused with nothing stored; a refused
message is kept whole in the reject store; a message sent again counts once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import GridSummary, JobRecord
from domains.accounting.service.intake import POSTED_SOURCE, receive_posted
from domains.accounting.service.senders import ACCOUNTING_SERVICE_TYPES, grant_sender_scope
from domains.common.errors import Forbidden, Invalid, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.models import pk
from domains.identity.service import tokens
from domains.identity.service.users import user_by_subject
from domains.topology import service as topology
from domains.topology.models import CredentialKind, Service, ServiceType, Site, SiteApiCredential
from gateway.compat.accounting import PATH
from tests.accounting.test_intake import records, register_apel_host
from tests.accounting.test_loading import NOW, a_site, rejects
from tests.conftest import AppFactory
from tests.identity.helpers import snapshot
from tests.refusals import writes_nothing

DN = "/DC=org/DC=example/O=Example/CN=apel-sender.example.org"
CALLER = Principal(subject=DN, client_dn=DN)  # an unlinked client certificate


def _credential(session: Session, site: str, *, allow_write: bool = True) -> SiteApiCredential:
    site_id = pk(session.execute(select(Site).where(col(Site.short_name) == site)).scalar_one())
    owner = user_by_subject(session, "posting.owner@egi.eu", create=True)
    return topology.add_site_credential(
        session,
        PLATFORM,
        site_id=site_id,
        identifier=DN,
        kind=CredentialKind.X509,
        allow_write=allow_write,
        owner_id=pk(owner),
    )


def _site_without_accounting(session: Session) -> str:
    """A site whose accounting services become of another type (every demo site has one)."""
    site = a_site(session, 2)
    site_id = select(col(Site.id)).where(col(Site.short_name) == site).scalar_subquery()
    other_type = select(col(ServiceType.id)).where(col(ServiceType.name) == "Site-BDII")
    accounting = select(col(ServiceType.id)).where(
        col(ServiceType.name).in_(ACCOUNTING_SERVICE_TYPES)
    )
    session.execute(
        update(Service)
        .where(col(Service.site_id) == site_id, col(Service.service_type_id).in_(accounting))
        .values(service_type_id=other_type.scalar_subquery())
    )
    return site


def _jobs(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(JobRecord)).scalar_one())


def test_a_writing_credential_posts_its_sites_records_once(session: Session) -> None:
    site = register_apel_host(session, "/DC=org/CN=apel0.example.org")
    credential = _credential(session, site)
    message_id, outcome = receive_posted(
        session, CALLER, records(site, "1", "2"), message_id=None, now=NOW
    )
    assert (outcome.records, outcome.reject_id) == (2, None)
    assert message_id.startswith(f"{POSTED_SOURCE}-")
    row = session.execute(select(JobRecord).limit(1)).scalar_one()
    assert (row.publisher, row.message_id) == (DN, message_id)
    session.refresh(credential)
    assert credential.last_used_at is not None
    jobs = session.execute(select(func.sum(GridSummary.number_of_jobs))).scalar_one()
    # sent again (SSM resends what it has no acknowledgement of): replaced, not added
    again_id, again = receive_posted(
        session, CALLER, records(site, "1", "2"), message_id="ssm-1", now=NOW
    )
    assert (again_id, again.records) == ("ssm-1", 2)
    assert _jobs(session) == 2
    assert session.execute(select(func.sum(GridSummary.number_of_jobs))).scalar_one() == jobs
    # another site's records: refused whole and kept; once granted to the DN, loaded
    other = a_site(session, 1)
    _, refused = receive_posted(session, CALLER, records(other, "9"), message_id="ssm-2", now=NOW)
    assert (refused.rule, refused.field) == ("ACCOUNTING_SITE_NOT_SENDERS", "record[1].Site")
    [kept] = rejects(session)
    assert (kept.sender, kept.source, kept.message_id) == (DN, POSTED_SOURCE, "ssm-2")
    assert kept.body == records(other, "9")
    grant_sender_scope(session, PLATFORM, dn=DN, site=other)
    assert (
        receive_posted(session, CALLER, records(other, "9"), message_id=None, now=NOW)[1].records
        == 1
    )


def test_an_invalid_message_is_kept_whole_and_nothing_loads(session: Session) -> None:
    site = register_apel_host(session, "/DC=org/CN=apel0.example.org")
    _credential(session, site)
    body = records(site, "1", "2").replace(b"WallDuration: 3600", b"WallDuration: long", 1)
    _, outcome = receive_posted(session, CALLER, body, message_id="bad", now=NOW)
    assert outcome.reject_id is not None
    assert (outcome.rule, outcome.field) == ("ACCOUNTING_INTEGER_INVALID", "record[1].WallDuration")
    assert [(r.body, r.rule) for r in rejects(session)] == [(body, "ACCOUNTING_INTEGER_INVALID")]
    assert _jobs(session) == 0


@pytest.mark.parametrize("case", ["anonymous", "no accounting service", "read-only", "bad id"])
def test_other_callers_are_refused_and_nothing_is_stored(session: Session, case: str) -> None:
    if case == "no accounting service":
        site = _site_without_accounting(session)
    else:
        site = register_apel_host(session, "/DC=org/CN=apel0.example.org")
    _credential(session, site, allow_write=case != "read-only")
    caller = ANONYMOUS if case == "anonymous" else CALLER
    expected = {"anonymous": Unauthenticated, "bad id": Invalid}.get(case, Forbidden)
    before = snapshot(session)
    with pytest.raises(expected):
        receive_posted(
            session,
            caller,
            records(site, "1"),
            message_id="has space" if case == "bad id" else None,
            now=NOW,
        )
    assert snapshot(session) == before


# the REST write routes of this file, for tests/test_permissions.py
ROUTES = {("POST", PATH)}


def test_the_route_refuses_the_anonymous_and_other_users_writing_nothing(
    session: Session, make_client: AppFactory
) -> None:
    site = a_site(session)
    _, key = tokens.create_api_token(
        session, PLATFORM, name="no credential", user_subject="no.credential@egi.eu"
    )
    session.commit()
    client = make_client().client
    body = records(site, "route-1")
    with writes_nothing(session, "a refused post"):
        anonymous = client.post(PATH, content=body)
        user = client.post(PATH, content=body, headers={"x-api-key": key})
    assert anonymous.status_code == 401, anonymous.text
    assert user.status_code == 403, user.text
    assert user.json()["error"]["code"] == "FORBIDDEN"
