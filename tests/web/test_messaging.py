"""The messaging console in a real browser (issue 12, point 4): projects, a project's
topics, subscriptions, members and metrics, publishing on a topic, pulling and
acknowledging on a subscription, live messages over graphql-transport-ws, and the refusals
(signed out; outside the project). The story "publish and pull a message" is the VO member's
(member of `biomed`, publisher and consumer there: gateway/demo.py)."""

from __future__ import annotations

import base64
import json
import uuid

import httpx2 as httpx
from playwright.sync_api import Page, expect

from gateway.demo import VO_PROJECT
from tests.web.conftest import Demo, assert_accessible, visit

VO_MEMBER = "demo-vo-member@egi.eu"


def topic_and_subscription(demo: Demo) -> tuple[str, str]:
    """A new topic of biomed with a pull subscription, both with the VO member in their
    ACL, made by the platform administrator as a project administrator would."""
    suffix = uuid.uuid4().hex[:8]
    topic, subscription = f"alerts-{suffix}", f"alerts-{suffix}-sub"
    demo.graphql(
        "admin",
        """mutation ($p: String!, $t: String!, $s: String!, $u: [String!]!) {
          createTopic(input: {project: $p, name: $t}) { topic { id } }
          setTopicAcl(input: {project: $p, topic: $t, users: $u}) { topic { id } }
          createSubscription(input: {project: $p, name: $s, topic: $t}) { subscription { id } }
          setSubscriptionAcl(input: {project: $p, subscription: $s, users: $u}) {
            subscription { id }
          }
        }""",
        p=VO_PROJECT,
        t=topic,
        s=subscription,
        u=[VO_MEMBER],
    )
    return topic, subscription


