"""The downtimes area in a real browser (issue 12, point 4): the timeline with its filters in
the URL and its table, the downtime page and its actions, the declaration form with the live
SCHEDULED/UNSCHEDULED preview and the server's rules beside their fields, the feeds, live
events over graphql-transport-ws, and the downtime subscriptions page.

Each test declares what it needs under a unique description, so the tests of this module
(which share one demo server) do not depend on each other's writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx2 as httpx
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import Demo, act_as, assert_accessible, visit

SITE = "INFN-T1"  # where the site-admin persona holds Site Administrator


def _service_ids(demo: Demo, site: str = SITE) -> list[str]:
    data = demo.graphql(
        "site-admin", "query($s: String!) { site(shortName: $s) { services { id } } }", s=site
    )
    return [service["id"] for service in data["site"]["services"]]


def _declare(
    demo: Demo, *, start: timedelta, hours: float = 4, services: int = 1
) -> tuple[str, str]:
    """A downtime of SITE declared through the API as the site administrator: (id, description)."""
    now = datetime.now(UTC)
    description = f"web test {uuid.uuid4().hex[:10]}"
    data = demo.graphql(
        "site-admin",
        "mutation($i: DeclareDowntimeInput!) { declareDowntime(input: $i) { downtime { id } } }",
        i={
            "serviceIds": _service_ids(demo)[:services],
            "severity": "OUTAGE",
            "startsAt": (now + start).isoformat(),
            "endsAt": (now + start + timedelta(hours=hours)).isoformat(),
            "description": description,
        },
    )
    return data["declareDowntime"]["downtime"]["id"], description


def _local(moment: datetime) -> str:
    """A datetime-local value in the browser's time zone (the test browser's is the machine's)."""
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M")


def _downtime_path(downtime_id: str) -> str:
    return "/downtimes/" + quote(downtime_id, safe="")


def _check_first_service(page: Page) -> None:
    page.locator(f'fieldset[data-site="{SITE}"] input[name="serviceIds"]').first.check()


def test_the_timeline_shows_bars_a_now_line_and_a_table_and_is_accessible(
    page: Page, demo: Demo
) -> None:
    # the chart is SVG with classes, no <style> element nor style attribute: the strict CSP
    # refuses nothing (the page fixture also fails the test on any console error)
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    visit(page, demo, "/downtimes")
    expect(page.locator("h1")).to_have_text("Downtimes")
    chart = page.get_by_test_id("downtime-timeline")
    expect(chart.locator(".downtimes-now")).to_have_count(1)
    table = page.get_by_role("table", name="Downtimes (the timeline as a table)")
    rows = table.locator("tbody tr")
    expect(rows.first).to_be_visible()
    # each bar is a link to its downtime, and the table lists the same downtimes
    bars = chart.locator("a.downtimes-bar")
    assert bars.count() >= 1
    assert bars.count() <= rows.count()
    assert_accessible(page)
    assert page.evaluate("window.__csp") == []

    # by keyboard: a bar is a link that Enter follows to its downtime
    bar = bars.first
    bar.focus()
    expect(bar).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Downtime of ")
    expect(page.get_by_test_id("downtime-classification")).to_be_visible()
    assert page.evaluate("window.__csp") == []


def test_the_filters_live_in_the_url(page: Page, demo: Demo) -> None:
    visit(page, demo, "/downtimes?show=ongoing&site=NIKHEF-ELPROD")
    expect(page.get_by_label("Ongoing now")).to_be_checked()
    expect(page.get_by_role("textbox", name="Sites")).to_have_value("NIKHEF-ELPROD")
    rows = page.get_by_role("table", name="Downtimes (the timeline as a table)").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ongoing")
    # changing a filter in the form changes the address, so the view can be shared
    page.get_by_role("textbox", name="Sites").fill("")
    page.get_by_label("Warning").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(f"{demo.base}/downtimes?show=ongoing&severity=WARNING")
    expect(rows.first).to_contain_text("WARNING")
    for text in rows.locator("td:nth-child(3)").all_inner_texts():
        assert text == "WARNING"
    # what the address says that the view does not understand is said in words
    visit(page, demo, "/downtimes?show=soon")
    expect(page.get_by_role("note")).to_contain_text('show: "soon"')
    assert_accessible(page)


