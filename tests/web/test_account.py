"""The account views in a real browser: roles (request, the pending requests of whoever may
decide, grant, reject, revoke), the change log with its filters in the URL, and API tokens
(created and shown once, listed, revoked, then refused by /graphql).

Who may decide a role request is topology's policy (domains/topology/rules.py): over a site,
the site's managers and the managers of its NGI. The demo's ngi-manager manages NGI_DE, so
they decide requests over its sites (FZK-LCG2, DESY-HH, GoeGrid...); the site-admin is a
Site Administrator of INFN-T1, a role that decides nothing. Each test works on its own site
or token name: the tests of this module share one demo server."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import SCREENSHOTS, Demo, assert_accessible, visit

VO_MEMBER = "demo-vo-member@egi.eu"


def with_key(demo: Demo, secret: str) -> dict[str, Any]:
    """Who /graphql says a bare API token is."""
    return demo.answer("{ viewer { subject } }", key=secret)


def site_id(demo: Demo, short_name: str) -> str:
    body = demo.graphql(None, "query($n: String!) { site(shortName: $n) { id } }", n=short_name)
    found: str = body["site"]["id"]
    return found


def request_role(page: Page, kind: str, entity: str, role_type: str) -> None:
    """Fill the request form as a keyboard-and-mouse user would: pick the kind, search the
    entity in the ComboBox, choose the role type, send."""
    form = page.get_by_role("region", name="Request a role")
    form.get_by_role("button", name=re.compile(r"Over a")).click()
    page.get_by_role("option", name=kind, exact=True).click()
    box = form.get_by_role("combobox", name=kind)
    box.fill(entity[:4])
    page.get_by_role("option", name=re.compile(rf"^{re.escape(entity)}\b")).click()
    expect(box).to_have_value(entity)
    form.get_by_role("button", name=re.compile(r"Role$")).click()
    page.get_by_role("option", name=role_type, exact=True).click()
    form.get_by_role("button", name="Request role").click()
    expect(form.get_by_role("status")).to_contain_text(f"Requested {role_type} over {entity}")


def my_role(page: Page, entity: str, role_type: str) -> Any:
    return page.get_by_test_id("my-role").filter(has_text=entity).filter(has_text=role_type)


def pending(page: Page, entity: str, role_type: str) -> Any:
    return page.get_by_test_id("pending-role").filter(has_text=entity).filter(has_text=role_type)


def test_grant_a_role_requested_over_a_site(page: Page, demo: Demo) -> None:
    visit(page, demo, "/roles", as_="vo-member")
    expect(page.get_by_text("You hold no role and have requested none.")).to_be_visible()
    request_role(page, "Site", "FZK-LCG2", "Site Administrator")
    expect(my_role(page, "FZK-LCG2", "Site Administrator")).to_contain_text("pending")
    assert_accessible(page)

    # a persona whose roles decide nothing sees neither the request nor a button for it
    visit(page, demo, "/roles", as_="site-admin")
    expect(page.get_by_text("No role request waits for your decision.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Grant"))).to_have_count(0)

    # the NGI's manager decides it
    visit(page, demo, "/roles", as_="ngi-manager")
    row = pending(page, "FZK-LCG2", "Site Administrator")
    expect(row).to_contain_text(VO_MEMBER)
    assert_accessible(page)
    row.get_by_role("button", name=re.compile("^Grant")).click()
    expect(page.get_by_role("region", name="Requests waiting for your decision")).to_contain_text(
        f"Granted: Site Administrator over FZK-LCG2 for {VO_MEMBER}"
    )
    expect(pending(page, "FZK-LCG2", "Site Administrator")).to_have_count(0)

    # the requester now holds it, and the API agrees
    visit(page, demo, "/roles", as_="vo-member")
    expect(my_role(page, "FZK-LCG2", "Site Administrator")).to_contain_text("granted")
    roles = demo.graphql("vo-member", "{ viewer { roles { entityName roleType status } } }")
    assert {"entityName": "FZK-LCG2", "roleType": "Site Administrator", "status": "GRANTED"} in (
        roles["viewer"]["roles"]
    )


def test_reject_a_request_then_revoke_a_granted_role(page: Page, demo: Demo) -> None:
    visit(page, demo, "/roles", as_="vo-member")
    request_role(page, "Site", "DESY-HH", "Site Security Officer")
    request_role(page, "Site", "GoeGrid", "Site Administrator")

    visit(page, demo, "/roles", as_="ngi-manager")
    pending(page, "DESY-HH", "Site Security Officer").get_by_role(
        "button", name=re.compile("^Reject")
    ).click()
    expect(pending(page, "DESY-HH", "Site Security Officer")).to_have_count(0)
    pending(page, "GoeGrid", "Site Administrator").get_by_role(
        "button", name=re.compile("^Grant")
    ).click()
    expect(pending(page, "GoeGrid", "Site Administrator")).to_have_count(0)

    visit(page, demo, "/roles", as_="vo-member")
    expect(my_role(page, "DESY-HH", "Site Security Officer")).to_contain_text("rejected")
    expect(my_role(page, "DESY-HH", "Site Security Officer").get_by_role("button")).to_have_count(0)
    held = my_role(page, "GoeGrid", "Site Administrator")
    held.get_by_role("button", name=re.compile("^Revoke")).click()
    dialog = page.get_by_role("alertdialog", name="Revoke this role?")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.get_by_role("button", name="Revoke role").click()
    expect(held).to_contain_text("revoked")
    expect(held.get_by_role("button")).to_have_count(0)


def test_only_those_the_policy_names_see_a_request_and_its_buttons(page: Page, demo: Demo) -> None:
    # a request over INFN-T1, a site of NGI_IT: neither NGI_DE's manager nor the site's own
    # Site Administrator may decide it; the platform administrator may
    requested = demo.graphql(
        "vo-member",
        "mutation($i: RequestRoleInput!) { requestRole(input: $i) { role { status } } }",
        i={"roleType": "Site Operations Manager", "entityId": site_id(demo, "INFN-T1")},
    )
    assert requested["requestRole"]["role"]["status"] == "PENDING"
    for persona in ("ngi-manager", "site-admin"):
        visit(page, demo, "/roles", as_=persona)
        expect(page.get_by_role("region", name="My roles")).to_be_visible()
        expect(pending(page, "INFN-T1", "Site Operations Manager")).to_have_count(0)
        expect(
            page.get_by_role(
                "button", name=re.compile("^(Grant|Reject) Site Operations Manager over INFN-T1")
            )
        ).to_have_count(0)
    visit(page, demo, "/roles", as_="admin")
    row = pending(page, "INFN-T1", "Site Operations Manager")
    expect(row.get_by_role("button", name=re.compile("^Grant"))).to_be_visible()
    expect(row.get_by_role("button", name=re.compile("^Reject"))).to_be_visible()
    assert_accessible(page)


def test_a_request_the_server_refuses_shows_its_rule_beside_the_field(
    page: Page, demo: Demo
) -> None:
    visit(page, demo, "/roles", as_="site-admin")
    form = page.get_by_role("region", name="Request a role")
    # the site-admin already holds Site Administrator over INFN-T1
    form.get_by_role("combobox", name="Site").fill("INFN")
    page.get_by_role("option", name=re.compile(r"^INFN-T1\b")).click()
    form.get_by_role("button", name="Request role").click()
    problem = form.locator("[data-rule=ROLE_ALREADY_HELD]")
    expect(problem).to_contain_text("already hold")
    # sending without an entity is stopped in the form, in words
    visit(page, demo, "/roles", as_="site-admin")
    form = page.get_by_role("region", name="Request a role")
    form.get_by_role("button", name="Request role").click()
    expect(form.get_by_text("Choose a site.")).to_be_visible()


def test_an_api_token_is_shown_once_listed_and_revoked(page: Page, demo: Demo) -> None:
    name = f"browser test {uuid.uuid4().hex[:8]}"
    visit(page, demo, "/tokens", as_="site-admin")
    assert_accessible(page)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("the only time it is shown")
    secret = page.get_by_test_id("token-secret").input_value()
    assert re.fullmatch(r"[0-9a-f]{40}", secret)
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "test_account" / "token_secret_dialog.png"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    dialog.get_by_role("button", name="Copy token").click()
    expect(dialog.get_by_role("status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    dialog.get_by_role("button", name="I have copied it").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # it works, it is listed by its prefix, and the secret is nowhere on the page again
    assert with_key(demo, secret)["data"]["viewer"]["subject"] == "demo-site-admin@egi.eu"
    row = page.get_by_test_id("token").filter(has_text=name)
    expect(row).to_have_attribute("data-state", "live")
    expect(row).to_contain_text(secret[:8])
    page.reload()
    page.locator("h1#page-title").wait_for()
    expect(page.get_by_test_id("token").filter(has_text=name)).to_be_visible()
    assert secret not in page.content()

    # revoked after a confirmation: marked so, and refused by the API at once
    row = page.get_by_test_id("token").filter(has_text=name)
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    confirm = page.get_by_role("alertdialog", name="Revoke this token?")
    confirm.get_by_role("button", name="Revoke token").click()
    expect(row).to_have_attribute("data-state", "revoked")
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button")).to_have_count(0)
    refused = with_key(demo, secret)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_token_name_the_server_refuses_is_shown_beside_the_field(page: Page, demo: Demo) -> None:
    visit(page, demo, "/tokens", as_="vo-member")
    page.get_by_role("textbox", name="Name").fill("   ")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("[data-rule=TOKEN_NAME_EMPTY]")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_the_change_log_filters_are_in_the_url(page: Page, demo: Demo) -> None:
    # something to find: a request over RWTH-Aachen, granted by the NGI manager
    requested = demo.graphql(
        "vo-member",
        "mutation($i: RequestRoleInput!) { requestRole(input: $i) { role { id } } }",
        i={"roleType": "Site Operations Manager", "entityId": site_id(demo, "RWTH-Aachen")},
    )
    role = requested["requestRole"]["role"]["id"]
    granted = demo.graphql(
        "ngi-manager",
        "mutation($i: GrantRoleInput!) { grantRole(input: $i) { role { status } } }",
        i={"roleId": role},
    )
    assert granted["grantRole"]["role"]["status"] == "GRANTED"

    visit(page, demo, "/changes", as_="admin")
    filters = page.get_by_role("form", name="Filter the change log")
    filters.get_by_role("button", name=re.compile("Kind of entity")).click()
    page.get_by_role("option", name="Site", exact=True).click()
    filters.get_by_role("combobox", name="Only this site").fill("RWTH")
    page.get_by_role("option", name=re.compile(r"^RWTH-Aachen\b")).click()
    filters.get_by_role("textbox", name="Changed by (subject)").fill("demo-ngi-manager@egi.eu")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"entityType=site"))
    assert "actor=demo-ngi-manager%40egi.eu" in page.url
    assert "entity=" in page.url
    changes = page.get_by_test_id("change")
    expect(changes).to_have_count(1)
    entry = changes.first
    expect(entry).to_contain_text("role.granted")
    expect(entry).to_contain_text("RWTH-Aachen")
    expect(entry).to_contain_text("by demo-ngi-manager@egi.eu")
    diff = entry.get_by_role("table", name="What changed")
    expect(diff.get_by_role("row").filter(has_text="status")).to_contain_text("PENDING")
    expect(diff.get_by_role("row").filter(has_text="status")).to_contain_text("GRANTED")
    expect(diff.get_by_role("row").filter(has_text="user")).to_contain_text(VO_MEMBER)
    assert_accessible(page)

    # the URL is the view: opened afresh, it shows the same filter, filled in
    page.goto(page.url)
    expect(page.get_by_test_id("change")).to_have_count(1)
    expect(page.get_by_role("textbox", name="Changed by (subject)")).to_have_value(
        "demo-ngi-manager@egi.eu"
    )
    expect(page.get_by_role("combobox", name="Only this site")).to_have_value("RWTH-Aachen")

    # a window in the future holds nothing
    page.get_by_label("Since (UTC)").fill("2999-01-01T00:00")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"since=2999-01-01T00%3A00%3A00Z"))
    expect(page.get_by_text("No change matches these filters.")).to_be_visible()

    # clearing shows the whole log, in pages
    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_role("navigation", name="Pages of changes")).to_contain_text("Showing 50 of")


def test_the_change_log_opens_on_the_latest_change_and_keeps_its_order_in_the_url(
    page: Page, demo: Demo
) -> None:
    requested = demo.graphql(
        "vo-member",
        "mutation($i: RequestRoleInput!) { requestRole(input: $i) { role { id } } }",
        i={"roleType": "Site Security Officer", "entityId": site_id(demo, "INFN-T1")},
    )
    assert requested["requestRole"]["role"]["id"]
    visit(page, demo, "/changes", as_="admin")
    order = page.get_by_role("radiogroup", name="Order")
    expect(order.get_by_role("radio", name="Newest first")).to_be_checked()
    latest = page.get_by_test_id("change").first
    expect(latest).to_contain_text("role.request")
    expect(latest).to_contain_text(f"by {VO_MEMBER}")
    assert_accessible(page)

    order.get_by_text("Oldest first", exact=True).click()
    expect(page).to_have_url(re.compile(r"order=oldest"))
    expect(page.get_by_test_id("change").first).not_to_contain_text(f"by {VO_MEMBER}")
    page.goto(page.url)  # the URL keeps the order
    expect(page.get_by_role("radio", name="Oldest first")).to_be_checked()
    page.get_by_text("Newest first", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"order="))
    expect(page.get_by_test_id("change").first).to_contain_text(f"by {VO_MEMBER}")


def test_a_persona_reads_only_what_the_change_log_shows_them(page: Page, demo: Demo) -> None:
    visit(page, demo, "/changes?entityType=msg_project", as_="site-admin")
    expect(page.get_by_text("No change matches these filters.")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/roles", "/tokens", "/changes"])
def test_anonymous_visitors_are_asked_to_sign_in(page: Page, demo: Demo, path: str) -> None:
    visit(page, demo, path)
    expect(page.get_by_role("status").filter(has_text="Please sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    assert_accessible(page)


def test_a_role_request_and_a_token_by_keyboard_only(page: Page, demo: Demo) -> None:
    visit(page, demo, "/roles", as_="vo-member")
    form = page.get_by_role("region", name="Request a role")
    # the kind: the select opens with the keyboard and takes the arrow keys
    form.get_by_role("button", name=re.compile(r"Over a")).focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(form.get_by_role("button", name=re.compile(r"Over a"))).to_contain_text("NGI")
    # the entity: typed, then chosen with the arrow keys
    page.keyboard.press("Tab")
    expect(form.get_by_role("combobox", name="NGI")).to_be_focused()
    page.keyboard.type("NGI_IT")
    expect(page.get_by_role("option", name=re.compile(r"^NGI_IT\b"))).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(form.get_by_role("combobox", name="NGI")).to_have_value("NGI_IT")
    form.get_by_role("button", name="Request role").focus()
    page.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("over NGI_IT: it waits for a decision")

    visit(page, demo, "/tokens", as_="vo-member")
    page.get_by_role("textbox", name="Name").focus()
    page.keyboard.type("keyboard token")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("keyboard token")
    # focus moves into the dialog and stays there; Tab reaches its buttons
    assert dialog.evaluate("d => d.contains(document.activeElement)")
    for _ in range(4):
        page.keyboard.press("Tab")
        assert dialog.evaluate("d => d.contains(document.activeElement)")
    for _ in range(6):
        if page.evaluate("document.activeElement.textContent") == "I have copied it":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id("token").filter(has_text="keyboard token")).to_be_visible()