def publish_over_ams(demo: Demo, topic: str, text: str) -> None:
    body = {
        "messages": [
            {"data": base64.b64encode(text.encode()).decode(), "attributes": {"via": "ams"}}
        ]
    }
    answer = httpx.post(
        demo.url(f"/v1/projects/{VO_PROJECT}/topics/{topic}:publish"),
        content=json.dumps(body),
        headers={"x-api-key": demo.tokens["vo-member"], "content-type": "application/json"},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text


def test_the_vo_member_sees_their_project_and_cannot_create_one(page: Page, demo: Demo) -> None:
    visit(page, demo, "/messaging", as_="vo-member")
    expect(page.locator("h1")).to_have_text("Messaging projects")
    expect(page.get_by_role("link", name=VO_PROJECT)).to_be_visible()
    expect(page.get_by_role("button", name="Create project", exact=True)).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name=VO_PROJECT).click()
    expect(page.locator("h1")).to_have_text(f"Messaging project {VO_PROJECT}")
    expect(page.get_by_role("heading", name="Topics")).to_be_visible()
    # a publisher and consumer, not the project's administrator: no management
    for action in ("Create topic", "Create subscription", "Save member"):
        expect(page.get_by_role("button", name=action, exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", name="Members")).to_have_count(0)
    assert_accessible(page)


def test_an_administrator_sets_up_a_project_and_sees_its_metrics(page: Page, demo: Demo) -> None:
    name = f"ops-{uuid.uuid4().hex[:8]}"
    visit(page, demo, "/messaging", as_="admin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill("made in the browser")
    page.get_by_role("button", name="Create project", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Messaging project {name}")

    page.get_by_label("Topic name").fill("events")
    page.get_by_role("button", name="Create topic", exact=True).click()
    expect(page.get_by_role("link", name="events")).to_be_visible()

    page.get_by_label("Subscription name").fill("events-sub")
    page.get_by_role("button", name="Create subscription", exact=True).click()
    expect(page.get_by_role("link", name="events-sub")).to_be_visible()

    page.get_by_label("Subject").fill(VO_MEMBER)
    # by keyboard, as anyone without a mouse would
    page.get_by_role("checkbox", name="Publisher").focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("checkbox", name="Publisher")).to_be_checked()
    page.get_by_role("button", name="Save member", exact=True).click()
    members = page.get_by_role("table", name=f"Members of {name} and their roles")
    expect(members.get_by_role("row", name=VO_MEMBER)).to_contain_text("Publisher, Consumer")

    # bad input: the server's rule beside the field
    page.get_by_label("Topic name").fill("no spaces allowed")
    page.get_by_role("button", name="Create topic", exact=True).click()
    expect(page.locator("[data-rule=TOPIC_NAME_INVALID]")).to_be_visible()

    # metrics: numbers, the chart (ECharts on a canvas, no CSP error) and its table
    metrics = page.get_by_role("region", name="Metrics and usage")
    expect(metrics.get_by_text("Topics", exact=True)).to_be_visible()
    publish_as_admin = demo.graphql(
        "admin",
        'mutation ($p: String!) { publish(input: {project: $p, topic: "events", '
        'messages: [{data: "aGk="}]}) { messageIds } }',
        p=name,
    )
    assert publish_as_admin["publish"]["messageIds"]
    page.reload()
    expect(page.get_by_test_id("messaging-chart").locator("canvas")).to_have_count(1)
    expect(page.get_by_role("table", name="Usage per user")).to_contain_text("demo-admin@egi.eu")
    assert_accessible(page)

    # the member is removed again
    page.get_by_role("button", name=f"Remove {VO_MEMBER}", exact=True).click()
    expect(members.get_by_role("row", name=VO_MEMBER)).to_have_count(0)


def test_publish_and_pull_a_message(page: Page, demo: Demo) -> None:
    topic, subscription = topic_and_subscription(demo)
    visit(page, demo, f"/messaging/{VO_PROJECT}/topics/{topic}", as_="vo-member")
    expect(page.locator("h1")).to_have_text(f"Topic {topic}")
    # a publisher may not see or change the ACL, nor delete the topic
    expect(page.get_by_role("button", name="Edit the access list", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name=f"Delete topic {topic}", exact=True)).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("textbox", name="Message").fill("CE down at INFN-T1 ✓")
    page.get_by_label("Key 1").fill("severity")
    page.get_by_label("Value 1").fill("high")
    page.get_by_role("button", name="Add an attribute", exact=True).click()
    # a value without a key is refused before anything is sent
    page.get_by_label("Value 2").fill("orphan")
    expect(page.get_by_text("An attribute needs a key.")).to_be_visible()
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_disabled()
    page.get_by_role("button", name="Remove attribute 2", exact=True).click()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published: message")).to_be_visible()

    visit(page, demo, f"/messaging/{VO_PROJECT}/subscriptions/{subscription}", as_="vo-member")
    expect(page.locator("h1")).to_have_text(f"Subscription {subscription}")
    expect(
        page.get_by_role("button", name="Save the push configuration", exact=True)
    ).to_have_count(0)
    page.get_by_role("button", name="Pull", exact=True).click()
    messages = page.get_by_role("table", name="Messages awaiting acknowledgement (1)")
    expect(messages).to_contain_text("CE down at INFN-T1 ✓")
    expect(messages).to_contain_text("severity")
    expect(messages).to_contain_text("high")
    assert_accessible(page)

    page.get_by_role("button", name="Acknowledge all", exact=True).click()
    expect(page.get_by_text("Acknowledged 1 message.")).to_be_visible()
    page.get_by_role("button", name="Pull", exact=True).click()
    expect(page.get_by_text("No message is waiting.")).to_be_visible()
    facts = page.get_by_role("definition").filter(has_text="1")
    expect(facts.first).to_be_visible()


def test_acknowledge_the_selected_messages(page: Page, demo: Demo) -> None:
    topic, subscription = topic_and_subscription(demo)
    for text in ("first", "second", "third"):
        publish_over_ams(demo, topic, text)
    visit(page, demo, f"/messaging/{VO_PROJECT}/subscriptions/{subscription}", as_="vo-member")
    page.get_by_role("button", name="Pull", exact=True).click()
    table = page.get_by_role("table", name="Messages awaiting acknowledgement (3)")
    expect(table).to_contain_text("third")
    # acknowledgements are cumulative: the second takes the first with it
    choice = table.get_by_role("row").filter(has_text="second").get_by_role("checkbox")
    choice.focus()
    page.keyboard.press("Space")
    expect(choice).to_be_checked()
    page.get_by_role("button", name="Acknowledge selected", exact=True).click()
    expect(page.get_by_text("Acknowledged 2 messages.")).to_be_visible()
    remaining = page.get_by_role("table", name="Messages awaiting acknowledgement (1)")
    expect(remaining).to_contain_text("third")


def test_a_live_message_arrives_without_reload(page: Page, demo: Demo) -> None:
    topic, subscription = topic_and_subscription(demo)
    visit(page, demo, f"/messaging/{VO_PROJECT}/subscriptions/{subscription}", as_="vo-member")
    live = page.get_by_role("switch", name="Live: show messages as they are published")
    live.focus()
    page.keyboard.press("Space")
    expect(live).to_be_checked()
    expect(page.get_by_text("waiting for messages")).to_be_visible()

    # over the AMS REST route
    publish_over_ams(demo, topic, "from the AMS route")
    table = page.locator("table.messaging-messages")
    expect(table).to_contain_text("from the AMS route", timeout=20_000)
    expect(table).to_contain_text("via")
    page.get_by_role("button", name="Acknowledge all", exact=True).click()
    expect(page.get_by_text("Acknowledged 1 message.")).to_be_visible()

    # from the topic page in another tab
    other = page.context.new_page()
    visit(other, demo, f"/messaging/{VO_PROJECT}/topics/{topic}", as_="vo-member")
    other.get_by_role("textbox", name="Message").fill("from another page")
    other.get_by_role("button", name="Publish", exact=True).click()
    expect(other.get_by_text("Published: message")).to_be_visible()
    expect(page.locator("table.messaging-messages")).to_contain_text(
        "from another page", timeout=20_000
    )
    other.close()


def test_anonymous_callers_are_asked_to_sign_in(page: Page, demo: Demo) -> None:
    for path in ("/messaging", f"/messaging/{VO_PROJECT}", f"/messaging/{VO_PROJECT}/topics/x"):
        visit(page, demo, path)
        expect(page.get_by_role("alert")).to_contain_text("Sign in to use the messaging console")
        expect(page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
        assert_accessible(page)


def test_a_persona_outside_the_project_is_refused_in_words(page: Page, demo: Demo) -> None:
    topic, subscription = topic_and_subscription(demo)
    visit(page, demo, "/messaging", as_="site-admin")
    expect(page.get_by_text("You belong to no messaging project.")).to_be_visible()
    expect(page.get_by_role("button", name="Create project", exact=True)).to_have_count(0)
    for path in (
        f"/messaging/{VO_PROJECT}",
        f"/messaging/{VO_PROJECT}/topics/{topic}",
        f"/messaging/{VO_PROJECT}/subscriptions/{subscription}",
    ):
        visit(page, demo, path, as_="site-admin")
        expect(page.get_by_role("alert").first).to_contain_text("You are not allowed to see this")
        for action in ("Publish", "Pull", "Create topic", "Acknowledge all"):
            expect(page.get_by_role("button", name=action, exact=True)).to_have_count(0)
        assert_accessible(page)


def test_an_administrator_moves_the_offset_and_configures_push(page: Page, demo: Demo) -> None:
    topic, subscription = topic_and_subscription(demo)
    for text in ("one", "two"):
        publish_over_ams(demo, topic, text)
    visit(page, demo, f"/messaging/{VO_PROJECT}/subscriptions/{subscription}", as_="admin")
    offsets = page.get_by_role("region", name="Offsets")
    expect(offsets.get_by_label("Offsets", exact=True)).to_contain_text("Next to be published2")
    page.get_by_label("Max messages").fill("5")
    page.get_by_role("button", name="Pull", exact=True).click()
    page.get_by_role("button", name="Acknowledge all", exact=True).click()
    expect(page.get_by_text("Acknowledged 2 messages.")).to_be_visible()
    expect(offsets.get_by_label("Offsets", exact=True)).to_contain_text("Next to pull2")

    # back to the start: the messages come again
    offsets.get_by_label("New offset").fill("0")
    offsets.get_by_role("button", name="Move the offset", exact=True).click()
    expect(offsets.get_by_label("Offsets", exact=True)).to_contain_text("Next to pull0")
    # out of bounds: the server's rule beside the field
    offsets.get_by_label("New offset").fill("99")
    offsets.get_by_role("button", name="Move the offset", exact=True).click()
    expect(offsets.locator("[data-rule=SUBSCRIPTION_OFFSET_OUT_OF_BOUNDS]")).to_be_visible()
    page.get_by_role("button", name="Pull", exact=True).click()
    expect(page.get_by_role("table", name="Messages awaiting acknowledgement (2)")).to_be_visible()
    assert_accessible(page)

    push = page.get_by_role("region", name="Push")
    push.get_by_label("Push endpoint").fill("http://push.example.org/hook")
    push.get_by_role("button", name="Save the push configuration", exact=True).click()
    expect(push.locator("[data-rule=SUBSCRIPTION_PUSH_ENDPOINT_NOT_HTTPS]")).to_be_visible()
    push.get_by_label("Push endpoint").fill("https://push.example.org/hook")
    push.get_by_role("button", name="Save the push configuration", exact=True).click()
    expect(push.get_by_label("Push configuration", exact=True)).to_contain_text(
        "https://push.example.org/hook"
    )
    expect(push.get_by_test_id("push-status")).not_to_be_empty()
    expect(push.get_by_role("button", name="Verify the endpoint", exact=True)).to_be_visible()
    # a push subscription is not pulled from the console
    expect(page.get_by_role("button", name="Pull", exact=True)).to_have_count(0)
    assert_accessible(page)
    push.get_by_role("button", name="Make it a pull subscription", exact=True).click()
    expect(page.get_by_role("button", name="Pull", exact=True)).to_be_visible()

    # deleting asks first, then leaves for the project
    page.get_by_role("button", name=f"Delete subscription {subscription}", exact=True).click()
    page.get_by_role("button", name=f"Yes, delete subscription {subscription}", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Messaging project {VO_PROJECT}")
    expect(page.get_by_role("link", name=subscription, exact=True)).to_have_count(0)
    page.get_by_role("link", name=topic, exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Topic {topic}")
    # the administrator's sections (a second query) come in above the delete button: wait
    # for them, or they move the button while it is clicked and the click lands elsewhere
    expect(page.get_by_role("region", name="Subscriptions to this topic")).to_be_visible()
    page.get_by_role("button", name=f"Delete topic {topic}", exact=True).click()
    page.get_by_role("button", name="Cancel", exact=True).click()
    page.get_by_role("button", name=f"Delete topic {topic}", exact=True).click()
    page.get_by_role("button", name=f"Yes, delete topic {topic}", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Messaging project {VO_PROJECT}")
    expect(page.get_by_role("link", name=topic, exact=True)).to_have_count(0)


def test_an_administrator_edits_the_access_lists(page: Page, demo: Demo) -> None:
    topic, subscription = topic_and_subscription(demo)
    visit(page, demo, f"/messaging/{VO_PROJECT}/topics/{topic}", as_="admin")
    acl = page.get_by_role("region", name="Access control list")
    expect(acl.get_by_role("listitem")).to_have_text([VO_MEMBER])
    expect(page.get_by_role("region", name="Subscriptions to this topic")).to_contain_text(
        subscription
    )
    acl.get_by_role("button", name="Edit the access list", exact=True).click()
    assert_accessible(page)
    # someone outside the project cannot be listed: the server says why
    acl.get_by_label("Allowed publishers").fill(f"{VO_MEMBER}\nnobody@example.org")
    acl.get_by_role("button", name="Save the access list", exact=True).click()
    expect(acl.get_by_role("alert")).to_contain_text("nobody@example.org")
    acl.get_by_label("Allowed publishers").fill("")
    acl.get_by_role("button", name="Save the access list", exact=True).click()
    expect(acl.get_by_text("No one.")).to_be_visible()

    visit(page, demo, f"/messaging/{VO_PROJECT}/subscriptions/{subscription}", as_="admin")
    acl = page.get_by_role("region", name="Access control list")
    acl.get_by_role("button", name="Edit the access list", exact=True).click()
    acl.get_by_label("Allowed consumers").fill("")
    acl.get_by_role("button", name="Save the access list", exact=True).click()
    expect(acl.get_by_text("No one.")).to_be_visible()

    # the VO member, out of both lists, is refused both
    for path in (
        f"/messaging/{VO_PROJECT}/topics/{topic}",
        f"/messaging/{VO_PROJECT}/subscriptions/{subscription}",
    ):
        visit(page, demo, path, as_="vo-member")
        expect(page.get_by_role("alert").first).to_contain_text("You are not allowed to see this")
