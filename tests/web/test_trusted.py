"""The web app against a server that runs only its trusted documents
(OPSGRAPH_TRUSTED_DOCUMENTS=only, gateway/persisted.py): the app sends every operation by
hash, so its pages read, write and stream as usual, while an ad-hoc document is refused."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from gateway.demo import VO_PROJECT
from tests.web.conftest import Demo, visit
from tests.web.test_messaging import publish_over_ams, topic_and_subscription

DEMO_ENV = {"OPSGRAPH_TRUSTED_DOCUMENTS": "only"}
SITE = "INFN-T1"  # the site administrator's (gateway/demo.py)


def test_the_pages_read_and_write_through_trusted_documents_only(page: Page, demo: Demo) -> None:
    refused = demo.answer("query AdHoc { sites(first: 1) { totalCount } }")
    assert refused["errors"][0]["extensions"]["rule"] == "TRUSTED_DOCUMENT_REQUIRED"

    visit(page, demo, "/", as_="site-admin")
    expect(page.get_by_test_id("sites-result")).to_have_attribute("aria-busy", "false")
    expect(page.locator(".topology-count")).to_contain_text("sites shown")
    visit(page, demo, f"/sites/{SITE}", as_="site-admin")
    expect(page.locator("h1")).to_have_text(f"Site {SITE}")
    expect(page.get_by_role("alert")).to_have_count(0)
    visit(page, demo, "/downtimes", as_="site-admin")
    expect(page.locator("h1")).to_have_text("Downtimes")
    expect(page.get_by_role("alert")).to_have_count(0)

    # a mutation, by hash too: an API token created and listed
    name = f"trusted {uuid.uuid4().hex[:8]}"
    visit(page, demo, "/tokens", as_="site-admin")
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("button", name="Create token").click()
    page.get_by_role("dialog").get_by_role("button", name="I have copied it").click()
    expect(page.get_by_test_id("token").filter(has_text=name)).to_have_attribute(
        "data-state", "live"
    )


def test_a_live_subscription_streams_by_hash(page: Page, demo: Demo) -> None:
    topic, subscription = topic_and_subscription(demo)  # an administrator's ad-hoc document
    visit(page, demo, f"/messaging/{VO_PROJECT}/subscriptions/{subscription}", as_="vo-member")
    live = page.get_by_role("switch", name="Live: show messages as they are published")
    live.focus()
    page.keyboard.press("Space")
    expect(page.get_by_text("waiting for messages")).to_be_visible()
    publish_over_ams(demo, topic, "streamed by hash")
    expect(page.locator("table.messaging-messages")).to_contain_text(
        "streamed by hash", timeout=20_000
    )
