"""The Accounting page in a real browser (issue 15): the demo's usage as a pivot table with
row and column totals and percentages, and a chart; another metric, dimensions and VO group
from the form (kept in the URL); the CSV and JSON links answer the same view from the portal's
routes; "only my own jobs" offered to a signed-in user alone; the reject store (empty in the
demo) to the administrators only. One test: each costs a page."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import httpx2 as httpx
from playwright.sync_api import Page, expect

from tests.web.conftest import Demo, assert_accessible, visit

PIVOT = """query($f: String!, $t: String!) {
  accounting(metric: NJOBS, rows: SITE, columns: VO, from: $f, to: $t,
             filter: {voGroup: "lhc", localJobs: LOCAL_AND_INFRA}) { rows columns total }
}"""


def test_the_accounting_pivot_its_downloads_and_mine(page: Page, demo: Demo) -> None:
    visit(page, demo, "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounting").click()
    expect(page.locator("h1")).to_have_text("Accounting")
    assert urlparse(page.url).path == "/usage"

    # the default: normalised CPU of NGIs by month, with totals, percentages and a chart
    table = page.get_by_test_id("accounting-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    expect(table.locator("thead")).to_contain_text("Percent")
    expect(table.locator("tfoot")).to_contain_text("100.0 %")
    expect(page.get_by_test_id("accounting-chart")).to_be_visible()
    expect(page.get_by_label("Only my own jobs")).to_have_count(0)  # anonymous
    assert_accessible(page)

    # jobs of the LHC VOs by site and VO, grid and local: the URL keeps the choice
    page.get_by_label("Metric", exact=True).select_option("NJOBS")
    expect(page.get_by_label("Unit", exact=True)).to_have_count(0)  # jobs have no unit
    page.get_by_label("Rows", exact=True).select_option("SITE")
    page.get_by_label("Columns", exact=True).select_option("VO")
    page.get_by_label("VO group", exact=True).select_option("lhc")
    page.get_by_label("Jobs", exact=True).select_option("LOCAL_AND_INFRA")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile("metric=NJOBS"))
    query = parse_qs(urlparse(page.url).query)
    assert query["rows"] == ["SITE"]
    assert query["voGroup"] == ["lhc"]
    expect(table.locator("thead")).to_contain_text("atlas")
    expect(table.locator("thead")).not_to_contain_text("biomed")

    # the table's grand total is GraphQL's, and the CSV link answers the same figures
    found = demo.graphql(None, PIVOT, f=query["from"][0], t=query["to"][0])["accounting"]
    expect(page.get_by_test_id("accounting-total")).to_have_text(f"{found['total']:,.0f}")
    expect(table.locator("tbody tr")).to_have_count(len(found["rows"]))
    href = page.get_by_test_id("accounting-csv").get_attribute("href")
    assert href is not None
    assert href.startswith("/accounting/egi/njobs/SITE/VO/")
    lines = list(csv.reader(io.StringIO(httpx.get(demo.url(href), timeout=30).text)))
    assert lines[0][1:-2] == found["columns"]
    assert [line[0] for line in lines[1:-2]] == found["rows"]
    assert float(lines[-2][-2]) == found["total"]
    json_href = page.get_by_test_id("accounting-json").get_attribute("href")
    assert json_href == href.removesuffix("CSV") + "JSON"
    assert httpx.get(demo.url(json_href), timeout=30).json()[0]["id"] == found["rows"][0]

    # signed in: one's own jobs may be asked for; the reject store is the administrators'
    visit(page, demo, "/usage", as_="site-admin")
    expect(page.get_by_label("Only my own jobs")).to_be_visible()
    expect(page.get_by_role("link", name="The messages refused at intake")).to_have_count(0)
    visit(page, demo, "/usage/rejects", as_="site-admin")
    expect(page.get_by_test_id("rejects-refused")).to_be_visible()
    visit(page, demo, "/usage", as_="admin")
    page.get_by_role("link", name="The messages refused at intake").click()
    expect(page.locator("h1")).to_have_text("Accounting rejects")
    expect(page.get_by_text("No rejected messages")).to_be_visible()
    assert_accessible(page)
