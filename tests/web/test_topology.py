"""The topology views in a real browser (issue 12, point 4): the federation map (markers,
clusters, zoom, filters in the URL, its table as text alternative, keyboard from the map to
a site), the sites list (filters as a form and in the URL, pages, CSV export of every page),
the site page (contacts as the viewer may see them, services, downtimes, history, change
log, and changing the certification status only for those the API allows), the service
and NGI pages."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import Demo, assert_accessible, visit

PERSONAS = [None, "admin", "ngi-manager", "site-admin", "vo-member"]
ROWS = "table.topology-sites tbody tr"


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def settled(page: Page) -> None:
    """The list or map shows the answer to the URL's filter (no request under way)."""
    expect(page.get_by_test_id("sites-result")).to_have_attribute("aria-busy", "false")


def map_ready(page: Page) -> None:
    settled(page)
    page.locator(".topology-svg").wait_for()


def next_page(page: Page) -> None:
    rows = page.locator(ROWS)
    before = rows.first.inner_text()
    page.get_by_role("button", name="Next page").click()
    # a row that differs from the old first row (not merely no row while the page loads)
    page.wait_for_function(
        "([selector, before]) => { const r = document.querySelector(selector);"
        " return r !== null && r.innerText !== before; }",
        arg=[ROWS, before],
    )
    settled(page)


def marker_total(page: Page) -> int:
    """Sites on the map: lone markers plus the counts of the clusters."""
    singles = page.locator(".topology-marker").count()
    clustered = sum(
        int(c)
        for c in page.locator(".topology-cluster").evaluate_all(
            "els => els.map(e => e.dataset.count)"
        )
    )
    return singles + clustered


def status_checkbox(page: Page, label: str) -> Locator:
    return page.get_by_role("group", name="Certification status").get_by_text(label, exact=True)


# --- the federation map -------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_map_shows_every_site_as_a_marker_and_in_its_table(
    page: Page, demo: Demo, persona: str | None
) -> None:
    visit(page, demo, "/", as_=persona)
    expect(page.locator("h1")).to_have_text("Federation map")
    map_ready(page)
    rows = page.locator(ROWS)
    shown = rows.count()
    assert shown > 50
    expect(page.locator(".topology-count")).to_have_text(f"{shown} sites shown")
    # the initial view fits every site: each is a marker or inside a cluster
    assert marker_total(page) == shown
    # the countries: a JSON asset of the build, fetched from the same origin
    expect(page.locator(".topology-svg")).to_have_attribute("data-atlas", "loaded")
    assert len(page.locator(".topology-land").get_attribute("d") or "") > 10_000
    assert page.locator(".topology-cluster").count() > 0, "no clusters at the initial zoom"
    assert page.locator(".topology-marker").count() > 0
    # the legend names the colours and counts each status: live status under the report by
    # default (tests/web/test_monitoring.py), certification status when chosen
    legend = page.locator(".topology-legend")
    expect(legend).to_contain_text("Status now under")
    by_certification = page.get_by_role("radio", name="Certification", exact=True)
    by_certification.click()
    expect(page).to_have_url(re.compile("colour=certification"))
    expect(by_certification).to_be_checked()
    expect(legend).to_contain_text("Certified:")
    expect(legend).to_contain_text("Suspended:")
    # a site in the table is a link to its page
    expect(rows.filter(has_text="INFN-T1").get_by_role("link", name="INFN-T1")).to_have_attribute(
        "href", "/sites/INFN-T1"
    )
    assert_accessible(page)


