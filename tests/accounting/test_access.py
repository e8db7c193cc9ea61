"""Who sees which accounting figures (issue 15, reference §5.3): the public aggregates; a
caller their own DNs' usage (`mine`, the portal's /user views), never a `withheld` DN's;
per-user figures (the USER dimension, /vo_admin) a VO's managers, a site's administrators,
an NGI's managers and platform administrators only. Service level first, then GraphQL for
each kind of caller and one in-process request per portal route shape (grid and cloud)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.service.loading import load_message
from domains.accounting.service.pivot import Dimension, Metric, Month, Pivot, PivotQuery, pivot
from domains.common.entitlements import VoMembership
from domains.common.errors import Forbidden, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.models import pk
from domains.identity import service as identity
from domains.identity.models import EntityKind, Role, RoleStatus
from domains.topology.models import Ngi, Site
from tests.accounting.test_cloud_views import vms
from tests.accounting.test_loading import NOW, sender
from tests.accounting.test_pivot import DESY, FZK, INFN, grid, load, record
from tests.conftest import Callers

JANE = "/DC=org/DC=example/CN=Jane Doe"
BOB = "/DC=org/DC=example/CN=Bob Roe"
WITHHELD = "withheld"
VM = "urn:mace:egi.eu:group:{}:role=vm#aai.egi.eu"


def of(dn: str, site: str, vo: str, jobs: int) -> str:
    """A 2026-09 summary record of `dn` (an hour of each duration)."""
    text = record(site, "2026-09", vo, wall=1, cpu=1, nwall=1, ncpu=1, jobs=jobs)
    return text + f"GlobalUserName: {dn}\n"


def load_users(session: Session) -> None:
    """Jobs of 2026-09: Jane's at FZK (atlas, 10) and DESY (cms, 5), Bob's at FZK (atlas,
    4), and INFN's with a withheld DN (atlas, 2)."""
    load(
        session,
        of(JANE, FZK, "atlas", 10),
        of(BOB, FZK, "atlas", 4),
        of(JANE, DESY, "cms", 5),
        of(WITHHELD, INFN, "atlas", 2),
    )


def njobs(session: Session, principal: Principal, **options: Any) -> Pivot:
    query = PivotQuery(
        metric=Metric.NJOBS,
        rows=options.pop("rows", Dimension.SITE),
        columns=options.pop("columns", Dimension.VO),
        start=Month(2026, 9),
        end=Month(2026, 9),
        **options,
    )
    return pivot(session, query, principal)


def user(session: Session, subject: str, *dns: str) -> Principal:
    found = identity.user_by_subject(session, subject, create=True)
    for dn in dns:
        identity.link_identity(
            session, PLATFORM, user_subject=subject, issuer=identity.X509_ISSUER, subject=dn
        )
    return Principal(subject=subject, user_id=pk(found))


def grant(session: Session, principal: Principal, kind: EntityKind, entity_id: int) -> None:
    role_type = "Site Administrator" if kind is EntityKind.SITE else "NGI Operations Manager"
    assert principal.user_id is not None
    session.add(
        Role(
            user_id=principal.user_id,
            role_type=role_type,
            entity_type=kind,
            entity_id=entity_id,
            status=RoleStatus.GRANTED,
        )
    )
    session.flush()


@pytest.fixture
def loaded(session: Session) -> Session:
    load_users(session)
    return session


def test_mine_is_the_callers_own_dns_and_never_a_withheld_one(loaded: Session) -> None:
    session = loaded
    by_certificate = Principal(subject=JANE, client_dn=JANE)
    by_link = user(session, "jane@egi.eu", JANE)
    for principal in (by_certificate, by_link):
        found = njobs(session, principal, mine=True, rows=Dimension.SITE, columns=Dimension.VO)
        assert grid(found) == {FZK: {"atlas": 10}, DESY: {"cms": 5}}
    own = njobs(session, by_link, mine=True, rows=Dimension.USER, columns=Dimension.VO)
    assert own.row_keys == [JANE]
    # a DN that is literally "withheld" is no one's: the withheld rows never match
    nobody = Principal(subject=WITHHELD, client_dn=WITHHELD)
    assert njobs(session, nobody, mine=True).total is None
    with pytest.raises(Unauthenticated):
        njobs(session, ANONYMOUS, mine=True)
    with pytest.raises(Forbidden, match="certificate's DN"):
        njobs(session, user(session, "nodn@egi.eu"), mine=True)


