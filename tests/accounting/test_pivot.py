"""The portal's pivot tables on both databases, from summaries loaded through `load_message`,
checked against hand-computed figures: every metric (hours), totals as sums (cpueff: ratios
of the sums), percentages of the grand total, each dimension, VO group and local-job
filter; the same tables through GraphQL and the portal's URL API (JSON and CSV), and the
refusals naming the argument and its rule."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.rules import AccountingRule
from domains.accounting.service.loading import load_message
from domains.accounting.service.pivot import (
    Dimension,
    LocalJobs,
    Metric,
    Month,
    Pivot,
    PivotQuery,
    Unit,
    pivot,
)
from domains.common.errors import Invalid
from domains.topology.models import Country, Ngi, Site
from tests.accounting.test_loading import NOW, sender
from tests.conftest import AppFactory

H = 3600
FZK, DESY, INFN = "FZK-LCG2", "DESY-HH", "INFN-T1"


def record(
    site: str,
    month: str,
    vo: str,
    *,
    wall: float,
    cpu: float,
    nwall: float,
    ncpu: float,
    jobs: int,
    processors: int = 1,
    infrastructure: str = "grid",
    host: str = "ce1.example.org",
) -> str:
    """A normalised summary record (durations in hours)."""
    year, number = month.split("-")
    return (
        f"Site: {site}\nMonth: {int(number)}\nYear: {year}\nVO: {vo}\nSubmitHost: {host}\n"
        f"Infrastructure: {infrastructure}\nNodeCount: 1\nProcessors: {processors}\n"
        f"WallDuration: {round(wall * H)}\nCpuDuration: {round(cpu * H)}\n"
        f"NormalisedWallDuration: {{HEPSPEC: {round(nwall * H)}}}\n"
        f"NormalisedCpuDuration: {{HEPSPEC: {round(ncpu * H)}}}\nNumberOfJobs: {jobs}\n"
    )


def load(session: Session, *records: str) -> None:
    body = "APEL-normalised-summary-message: v0.4\n" + "%%\n".join(records) + "%%\n"
    sites = {
        line.split(": ", 1)[1]
        for r in records
        for line in r.splitlines()
        if line.startswith("Site: ")
    }
    outcome = load_message(session, body.encode(), sender(*sites), "m-pivot", NOW)
    assert outcome.reject_id is None, outcome.reason
    session.commit()


def load_example(session: Session) -> None:
    """Grid jobs of three sites in 2026-09 and 2026-10 (normcpu: FZK 80 + 10, DESY 40,
    INFN 5 + 0.1 of ops), FZK's local jobs, and DESY's alice a year before."""
    load(
        session,
        record(FZK, "2026-09", "atlas", wall=10, cpu=8, nwall=100, ncpu=80, jobs=10),
        record(FZK, "2026-10", "cms", wall=2, cpu=1, nwall=20, ncpu=10, jobs=2, processors=4),
        record(DESY, "2026-09", "cms", wall=5, cpu=5, nwall=50, ncpu=40, jobs=5, processors=2,
               host="ce2.example.org"),
        record(INFN, "2026-10", "biomed", wall=1, cpu=0.5, nwall=10, ncpu=5, jobs=1),
        record(INFN, "2026-10", "ops", wall=0.1, cpu=0.01, nwall=1, ncpu=0.1, jobs=3),
        record(FZK, "2026-09", "atlas", wall=2, cpu=1, nwall=20, ncpu=10, jobs=4,
               infrastructure="local"),
        record(DESY, "2025-09", "alice", wall=7, cpu=7, nwall=70, ncpu=70, jobs=7),
    )  # fmt: skip


def table(session: Session, metric: Metric = Metric.NORMCPU, **options: Any) -> Pivot:
    query = PivotQuery(
        metric=metric,
        rows=options.pop("rows", Dimension.SITE),
        columns=options.pop("columns", Dimension.MONTH),
        start=options.pop("start", Month(2026, 9)),
        end=options.pop("end", Month(2026, 10)),
        **options,
    )
    return pivot(session, query)


def grid(found: Pivot) -> dict[str, dict[str, float | None]]:
    """The cells by row and column, to 6 decimals (the expectations are short decimals)."""
    out: dict[str, dict[str, float | None]] = {}
    for cell in found.cells:
        out.setdefault(cell.row, {})[cell.column] = (
            None if cell.value is None else round(cell.value, 6)
        )
    return out


def totals(found: Pivot) -> tuple[dict[str, float | None], dict[str, float | None], Any]:
    rows = {t.key: t.value for t in found.row_totals}
    columns = {t.key: t.value for t in found.column_totals}
    return rows, columns, found.total


def test_normcpu_by_site_and_month_with_totals_and_percentages(session: Session) -> None:
    load_example(session)
    found = table(session)
    assert found.row_keys == sorted([FZK, DESY, INFN])
    assert found.column_keys == ["2026-09", "2026-10"]
    assert grid(found) == (
        {FZK: {"2026-09": 80, "2026-10": 10}, DESY: {"2026-09": 40}, INFN: {"2026-10": 5.1}}
    )
    rows, columns, total = totals(found)
    assert rows == pytest.approx({FZK: 90, DESY: 40, INFN: 5.1})
    assert columns == pytest.approx({"2026-09": 120, "2026-10": 15.1})
    assert total == pytest.approx(135.1)
    percents = {t.key: t.percent for t in found.row_totals}
    assert percents == pytest.approx({FZK: 9000 / 135.1, DESY: 4000 / 135.1, INFN: 510 / 135.1})
    cells = found.by_key()
    assert cells[FZK, "2026-09"].percent == pytest.approx(8000 / 135.1)
    assert (DESY, "2026-10") not in cells


@pytest.mark.parametrize(
    ("metric", "expected", "total"),
    [
        (Metric.NJOBS, {FZK: 12, DESY: 5, INFN: 4}, 21),
        (Metric.SUMCPU, {FZK: 9, DESY: 5, INFN: 0.51}, 14.51),
        (Metric.SUMELAP, {FZK: 12, DESY: 5, INFN: 1.1}, 18.1),
        (Metric.NORMCPU, {FZK: 90, DESY: 40, INFN: 5.1}, 135.1),
        (Metric.NORMELAP, {FZK: 120, DESY: 50, INFN: 11}, 181),
        (Metric.ELAP_PROCESSORS, {FZK: 10 + 2 * 4, DESY: 5 * 2, INFN: 1.1}, 29.1),
        (Metric.NORMELAP_PROCESSORS, {FZK: 100 + 20 * 4, DESY: 100, INFN: 11}, 291),
        # normcpu / normelap_processors; the total is a ratio of the sums (135.1 / 291),
        # not the sum (or mean) of the sites' ratios
        (Metric.CPUEFF, {FZK: 50, DESY: 40, INFN: 510 / 11}, 13510 / 291),
    ],
)
def test_each_metric_in_hours_with_its_totals(
    session: Session, metric: Metric, expected: dict[str, float], total: float
) -> None:
    load_example(session)
    found = table(session, metric, columns=Dimension.YEAR)
    rows, columns, grand = totals(found)
    assert rows == pytest.approx(expected)
    assert columns == pytest.approx({"2026": total})
    assert grand == pytest.approx(total)
    if metric is Metric.CPUEFF:
        assert all(t.percent is None for t in found.row_totals)
    else:
        assert sum(t.percent or 0 for t in found.row_totals) == pytest.approx(100)


def test_units_scale_durations(session: Session) -> None:
    load_example(session)
    assert table(session, unit=Unit.SECOND).total == pytest.approx(135.1 * H)
    assert table(session, unit=Unit.DAY).total == pytest.approx(135.1 / 24)
    with pytest.raises(Invalid) as refused:
        table(session, Metric.NJOBS, unit=Unit.DAY)
    assert (refused.value.field, refused.value.rule) == (
        "unit",
        AccountingRule.ACCOUNTING_UNIT_UNKNOWN,
    )


def test_dimensions_from_the_topology_and_the_summaries(session: Session) -> None:
    load_example(session)
    places = session.execute(
        select(col(Site.short_name), col(Ngi.name), col(Country.name))
        .join(Ngi, col(Ngi.id) == col(Site.ngi_id))
        .join(Country, col(Country.id) == col(Site.country_id))
        .where(col(Site.short_name).in_([FZK, DESY, INFN]))
    ).all()
    ngi = {site: n for site, n, _ in places}
    country = {site: c for site, _, c in places}
    assert ngi[FZK] == ngi[DESY] != ngi[INFN]
    by_ngi = table(session, rows=Dimension.NGI, columns=Dimension.VO)
    assert grid(by_ngi) == (
        {ngi[FZK]: {"atlas": 80, "cms": 50}, ngi[INFN]: {"biomed": 5, "ops": 0.1}}
    )
    by_country = table(session, rows=Dimension.COUNTRY, columns=Dimension.YEAR)
    assert grid(by_country) == ({country[FZK]: {"2026": 130}, country[INFN]: {"2026": 5.1}})
    by_processors = table(
        session, Metric.NJOBS, rows=Dimension.PROCESSORS, columns=Dimension.SUBMIT_HOST
    )
    assert by_processors.row_keys == ["1", "2", "4"]
    assert grid(by_processors) == {
        "1": {"ce1.example.org": 14},
        "2": {"ce2.example.org": 5},
        "4": {"ce1.example.org": 2},
    }
    infra = table(session, Metric.NJOBS, rows=Dimension.INFRASTRUCTURE, columns=Dimension.YEAR,
                  local_jobs=LocalJobs.LOCAL_AND_INFRA)  # fmt: skip
    assert grid(infra) == {"grid": {"2026": 21}, "local": {"2026": 4}}


def test_local_job_filters(session: Session) -> None:
    load_example(session)
    both = table(session, local_jobs=LocalJobs.LOCAL_AND_INFRA)
    assert grid(both)[FZK] == {"2026-09": 90, "2026-10": 10}
    assert both.total == pytest.approx(145.1)
    local = table(session, local_jobs=LocalJobs.ONLY_LOCAL)
    assert grid(local) == {FZK: {"2026-09": 10}}
    assert table(session).total == pytest.approx(135.1)  # ONLY_INFRA, the default


def test_vo_groups_and_the_ops_exclusion(session: Session) -> None:
    load_example(session)
    lhc = table(session, vo_group="lhc")
    assert totals(lhc)[0] == pytest.approx({FZK: 90, DESY: 40})
    assert lhc.vos == ("alice", "atlas", "cms", "lhcb")
    custom = table(session, vo_group="custom-biomed,ops")
    assert totals(custom)[0] == pytest.approx({INFN: 5.1})
    assert table(session, exclude_ops=True).total == pytest.approx(135)
    egi = table(session, vo_group="egi", egi_vos=("atlas", "biomed"))
    assert totals(egi)[0] == pytest.approx({FZK: 80, INFN: 5})
    assert table(session, vo_group="egi").total == pytest.approx(135.1)  # none set: every VO
    assert table(session, vo_group="all").vos is None
    too_many = "custom-" + ",".join(f"vo{n}" for n in range(101))
    assert len(table(session, vo_group=too_many[: too_many.index(",vo100")]).vos or ()) == 100
    for bad in ("custom-", "everyone", "top", too_many):
        with pytest.raises(Invalid) as refused:
            table(session, vo_group=bad)
        assert refused.value.field == "voGroup"
        assert refused.value.rule is AccountingRule.ACCOUNTING_VO_GROUP_UNKNOWN


def test_top10_is_the_ten_vos_with_most_normcpu_in_the_range(session: Session) -> None:
    # eleven VOs at FZK in 2026-09 with normcpu 1..11 h; vo01 has the least in the range,
    # though it has the most before it (2026-08), so it is the one left out
    records = [
        record(FZK, "2026-09", f"vo{n:02d}", wall=1, cpu=1, nwall=n, ncpu=n, jobs=1)
        for n in range(1, 12)
    ]
    load(
        session, *records, record(FZK, "2026-08", "vo01", wall=1, cpu=1, nwall=99, ncpu=99, jobs=1)
    )
    found = table(session, vo_group="top10", rows=Dimension.VO, columns=Dimension.SITE)
    assert found.vos == tuple(f"vo{n:02d}" for n in range(11, 1, -1))
    assert found.row_keys == [f"vo{n:02d}" for n in range(2, 12)]
    assert found.total == pytest.approx(sum(range(2, 12)))


def test_the_range_is_both_months_included_and_bounded(session: Session) -> None:
    load_example(session)
    wide = table(session, start=Month(2025, 1), end=Month(2026, 12), columns=Dimension.YEAR)
    assert totals(wide)[1] == pytest.approx({"2025": 70, "2026": 135.1})
    assert table(session, start=Month(2026, 10), end=Month(2026, 10)).total == pytest.approx(15.1)
    assert table(session, start=Month(2027, 1), end=Month(2027, 2)).total is None
    rule = AccountingRule
    cases: list[tuple[dict[str, Any], str, AccountingRule]] = [
        ({"start": Month(2026, 10), "end": Month(2026, 9)}, "to", rule.ACCOUNTING_PERIOD_REVERSED),
        ({"start": Month(2000, 1), "end": Month(2020, 1)}, "to", rule.ACCOUNTING_PERIOD_TOO_LONG),
        ({"rows": Dimension.VO, "columns": Dimension.VO}, "columns",
         rule.ACCOUNTING_DIMENSIONS_SAME),
    ]  # fmt: skip
    for options, field, broken in cases:
        with pytest.raises(Invalid) as refused:
            table(session, **options)
        assert (refused.value.field, refused.value.rule) == (field, broken)
    # twenty years exactly is allowed
    assert table(session, start=Month(2007, 1), end=Month(2026, 12)).total == pytest.approx(205.1)
    for text in ("2026", "2026-13", "26-01", "1969-12", "2026-x"):
        with pytest.raises(Invalid) as refused:
            Month.parse("from", text)
        assert refused.value.rule is AccountingRule.ACCOUNTING_PERIOD_MONTH_INVALID


QUERY = """
query ($metric: AccountingMetric!, $rows: AccountingDimension!, $columns: AccountingDimension!,
       $from: String!, $to: String!, $filter: AccountingFilter, $unit: AccountingUnit) {
  accounting(metric: $metric, rows: $rows, columns: $columns, from: $from, to: $to,
             filter: $filter, unit: $unit) {
    metric unit rows columns total vos
    cells { row column value percent }
    rowTotals { key value percent }
    columnTotals { key value percent }
  }
}"""


def test_graphql_gives_the_same_table_to_the_public(session: Session, gql: Any) -> None:
    load_example(session)
    variables = {
        "metric": "CPUEFF",
        "rows": "SITE",
        "columns": "MONTH",
        "from": "2026-09",
        "to": "2026-10",
    }
    data = gql.data(QUERY, variables)["accounting"]
    assert (data["metric"], data["unit"], data["rows"]) == (
        "CPUEFF",
        None,
        sorted([FZK, DESY, INFN]),
    )
    assert data["total"] == pytest.approx(13510 / 291)
    assert {t["key"]: t["value"] for t in data["rowTotals"]} == pytest.approx(
        {FZK: 50, DESY: 40, INFN: 510 / 11}
    )
    filtered = {"voGroup": "custom-atlas", "localJobs": "LOCAL_AND_INFRA", "excludeOpsDteam": True}
    data = gql.data(QUERY, {**variables, "metric": "NORMCPU", "filter": filtered, "unit": "DAY"})[
        "accounting"
    ]
    assert data["cells"] == [
        {"row": FZK, "column": "2026-09", "value": pytest.approx(90 / 24), "percent": 100.0}
    ]
    assert data["vos"] == ["atlas"]


def test_graphql_egi_group_is_the_servers_setting(
    session: Session, make_client: AppFactory
) -> None:
    load_example(session)
    variables = {
        "metric": "NJOBS",
        "rows": "SITE",
        "columns": "VO",
        "from": "2026-09",
        "to": "2026-10",
        "filter": {"voGroup": "egi"},
    }
    narrowed = make_client(accounting_egi_vos=("atlas",)).data(QUERY, variables)["accounting"]
    assert narrowed["vos"] == ["atlas"]
    assert {c["column"] for c in narrowed["cells"]} == {"atlas"}
    every = make_client().data(QUERY, variables)["accounting"]
    assert every["vos"] is None  # unset: the group is every VO
    assert len({c["column"] for c in every["cells"]}) > 1


def test_graphql_refusals_name_the_argument_and_rule(gql: Any) -> None:
    base = {"metric": "NJOBS", "rows": "SITE", "columns": "VO", "from": "2026-09", "to": "2026-10"}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"from": "2026-9x"}, "from: ", "ACCOUNTING_PERIOD_MONTH_INVALID"),
        ({"from": "2026-11"}, "to: ", "ACCOUNTING_PERIOD_REVERSED"),
        ({"filter": {"voGroup": "nobody"}}, "voGroup: ", "ACCOUNTING_VO_GROUP_UNKNOWN"),
        ({"columns": "SITE"}, "columns: ", "ACCOUNTING_DIMENSIONS_SAME"),
    ]
    for change, prefix, rule in cases:
        error = gql.error(QUERY, {**base, **change})
        assert error["message"].startswith(prefix), error
        assert error["extensions"]["rule"] == rule


PORTAL = "/accounting/egi"


def test_portal_json_in_the_legacy_shape(session: Session, make_client: AppFactory) -> None:
    load_example(session)
    client = make_client().client
    response = client.get(
        f"{PORTAL}/normcpu-hour/SITE/DATE/2026/09/2026/10/all/onlyinfrajobs/JSON/"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    by_id = {item["id"]: item for item in body}
    assert [item["id"] for item in body] == [
        DESY, FZK, INFN, "Total", "Percent", "xlegend", "ylegend", "var"
    ]  # fmt: skip
    assert by_id[FZK] == pytest.approx(
        {"2026-09": 80, "2026-10": 10, "id": FZK, "Total": 90, "Percent": 9000 / 135.1}
    )
    assert by_id[DESY]["2026-10"] == 0  # no rows: 0
    assert by_id["Total"] == pytest.approx(
        {"2026-09": 120, "2026-10": 15.1, "id": "Total", "Total": 135.1, "Percent": 100}
    )
    assert by_id["Percent"]["2026-09"] == pytest.approx(12000 / 135.1)
    assert (by_id["xlegend"]["value"], by_id["ylegend"]["value"]) == ("DATE", "SITE")
    assert by_id["var"] == {
        "id": "var",
        "xrange": ["2026-09", "2026-10"],
        "yrange": [DESY, FZK, INFN],
        "query": "normcpu",
    }


def test_portal_paths_scopes_and_csv(session: Session, make_client: AppFactory) -> None:
    load_example(session)
    client = make_client().client
    ngi = session.execute(
        select(col(Ngi.name))
        .join(Site, col(Site.ngi_id) == col(Ngi.id))
        .where(col(Site.short_name) == INFN)
    ).scalar_one()

    def rows(path: str) -> dict[str, Any]:
        response = client.get(f"{PORTAL}/{path}")
        assert response.status_code == 200, response.text
        return {item["id"]: item for item in response.json()}

    tail = "njobs/SITE/Year/2026/9/2026/10/all/localinfrajobs/json"
    assert rows(tail)[FZK]["2026"] == 16
    assert rows(f"htc/{tail}")["Total"]["Total"] == 25
    assert rows(f"htc/operations_centres/{tail}")["Total"]["Total"] == 25
    legends = {"Total", "Percent", "xlegend", "ylegend", "var"}
    assert set(rows(f"htc/operation_centre/{ngi}/{tail}")) - legends == {INFN}
    assert rows(f"htc/resource_centre/{DESY}/{tail}")["Total"]["Total"] == 5
    assert rows(f"site/{DESY}/{tail}")["Total"]["Total"] == 5
    assert rows("njobs/VO/REGION/2026/9/2026/10/custom-ops/onlyinfrajobs/JSON")["ops"]["Total"] == 3
    assert rows("cpueff/SITE/Year/2026/9/2026/10/lhc/onlyinfrajobs/JSON")[FZK]["2026"] == 50

    response = client.get(f"{PORTAL}/njobs/SITE/DATE/2026/9/2026/10/egi/onlylocaljobs/CSV")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines == [
        ["SITE / DATE", "2026-09", "Total", "Percent"],
        [FZK, "4.0", "4.0", "100.0"],
        ["Total", "4.0", "4.0", "100.0"],
        ["Percent", "100.0", "", ""],
    ]


def test_portal_refusals_are_400_naming_the_argument(make_client: AppFactory) -> None:
    client = make_client().client
    good = ["njobs", "SITE", "VO", "2026", "9", "2026", "10", "all", "onlyinfrajobs", "JSON"]
    cases = [
        (0, "cputime", "metric", "ACCOUNTING_METRIC_UNKNOWN"),
        (0, "njobs-hour", "metric", "ACCOUNTING_UNIT_UNKNOWN"),
        (1, "TIER", "row", "ACCOUNTING_DIMENSION_UNKNOWN"),
        (2, "site", "columns", "ACCOUNTING_DIMENSIONS_SAME"),
        (4, "13", "from", "ACCOUNTING_PERIOD_MONTH_INVALID"),
        (5, "2025", "to", "ACCOUNTING_PERIOD_REVERSED"),
        (3, "1990", "to", "ACCOUNTING_PERIOD_TOO_LONG"),
        (7, "top5", "voGroup", "ACCOUNTING_VO_GROUP_UNKNOWN"),
        (8, "alljobs", "local_job_filter", "ACCOUNTING_LOCAL_JOBS_UNKNOWN"),
        (9, "XML", "format", "ACCOUNTING_FORMAT_UNKNOWN"),
    ]
    for index, value, parameter, rule in cases:
        segments = list(good)
        segments[index] = value
        response = client.get(f"{PORTAL}/{'/'.join(segments)}")
        assert response.status_code == 400, (value, response.text)
        error = response.json()["error"]
        assert (error["parameter"], error["rule"]) == (parameter, rule), error
    for path in (f"htc/regions/{'/'.join(good)}", f"site/{'/'.join(good)}"):
        response = client.get(f"{PORTAL}/{path}")
        assert response.status_code == 400
        assert response.json()["error"]["rule"] == "ACCOUNTING_SCOPE_UNKNOWN"
    response = client.get(f"{PORTAL}/njobs/SITE/VO/2026/9")
    assert response.status_code == 400
    assert response.json()["error"]["rule"] == "ACCOUNTING_PATH_INVALID"


def test_portal_wlcg_views_are_the_lhc_vos(session: Session, make_client: AppFactory) -> None:
    load_example(session)
    client = make_client().client

    def vos(path: str) -> dict[str, Any]:
        response = client.get(f"/accounting/wlcg/{path}")
        assert response.status_code == 200, response.text
        return {i["id"]: i["Total"] for i in response.json() if "Total" in i}

    dates = "2026/9/2026/10"
    # the reference's example: one site, grid and local jobs
    site = f"site/{FZK}/njobs/VO/DATE/{dates}/all/localinfrajobs/JSON/"
    assert vos(site) == {"atlas": 14, "cms": 2, "Total": 16, "Percent": 100}
    # biomed and ops are not WLCG's; the VO group narrows within the LHC VOs
    assert vos(f"njobs/VO/Year/{dates}/all/onlyinfrajobs/JSON")["Total"] == 17
    assert set(vos(f"htc/countries/njobs/VO/Year/{dates}/top10/onlyinfrajobs/JSON")) == {
        "atlas", "cms", "Total", "Percent"
    }  # fmt: skip