def test_a_cluster_shows_a_count_and_zooms_in_when_activated(page: Page, demo: Demo) -> None:
    visit(page, demo, "/")
    map_ready(page)
    svg = page.locator(".topology-svg")
    before = float(svg.get_attribute("data-zoom") or "0")
    biggest = max(
        page.locator(".topology-cluster").evaluate_all("els => els.map(e => +e.dataset.count)")
    )
    cluster = page.locator(f'.topology-cluster[data-count="{biggest}"]').first
    expect(cluster).to_have_accessible_name(re.compile(rf"^{biggest} sites \(.*\): zoom in$"))
    expect(cluster.locator("text")).to_have_text(str(biggest))
    cluster.click()
    after = float(svg.get_attribute("data-zoom") or "0")
    assert after >= 2 * before
    # the zoom buttons go back out
    page.get_by_role("button", name="Show all sites").click()
    assert float(svg.get_attribute("data-zoom") or "0") == pytest.approx(before)
    page.get_by_role("button", name="Zoom in", exact=True).click()
    assert float(svg.get_attribute("data-zoom") or "0") == pytest.approx(2 * before)
    page.get_by_role("button", name="Whole world").click()
    assert float(svg.get_attribute("data-zoom") or "0") == 1
    # at the whole world's zoom the clusters hold more sites
    assert page.locator(".topology-cluster").count() >= 1
    assert page.locator(".topology-marker").count() < page.locator(ROWS).count()


def test_the_map_zooms_with_the_keyboard_and_the_wheel(page: Page, demo: Demo) -> None:
    visit(page, demo, "/")
    map_ready(page)
    svg = page.locator(".topology-svg")
    start = float(svg.get_attribute("data-zoom") or "0")
    page.locator(".topology-map-frame").focus()
    page.keyboard.press("+")
    assert float(svg.get_attribute("data-zoom") or "0") == pytest.approx(2 * start)
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert float(svg.get_attribute("data-zoom") or "0") == pytest.approx(max(1, start / 2))
    page.keyboard.press("0")
    assert float(svg.get_attribute("data-zoom") or "0") == pytest.approx(start)
    box = svg.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -200)
    expect(svg).not_to_have_attribute("data-zoom", str(start))
    assert float(svg.get_attribute("data-zoom") or "0") > start


def test_keyboard_only_from_the_map_to_a_site(page: Page, demo: Demo) -> None:
    """Tab into the map, Enter on clusters until a site's marker has the focus, Enter opens
    the site's page."""
    visit(page, demo, "/")
    map_ready(page)
    page.locator(".topology-map-frame").focus()
    page.keyboard.press("Tab")
    chosen = None
    for _ in range(25):
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e ? {cls: e.getAttribute('class'), site: e.dataset.site ?? null} : null; }"
        )
        assert focused is not None
        assert focused["cls"] in ("topology-marker", "topology-cluster"), focused
        if focused["cls"] == "topology-marker":
            chosen = focused["site"]
            break
        page.keyboard.press("Enter")  # a cluster: zoom in, the focus stays on its first site
    assert chosen, "never reached a site's marker"
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(f"Site {chosen}")
    assert unquote(urlparse(page.url).path) == f"/sites/{chosen}"


def test_the_map_filters_change_the_markers_the_table_and_the_url(page: Page, demo: Demo) -> None:
    visit(page, demo, "/", as_="vo-member")
    map_ready(page)
    everything = page.locator(ROWS).count()
    status_checkbox(page, "Suspended").click()
    expect(page).to_have_url(re.compile(r"status=SUSPENDED"))
    map_ready(page)
    rows = page.locator(ROWS)
    expect(rows.first).to_contain_text("Suspended")
    # the filtered answer replaced the whole table (not only its first row)
    expect(rows.locator("td:nth-child(5)").filter(has_not_text="Suspended")).to_have_count(0)
    suspended = rows.count()
    assert 0 < suspended < everything
    for status in rows.locator("td:nth-child(5)").all_inner_texts():
        assert status == "Suspended"
    assert marker_total(page) == suspended
    # the same filter reaches the list view through its link, and back
    page.get_by_role("link", name="These sites as a list").click()
    expect(page.locator("h1")).to_have_text("Sites")
    assert query_of(page)["status"] == ["SUSPENDED"]
    settled(page)
    expect(page.locator(ROWS)).to_have_count(suspended)