def test_the_site_admin_declares_a_downtime_and_sees_it_on_the_timeline_and_in_the_feed(
    page: Page, demo: Demo
) -> None:
    visit(page, demo, "/downtimes", as_="site-admin")
    page.get_by_role("link", name="Declare a downtime").click()
    expect(page.locator("h1")).to_have_text("Declare a downtime")
    page.get_by_role("combobox", name="Site").fill(SITE)
    page.get_by_role("option", name=f"{SITE} (").click()
    _check_first_service(page)
    page.get_by_text("Warning: available, possibly degraded").click()
    expect(page.get_by_role("radio", name="Warning: available, possibly degraded")).to_be_checked()
    start = datetime.now(UTC) + timedelta(days=3)
    page.get_by_label("Start").fill(_local(start))
    page.get_by_label("End").fill(_local(start + timedelta(hours=5)))
    description = f"Declared from the browser {uuid.uuid4().hex[:8]}"
    page.get_by_label("Description").fill(description)
    expect(page.get_by_test_id("classification-preview")).to_have_attribute(
        "data-value", "SCHEDULED"
    )
    assert_accessible(page)
    page.get_by_role("button", name="Declare downtime").click()

    expect(page.locator("h1")).to_have_text(f"Downtime of {SITE}")
    expect(page.get_by_test_id("downtime-classification")).to_contain_text("SCHEDULED")
    expect(page.get_by_test_id("downtime-severity")).to_contain_text("Warning")
    assert_accessible(page)

    # on the timeline (a bar and a row of the table) ...
    visit(page, demo, f"/downtimes?site={SITE}", as_="site-admin")
    row = page.locator("tbody tr", has_text=description)
    expect(row).to_have_count(1)
    downtime_id = row.get_attribute("data-downtime")
    bar = page.locator(f'a.downtimes-bar[data-downtime="{downtime_id}"]')
    expect(bar).to_have_count(1)
    # ... and in the feeds: the personal one with the persona's feed token, and the public one
    personal = page.get_by_test_id("feed-ics-personal").get_attribute("href")
    assert personal is not None
    assert "token=" in personal
    assert "mine=true" in personal
    ics = httpx.get(personal, timeout=30)
    assert ics.status_code == 200, ics.text
    assert "BEGIN:VCALENDAR" in ics.text
    assert description in ics.text.replace("\r\n ", "")
    rss_link = page.get_by_test_id("feed-rss-public").get_attribute("href")
    assert rss_link is not None
    rss = httpx.get(rss_link, timeout=30)
    assert rss.status_code == 200
    assert description in rss.text


def test_a_persona_without_the_role_sees_no_declare_button_and_no_actions(
    page: Page, demo: Demo
) -> None:
    downtime_id, _ = _declare(demo, start=timedelta(days=2))
    visit(page, demo, "/downtimes", as_="vo-member")
    expect(page.get_by_role("table", name="Downtimes (the timeline as a table)")).to_be_visible()
    expect(page.get_by_role("link", name="Declare a downtime")).to_have_count(0)

    visit(page, demo, _downtime_path(downtime_id), as_="vo-member")
    expect(page.get_by_test_id("downtime-classification")).to_be_visible()
    expect(page.get_by_role("heading", name="Actions")).to_have_count(0)
    for name in ("Edit", "End now", "Delete"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    assert_accessible(page)

    # nor does the edit form's address let them in
    visit(page, demo, _downtime_path(downtime_id) + "/edit", as_="vo-member")
    expect(page.get_by_role("note")).to_contain_text("You may not edit this downtime")
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)

    # the same page shows the site administrator the actions the server allows
    visit(page, demo, _downtime_path(downtime_id), as_="site-admin")
    expect(page.get_by_role("link", name="Edit")).to_be_visible()
    expect(page.get_by_role("button", name="Delete")).to_be_visible()

    # and the form offers the vo member no site, saying so for a preselected one
    visit(page, demo, f"/downtimes/new?site={SITE}", as_="vo-member")
    expect(page.get_by_role("note")).to_contain_text(f"You may not declare downtimes on {SITE}")
    expect(page.get_by_role("note")).to_contain_text("You may declare downtimes on no site")
    expect(page.get_by_role("combobox")).to_have_count(0)
    expect(page.get_by_role("button", name="Declare downtime")).to_have_count(0)
    assert_accessible(page)


