"""The portal's reports and the data they rank by, on both databases: WLCG federations,
pledges and disciplines set by platform administrators (audited, each refusal naming its
field and rule with nothing written, nobody else allowed), read by anybody; the tier1,
tier2, countries and disciplines reports against hand-computed figures from summaries
loaded through `load_message`; the same through the portal's routes (JSON, CSV, refusals)
and the export's `federation` and `tier` columns."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.rules import AccountingRule as R
from domains.accounting.service import export, reportdata
from domains.accounting.service.pivot import Month, Unit
from domains.accounting.service.reports import ReportKind, discipline_report, tier_report
from domains.common.audit import AuditEntry
from domains.common.errors import Invalid
from domains.common.identity import PLATFORM
from tests.accounting.test_pivot import DESY, FZK, INFN, load_example
from tests.conftest import AppFactory, Callers
from tests.refusals import assert_invalid, assert_refused, writes_nothing

ADMIN = ("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",)
MUTATIONS = frozenset({"setWlcgFederation", "setWlcgPledge", "setAccountingDiscipline"})
SEP_OCT_HOURS = (30 + 31) * 24  # 2026-09 and 2026-10
FEDERATION = """mutation($i: SetWlcgFederationInput!) { setWlcgFederation(input: $i)
  { federation { name country tier sites pledges { year cpuHs06 } } } }"""
PLEDGE = """mutation($i: SetWlcgPledgeInput!) { setWlcgPledge(input: $i)
  { federation { name pledges { year cpuHs06 } } } }"""
DISCIPLINE = """mutation($i: SetAccountingDisciplineInput!) { setAccountingDiscipline(input: $i)
  { discipline { name parent vos } } }"""
READ = """{ wlcgFederations(tier: 2) { totalCount nodes { name country tier sites
  pledges { year cpuHs06 } } } accountingDisciplines { nodes { name parent vos } } }"""


def federations(session: Session) -> None:
    """DE-KIT (T1: FZK, 1 HS06 in 2026), IT-INFN-CNAF (T1: INFN, no pledge), DE-DESY-T2 (T2:
    DESY-HH and DESY-ZN, 10 HS06 in 2026, 99 in 2025)."""
    for name, country, tier, sites in (
        ("DE-KIT", "DE", 1, [FZK]),
        ("IT-INFN-CNAF", "Italy", 1, [INFN]),
        ("DE-DESY-T2", "DE", 2, [DESY, "DESY-ZN"]),
    ):
        reportdata.set_federation(
            session, PLATFORM, name=name, country=country, tier=tier, sites=sites
        )
    for name, year, cpu in (("DE-KIT", 2026, 1.0), ("DE-DESY-T2", 2026, 10.0)):
        reportdata.set_pledge(session, PLATFORM, federation=name, year=year, cpu_hs06=cpu)
    reportdata.set_pledge(session, PLATFORM, federation="DE-DESY-T2", year=2025, cpu_hs06=99)
    session.commit()


def disciplines(session: Session) -> None:
    for name, parent, vos in (
        ("Natural Sciences", None, []),
        ("Physical Sciences", "Natural Sciences", []),
        ("High Energy Physics", "Physical Sciences", ["alice", "atlas", "cms"]),
        ("Life Sciences", "Natural Sciences", ["biomed"]),
        ("Operations", None, ["ops"]),
    ):
        reportdata.set_discipline(session, PLATFORM, name=name, parent=parent, vos=vos)
    session.commit()


def test_federations_pledges_and_disciplines_are_set_read_and_audited(
    session: Session,
) -> None:
    federations(session)
    found = {f.name: f for f in reportdata.federations(session)}
    assert sorted(found) == ["DE-DESY-T2", "DE-KIT", "IT-INFN-CNAF"]
    desy = found["DE-DESY-T2"]
    assert (desy.country, desy.tier, desy.sites) == ("Germany", 2, ("DESY-HH", "DESY-ZN"))
    assert [(p.year, p.cpu_hs06) for p in desy.pledges] == [(2025, 99.0), (2026, 10.0)]
    assert found["IT-INFN-CNAF"].country == "Italy"
    assert [f.name for f in reportdata.federations(session, tier=1)] == ["DE-KIT", "IT-INFN-CNAF"]
    # a federation set again is replaced whole: a site left out leaves it
    reportdata.set_federation(
        session, PLATFORM, name="DE-DESY-T2", country="DE", tier=2, sites=[DESY]
    )
    assert reportdata.federation_of_sites(session)[DESY] == ("DE-DESY-T2", 2)
    assert "DESY-ZN" not in reportdata.federation_of_sites(session)
    entries = session.execute(
        select(col(AuditEntry.action), col(AuditEntry.changes))
        .where(col(AuditEntry.entity_type).like("accounting_%"))
        .order_by(col(AuditEntry.id))
    ).all()
    assert [a for a, _ in entries].count("accounting_wlcg_federation.create") == 3
    assert [a for a, _ in entries].count("accounting_wlcg_pledge.create") == 3
    assert entries[-1] == (
        "accounting_wlcg_federation.update",
        {"sites": [["DESY-HH", "DESY-ZN"], ["DESY-HH"]]},
    )

    disciplines(session)
    # a VO listed for another discipline moves there
    reportdata.set_discipline(session, PLATFORM, name="Operations", parent=None, vos=["ops", "cms"])
    rows = {d.name: d for d in reportdata.disciplines(session)}
    assert rows["High Energy Physics"].vos == ("alice", "atlas")
    assert rows["High Energy Physics"].parent == "Physical Sciences"
    assert rows["Operations"].vos == ("cms", "ops")


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        ({"name": "bad name", "country": "DE", "tier": 2, "sites": []}, "name",
         R.ACCOUNTING_FEDERATION_NAME),
        ({"name": "X", "country": "DE", "tier": 0, "sites": []}, "tier", R.ACCOUNTING_TIER_INVALID),
        ({"name": "X", "country": "Atlantis", "tier": 2, "sites": []}, "country",
         R.ACCOUNTING_COUNTRY_UNKNOWN),
        ({"name": "X", "country": "DE", "tier": 2, "sites": ["NOPE"]}, "sites",
         R.ACCOUNTING_FEDERATION_SITE_UNKNOWN),
        ({"name": "X", "country": "DE", "tier": 2, "sites": [FZK]}, "sites",
         R.ACCOUNTING_FEDERATION_SITE_TAKEN),
        ({"federation": "NOPE", "year": 2026, "cpu_hs06": 1.0}, "federation",
         R.ACCOUNTING_FEDERATION_UNKNOWN),
        ({"federation": "DE-KIT", "year": 1999, "cpu_hs06": 1.0}, "year",
         R.ACCOUNTING_PLEDGE_YEAR_INVALID),
        ({"federation": "DE-KIT", "year": 2026, "cpu_hs06": float("nan")}, "cpuHs06",
         R.ACCOUNTING_PLEDGE_INVALID),
        ({"federation": "DE-KIT", "year": 2026, "cpu_hs06": -1.0}, "cpuHs06",
         R.ACCOUNTING_PLEDGE_INVALID),
        ({"name": "a;b", "parent": None, "vos": []}, "name", R.ACCOUNTING_DISCIPLINE_NAME),
        ({"name": "X", "parent": "Nowhere", "vos": []}, "parent", R.ACCOUNTING_DISCIPLINE_UNKNOWN),
        ({"name": "X", "parent": None, "vos": ["a vo"]}, "vos", R.ACCOUNTING_VO_NAME_INVALID),
        ({"name": "Natural Sciences", "parent": "High Energy Physics", "vos": []}, "parent",
         R.ACCOUNTING_DISCIPLINE_CYCLE),
    ],
)  # fmt: skip
def test_bad_report_data_is_refused_naming_the_field_and_rule(
    session: Session, call: dict[str, Any], field: str, rule: R
) -> None:
    federations(session)
    disciplines(session)
    setter = (
        reportdata.set_pledge
        if "federation" in call
        else reportdata.set_federation
        if "country" in call
        else reportdata.set_discipline
    )
    with writes_nothing(session), pytest.raises(Invalid) as refused:
        setter(session, PLATFORM, **call)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_tier_reports_against_hand_computed_figures(session: Session) -> None:
    load_example(session)
    federations(session)
    sep, oct_ = Month(2026, 9), Month(2026, 10)

    tier2 = tier_report(session, ReportKind.TIER2, sep, oct_, Unit.HOUR)
    rows = {(r["Level"], r["id"]): r for r in tier2.rows}
    assert [r["id"] for r in tier2.rows] == ["DE-DESY-T2", DESY, "DESY-ZN", "Total"]
    # DESY's cms: normalised wall 50 h × 2 processors; its alice of 2025 is out of range
    fed = rows[("federation", "DE-DESY-T2")]
    assert (fed["cms"], fed["atlas"], fed["Delivered"]) == (100, 0, 100)
    pledge = 10.0 * SEP_OCT_HOURS  # 2026's 10 HS06 over September and October
    assert fed["Pledge"] == pytest.approx(pledge)
    assert fed["Pledged HS06"] == pytest.approx(10)
    assert fed["Pledge %"] == pytest.approx(100 * 100 / pledge)
    assert (fed["Country"], fed["Tier"]) == ("Germany", 2)
    site = rows[("site", DESY)]
    assert (site["Delivered"], site["Pledge"], site["Federation"]) == (100, None, "DE-DESY-T2")
    assert rows[("site", "DESY-ZN")]["Delivered"] == 0
    assert rows[("total", "Total")]["Pledge"] == pytest.approx(pledge)

    # tier1 in days: FZK's atlas 100 × 1 (its local jobs left out), cms 20 × 4; INFN's
    # biomed and ops are no LHC VO's
    tier1 = tier_report(session, ReportKind.TIER1, sep, oct_, Unit.DAY)
    by_id = {r["id"]: r for r in tier1.rows}
    assert [r["id"] for r in tier1.rows] == ["DE-KIT", FZK, "IT-INFN-CNAF", INFN, "Total"]
    kit = by_id["DE-KIT"]
    assert kit["atlas"] == pytest.approx(100 / 24)
    assert kit["cms"] == pytest.approx(80 / 24)
    assert kit["Pledge"] == pytest.approx(61)  # 1 HS06 × 61 days
    assert kit["Pledge %"] == pytest.approx(100 * (180 / 24) / 61)
    assert (by_id["IT-INFN-CNAF"]["Delivered"], by_id["IT-INFN-CNAF"]["Pledge"]) == (0, None)
    assert by_id["IT-INFN-CNAF"]["Pledge %"] is None
    assert by_id["Total"]["Delivered"] == pytest.approx(180 / 24)

    countries = tier_report(session, ReportKind.COUNTRIES, sep, oct_, Unit.HOUR)
    assert [(r["Level"], r["id"]) for r in countries.rows] == [
        ("country", "Germany"), ("federation", "DE-DESY-T2"), ("federation", "DE-KIT"),
        ("country", "Italy"), ("federation", "IT-INFN-CNAF"), ("total", "Total"),
    ]  # fmt: skip
    germany = countries.rows[0]
    assert germany["Delivered"] == 280
    assert germany["Pledge"] == pytest.approx(11.0 * SEP_OCT_HOURS)
    # a period across two years takes each month at its year's pledge
    across = tier_report(session, ReportKind.TIER2, Month(2025, 12), Month(2026, 1), Unit.HOUR)
    assert across.rows[0]["Pledge"] == pytest.approx((99 + 10) * 31 * 24)
    with pytest.raises(Invalid) as refused:
        tier_report(session, ReportKind.TIER2, oct_, sep, Unit.HOUR)
    assert refused.value.rule is R.ACCOUNTING_PERIOD_REVERSED


def test_discipline_report_counts_the_vos_below_and_each_vo_once(session: Session) -> None:
    load_example(session)
    disciplines(session)
    sep, oct_ = Month(2026, 9), Month(2026, 10)
    # normcpu: atlas 80 (2026-09), cms 40 (2026-09) + 10 (2026-10), biomed 5 (2026-10)
    found = discipline_report(
        session, sep, oct_, cloud=False, include_parent=False, names=["High Energy Physics"]
    )
    assert found.columns == ("Parent", "VOs", "2026-09", "2026-10", "Total", "Percent")
    (hep, total) = found.rows
    assert hep == {
        "id": "High Energy Physics", "Parent": "Physical Sciences", "VOs": "alice;atlas;cms",
        "2026-09": 120, "2026-10": 10, "Total": 130, "Percent": 100,
    }  # fmt: skip
    assert total["Total"] == 130

    found = discipline_report(
        session,
        sep,
        oct_,
        cloud=False,
        include_parent=True,
        names=["High Energy Physics", "Life Sciences"],
    )
    rows = {r["id"]: r for r in found.rows}
    assert list(rows) == [
        "High Energy Physics", "Life Sciences", "Natural Sciences", "Physical Sciences", "Total"
    ]  # fmt: skip
    assert rows["Natural Sciences"]["Total"] == 135  # HEP's and Life Sciences' VOs below it
    assert rows["Physical Sciences"]["Total"] == 130
    assert rows["Total"]["Total"] == 135  # each VO once, not the parents again
    assert rows["Life Sciences"]["Percent"] == pytest.approx(500 / 135)
    cloud = discipline_report(
        session, sep, oct_, cloud=True, include_parent=False, names=["Operations"]
    )
    assert cloud.rows[-1]["Total"] == 0  # no cloud usage loaded
    with pytest.raises(Invalid) as refused:
        discipline_report(session, sep, oct_, cloud=False, include_parent=False, names=["X"])
    assert (refused.value.field, refused.value.rule) == (
        "disciplines",
        R.ACCOUNTING_DISCIPLINE_UNKNOWN,
    )


def test_export_has_the_sites_federation_and_tier(session: Session) -> None:
    load_example(session)
    federations(session)
    columns = export.COLUMNS
    rows = [dict(zip(columns, r, strict=True)) for r in export.export_rows(session)]
    by_site = {(r["site"], r["federation"], r["tier"]) for r in rows}
    assert (FZK, "DE-KIT", 1) in by_site
    assert (DESY, "DE-DESY-T2", 2) in by_site
    assert all(r["federation"] is None for r in rows if r["site"] not in (FZK, DESY, INFN))


def test_portal_report_routes_answer_json_and_csv(
    session: Session, make_client: AppFactory
) -> None:
    load_example(session)
    federations(session)
    disciplines(session)
    client = make_client().client
    response = client.get("/accounting/wlcg/report/tier2/2026/9/2026/10/hours/JSON/")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["id"] for r in body] == ["DE-DESY-T2", DESY, "DESY-ZN", "Total", "var"]
    assert body[0]["Pledge %"] == pytest.approx(100 * 100 / (10 * SEP_OCT_HOURS))
    assert body[-1] == {
        "id": "var",
        "columns": ["Name", "Level", "Federation", "Country", "Tier", "alice", "atlas",
                    "cms", "lhcb", "Delivered", "Pledge", "Pledged HS06", "Pledge %"],
        "report": "tier2", "from": "2026-09", "to": "2026-10", "unit": "hours",
        "query": "normelap_processors",
    }  # fmt: skip
    # no unit and no format: hours, JSON; the tier1 report in days as CSV
    assert client.get("/accounting/wlcg/report/tier2/2026/9/2026/10").json() == body
    response = client.get("/accounting/wlcg/report/tier1/2026/09/2026/10/days/csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0][:5] == ["Name", "Level", "Federation", "Country", "Tier"]
    assert lines[3][:7] == [
        "IT-INFN-CNAF",
        "federation",
        "IT-INFN-CNAF",
        "Italy",
        "1",
        "0.0",
        "0.0",
    ]
    assert lines[3][-3:] == ["", "", ""]  # no pledge

    chosen = "High Energy Physics;Life Sciences"
    path = f"/accounting/report/disciplines/2026/9/2026/10/htc/true/{chosen}/JSON/"
    response = client.get(path)
    assert response.status_code == 200, response.text
    totals = {r["id"]: r.get("Total") for r in response.json()}
    assert (totals["Natural Sciences"], totals["Total"]) == (135, 135)
    csv_lines = list(csv.reader(io.StringIO(client.get(path.replace("JSON", "CSV")).text)))
    assert csv_lines[0] == ["Discipline", "Parent", "VOs", "2026-09", "2026-10", "Total", "Percent"]

    refusals = [
        ("wlcg/report/tier3/2026/9/2026/10/hours/JSON", "report", "ACCOUNTING_REPORT_KIND_UNKNOWN"),
        ("wlcg/report/tier2/2026/9/2026/10/weeks/JSON", "unit", "ACCOUNTING_REPORT_UNIT_UNKNOWN"),
        ("wlcg/report/tier2/2026/9/2026/10/hours/XML", "format", "ACCOUNTING_FORMAT_UNKNOWN"),
        ("wlcg/report/tier2/2026/13/2026/10", "from", "ACCOUNTING_PERIOD_MONTH_INVALID"),
        ("wlcg/report/tier2/2026/9", "path", "ACCOUNTING_REPORT_PATH_INVALID"),
        ("report/disciplines/2026/9/2026/10/grid/true/Operations/JSON", "infrastructure",
         "ACCOUNTING_INFRASTRUCTURE_UNKNOWN"),
        ("report/disciplines/2026/9/2026/10/htc/maybe/Operations/JSON", "include_parent",
         "ACCOUNTING_INCLUDE_PARENT_INVALID"),
        ("report/disciplines/2026/9/2026/10/htc/true/Nope/JSON", "disciplines",
         "ACCOUNTING_DISCIPLINE_UNKNOWN"),
    ]  # fmt: skip
    for path, parameter, rule in refusals:
        response = client.get(f"/accounting/{path}")
        assert response.status_code == 400, (path, response.text)
        error = response.json()["error"]
        assert (error["parameter"], error["rule"]) == (parameter, rule), error


def test_only_platform_administrators_set_report_data_anybody_reads_it(
    callers: Callers, session: Session
) -> None:
    federations(session)
    cases: dict[str, dict[str, Any]] = {
        "setWlcgFederation": {"name": "FR-GRIF", "country": "FR", "tier": 2, "sites": ["GRIF"]},
        "setWlcgPledge": {"federation": "DE-KIT", "year": 2027, "cpuHs06": 5.0},
        "setAccountingDiscipline": {"name": "Chemistry", "vos": ["enmr.eu"]},
    }
    assert cases.keys() == MUTATIONS
    stranger = callers.as_user("stranger@egi.eu")
    stranger.data("{ viewer { subject } }")  # first sight writes the user row
    for name, values in cases.items():
        assert_refused(callers.anonymous, session, name, values, "UNAUTHENTICATED")
        assert_refused(stranger, session, name, values, "FORBIDDEN")

    admin = callers.as_user("admin@egi.eu", entitlements=ADMIN)
    made = admin.data(FEDERATION, {"i": cases["setWlcgFederation"]})["setWlcgFederation"]
    assert made["federation"] == {
        "name": "FR-GRIF", "country": "France", "tier": 2, "sites": ["GRIF"], "pledges": []
    }  # fmt: skip
    pledged = admin.data(PLEDGE, {"i": cases["setWlcgPledge"]})["setWlcgPledge"]["federation"]
    assert pledged["pledges"] == [{"year": 2026, "cpuHs06": 1.0}, {"year": 2027, "cpuHs06": 5.0}]
    made = admin.data(DISCIPLINE, {"i": cases["setAccountingDiscipline"]})
    assert made["setAccountingDiscipline"]["discipline"] == {
        "name": "Chemistry", "parent": None, "vos": ["enmr.eu"]
    }  # fmt: skip
    actor = session.execute(
        select(col(AuditEntry.actor)).where(
            col(AuditEntry.action) == "accounting_discipline.create"
        )
    ).scalar_one()
    assert actor == "admin@egi.eu"
    assert_invalid(
        admin,
        session,
        FEDERATION,
        {"i": {"name": "FR-GRIF", "country": "FR", "tier": 3, "sites": []}},
        "tier",
        "ACCOUNTING_TIER_INVALID",
    )
    seen = callers.anonymous.data(READ)
    assert seen["wlcgFederations"]["totalCount"] == 2
    assert [n["name"] for n in seen["wlcgFederations"]["nodes"]] == ["DE-DESY-T2", "FR-GRIF"]
    assert seen["accountingDisciplines"]["nodes"] == [
        {"name": "Chemistry", "parent": None, "vos": ["enmr.eu"]}
    ]
