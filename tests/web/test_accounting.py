"""The Accounting page in a real browser (issue 15): the demo's usage as a pivot table with
row and column totals and percentages, a line chart over the months and a pie of each
dimension's totals; another metric, dimensions and VO group from the form (kept in the URL);
the CSV and JSON links answer the same view from the portal's routes; "only my own jobs"
offered to a signed-in user alone; a site's usage on its page, linked to the accounting view
of it; the reject store (empty in the demo) to the administrators only, who delete a real
reject there. One test: each costs a page."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import httpx2 as httpx
from playwright.sync_api import Page, expect

from gateway.compat.accounting import PATH as POST_PATH
from tests.accounting.test_intake import records
from tests.web.conftest import Demo, assert_accessible, visit

PIVOT = """query($f: String!, $t: String!) {
  accounting(metric: NJOBS, rows: SITE, columns: VO, from: $f, to: $t,
             filter: {voGroup: "lhc", localJobs: LOCAL_AND_INFRA}) { rows columns total }
}"""
SITE_JOBS = """query($f: String!, $t: String!) {
  site(shortName: "INFN-T1") { usage(from: $f, to: $t, metric: NJOBS) { total } }
}"""


def test_the_accounting_pivot_its_downloads_and_mine(page: Page, demo: Demo) -> None:
    visit(page, demo, "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounting").click()
    expect(page.locator("h1")).to_have_text("Accounting")
    assert urlparse(page.url).path == "/usage"

    # the default: normalised CPU of NGIs by month, with totals, percentages and charts: a
    # line per NGI over the months (from the same pivot), a pie of the NGIs and of the months
    table = page.get_by_test_id("accounting-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    expect(table.locator("thead")).to_contain_text("Percent")
    expect(table.locator("tfoot")).to_contain_text("100.0 %")
    for chart in ("accounting-line", "accounting-pie-rows", "accounting-pie-columns"):
        expect(page.get_by_test_id(chart).locator("canvas")).to_be_visible()
    by_month = page.get_by_test_id("accounting-line-table")  # in a closed <details>
    expect(by_month.locator("thead th")).to_have_count(13)  # the dimension and twelve months
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
    # sites by VO have no months: the line chart's pivot of sites by month is asked apart
    expect(by_month.locator("thead th").first).to_have_text("Site \\ Month")
    expect(page.get_by_test_id("accounting-line").locator("canvas")).to_be_visible()
    expect(page.get_by_test_id("accounting-pie-columns")).to_have_attribute(
        "aria-label", re.compile("each VO's share")
    )

    # a site's page: its last twelve months, linked to the accounting view of its VOs
    visit(page, demo, "/sites/INFN-T1")
    panel = page.get_by_test_id("usage-panel")
    site = demo.graphql(None, SITE_JOBS, f=query["from"][0], t=query["to"][0])["site"]
    expect(panel.get_by_test_id("usage-jobs-total")).to_have_text(f"{site['usage']['total']:,.0f}")
    panel.get_by_role("link", name=re.compile("In the accounting views")).click()
    expect(page.get_by_label("Site", exact=True)).to_have_value("INFN-T1")
    assert parse_qs(urlparse(page.url).query)["rows"] == ["VO"]

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

    # a message for a site its sender may not send for is refused into the store; deleted
    posted = httpx.post(
        demo.url(POST_PATH),
        content=records("NO-SUCH-SITE", "web-1"),
        headers={"x-api-key": demo.tokens["site-admin"]},
        timeout=30,
    )
    assert posted.status_code == 400, posted.text
    message_id = posted.json()["error"]["messageId"]
    page.reload()
    row = page.get_by_test_id("accounting-rejects").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(message_id)
    row.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("alertdialog", name=f"Delete the rejected message {message_id}?")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Deleted {message_id}.")).to_be_visible()
    expect(page.get_by_text("No rejected messages")).to_be_visible()
