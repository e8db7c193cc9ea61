"""Site.usage and NGI.usage (issue 15): a site's and an NGI's public accounting from the
grid summaries, with its breakdown; every site of a page in one statement per set of
arguments; refusals naming the argument."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.rules import AccountingRule
from domains.accounting.service.pivot import Dimension, Metric, Month, PivotQuery, UsageBy, usage
from domains.common.errors import Invalid
from domains.topology.models import Ngi, Site
from tests.accounting.test_pivot import DESY, FZK, INFN, load_example
from tests.conftest import GraphQLClient, StatementCounter


def _query(rows: Dimension, **options: Any) -> PivotQuery:
    return PivotQuery(
        metric=options.pop("metric", Metric.NORMCPU),
        rows=rows,
        columns=Dimension.YEAR,
        start=Month(2026, 9),
        end=Month(2026, 10),
        **options,
    )


def _ngi_of(session: Session, site: str) -> str:
    return str(
        session.execute(
            select(col(Ngi.name))
            .join(Site, col(Site.ngi_id) == col(Ngi.id))
            .where(col(Site.short_name) == site)
        ).scalar_one()
    )


def test_service_usage_of_a_batch_with_its_parts(session: Session) -> None:
    load_example(session)
    found = usage(session, _query(Dimension.SITE), [FZK, INFN, "NO-SUCH-SITE"], UsageBy.MONTH)
    assert set(found) == {FZK, INFN}  # DESY not asked for; no rows for the unknown site
    assert found[FZK].total == pytest.approx(90)
    assert [p.key for p in found[FZK].parts] == ["2026-09", "2026-10"]
    assert [p.value for p in found[FZK].parts] == pytest.approx([80, 10])
    assert [p.percent for p in found[FZK].parts] == pytest.approx([800 / 9, 100 / 9])
    assert usage(session, _query(Dimension.SITE, vo="ops"), [INFN], None)[INFN].parts == []
    ngi = _ngi_of(session, FZK)
    by_site = usage(session, _query(Dimension.NGI), [ngi], UsageBy.SITE)[ngi]
    assert by_site.total == pytest.approx(130)
    assert {p.key: p.value for p in by_site.parts} == pytest.approx({FZK: 90, DESY: 40})
    with pytest.raises(Invalid) as refused:
        usage(session, _query(Dimension.SITE), [FZK], UsageBy.SITE)
    assert (refused.value.field, refused.value.rule) == (
        "by",
        AccountingRule.ACCOUNTING_DIMENSIONS_SAME,
    )


SITES = """
query($from: String!, $to: String!, $by: AccountingUsageBy) {
  sites(first: 100) {
    edges { node { shortName
      usage(from: $from, to: $to, by: $by) { metric unit total by parts { key value percent } }
      njobs: usage(from: $from, to: $to, metric: NJOBS) { unit total }
    } }
  }
  ngis(first: 100) { edges { node { name usage(from: $from, to: $to, by: SITE) { total } } } }
}"""


def test_graphql_usage_of_a_page_of_sites_in_bounded_statements(
    session: Session, gql: GraphQLClient, statements: StatementCounter
) -> None:
    load_example(session)
    statements.reset()
    data = gql.data(SITES, {"from": "2026-09", "to": "2026-10", "by": "VO"})
    sites = {e["node"]["shortName"]: e["node"] for e in data["sites"]["edges"]}
    assert len(sites) > 3
    fzk = sites[FZK]["usage"]
    assert (fzk["metric"], fzk["unit"], fzk["by"]) == ("NORMCPU", "HOUR", "VO")
    assert fzk["total"] == pytest.approx(90)
    assert [(p["key"], p["value"]) for p in fzk["parts"]] == [
        ("atlas", pytest.approx(80)),
        ("cms", pytest.approx(10)),
    ]
    assert sites[INFN]["njobs"] == {"unit": None, "total": 4.0}
    quiet = next(s for name, s in sites.items() if name not in (FZK, DESY, INFN))
    assert quiet["usage"] == {
        "metric": "NORMCPU",
        "unit": "HOUR",
        "total": None,
        "by": "VO",
        "parts": [],
    }
    ngis = {e["node"]["name"]: e["node"]["usage"]["total"] for e in data["ngis"]["edges"]}
    assert ngis[_ngi_of(session, DESY)] == pytest.approx(130)
    # one statement per set of arguments (sites by VO, sites' NJOBS, NGIs by site), whatever
    # the number of sites and NGIs
    reads = [s for s in statements.statements if "accounting_grid_summary" in s]
    assert len(reads) == 3


def test_graphql_usage_refusals_name_the_argument(gql: GraphQLClient) -> None:
    body = gql.post(SITES, {"from": "2026-10", "to": "2026-09"})
    rules = {(e["extensions"]["field"], e["extensions"]["rule"]) for e in body["errors"]}
    assert rules == {("to", AccountingRule.ACCOUNTING_PERIOD_REVERSED.name)}
    body = gql.post(
        '{ ngis(first: 1) { edges { node { usage(from: "2026-13", to: "2026-01") { total } } } } }'
    )
    assert body["errors"][0]["extensions"]["field"] == "from"