def test_a_shared_map_link_keeps_its_filter(page: Page, demo: Demo) -> None:
    visit(page, demo, "/?ngi=NGI_IT&country=IT")
    map_ready(page)
    rows = page.locator(ROWS)
    assert rows.count() > 0
    for ngi in rows.locator("td:nth-child(3)").all_inner_texts():
        assert ngi == "NGI_IT"
    expect(page.get_by_label("Country")).to_have_value("IT")
    assert marker_total(page) == rows.count()


# --- the sites list ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", [None, "site-admin"])
def test_the_sites_list_pages_through_every_site(
    page: Page, demo: Demo, persona: str | None
) -> None:
    visit(page, demo, "/sites", as_=persona)
    rows = page.locator(ROWS)
    expect(rows).to_have_count(50)
    status = page.get_by_role("navigation", name="Pages of sites")
    expect(status).to_contain_text(re.compile(r"Showing 50 of \d+ sites"))
    total = int(re.findall(r"of (\d+) sites", status.inner_text())[0])
    assert total > 50
    assert_accessible(page)
    seen = set(rows.locator("th a").all_inner_texts())
    first = rows.first.locator("th a").inner_text()
    next_page(page)
    expect(page).to_have_url(re.compile(r"after="))
    # tabbing through the filter form leaves the list on its page
    page.get_by_label("Country").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert "after" in query_of(page)
    seen |= set(rows.locator("th a").all_inner_texts())
    for _ in range(-(-total // 50) - 2):
        next_page(page)
        seen |= set(rows.locator("th a").all_inner_texts())
    expect(page.get_by_role("button", name="Next page")).to_have_count(0)
    assert len(seen) == total
    page.get_by_role("button", name="First page").click()
    settled(page)
    expect(rows.first.locator("th a")).to_have_text(first)
    assert "after" not in query_of(page)


def test_the_sites_filters_change_the_list_and_the_url(page: Page, demo: Demo) -> None:
    visit(page, demo, "/sites", as_="ngi-manager")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(50)
    # NGI: a select of the API's NGIs
    page.locator(".topology-filters .topology-select").first.get_by_role("button").click()
    page.get_by_role("option", name="NGI_IT", exact=True).click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"ngi=NGI_IT"))
    settled(page)
    expect(rows.first.locator("td:nth-child(3)")).to_have_text("NGI_IT")
    for ngi in rows.locator("td:nth-child(3)").all_inner_texts():
        assert ngi == "NGI_IT"
    italian = rows.count()
    # certification status: ticking a box narrows the list
    status_checkbox(page, "Certified").click()
    expect(page).to_have_url(re.compile(r"status=CERTIFIED"))
    settled(page)
    for status in rows.locator("td:nth-child(5)").all_inner_texts():
        assert status == "Certified"
    assert rows.count() <= italian
    # country: typed, Enter applies; no Italian site is in Germany
    country = page.get_by_label("Country")
    country.fill("DE")
    country.press("Enter")
    expect(page).to_have_url(re.compile(r"country=DE"))
    expect(page.get_by_text("No site matches these filters.")).to_be_visible()
    assert_accessible(page)
    # infrastructure and scopes
    page.get_by_role("link", name="Clear filters").click()
    settled(page)
    expect(rows).to_have_count(50)
    assert query_of(page) == {}
    page.locator(".topology-filters .topology-select").nth(1).get_by_role("button").click()
    page.get_by_role("option", name="Test", exact=True).click()
    expect(page).to_have_url(re.compile(r"infra=TEST"))
    settled(page)
    for infra in rows.locator("td:nth-child(6)").all_inner_texts():
        assert infra == "Test"
    page.get_by_role("link", name="Clear filters").click()
    settled(page)
    page.get_by_role("group", name="Scopes").get_by_text("tier1", exact=True).click()
    expect(page).to_have_url(re.compile(r"scope=tier1"))
    settled(page)
    for scopes in rows.locator("td:nth-child(7)").all_inner_texts():
        assert "tier1" in scopes.split(", ")


