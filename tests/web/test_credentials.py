"""A site's API credentials page in a real browser (issue 13): linked from the site page for
those who may edit the site; the demo's credentials listed; add (the server's rule beside
the identifier field), edit, renew and delete; nothing shown to others."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import Demo, assert_accessible, visit

ROWS = '[data-testid="credential-row"]'


def test_a_site_admin_manages_the_sites_credentials(page: Page, demo: Demo) -> None:
    visit(page, demo, "/sites/INFN-T1", as_="site-admin")
    page.get_by_role("link", name="API credentials").click()
    expect(page).to_have_url(re.compile(r"/sites/INFN-T1/credentials$"))
    rows = page.locator(ROWS)
    # the demo's: the site administrator's own subject (may write) and a robot's DN
    own = page.get_by_role("cell", name="demo-site-admin@egi.eu", exact=True)
    expect(rows.filter(has=own)).to_contain_text("read and write")
    expect(rows.filter(has_text="CN=robot")).to_contain_text("read only")
    assert_accessible(page)

    form = page.get_by_role("form", name="Add a credential")
    form.get_by_label("Identifier").fill("CN=not,O=slash form")
    form.get_by_role("button", name="Add credential").click()
    expect(form.locator('.field-error[data-rule="API_CREDENTIAL_DN_MALFORMED"]')).to_be_visible()
    assert_accessible(page)

    dn = "/DC=org/DC=example/O=INFN/CN=browser test robot"
    form.get_by_label("Identifier").fill(dn)
    form.get_by_text("May write through the write API").click()
    form.get_by_role("button", name="Add credential").click()
    expect(page.get_by_role("status").filter(has_text="added")).to_be_visible()
    added = rows.filter(has_text="browser test robot")
    expect(added).to_contain_text("read and write")
    expect(added).to_contain_text("never used")

    added.get_by_role("button", name=f"Edit {dn}").click()
    edit = page.get_by_role("form", name=f"Edit {dn}")
    edit.get_by_text("May write through the write API").click()
    edit.get_by_role("button", name="Save").click()
    expect(added).to_contain_text("read only")

    added.get_by_role("button", name="Renew").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Renew").click()
    expect(page.get_by_role("status").filter(has_text="renewed")).to_be_visible()

    added.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(rows.filter(has_text="browser test robot")).to_have_count(0)


def test_others_see_no_credentials(page: Page, demo: Demo) -> None:
    visit(page, demo, "/sites/INFN-T1", as_="vo-member")
    expect(page.get_by_role("link", name="API credentials")).to_have_count(0)
    visit(page, demo, "/sites/INFN-T1/credentials", as_="vo-member")
    expect(page.get_by_test_id("credentials-not-allowed")).to_be_visible()
    expect(page.locator(ROWS)).to_have_count(0)
    assert_accessible(page)
