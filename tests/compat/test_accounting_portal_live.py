"""The accounting portal's URL API on a real `opsgraph serve` process: summaries loaded
through `load_message` into a copy of the demo database, then read as an HTTP client reads
them (JSON, CSV, a refusal, the WLCG view, a WLCG report, the whole-dataset export), with
OPSGRAPH_ACCOUNTING_EGI_VOS as the server's setting."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy.orm import Session

from domains.accounting.service import reportdata
from domains.accounting.service.loading import load_message
from domains.common.db import make_engine
from domains.common.identity import PLATFORM
from tests.accounting.test_loading import NOW, sender
from tests.accounting.test_pivot import DESY, FZK, INFN, record
from tests.server import copy_demo, server_env, serving


@pytest.fixture
def served(demo_database: Path, tmp_path: Path) -> Path:
    copy_demo(demo_database, tmp_path, demo_accounting=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    body = "APEL-normalised-summary-message: v0.4\n" + "%%\n".join(
        [
            record(FZK, "2026-09", "atlas", wall=10, cpu=8, nwall=100, ncpu=80, jobs=10),
            record(DESY, "2026-10", "cms", wall=5, cpu=5, nwall=50, ncpu=40, jobs=5),
            record(INFN, "2026-10", "biomed", wall=1, cpu=1, nwall=10, ncpu=5, jobs=1),
        ]
    )
    with Session(engine) as session:
        outcome = load_message(session, body.encode(), sender(FZK, DESY, INFN), "m-live", NOW)
        assert outcome.reject_id is None, outcome.reason
        # DESY-HH alone in its Tier-2 federation, pledging 10 HS06 in 2026
        reportdata.set_federation(
            session, PLATFORM, name="DE-DESY-T2", country="DE", tier=2, sites=[DESY]
        )
        reportdata.set_pledge(session, PLATFORM, federation="DE-DESY-T2", year=2026, cpu_hs06=10)
        session.commit()
    engine.dispose()
    return tmp_path


def test_the_portal_routes_on_a_real_server(served: Path) -> None:
    env = server_env(served, OPSGRAPH_ACCOUNTING_EGI_VOS="atlas, biomed")
    with serving(env) as base:
        portal = f"{base}/accounting/egi"
        answer = httpx.get(
            f"{portal}/htc/normcpu-hour/SITE/Year/2026/09/2026/10/egi/onlyinfrajobs/JSON/",
            timeout=120,
        )
        assert answer.status_code == 200, answer.text
        by_id = {item["id"]: item for item in answer.json()}
        assert set(by_id) == {FZK, INFN, "Total", "Percent", "xlegend", "ylegend", "var"}
        assert by_id[FZK]["2026"] == pytest.approx(80)
        assert by_id["Total"]["Total"] == pytest.approx(85)
        assert by_id[INFN]["Percent"] == pytest.approx(500 / 85)

        answer = httpx.get(
            f"{portal}/njobs/VO/DATE/2026/9/2026/10/all/onlyinfrajobs/csv", timeout=120
        )
        assert answer.status_code == 200, answer.text
        assert list(csv.reader(io.StringIO(answer.text)))[:2] == [
            ["VO / DATE", "2026-09", "2026-10", "Total", "Percent"],
            ["atlas", "10.0", "0.0", "10.0", "62.5"],
        ]

        refused = httpx.get(
            f"{portal}/njobs/VO/DATE/2026/9/2026/10/all/everything/csv", timeout=120
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["rule"] == "ACCOUNTING_LOCAL_JOBS_UNKNOWN"

        # the WLCG view: the same parser, the LHC VOs only (biomed left out)
        answer = httpx.get(
            f"{base}/accounting/wlcg/njobs/VO/DATE/2026/9/2026/10/all/localinfrajobs/JSON/",
            timeout=120,
        )
        assert answer.status_code == 200, answer.text
        by_id = {item["id"]: item for item in answer.json()}
        assert set(by_id) == {"atlas", "cms", "Total", "Percent", "xlegend", "ylegend", "var"}
        assert by_id["Total"]["Total"] == pytest.approx(15)

        # the Tier-2 report: DESY's cms in October (normalised wall 50 h × 1 processor)
        # against 10 HS06 × October's 744 hours
        answer = httpx.get(
            f"{base}/accounting/wlcg/report/tier2/2026/10/2026/10/hours/JSON/", timeout=120
        )
        assert answer.status_code == 200, answer.text
        desy = next(r for r in answer.json() if r["id"] == "DE-DESY-T2")
        assert (desy["cms"], desy["Pledge"]) == (pytest.approx(50), pytest.approx(7440))
        assert desy["Pledge %"] == pytest.approx(100 * 50 / 7440)

        # the whole-dataset export, streamed by the real server
        answer = httpx.get(f"{base}/accounting/json", timeout=120)
        assert answer.status_code == 200, answer.text
        (series,) = answer.json()["results"][0]["series"]
        mine = [v for v in series["values"] if v[series["columns"].index("site")] == FZK]
        assert [v[series["columns"].index("raw_cpu_work")] for v in mine] == [pytest.approx(80)]
        assert {v[series["columns"].index("tier")] for v in mine} == {1}  # the demo's DE-KIT
