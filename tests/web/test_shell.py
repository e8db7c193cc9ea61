"""The front end's shell in a real browser: it loads on `/` and on a deep link, names the
caller, switches demo personas, answers unknown routes in words, and is usable by keyboard."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import Demo, assert_accessible, visit


def test_home_page_loads_without_errors_and_is_accessible(page: Page, demo: Demo) -> None:
    visit(page, demo, "/")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_test_id("viewer")).to_have_text("Not signed in")
    assert page.title().endswith("· opsgraph")
    assert_accessible(page)


def test_a_deep_link_to_an_unknown_route_says_so(page: Page, demo: Demo) -> None:
    visit(page, demo, "/no/such/view")
    expect(page.locator("h1")).to_have_text("Page not found")
    assert_accessible(page)


def test_the_persona_switcher_changes_who_the_page_acts_as(page: Page, demo: Demo) -> None:
    visit(page, demo, "/")
    page.get_by_role("button", name="Demo persona").click()
    page.get_by_role("option", name=demo.names["site-admin"]).click()
    expect(page.get_by_test_id("viewer")).to_have_text(f"Signed in as {demo.names['site-admin']}")
    # the choice holds for the tab across a reload
    page.reload()
    expect(page.get_by_test_id("viewer")).to_have_text(f"Signed in as {demo.names['site-admin']}")
    page.get_by_role("button", name="Demo persona").click()
    page.get_by_role("option", name="Anonymous").click()
    expect(page.get_by_test_id("viewer")).to_have_text("Not signed in")


def test_keyboard_only_skip_link_and_navigation(page: Page, demo: Demo) -> None:
    visit(page, demo, "/", as_="admin")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