def test_the_classification_changes_as_the_start_is_typed(page: Page, demo: Demo) -> None:
    visit(page, demo, f"/downtimes/new?site={SITE}", as_="site-admin")
    preview = page.get_by_test_id("classification-preview")
    expect(preview).to_have_attribute("data-value", "")
    now = datetime.now(UTC)
    start = page.get_by_label("Start")
    start.fill(_local(now + timedelta(hours=2)))
    expect(preview).to_have_attribute("data-value", "UNSCHEDULED")
    expect(preview).to_contain_text("The server decides")
    start.fill(_local(now + timedelta(hours=30)))
    expect(preview).to_have_attribute("data-value", "SCHEDULED")
    start.fill(_local(now + timedelta(hours=23)))
    expect(preview).to_have_attribute("data-value", "UNSCHEDULED")
    assert_accessible(page)


def test_a_server_rule_appears_beside_its_field_with_its_code(page: Page, demo: Demo) -> None:
    visit(page, demo, f"/downtimes/new?site={SITE}", as_="site-admin")
    _check_first_service(page)
    start = datetime.now(UTC) + timedelta(days=2)
    page.get_by_label("Start").fill(_local(start))
    page.get_by_label("End").fill(_local(start - timedelta(hours=3)))
    page.get_by_label("Description").fill("end before start")
    page.get_by_role("button", name="Declare downtime").click()
    end_field = page.locator(".form-field", has=page.get_by_label("End"))
    problem = end_field.locator("[data-rule]")
    expect(problem).to_have_attribute("data-rule", "DOWNTIME_END_NOT_AFTER_START")
    expect(problem).to_have_text("the end must be after the start")
    expect(page.get_by_label("End")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    # another rule, another field
    page.get_by_label("End").fill(_local(start + timedelta(hours=3)))
    page.get_by_label("Description").fill("no; semicolons")
    page.get_by_role("button", name="Declare downtime").click()
    description_field = page.locator(".form-field", has=page.get_by_label("Description"))
    expect(description_field.locator("[data-rule]")).to_have_attribute(
        "data-rule", "DOWNTIME_DESCRIPTION_FORBIDDEN_CHARACTERS"
    )
    expect(end_field.locator("[data-rule]")).to_have_count(0)


def test_a_live_downtime_event_arrives_without_reload(
    page: Page, demo: Demo, browser: Browser
) -> None:
    visit(page, demo, "/downtimes")
    expect(page.get_by_role("table", name="Downtimes (the timeline as a table)")).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    page.wait_for_timeout(3000)  # the subscription is open before the declaration

    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        declaring = other.new_page()
        act_as(declaring, demo, "site-admin")
        declaring.goto(demo.url(f"/downtimes/new?site={SITE}"))
        _check_first_service(declaring)
        start = datetime.now(UTC) + timedelta(hours=6)
        declaring.get_by_label("Start").fill(_local(start))
        declaring.get_by_label("End").fill(_local(start + timedelta(hours=2)))
        description = f"Live event {uuid.uuid4().hex[:8]}"
        declaring.get_by_label("Description").fill(description)
        declaring.get_by_role("button", name="Declare downtime").click()
        expect(declaring.locator("h1")).to_have_text(f"Downtime of {SITE}")
    finally:
        other.close()

    toast = page.locator(".downtimes-toast", has_text=f"Downtime declared at {SITE}")
    expect(toast).to_be_visible(timeout=20_000)
    expect(page.locator("tbody tr", has_text=description)).to_have_count(1, timeout=20_000)
    assert page.evaluate("window.__notReloaded") is True
    assert_accessible(page)


def test_end_now_and_partial_end(page: Page, demo: Demo) -> None:
    downtime_id, _ = _declare(demo, start=timedelta(hours=-1), hours=10, services=3)
    visit(page, demo, _downtime_path(downtime_id), as_="site-admin")
    expect(page.get_by_test_id("downtime-state")).to_have_text("Ongoing")
    assert_accessible(page)

    partial = page.get_by_role("group", name="End for some services only")
    partial.get_by_role("checkbox").first.check()
    partial.get_by_role("button", name="End for the chosen services").click()
    left_early = page.locator("table tbody tr td:nth-child(4)")
    expect(left_early.filter(has_not_text="—")).to_have_count(1)

    end = page.get_by_test_id("downtime-end").locator("time")
    planned = str(end.get_attribute("datetime"))
    page.get_by_role("button", name="End now").click()
    dialog = page.get_by_role("alertdialog", name="End this downtime now?")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.get_by_role("button", name="End now").click()
    # it ends 60 seconds from now: the end moves to within the next minutes
    expect(end).not_to_have_attribute("datetime", planned)
    expect(page.locator(".error")).to_have_count(0)
    ends_at = datetime.fromisoformat(str(end.get_attribute("datetime")))
    assert ends_at - datetime.now(UTC) < timedelta(minutes=5)


def test_edit_and_delete_a_downtime(page: Page, demo: Demo) -> None:
    downtime_id, description = _declare(demo, start=timedelta(days=4))
    visit(page, demo, _downtime_path(downtime_id), as_="site-admin")
    page.get_by_role("link", name="Edit").click()
    expect(page.locator("h1")).to_have_text("Edit downtime")
    expect(page.get_by_label("Description")).to_have_value(description)
    assert_accessible(page)
    page.get_by_label("Description").fill(description + " (edited)")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("h1")).to_have_text(f"Downtime of {SITE}")
    expect(page.get_by_text(description + " (edited)")).to_be_visible()

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.locator("h1")).to_have_text("Downtimes")
    data = demo.graphql("admin", "query($id: ID!) { downtime(id: $id) { id } }", id=downtime_id)
    assert data["downtime"] is None