def test_the_csv_export_holds_every_page_of_the_filter(page: Page, demo: Demo) -> None:
    visit(page, demo, "/sites", as_="vo-member")
    status = page.get_by_role("navigation", name="Pages of sites")
    expect(status).to_contain_text("Showing 50 of")
    total = int(re.findall(r"of (\d+) sites", status.inner_text())[0])
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV (all pages)").click()
    download = download_info.value
    assert download.suggested_filename == "sites.csv"
    text = download.path().read_text(encoding="utf-8")
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == total > 50
    assert len({r["shortName"] for r in records}) == total
    assert set(records[0]) >= {"shortName", "ngi", "country", "certificationStatus", "scopes"}
    expect(page.get_by_role("status").filter(has_text="Exported")).to_have_text(
        f"Exported {total} sites."
    )

    # with a filter: the same rows as the list shows
    visit(page, demo, "/sites?ngi=NGI_DE&status=CERTIFIED")
    settled(page)
    page.locator(ROWS).first.wait_for()
    shown = sorted(page.locator(ROWS).locator("th a").all_inner_texts())
    assert shown
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV (all pages)").click()
    text = download_info.value.path().read_text(encoding="utf-8")
    records = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["shortName"] for r in records) == shown
    assert {(r["ngi"], r["certificationStatus"]) for r in records} == {("NGI_DE", "CERTIFIED")}


# --- site, service and NGI pages ---------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_site_page_shows_details_services_downtimes_and_history(
    page: Page, demo: Demo, persona: str | None
) -> None:
    visit(page, demo, "/sites/INFN-T1", as_=persona)
    expect(page.locator("h1")).to_have_text("Site INFN-T1")
    for heading in [
        "Details",
        "Contacts",
        "Services",
        "Downtimes",
        "Certification history",
        "Change log",
    ]:
        expect(page.get_by_role("heading", name=re.compile(f"^{heading}"))).to_be_visible()
    expect(page.get_by_test_id("certification-status")).to_contain_text("Certified")
    services = page.locator(".topology-service")
    assert services.count() > 0
    expect(services.first.get_by_role("link")).to_have_attribute("href", re.compile(r"^/services/"))
    expect(page.locator(".topology-endpoints").first).to_contain_text("Endpoint")
    expect(page.get_by_role("link", name="NGI_IT")).to_have_attribute("href", "/ngis/NGI_IT")
    contacts = page.locator("section[aria-labelledby=site-contacts]")
    if persona in (None, "vo-member"):
        # personal data is masked for those without a role (the API's rule): the page says so
        expect(contacts.locator(".topology-hidden").first).to_have_text("hidden")
    else:
        expect(contacts).to_contain_text("@")
    expect(page.locator("section[aria-labelledby=site-changes]")).not_to_contain_text("Loading")
    assert_accessible(page)


