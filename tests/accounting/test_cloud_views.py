"""The cloud and storage accounting views and the whole-dataset export on both databases,
from site-sent cloud summaries and StAR records loaded through `load_message`, checked
against hand-computed figures: every cloud metric by the pivot, `cost` and the dimensions
the cloud summaries lack refused by rule; `cloudAccounting` and `storageAccounting` through
GraphQL; the portal's `/accounting/cloud/…` route (and its site scope); `/accounting/json`
and `/accounting/csv`."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy.orm import Session

from domains.accounting.rules import AccountingRule
from domains.accounting.service.export import COLUMNS
from domains.accounting.service.loading import load_message
from domains.accounting.service.pivot import (
    CloudMetric,
    Dimension,
    LocalJobs,
    Month,
    PivotQuery,
    Unit,
    parse_metric,
    pivot,
)
from domains.common.errors import Invalid, Unauthenticated
from tests.accounting.test_loading import NOW, sender
from tests.accounting.test_pivot import DESY, FZK, H, load_example
from tests.accounting.test_summaries import star
from tests.conftest import AppFactory


def vms(site: str, month: int, vo: str, *, vcpus: float, wall: float, n: int, **more: Any) -> str:
    """A site-sent cloud summary of 2026-`month` (wall and CPU in hours)."""
    lines = {
        "SiteName": site,
        "CloudComputeService": f"cloud.{site.lower()}",
        "Month": month,
        "Year": 2026,
        "VO": vo,
        "Status": "completed",
        "CpuCount": vcpus,
        "WallDuration": round(wall * H),
        "NumberOfVMs": n,
    } | more
    return "".join(f"{k}: {v}\n" for k, v in lines.items())


def load_cloud(session: Session) -> None:
    """FZK: 2 VMs of 2 vCPUs for 10 h in 2026-09 (benchmark 10), 3 VMs of unknown vCPUs for
    1 h in 2026-10; DESY: 1 VM of 4 vCPUs for 5 h in 2026-10."""
    records = [
        vms(FZK, 9, "fedcloud.egi.eu", vcpus=2, wall=10, n=2, CpuDuration=8 * H,
            NetworkInbound=5, NetworkOutbound=7, Memory=4096, Disk=40,
            BenchmarkType="HEPSPEC06", Benchmark=10),
        vms(FZK, 10, "fedcloud.egi.eu", vcpus=0, wall=1, n=3),
        vms(DESY, 10, "biomed", vcpus=4, wall=5, n=1, CpuDuration=5 * H, NetworkInbound=1,
            NetworkOutbound=1, Memory=2048, Disk=20),
    ]  # fmt: skip
    body = "APEL-cloud-summary-message: v0.4\n" + "%%\n".join(records)
    outcome = load_message(session, body.encode(), sender(FZK, DESY), "m-cloud", NOW)
    assert outcome.reject_id is None, outcome.reason
    session.commit()


def cloud_table(session: Session, metric: CloudMetric, **options: Any) -> Any:
    query = PivotQuery(
        metric=metric,
        rows=options.pop("rows", Dimension.SITE),
        columns=options.pop("columns", Dimension.YEAR),
        start=Month(2026, 9),
        end=Month(2026, 10),
        **options,
    )
    return pivot(session, query)


EXPECTED = {
    CloudMetric.SUM_ELAP: {FZK: 11, DESY: 5},
    CloudMetric.SUM_ELAP_PROCESSORS: {FZK: 10 * 2 + 1 * 1, DESY: 5 * 4},  # 0 vCPUs: 1
    CloudMetric.VM_NUM: {FZK: 5, DESY: 1},
    CloudMetric.PROCESSORS: {FZK: 2 * 2, DESY: 4},
    CloudMetric.MEMORY: {FZK: 4, DESY: 2},  # GB
    CloudMetric.DISK: {FZK: 40, DESY: 20},
    CloudMetric.NET_IN: {FZK: 5, DESY: 1},
    CloudMetric.NET_OUT: {FZK: 7, DESY: 1},
}


def test_each_cloud_metric_from_the_cloud_summaries(session: Session) -> None:
    load_example(session)  # grid rows: not counted in a cloud table
    load_cloud(session)
    assert set(EXPECTED) == set(CloudMetric)
    for metric, expected in EXPECTED.items():
        found = cloud_table(session, metric)
        assert {t.key: t.value for t in found.row_totals} == pytest.approx(expected), metric
        assert found.total == pytest.approx(sum(expected.values()))
        assert sum(t.percent or 0 for t in found.row_totals) == pytest.approx(100)


def test_cloud_dimensions_filters_and_refusals(session: Session) -> None:
    load_cloud(session)
    by_month = cloud_table(
        session, CloudMetric.SUM_ELAP, rows=Dimension.PROCESSORS, columns=Dimension.MONTH,
        unit=Unit.DAY,
    )  # fmt: skip
    assert by_month.row_keys == ["0", "2", "4"]
    assert {(c.row, c.column): c.value for c in by_month.cells} == pytest.approx(
        {("0", "2026-10"): 1 / 24, ("2", "2026-09"): 10 / 24, ("4", "2026-10"): 5 / 24}
    )
    top = cloud_table(session, CloudMetric.VM_NUM, rows=Dimension.VO, vo_group="top10")
    assert top.vos == ("fedcloud.egi.eu", "biomed")  # by wall time × vCPUs: 21 h, 20 h
    with pytest.raises(Unauthenticated):  # per-user figures: as for the grid, not public
        cloud_table(session, CloudMetric.VM_NUM, rows=Dimension.USER)
    with pytest.raises(Unauthenticated):
        cloud_table(session, CloudMetric.VM_NUM, mine=True)
    local = cloud_table(session, CloudMetric.VM_NUM, local_jobs=LocalJobs.ONLY_LOCAL)
    assert local.total is None  # cloud usage is all infrastructure
    for dimension in (Dimension.SUBMIT_HOST, Dimension.INFRASTRUCTURE):
        with pytest.raises(Invalid) as refused:
            cloud_table(session, CloudMetric.VM_NUM, columns=dimension)
        assert (refused.value.field, refused.value.rule) == (
            "columns",
            AccountingRule.ACCOUNTING_CLOUD_DIMENSION_UNKNOWN,
        )
    assert parse_metric("mem-GByte", cloud=True) == (CloudMetric.MEMORY, Unit.HOUR)
    assert parse_metric("sum_elap-day", cloud=True) == (CloudMetric.SUM_ELAP, Unit.DAY)
    for text, rule in [
        ("cost", AccountingRule.ACCOUNTING_CLOUD_METRIC_UNKNOWN),
        ("njobs", AccountingRule.ACCOUNTING_CLOUD_METRIC_UNKNOWN),
        ("vm_num-hour", AccountingRule.ACCOUNTING_UNIT_UNKNOWN),
    ]:
        with pytest.raises(Invalid) as refused:
            parse_metric(text, cloud=True)
        assert refused.value.rule is rule


QUERY = """
query ($filter: AccountingFilter) {
  cloudAccounting(metric: SUM_ELAP_PROCESSORS, rows: SITE, columns: MONTH, from: "2026-09",
                  to: "2026-10", filter: $filter) {
    metric unit total cells { row column value }
  }
  storageAccounting(from: "2026-11", to: "2026-12") {
    site vo month endTime resourceCapacityUsed logicalCapacityUsed fileCount
  }
}"""


def test_graphql_cloud_and_storage_accounting_for_the_public(session: Session, gql: Any) -> None:
    load_cloud(session)
    for n, (record_id, end, used) in enumerate(
        [("r1", "2026-11-10T00:00:00Z", 100), ("r2", "2026-11-20T00:00:00Z", 5_000_000_000)]
    ):
        body = star(FZK, record_id, end, used).encode()
        outcome = load_message(session, body, sender(FZK), f"m-star-{n}", NOW)
        assert outcome.reject_id is None, outcome.reason
    session.commit()
    data = gql.data(QUERY, {"filter": {"voGroup": "custom-biomed"}})
    assert (data["cloudAccounting"]["metric"], data["cloudAccounting"]["unit"]) == (
        "SUM_ELAP_PROCESSORS",
        "HOUR",
    )
    assert data["cloudAccounting"]["cells"] == [{"row": DESY, "column": "2026-10", "value": 20.0}]
    assert data["storageAccounting"] == [
        {
            "site": FZK,
            "vo": "atlas",
            "month": "2026-11",
            "endTime": "2026-11-20T00:00:00+00:00",
            "resourceCapacityUsed": 5_000_000_000,  # over 32 bits: a Long
            "logicalCapacityUsed": 13617,
            "fileCount": 42,
        }
    ]


def test_portal_cloud_route(session: Session, make_client: AppFactory) -> None:
    load_cloud(session)
    client = make_client().client
    cloud = "/accounting/cloud"
    response = client.get(f"{cloud}/mem-GByte/REGION/Year/2026/9/2026/10/all/onlyinfrajobs/JSON/")
    assert response.status_code == 200, response.text
    by_id = {item["id"]: item for item in response.json()}
    assert by_id["Total"]["Total"] == pytest.approx(6)
    assert by_id["var"]["query"] == "mem"
    response = client.get(f"{cloud}/vm_num/SITE/DATE/2026/9/2026/10/all/onlyinfrajobs/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0] == ["SITE / DATE", "2026-09", "2026-10", "Total", "Percent"]
    assert lines[1][:4] == [DESY, "0.0", "1.0", "1.0"]
    assert float(lines[1][4]) == pytest.approx(100 / 6)
    one_site = client.get(
        f"{cloud}/site/{FZK}/vm_num/SITE/DATE/2026/9/2026/10/all/onlyinfrajobs/csv"
    )
    assert one_site.status_code == 200, one_site.text
    assert [line[0] for line in csv.reader(io.StringIO(one_site.text))][1:] == [
        FZK,
        "Total",
        "Percent",
    ]
    for path, parameter, rule in [
        ("cost/SITE/VO/2026/9/2026/10/all/onlyinfrajobs/JSON", "metric",
         "ACCOUNTING_CLOUD_METRIC_UNKNOWN"),
        ("vm_num/SUBMITHOST/VO/2026/9/2026/10/all/onlyinfrajobs/JSON", "rows",
         "ACCOUNTING_CLOUD_DIMENSION_UNKNOWN"),
        (f"htc/resource_centre/{FZK}/vm_num/SITE/VO/2026/9/2026/10/all/onlyinfrajobs/JSON",
         "scope", "ACCOUNTING_SCOPE_UNKNOWN"),
        ("vm_num/SITE/VO/2026/9/2026/10/all/CSV", "path", "ACCOUNTING_PATH_INVALID"),
    ]:  # fmt: skip
        response = client.get(f"{cloud}/{path}")
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["parameter"], error["rule"]) == (parameter, rule)


def test_the_whole_dataset_export_as_json_and_csv(
    session: Session, make_client: AppFactory
) -> None:
    load_example(session)
    load_cloud(session)
    client = make_client().client
    response = client.get("/accounting/json")
    assert response.status_code == 200, response.text
    series = response.json()["results"][0]["series"]
    assert [(s["name"], s["columns"]) for s in series] == [("summary", list(COLUMNS))]
    rows = [dict(zip(COLUMNS, values, strict=True)) for values in series[0]["values"]]
    assert len(rows) == 10  # 7 grid rows of distinct keys, 3 cloud rows
    kinds = {r["infrastructure"] for r in rows}
    assert kinds == {"Grid", "Grid-Local", "Cloud"}
    desy = next(r for r in rows if r["site"] == DESY and r["time"].startswith("2026-09"))
    assert desy == desy | {
        "time": "2026-09-01T00:00:00Z",
        "ce": "ce2.example.org",
        "vo": "cms",
        "federation": None,
        "tier": None,
        "number_of_jobs": 5,
        "raw_cpu_time": pytest.approx(5),
        "raw_wc_time": pytest.approx(10),  # 5 h × 2 processors
        "raw_cpu_work": pytest.approx(40),
        "raw_wc_work": pytest.approx(100),
        "raw_cpu_eff": pytest.approx(50),
    }
    assert desy["country"]
    assert desy["ngi"]
    fzk_cloud = next(r for r in rows if r["infrastructure"] == "Cloud" and r["time"] < "2026-10")
    assert fzk_cloud == fzk_cloud | {
        "site": FZK,
        "ce": "cloud.fzk-lcg2",
        "benchmark": "HEPSPEC06",
        "number_of_jobs": 2,
        "raw_cpu_time": pytest.approx(8),
        "raw_wc_time": pytest.approx(20),
        "raw_cpu_work": pytest.approx(80),
        "raw_wc_work": pytest.approx(200),
    }
    unbenchmarked = next(r for r in rows if r["infrastructure"] == "Cloud" and r["site"] == DESY)
    assert (unbenchmarked["raw_cpu_work"], unbenchmarked["benchmark"]) == (None, None)

    response = client.get("/accounting/csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0] == list(COLUMNS)
    assert len(lines) == 11
    # public, but a credential given must be valid, as on the portal's other views
    refused = client.get("/accounting/csv", headers={"authorization": "Bearer not-a-token"})
    assert refused.status_code == 401, refused.text