def test_per_user_figures_need_a_managed_vo_site_or_ngi(loaded: Session) -> None:
    session = loaded
    by_user = {"rows": Dimension.USER, "columns": Dimension.VO}
    with pytest.raises(Unauthenticated):
        njobs(session, ANONYMOUS, **by_user)
    member = Principal(
        subject="m", vos=(VoMembership("atlas", frozenset({"member"}), frozenset()),)
    )
    with pytest.raises(Forbidden, match="managers of the VO"):
        njobs(session, member, vo="atlas", **by_user)

    atlas_vm = Principal(
        subject="vm", vos=(VoMembership("atlas", frozenset({"member", "vm"}), frozenset()),)
    )
    found = njobs(session, atlas_vm, vo="atlas", **by_user)
    assert grid(found) == {JANE: {"atlas": 10}, BOB: {"atlas": 4}, WITHHELD: {"atlas": 2}}
    with pytest.raises(Forbidden):  # another VO, or no VO asked for
        njobs(session, atlas_vm, vo="cms", **by_user)
    with pytest.raises(Forbidden):
        njobs(session, atlas_vm, **by_user)
    # a detail view (the portal's /vo_admin) needs the VO even without the USER dimension
    with pytest.raises(Forbidden):
        njobs(session, atlas_vm, vo="cms", detail=True)

    site_id, ngi_id = session.execute(
        select(col(Site.id), col(Site.ngi_id)).where(col(Site.short_name) == DESY)
    ).one()
    assert site_id is not None
    ngi = session.execute(select(col(Ngi.name)).where(col(Ngi.id) == ngi_id)).scalar_one()
    admin = user(session, "siteadmin@egi.eu")
    grant(session, admin, EntityKind.SITE, site_id)
    assert grid(njobs(session, admin, site=DESY, **by_user)) == {JANE: {"cms": 5}}
    with pytest.raises(Forbidden):
        njobs(session, admin, site=FZK, **by_user)
    manager = user(session, "ngimanager@egi.eu")
    grant(session, manager, EntityKind.NGI, ngi_id)
    assert njobs(session, manager, ngi=ngi, **by_user).total == 19  # FZK's and DESY's NGI
    assert njobs(session, manager, site=DESY, **by_user).total == 5  # a site of that NGI
    assert njobs(session, PLATFORM, **by_user).total == 21


QUERY = """
query($rows: AccountingDimension!, $filter: AccountingFilter) {
  accounting(metric: NJOBS, rows: $rows, columns: VO, from: "2026-09", to: "2026-09",
             filter: $filter) { rows total }
}"""


def test_graphql_for_each_kind_of_caller(loaded: Session, callers: Callers) -> None:
    user(loaded, "jane@egi.eu", JANE)
    loaded.commit()
    mine = {"rows": "SITE", "filter": {"mine": True}}
    per_user = {"rows": "USER", "filter": {"vo": "atlas"}}
    assert callers.anonymous.error(QUERY, mine)["extensions"]["code"] == "UNAUTHENTICATED"
    assert callers.anonymous.error(QUERY, per_user)["extensions"]["code"] == "UNAUTHENTICATED"
    assert callers.anonymous.data(QUERY, {"rows": "SITE"})["accounting"]["total"] == 21

    jane = callers.as_user("jane@egi.eu")
    assert jane.data(QUERY, mine)["accounting"] == {"rows": [DESY, FZK], "total": 15}
    refused = jane.error(QUERY, per_user)
    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert "managers of the VO" in refused["message"]

    atlas_vm = callers.as_user("vm@egi.eu", entitlements=(VM.format("atlas"),))
    assert atlas_vm.data(QUERY, per_user)["accounting"] == {
        "rows": sorted([JANE, BOB, WITHHELD]),
        "total": 16,
    }
    cms_vm = callers.as_user("cmsvm@egi.eu", entitlements=(VM.format("cms"),))
    assert cms_vm.error(QUERY, per_user)["extensions"]["code"] == "FORBIDDEN"