def test_subscriptions_page(page: Page, demo: Demo) -> None:
    visit(page, demo, "/subscriptions")
    expect(page.get_by_text("Sign in to subscribe to downtimes.")).to_be_visible()
    assert_accessible(page)

    visit(page, demo, "/subscriptions", as_="vo-member")
    expect(page.get_by_text("You have no downtime subscriptions yet.")).to_be_visible()
    name = f"italian outages {uuid.uuid4().hex[:6]}"
    form = page.get_by_role("form", name="Subscribe")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Site", exact=True).fill("NO-SUCH-SITE")
    form.get_by_role("button", name="Subscribe").click()
    site_field = form.locator(".form-field", has=page.get_by_label("Site", exact=True))
    expect(site_field.locator("[data-rule]")).to_have_attribute(
        "data-rule", "DOWNTIME_SUBSCRIPTION_SITE_UNKNOWN"
    )
    form.get_by_label("Site", exact=True).fill(SITE)
    form.get_by_role("button", name="Subscribe").click()
    card = page.locator(f'article[data-subscription="{name}"]')
    expect(card).to_contain_text(f"Site {SITE}")
    expect(card).to_contain_text("No notifications yet.")
    assert_accessible(page)

    # a declaration on the site gives the subscription a notification with its delivery state
    _declare(demo, start=timedelta(days=5))
    for _ in range(20):  # the notification is written by the server's background work
        page.reload()
        expect(card).to_be_visible()
        if card.get_by_role("table").count():
            break
        page.wait_for_timeout(1000)
    expect(card.get_by_role("table")).to_contain_text("declared")
    assert_accessible(page)

    card.get_by_role("button", name=f"Edit {name}").click()
    card.get_by_label("Enabled").uncheck()
    card.get_by_role("button", name="Save subscription").click()
    expect(card).to_contain_text("(disabled)")

    card.get_by_role("button", name=f"Delete {name}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.locator(f'article[data-subscription="{name}"]')).to_have_count(0)


def test_an_ngi_manager_declares_one_window_over_two_sites(page: Page, demo: Demo) -> None:
    visit(page, demo, "/downtimes/new", as_="ngi-manager")
    page.get_by_role("combobox").fill("FZK-LCG2")
    page.get_by_role("option", name="FZK-LCG2 (NGI_DE)").click()
    # the next one by keyboard: the picker has the focus again, typing filters, Enter picks
    expect(page.get_by_role("combobox", name="Add another site")).to_be_focused()
    page.keyboard.type("DESY-HH")
    expect(page.get_by_role("option", name="DESY-HH (NGI_DE)")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    for site in ("FZK-LCG2", "DESY-HH"):
        services = page.locator(f'fieldset[data-site="{site}"]')
        services.get_by_role("button", name=f"All services of {site}").click()
    # a site outside the manager's NGI is not offered
    page.get_by_role("combobox").fill("INFN-T1")
    expect(page.get_by_role("option", name="INFN-T1 (NGI_IT)")).to_have_count(0)
    page.keyboard.press("Escape")
    start = datetime.now(UTC) + timedelta(days=6)
    page.get_by_label("Start").fill(_local(start))
    page.get_by_label("End").fill(_local(start + timedelta(hours=8)))
    description = f"Two sites {uuid.uuid4().hex[:8]}"
    page.get_by_label("Description").fill(description)
    assert_accessible(page)
    page.get_by_role("button", name="Declare 2 downtimes").click()
    expect(page.locator("h1")).to_have_text("Downtimes")
    rows = page.locator("tbody tr", has_text=description)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("SCHEDULED")
