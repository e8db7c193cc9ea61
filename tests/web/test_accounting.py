"""The Accounting page in a real browser (issue 15): the demo's usage as a pivot table with
row and column totals and percentages, a line chart over the months and a pie of each
dimension's totals; another metric, dimensions and VO group from the form (kept in the URL);
the CSV and JSON links answer the same view from the portal's routes; "only my own jobs"
offered to a signed-in user alone; a site's usage on its page, linked to the accounting view
of it; the reject store (empty in the demo) to the administrators only, who delete a real
reject there. Then, on the same server: a site's publication panel (the months whose sync
records disagree marked, the last message to its administrator alone); deleting the rejects
a filter matches (an empty filter refused with the API's error); and "only my own jobs" for a
user whose certificate DN is linked to their account. Few tests: each costs a page."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import httpx2 as httpx
from playwright.sync_api import Page, expect

from gateway.compat.accounting import PATH as POST_PATH
from gateway.demo import PERSONAS
from tests.accounting.test_formats import JOB, job_message
from tests.accounting.test_formats import START as JOB_START
from tests.accounting.test_intake import records
from tests.server import cli_output, server_env
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


PUBLICATION = """query($site: String!, $f: String!, $t: String!) {
  accountingPublication(site: $site, from: $f, to: $t) { months { month inSync } }
}"""
SITE = "INFN-T1"  # the site-admin persona's, with an accounting service in the demo
HOST = "web-sync.example:8443/cream"


def post(demo: Demo, body: bytes, message_id: str) -> httpx.Response:
    """A message posted by the INFN-T1 administrator's site credential."""
    return httpx.post(
        demo.url(POST_PATH),
        content=body,
        headers={"x-api-key": demo.tokens["site-admin"], "message-id": message_id},
        timeout=30,
    )


def test_publication_rejects_by_filter_and_a_linked_dn_s_own_jobs(page: Page, demo: Demo) -> None:
    now = datetime.now(UTC)
    # this month, a submit host the site says sent more jobs than opsgraph holds of it
    sync = f"APEL-sync-message: v0.1\nSite: {SITE}\nSubmitHost: {HOST}\nNumberOfJobs: 5\n"
    sync += f"Month: {now.month}\nYear: {now.year}\n%%\n"
    assert post(demo, sync.encode(), "web-sync-1").status_code == 200
    visit(page, demo, f"/sites/{SITE}")
    panel = page.get_by_test_id("publication-panel")
    expect(panel.get_by_test_id("publication-last")).to_contain_text("Last published")
    expect(panel.get_by_test_id("publication-last-message")).to_have_count(0)  # anonymous
    rows = panel.get_by_test_id("publication-table").locator("tbody tr")
    months = [r.get_by_role("rowheader").inner_text() for r in rows.all()]
    this_month = now.strftime("%Y-%m")
    found = demo.graphql(None, PUBLICATION, site=SITE, f=months[0], t=months[-1])
    shown = found["accountingPublication"]["months"]
    assert [m["month"] for m in shown] == months
    assert this_month in months
    disagreeing = [m["month"] for m in shown if not m["inSync"]]
    assert this_month in disagreeing
    for month, row in zip(months, rows.all(), strict=True):
        expected = "publication-disagrees" if month in disagreeing else ""
        assert (row.get_attribute("class") or "") == expected, month
    current = rows.nth(months.index(this_month))
    expect(current).to_contain_text("Disagrees")
    expect(current.get_by_role("list")).to_contain_text(f"{HOST}: says 5, held 0 (disagrees)")
    visit(page, demo, f"/sites/{SITE}", as_="site-admin")
    expect(page.get_by_test_id("publication-last-message")).to_contain_text("web-sync-1 (sync)")
    assert_accessible(page)

    # two refused messages; deleting "all" without a filter is refused by the API, by the
    # filter of their rule the two are deleted (the dialog says how many)
    refused = [post(demo, records("NO-SUCH-SITE", str(n)), f"web-bad-{n}") for n in (1, 2)]
    assert [r.status_code for r in refused] == [400, 400], refused[0].text
    rule = refused[0].json()["error"]["rule"]
    visit(page, demo, "/usage/rejects", as_="admin")
    expect(page.get_by_test_id("accounting-rejects").locator("tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Delete all 2", exact=True).click()
    page.get_by_role(
        "alertdialog", name="Delete the 2 rejected messages (no filter given)?"
    ).get_by_role("button", name="Delete them").click()
    refusal = page.get_by_role("alert").filter(has_text="at least one of sender, rule")
    expect(refusal).to_contain_text("input.filter")
    expect(page.get_by_test_id("accounting-rejects").locator("tbody tr")).to_have_count(2)
    page.get_by_label("Rule").fill(rule)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"rule={rule}"))
    page.get_by_role("button", name="Delete all 2 matching").click()
    dialog = page.get_by_role(
        "alertdialog", name="Delete the 2 rejected messages matching the filter?"
    )
    dialog.get_by_role("button", name="Delete them").click()
    expect(page.get_by_text("Deleted 2 rejected messages.")).to_be_visible()
    expect(page.get_by_text("No rejected message matches the filter.")).to_be_visible()

    # Dana's certificate DN, linked to her account, ran three jobs at INFN-T1: "only my own
    # jobs" shows those and no one else's
    dana = next(p for p in PERSONAS if p.key == "vo-member")
    dn = f"/DC=org/DC=example/CN=Dana Novak {int(time.time())}"
    cli_output(
        server_env(demo.database.parent),
        "admin",
        "link-identity",
        "--subject",
        dana.subject,
        "--x509",
        dn,
    )
    end = int(now.timestamp()) - 60
    own = [
        JOB.replace("/C=UK/O=eScience/OU=Oxford/L=OeSC/CN=some user", dn)
        .replace("LocalJobId: 123456", f"LocalJobId: web-mine-{n}")
        .replace("UKI-SOUTHGRID-OX-HEP", SITE)
        .replace(f"StartTime: {JOB_START}", f"StartTime: {end - 3600}")
        .replace(f"EndTime: {JOB_START + 3600}", f"EndTime: {end}")
        for n in range(3)
    ]
    assert post(demo, job_message(*own).encode(), "web-mine").status_code == 200
    visit(page, demo, "/usage?metric=NJOBS&rows=SITE&columns=VO", as_="vo-member")
    table = page.get_by_test_id("accounting-table")
    everyone = page.get_by_test_id("accounting-total").inner_text()
    page.get_by_label("Only my own jobs").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile("mine=true"))
    expect(page.get_by_test_id("accounting-total")).to_have_text("3")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr th")).to_have_text(SITE)
    assert float(everyone.replace(",", "")) > 3  # the demo's jobs, which are not hers