def test_portal_user_and_vo_admin_routes(loaded: Session, callers: Callers) -> None:
    user(loaded, "jane@egi.eu", JANE)
    loaded.commit()
    client = callers.client.client
    dates = "2026/9/2026/9"
    own = f"/accounting/user/htc/njobs/SITE/VO/{dates}/all/onlyinfrajobs/JSON"
    assert client.get(own).status_code == 401
    jane = callers.as_user("jane@egi.eu").headers
    response = client.get(own, headers=jane)
    assert response.status_code == 200, response.text
    assert {item["id"]: item.get("Total") for item in response.json()[:2]} == {DESY: 5, FZK: 10}

    vo_admin = f"/accounting/vo_admin/htc/operations_centres/atlas/njobs/USER/SITE/{dates}/CSV"
    refused = client.get(vo_admin, headers=jane)
    assert refused.status_code == 403, refused.text
    assert "managers of the VO" in refused.json()["error"]["message"]
    manager = callers.as_user("vm@egi.eu", entitlements=(VM.format("atlas"),)).headers
    response = client.get(vo_admin, headers=manager)
    assert response.status_code == 200, response.text
    assert response.text.splitlines()[-2] == "Total,14.0,2.0,16.0,100.0"
    bad = client.get("/accounting/vo_admin/htc/atlas/njobs/USER/SITE/2026/9/CSV", headers=manager)
    assert bad.status_code == 400
    assert bad.json()["error"]["rule"] == "ACCOUNTING_VO_ADMIN_PATH_INVALID"


def test_portal_cloud_user_and_vo_admin_routes(session: Session, callers: Callers) -> None:
    """The cloud forms of /user and /vo_admin: the same access rules over the cloud summaries."""
    fedcloud = "fedcloud.egi.eu"
    records = [
        vms(FZK, 9, fedcloud, vcpus=2, wall=10, n=2, GlobalUserName=JANE),
        vms(FZK, 9, fedcloud, vcpus=1, wall=1, n=3, GlobalUserName=BOB),
        vms(DESY, 9, "biomed", vcpus=4, wall=5, n=1, GlobalUserName=JANE),
    ]
    body = "APEL-cloud-summary-message: v0.4\n" + "%%\n".join(records)
    outcome = load_message(session, body.encode(), sender(FZK, DESY), "m-cloud-users", NOW)
    assert outcome.reject_id is None, outcome.reason
    user(session, "jane@egi.eu", JANE)
    session.commit()
    client = callers.client.client
    query = "vm_num/SITE/VO/2026/9/2026/9/all/onlyinfrajobs/JSON"
    assert client.get(f"/accounting/user/cloud/{query}").status_code == 401
    jane = callers.as_user("jane@egi.eu").headers
    for scope, expected in [("", {DESY: 1, FZK: 2}), (f"resource_centre/{FZK}/", {FZK: 2})]:
        response = client.get(f"/accounting/user/cloud/{scope}{query}", headers=jane)
        assert response.status_code == 200, response.text
        rows = [item for item in response.json() if item["id"] in (DESY, FZK)]
        assert {item["id"]: item["Total"] for item in rows} == expected
    grid_metric = client.get(f"/accounting/user/cloud/njobs/{query[7:]}", headers=jane)
    assert grid_metric.status_code == 400
    assert grid_metric.json()["error"]["rule"] == "ACCOUNTING_CLOUD_METRIC_UNKNOWN"

    vo_admin = f"/accounting/vo_admin/cloud/{fedcloud}/vm_num/USER/SITE/2026/9/2026/9/CSV"
    refused = client.get(vo_admin, headers=jane)
    assert refused.status_code == 403, refused.text
    manager = callers.as_user("vm@egi.eu", entitlements=(VM.format(fedcloud),)).headers
    response = client.get(vo_admin, headers=manager)
    assert response.status_code == 200, response.text
    lines = response.text.splitlines()
    assert sorted(lines[1:3]) == sorted([f"{BOB},3.0,3.0,60.0", f"{JANE},2.0,2.0,40.0"])
    assert lines[-2] == "Total,5.0,5.0,100.0"
