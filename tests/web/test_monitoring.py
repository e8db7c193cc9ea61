"""The monitoring views in a real browser (issue 14, point 9): a report's availability and
reliability against the 80 %/85 % targets (chart and tables, per month and per day, sites and
NGIs), the catalogue and a profile's versions, the live status on the site and service pages
(today's timeline of each metric, and a change arriving through statusChanges), the
day's timeline of a site and of an NGI, the map coloured by live status,
a site administrator's alert rules (create, a server rule beside its field, edit, delete),
and an administrator's recomputations (a server rule beside its field, made, rejected,
deleted; one of a status change and a metric exclusion, a rule beside an entry's field,
edited).
Few tests, each covering a whole story: every one costs CI a browser page."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from tests.web.conftest import Demo, assert_accessible, visit

REPORT = "Critical"
SITE = "INFN-T1"  # the site administrator's (gateway/demo.py)
HOST, SERVICE_TYPE = "ce01.cr.cnaf.infn.it", "org.opensciencegrid.htcondorce"  # INFN-T1's


def availability_computed(demo: Demo) -> None:
    """`serve --demo` computes the demo week's A/R in its embedded worker at start-up: wait
    for the rows (a bounded poll of the state, not of a time) before a page reads them."""
    query = (
        'query($r: String!) { availability(report: $r, level: SUPERGROUP, from: "2000-01-01",'
        ' to: "2100-12-31", granularity: CUSTOM) { nodes { name } } }'
    )
    for _ in range(120):
        if demo.graphql(None, query, r=REPORT)["availability"]["nodes"]:
            return
        time.sleep(0.5)
    raise AssertionError("the demo's availability was never computed")


def test_a_reports_availability_against_the_targets(page: Page, demo: Demo) -> None:
    availability_computed(demo)
    visit(page, demo, "/monitoring")
    page.get_by_role("link", name=f"Availability and reliability of {REPORT}").click()
    expect(page.locator("h1")).to_have_text(f"Availability and reliability: {REPORT}")

    # every site over the period, then the first one charted per month with its table
    sites = page.get_by_role("table", name=re.compile("^Each site's availability"))
    expect(sites.locator("tbody tr").first).to_be_visible()
    first = sites.locator("tbody tr th a").first.inner_text()
    # a page of them at a time, by cursor, as the other lists page
    expect(page.get_by_role("navigation", name="Pages of sites")).to_contain_text(
        re.compile(r"Showing \d+ of \d+ sites")
    )
    chart = page.get_by_test_id("ar-chart")
    expect(chart).to_have_attribute(
        "aria-label", re.compile(f"of site {re.escape(first)} per month")
    )
    targets = chart.locator("[data-target]")
    expect(targets).to_have_count(2)
    assert targets.evaluate_all("els => els.map(e => e.dataset.target)") == ["80", "85"]
    per_month = page.get_by_role("table", name=re.compile(f"of site {re.escape(first)} per month"))
    expect(per_month.locator("tbody tr").first).to_contain_text("%")
    assert_accessible(page)

    # another site, from the table
    other = sites.locator("tbody tr th a").nth(1)
    name = other.inner_text()
    other.click()
    expect(page.get_by_role("heading", name=f"{name} per month")).to_be_visible()
    assert parse_qs(urlparse(page.url).query)["name"] == [name]

    # NGIs per day: the form's choice lives in the URL
    page.get_by_label("Level", exact=True).select_option("SUPERGROUP")
    page.get_by_label("Day", exact=True).check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile("granularity=DAILY"))
    query = parse_qs(urlparse(page.url).query)
    assert query["level"] == ["SUPERGROUP"]
    ngis = page.get_by_role("table", name=re.compile("^Each NGI's availability"))
    expect(ngis.locator("tbody tr th a").first).to_have_text(re.compile("^NGI_"))
    expect(page.get_by_test_id("ar-chart")).to_have_attribute("aria-label", re.compile("per day"))
    assert_accessible(page)


def test_the_catalogue_a_profile_and_the_status_of_a_site_and_a_service(
    page: Page, demo: Demo
) -> None:
    visit(page, demo, "/monitoring")
    expect(page.locator("h1")).to_have_text("Monitoring catalogue")
    for heading in ("Reports", "Metric profiles", "Operations profiles", "Probes", "Metrics"):
        expect(page.get_by_role("heading", name=re.compile(f"^{heading} \\("))).to_be_visible()
    probes = page.locator("section[aria-labelledby=catalogue-probes] tbody")
    expect(probes).to_contain_text("built-in tcp")
    assert_accessible(page)
    page.get_by_role("link", name="ARGO_MON_CRITICAL").click()
    expect(page.locator("h1")).to_have_text("Metric profile ARGO_MON_CRITICAL")
    expect(page.locator("pre.monitoring-json").first).to_contain_text('"services"')

    # the map: every site coloured by its status now under the report, counted in the legend
    visit(page, demo, "/?ngi=NGI_IT")
    legend = page.locator(".topology-legend")
    expect(legend.locator("h2")).to_have_text(f"Legend: Status now under {REPORT}")
    expect(page.get_by_test_id("live-status")).to_contain_text("Live: ")
    coloured = legend.locator("li").filter(
        has_text=re.compile(r"(OK|Warning|Critical|Unknown|Missing|In downtime): [1-9]")
    )
    expect(coloured.first).to_be_visible()
    assert_accessible(page)

    # the site page: each monitored service's status under the report
    visit(page, demo, f"/sites/{SITE}")
    badges = page.locator(".topology-service .monitoring-status")
    expect(badges.first).to_have_attribute("data-status", re.compile("^[A-Z]+$"))
    # and the site's own status over today, from the `status` query's timeline
    site_status = page.get_by_test_id("group-status")
    expect(site_status.locator("p .monitoring-status")).to_have_attribute(
        "data-status", re.compile("^[A-Z]+$")
    )
    expect(site_status.locator("figcaption")).to_contain_text(f"{SITE} under {REPORT}, ")
    # the same for its NGI, on the NGI's page
    visit(page, demo, "/ngis/NGI_IT")
    expect(page.get_by_test_id("group-status").locator("figcaption")).to_contain_text(
        re.compile(f"NGI_IT under {REPORT}, [0-9-]+ \\(UTC\\): [A-Z]+ 00:00")
    )
    assert_accessible(page)
    visit(page, demo, f"/sites/{SITE}")
    # the service page: the status and each metric's, with its summary
    page.get_by_role("link", name=f"{SERVICE_TYPE} on {HOST}").click()
    status = page.get_by_test_id("service-status")
    expect(status.locator(".monitoring-status")).to_have_attribute(
        "data-status", re.compile("^(OK|WARNING|CRITICAL|UNKNOWN|MISSING|DOWNTIME)$")
    )
    metrics = page.locator("section[aria-labelledby=service-status] tbody tr")
    expect(metrics.first).to_contain_text("generic.")
    # today's timeline of each metric, in words beside the bar
    expect(page.locator(".monitoring-timeline figcaption").first).to_contain_text("(UTC): ")
    assert_accessible(page)

    # a result published now reaches the open page through statusChanges, without a reload
    page.evaluate("window.__notReloaded = true")
    demo.graphql(
        "admin",
        "mutation($i: GrantMonitoringHostInput!) "
        "{ grantMonitoringHost(input: $i) { grant { id } } }",
        i={"kind": "SUBJECT", "identifier": "demo-admin@egi.eu", "note": "browser test"},
    )
    live = page.get_by_test_id("live-status")
    row = metrics.filter(has_text="generic.tcp.connect")
    for attempt in range(10):  # until the page's subscription, opened lazily, hears one
        answer = demo.graphql(
            "admin",
            "mutation($i: PublishMetricResultsInput!) { publishMetricResults(input: $i) "
            "{ accepted rejected { reason } } }",
            i={
                "results": [
                    {
                        "timestamp": (datetime.now(UTC) + timedelta(seconds=attempt)).isoformat(),
                        "service": SERVICE_TYPE,
                        "hostname": HOST,
                        "metric": "generic.tcp.connect",
                        "status": "CRITICAL" if attempt % 2 == 0 else "WARNING",
                        "summary": f"CRITICAL - refused (browser test {attempt})",
                    }
                ]
            },
        )["publishMetricResults"]
        assert answer["accepted"] == 1, answer
        try:
            expect(live).to_contain_text("generic.tcp.connect", timeout=3_000)
            break
        except AssertionError:
            continue
    expect(live).to_contain_text(re.compile(f"generic.tcp.connect on {HOST} is (CRITICAL|WARNING)"))
    expect(row.locator(".monitoring-status")).to_have_attribute(
        "data-status", re.compile("^(CRITICAL|WARNING)$")
    )
    today = page.locator(".monitoring-timeline figcaption", has_text="generic.tcp.connect")
    expect(today).to_contain_text(re.compile("(CRITICAL|WARNING) [0-9:]+–"))
    assert page.evaluate("window.__notReloaded") is True


def test_a_site_administrator_manages_alert_rules(page: Page, demo: Demo) -> None:
    visit(page, demo, "/alerts")
    expect(page.get_by_role("status").filter(has_text="Sign in to manage")).to_be_visible()

    name = f"cnaf-{uuid.uuid4().hex[:6]}"
    visit(page, demo, "/alerts", as_="site-admin")
    new = page.get_by_role("form", name="Create rule")
    new.get_by_label("Name").fill(name)
    new.get_by_label("Site").fill("NO-SUCH-SITE")
    new.get_by_role("button", name="Create rule").click()
    site_field = new.locator(".form-field", has=page.get_by_label("Site"))
    expect(site_field.locator("[data-rule]")).to_have_attribute(
        "data-rule", "ALERT_RULE_SITE_UNKNOWN"
    )
    assert_accessible(page)

    new.get_by_label("Site").fill(SITE)
    new.get_by_label("After failures in a row").fill("3")
    new.get_by_role("button", name="Create rule").click()
    card = page.locator(f"article[data-rule-name='{name}']")
    expect(card).to_contain_text(f"Watches the services of site {SITE}")
    expect(card).to_contain_text("as report Critical combines their metrics")  # the default
    expect(card).to_contain_text("3 results in a row not OK")
    expect(new.get_by_label("Name")).to_have_value("")

    card.get_by_role("button", name=f"Edit {name}").click()
    edit = card.get_by_role("form", name="Save rule")
    edit.get_by_label("Remind every (hours)").fill("500")
    edit.get_by_role("button", name="Save rule").click()
    expect(edit.locator("[data-rule]")).to_contain_text(re.compile("."))
    edit.get_by_label("Remind every (hours)").fill("4")
    edit.get_by_role("button", name="Save rule").click()
    expect(card).to_contain_text("reminders every 4 h")

    card.get_by_role("button", name=f"Delete {name}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(card).to_have_count(0)
    rules = demo.graphql("site-admin", "{ myAlertRules { nodes { name } } }")["myAlertRules"]
    assert name not in [r["name"] for r in rules["nodes"]]


def test_an_administrator_asks_for_a_recomputation_and_deletes_it(page: Page, demo: Demo) -> None:
    visit(page, demo, "/monitoring/recomputations")
    expect(page.get_by_role("status").filter(has_text="Sign in to ask")).to_be_visible()

    reason = f"browser test {uuid.uuid4().hex[:6]}"
    day = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    visit(page, demo, f"/reports/{REPORT}", as_="admin")
    page.get_by_role("link", name="its recomputations").click()
    expect(page).to_have_url(re.compile(f"report={REPORT}"))
    form = page.get_by_role("form", name="Ask for a recomputation")
    form.get_by_label("Reason").fill(reason)
    form.get_by_label("Requester's name").fill("Demo Admin")
    form.get_by_label("Requester's e-mail").fill("demo-admin@egi.eu")
    form.get_by_label("Start (UTC)").fill(f"{day}T18:00")
    form.get_by_label("End (UTC)").fill(f"{day}T06:00")
    form.get_by_label("Sites to exclude").fill(SITE)
    form.get_by_role("button", name="Ask for the recomputation").click()
    # the server's rule beside its field: the end before the start
    expect(form.locator("[data-rule]").first).to_have_attribute("data-rule", re.compile("."))
    form.get_by_label("Start (UTC)").fill(f"{day}T06:00")
    form.get_by_label("End (UTC)").fill(f"{day}T18:00")
    form.get_by_role("button", name="Ask for the recomputation").click()
    expect(page.get_by_role("status").filter(has_text="made")).to_contain_text(
        f"Recomputation of {REPORT} made"
    )
    row = page.locator("tbody tr", has_text=reason)
    expect(row).to_contain_text(f"{day} 06:00–{day} 18:00 UTC")
    expect(row).to_contain_text(f"site {SITE}")
    assert_accessible(page)

    # through ARGO's workflow: rejected, it stops counting
    status = row.get_by_role("combobox", name=re.compile("^Status of the recomputation"))
    expect(status).to_have_value("approved")
    status.select_option("rejected")
    expect(status).to_have_value("rejected")
    expect(status).to_be_enabled()
    listed = demo.graphql(None, "{ recomputations { nodes { reason status } } }")["recomputations"]
    assert {"reason": reason, "status": "rejected"} in listed["nodes"]

    row.get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    listed = demo.graphql(None, "{ recomputations { nodes { reason } } }")["recomputations"]
    assert reason not in [r["reason"] for r in listed["nodes"]]


def test_an_administrator_applies_a_state_and_excludes_a_metric(page: Page, demo: Demo) -> None:
    """A recomputation of no excluded site: a status change and a metric exclusion, each
    entry's server rule beside its own field, then edited (updateRecomputation)."""
    reason = f"browser entries {uuid.uuid4().hex[:6]}"
    day = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    visit(page, demo, f"/monitoring/recomputations?report={REPORT}", as_="admin")
    form = page.get_by_role("form", name="Ask for a recomputation")
    form.get_by_label("Reason").fill(reason)
    form.get_by_label("Requester's name").fill("Demo Admin")
    form.get_by_label("Requester's e-mail").fill("demo-admin@egi.eu")
    form.get_by_label("Start (UTC)").fill(f"{day}T06:00")
    form.get_by_label("End (UTC)").fill(f"{day}T18:00")
    form.get_by_role("button", name="Add a status change").click()
    change = form.get_by_role("group", name="Status change 1")
    change.get_by_label("State").select_option("CRITICAL")
    change.get_by_label("Host").fill("no-such-host.example.org")
    form.get_by_role("button", name="Add a metric exclusion").click()
    metric = form.get_by_role("group", name="Metric exclusion 1")
    metric.get_by_label("Metric", exact=True).fill("generic.tcp.connect")
    metric.get_by_label("Site").fill(SITE)
    form.get_by_role("button", name="Ask for the recomputation").click()
    host_field = change.locator(".form-field", has=page.get_by_label("Host"))
    expect(host_field.locator("[data-rule]")).to_have_attribute(
        "data-rule", "RECOMPUTATION_HOST_UNKNOWN"
    )
    assert_accessible(page)

    change.get_by_label("Host").fill(HOST)
    form.get_by_role("button", name="Ask for the recomputation").click()
    expect(page.get_by_role("status").filter(has_text="made")).to_contain_text(
        f"Recomputation of {REPORT} made"
    )
    row = page.locator("tbody tr", has_text=reason)
    expect(row).to_contain_text(f"generic.tcp.connect at {SITE}; CRITICAL on {HOST}")

    row.get_by_role("button", name=re.compile("^Edit")).click()
    edit = page.get_by_role("form", name=f"Edit the recomputation “{reason}”")
    edit.get_by_role("group", name="Status change 1").get_by_label("State").select_option("OK")
    edit.get_by_role("button", name="Save the recomputation").click()
    expect(row).to_contain_text(f"OK on {HOST}")
    listed = demo.graphql(
        None, "{ recomputations { nodes { reason exclude appliedStatusChanges { state } } } }"
    )["recomputations"]["nodes"]
    assert {"reason": reason, "exclude": [], "appliedStatusChanges": [{"state": "OK"}]} in listed