def test_an_unknown_site_says_so(page: Page, demo: Demo) -> None:
    visit(page, demo, "/sites/NO-SUCH-SITE")
    expect(page.get_by_text("No site NO-SUCH-SITE found.")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("persona", [None, "admin"])
def test_the_service_page_shows_endpoints_properties_and_downtimes(
    page: Page, demo: Demo, persona: str | None
) -> None:
    visit(page, demo, "/sites/INFN-T1", as_=persona)
    link = page.locator(".topology-service h3 a").first
    name = link.inner_text()
    link.click()
    expect(page.locator("h1")).to_have_text(name)
    for heading in ["Details", "Endpoints", "Downtimes"]:
        expect(page.get_by_role("heading", name=re.compile(f"^{heading}"))).to_be_visible()
    expect(page.get_by_role("link", name="INFN-T1")).to_have_attribute("href", "/sites/INFN-T1")
    assert page.locator(".topology-endpoint-table tbody tr").count() > 0
    # a deep link works too
    path = urlparse(page.url).path
    visit(page, demo, path, as_=persona)
    expect(page.locator("h1")).to_have_text(name)
    assert_accessible(page)


def test_the_ngi_page_lists_its_sites(page: Page, demo: Demo) -> None:
    visit(page, demo, "/ngis/NGI_DE", as_="ngi-manager")
    expect(page.locator("h1")).to_have_text("NGI NGI_DE")
    expect(page.get_by_role("link", name="FZK-LCG2", exact=True)).to_have_attribute(
        "href", "/sites/FZK-LCG2"
    )
    page.get_by_role("link", name="In the sites list").click()
    expect(page.locator("h1")).to_have_text("Sites")
    assert query_of(page)["ngi"] == ["NGI_DE"]
    visit(page, demo, "/ngis/NGI_DE")
    assert_accessible(page)


# --- actions the API allows: certification status, declaring a downtime --------------------


def change_status(page: Page, status: str, reason: str) -> None:
    form = page.get_by_role("form", name="Change certification status")
    form.get_by_role("button", name=re.compile("New status")).click()
    page.get_by_role("option", name=status, exact=True).click()
    form.get_by_label("Reason").fill(reason)
    form.get_by_role("button", name="Change status").click()


@pytest.mark.parametrize(
    ("persona", "site"), [("admin", "GoeGrid"), ("ngi-manager", "RWTH-Aachen")]
)
def test_changing_the_certification_status(page: Page, demo: Demo, persona: str, site: str) -> None:
    visit(page, demo, f"/sites/{site}", as_=persona)
    expect(page.get_by_test_id("certification-status")).to_contain_text("Certified")
    assert_accessible(page)
    # the server's rule for the reason shows beside the field, its code kept
    change_status(page, "Suspended", "")
    expect(page.locator('.field-error[data-rule="SITE_STATUS_REASON_LENGTH"]')).to_contain_text(
        "1 to 300 characters"
    )
    expect(page.get_by_test_id("certification-status")).to_contain_text("Certified")
    reason = f"security incident drill by {persona}"
    change_status(page, "Suspended", reason)
    expect(page.get_by_role("status").filter(has_text="changed")).to_have_text(
        "Certification status changed to Suspended."
    )
    expect(page.get_by_test_id("certification-status")).to_contain_text("Suspended")
    history = page.locator("section[aria-labelledby=site-history] tbody tr").last
    expect(history).to_contain_text(reason)
    expect(history).to_contain_text("Suspended")
    change_status(page, "Certified", f"drill over ({persona})")
    if persona == "admin":  # administrators may bypass GOCDB's transition rules
        expect(page.get_by_test_id("certification-status")).to_contain_text("Certified")
    else:  # GOCDB allows no Suspended -> Certified: the rule shows beside the status
        rule = page.locator('.field-error[data-rule="SITE_STATUS_CHANGE_NOT_ALLOWED"]')
        expect(rule).to_contain_text("Suspended -> Certified is not an allowed change")
        expect(page.get_by_test_id("certification-status")).to_contain_text("Suspended")


@pytest.mark.parametrize("persona", [None, "vo-member", "site-admin"])
def test_no_certification_form_for_those_the_api_refuses(
    page: Page, demo: Demo, persona: str | None
) -> None:
    visit(page, demo, "/sites/DESY-HH", as_=persona)
    expect(page.get_by_role("heading", name="Actions")).to_be_visible()
    expect(page.locator("section[aria-labelledby=site-contacts]")).to_be_visible()
    expect(page.get_by_role("form", name="Change certification status")).to_have_count(0)
    expect(page.get_by_role("button", name="Change status")).to_have_count(0)
    expect(page.get_by_role("link", name="Declare downtime")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit site")).to_have_count(0)


def test_declare_downtime_link_only_for_who_may_declare(page: Page, demo: Demo) -> None:
    visit(page, demo, "/sites/INFN-T1", as_="site-admin")
    link = page.get_by_role("link", name="Declare downtime")
    expect(link).to_have_attribute("href", "/downtimes/new?site=INFN-T1")
    # a site administrator of INFN-T1 may not change its certification (NGI managers do)
    expect(page.get_by_role("form", name="Change certification status")).to_have_count(0)
    # the downtimes area's form opens with the site chosen
    link.click()
    expect(page.locator("h1")).to_have_text("Declare a downtime")
    assert query_of(page)["site"] == ["INFN-T1"]
    # the same link on the site's services
    visit(page, demo, "/sites/INFN-T1", as_="site-admin")
    page.locator(".topology-service h3 a").first.click()
    expect(page.get_by_role("link", name="Declare downtime")).to_have_attribute(
        "href", "/downtimes/new?site=INFN-T1"
    )
    visit(page, demo, "/sites/INFN-T1", as_="vo-member")
    expect(page.get_by_role("heading", name="Actions")).to_be_visible()
    expect(page.get_by_role("link", name="Declare downtime")).to_have_count(0)
    page.locator(".topology-service h3 a").first.click()
    expect(page.get_by_role("heading", name="Endpoints", exact=False).first).to_be_visible()
    expect(page.get_by_role("link", name="Declare downtime")).to_have_count(0)


def test_a_site_administrator_edits_the_site(page: Page, demo: Demo) -> None:
    visit(page, demo, "/sites/INFN-T1", as_="site-admin")
    page.get_by_role("button", name="Edit site").click()
    form = page.get_by_role("form", name="Edit site")
    assert_accessible(page)
    form.get_by_label("Description").fill("CNAF Tier-1, edited in the browser")
    latitude = form.get_by_label("Latitude")
    original = latitude.input_value()
    latitude.fill("123")
    form.get_by_role("button", name="Save").click()
    # the server's rule, beside the field, with its code
    expect(form.locator('.field-error[data-rule="SITE_LATITUDE_RANGE"]')).to_be_visible()
    latitude.fill(original)
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_have_text("Site saved.")
    expect(page.get_by_role("form", name="Edit site")).to_have_count(0)
    details = page.locator("section[aria-labelledby=site-details]")
    expect(details).to_contain_text("CNAF Tier-1, edited in the browser")
    # another site is not theirs
    visit(page, demo, "/sites/DESY-HH", as_="site-admin")
    expect(page.get_by_role("heading", name="Actions")).to_be_visible()
    expect(page.get_by_role("button", name="Edit site")).to_have_count(0)


def test_the_site_roles_show_to_those_who_may_read_them(page: Page, demo: Demo) -> None:
    """Who holds roles over a site is personal data (Site.roles, contactsReadable):
    the admin sees the site-admin persona among INFN-T1's roles; a null contact says
    "not set" to a viewer who may read contacts, "hidden" to one who may not."""
    visit(page, demo, "/sites/INFN-T1", as_="admin")
    roles = page.locator("section[aria-labelledby=site-roles]")
    expect(roles.get_by_role("heading", name="Roles")).to_be_visible()
    row = roles.locator("table.topology-roles tbody tr", has_text="Chiara Russo")
    expect(row).to_contain_text("Site Administrator")
    expect(row).to_contain_text("demo-site-admin@egi.eu")
    expect(page.get_by_test_id("site-roles-hidden")).to_have_count(0)
    assert_accessible(page)

    visit(page, demo, "/sites/INFN-BARI", as_="admin")
    contacts = page.locator("section[aria-labelledby=site-contacts]")
    expect(contacts.locator(".topology-unset")).to_have_text(["not set"])  # no alarm e-mail
    expect(contacts.locator(".topology-hidden")).to_have_count(0)


def test_anonymous_viewers_read_that_role_holders_are_hidden(page: Page, demo: Demo) -> None:
    visit(page, demo, "/sites/INFN-BARI")
    roles = page.locator("section[aria-labelledby=site-roles]")
    expect(page.get_by_test_id("site-roles-hidden")).to_contain_text("personal data")
    expect(roles.locator("table")).to_have_count(0)
    expect(roles).not_to_contain_text("Chiara Russo")
    contacts = page.locator("section[aria-labelledby=site-contacts]")
    expect(contacts.locator(".topology-hidden")).to_have_count(5)  # set or not: hidden
    expect(contacts.locator(".topology-unset")).to_have_count(0)
    assert_accessible(page)
