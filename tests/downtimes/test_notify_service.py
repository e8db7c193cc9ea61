"""Downtime subscriptions through the service functions: who may do what, validation
naming the GraphQL field, which subscriptions an event matches, once-only rows, the topic
channel, and the transitions job emitting started/ended once each."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from domains.common.errors import Invalid, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.models import pk
from domains.downtimes import notifications as notes
from domains.downtimes import service as downtimes
from domains.downtimes.events import EventKind
from domains.messaging import service as msg
from domains.notifications.checks import TopicRef
from domains.notifications.models import Channel, NotificationStatus
from tests.downtimes.notify_world import (
    NOW,
    VO,
    Target,
    count_notifications,
    declare,
    events,
    handle,
    handle_all,
    notifications,
    spec,
    subscriber,
)

# --- access and validation -------------------------------------------------------------


def test_a_user_sees_and_changes_only_their_own(
    session: Session, alice: Principal, bob: Principal
) -> None:
    mine = notes.subscribe(session, alice, spec=spec(name="alice's"))
    notes.subscribe(session, bob, spec=spec(name="bob's"))
    assert [s.name for s in notes.list_subscriptions(session, alice)] == ["alice's"]
    with pytest.raises(NotFound):
        notes.update_subscription(session, bob, subscription_id=pk(mine), spec=spec(name="x"))
    with pytest.raises(NotFound):
        notes.delete_subscription(session, bob, subscription_id=pk(mine))
    assert notes.get_subscription(session, bob, subscription_id=pk(mine)) is None
    admin = Principal(subject="root@egi.eu", is_admin=True)
    everyone = notes.list_subscriptions(session, admin, all_users=True)
    assert sorted(s.name for s in everyone) == ["alice's", "bob's"]
    notes.update_subscription(session, admin, subscription_id=pk(mine), spec=spec(name="renamed"))
    assert [s.name for s in notes.list_subscriptions(session, alice)] == ["renamed"]
    notes.delete_subscription(session, alice, subscription_id=pk(mine))
    assert notes.list_subscriptions(session, alice) == []


def test_the_anonymous_caller_may_not_subscribe(session: Session) -> None:
    with pytest.raises(Unauthenticated):
        notes.subscribe(session, ANONYMOUS, spec=spec())
    with pytest.raises(Unauthenticated):
        notes.list_subscriptions(session, ANONYMOUS)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "input.name"),
        ({"events": frozenset()}, "input.events"),
        ({"email": False}, "input.email"),
        ({"site": "NO-SUCH-SITE"}, "input.site"),
        ({"ngi": "NGI_NOWHERE"}, "input.ngi"),
        ({"service_type": "no.such.type"}, "input.serviceType"),
        ({"host": ""}, "input.host"),
        ({"webhook_url": "ftp://example.org/hook"}, "input.webhookUrl"),
        ({"webhook_url": "https:///no-host"}, "input.webhookUrl"),
        # plain http is refused by default, loopback included (no request forgery)
        ({"webhook_url": "http://hooks.example.org/dt"}, "input.webhookUrl"),
        ({"webhook_url": "http://127.0.0.1:8080/hook"}, "input.webhookUrl"),
        ({"topic": TopicRef("NOPROJECT", "T1")}, "input.topic"),
    ],
)
def test_bad_input_names_the_field(
    session: Session, alice: Principal, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        notes.subscribe(session, alice, spec=spec(**fields))
    assert caught.value.field == field
    assert notes.list_subscriptions(session, alice) == []


def test_e_mail_needs_an_address(session: Session) -> None:
    nobody = subscriber(session, "no.mail@egi.eu", email=None)
    with pytest.raises(Invalid) as caught:
        notes.subscribe(session, nobody, spec=spec(email=True))
    assert caught.value.field == "input.email"
    notes.subscribe(session, nobody, spec=spec(email=False, webhook_url="https://hook.test/x"))


def test_the_topic_channel_needs_the_right_to_publish(session: Session, alice: Principal) -> None:
    msg.create_project(session, PLATFORM, name="NOTIFY")
    msg.create_topic(session, PLATFORM, project="NOTIFY", topic="downtimes")
    msg.add_member(session, PLATFORM, project="NOTIFY", subject="alice@egi.eu", roles=["publisher"])
    with pytest.raises(Invalid) as caught:  # a publisher, but not in the topic's ACL
        notes.subscribe(session, alice, spec=spec(topic=TopicRef("NOTIFY", "downtimes")))
    assert caught.value.field == "input.topic"
    msg.modify_topic_acl(
        session, PLATFORM, project="NOTIFY", topic="downtimes", users=["alice@egi.eu"]
    )
    made = notes.subscribe(session, alice, spec=spec(topic=TopicRef("NOTIFY", "downtimes")))
    assert (made.topic_project, made.topic_name) == ("NOTIFY", "downtimes")


# --- matching --------------------------------------------------------------------------


def test_an_event_reaches_exactly_the_matching_subscriptions(
    session: Session, alice: Principal, where: Target
) -> None:
    matching = {
        "all": spec(),
        "site": spec(site=where.site),
        "ngi": spec(ngi=where.ngi),
        "host": spec(host=where.hosts[0]),
        "type": spec(service_type=where.types[1]),
        "vo": spec(vo=VO),
        "everything": spec(
            ngi=where.ngi, site=where.site, host=where.hosts[1], service_type=where.types[0], vo=VO
        ),
    }
    missing = {
        "other site": spec(site=where.other_site),
        "other host": spec(host="not-affected.example.org"),
        "other vo": spec(vo="some.other.vo"),
        "not declared": spec(events=frozenset({EventKind.STARTED, EventKind.ENDED})),
        "disabled": spec(enabled=False),
    }
    ids = {}
    for name, s in {**matching, **missing}.items():
        ids[name] = pk(notes.subscribe(session, alice, spec=replace(s, name=name)))
    declare(session, where.services)
    (event,) = events(session, downtimes.EVENT_DECLARED)
    assert handle(session, event) == [True]
    rows = notifications(session)
    assert {r.subscription_id for r in rows} == {ids[n] for n in matching}
    assert {(r.channel, r.status, r.kind, r.event_id) for r in rows} == {
        (Channel.EMAIL, NotificationStatus.PENDING, downtimes.EVENT_DECLARED, pk(event))
    }
    assert rows[0].payload["site"] == where.site


def test_one_row_per_channel_and_a_second_run_writes_nothing(
    session: Session, alice: Principal, where: Target
) -> None:
    notes.subscribe(session, alice, spec=spec(webhook_url="https://hook.test/dt"))
    declare(session, where.services)
    (event,) = events(session, downtimes.EVENT_DECLARED)
    assert handle(session, event) == [True]
    assert handle(session, event) == [False]  # processed_event
    assert notes.notify(session, event) == 0  # even run by hand: the UNIQUE rows hold
    assert sorted(r.channel for r in notifications(session)) == [Channel.EMAIL, Channel.WEBHOOK]


def test_an_event_before_any_subscription_notifies_no_one(
    session: Session, alice: Principal, where: Target
) -> None:
    early = declare(session, where.services)
    handle_all(session)
    notes.subscribe(session, alice, spec=spec())
    handle_all(session)  # the early event was handled already: nothing for the newcomer
    assert count_notifications(session) == 0
    downtimes.delete_downtime(session, PLATFORM, downtime_id=pk(early), now=NOW)
    handle_all(session)
    assert [r.kind for r in notifications(session)] == [downtimes.EVENT_CANCELLED]


def test_the_topic_channel_publishes_once_in_the_handlers_transaction(
    session: Session, alice: Principal, where: Target
) -> None:
    msg.create_project(session, PLATFORM, name="NOTIFY")
    msg.create_topic(session, PLATFORM, project="NOTIFY", topic="downtimes")
    msg.create_subscription(
        session,
        PLATFORM,
        project="NOTIFY",
        subscription="reader",
        topic="projects/NOTIFY/topics/downtimes",
    )
    msg.add_member(
        session, PLATFORM, project="NOTIFY", subject="alice@egi.eu", roles=["project_admin"]
    )
    notes.subscribe(session, alice, spec=spec(email=False, topic=TopicRef("NOTIFY", "downtimes")))
    declare(session, where.services)
    (event,) = events(session, downtimes.EVENT_DECLARED)
    handle(session, event)
    assert notes.notify(session, event) == 0
    (row,) = notifications(session)
    assert (row.channel, row.status, row.sent_at is not None) == (
        Channel.TOPIC,
        NotificationStatus.SENT,
        True,
    )
    pulled = msg.pull(session, PLATFORM, project="NOTIFY", subscription="reader", max_messages=10)
    assert len(pulled) == 1
    body = json.loads(pulled[0].data)
    assert body["event"] == downtimes.EVENT_DECLARED
    assert body["downtime"]["site"] == where.site
    assert pulled[0].attributes["event"] == downtimes.EVENT_DECLARED


def test_a_lost_right_to_publish_is_recorded_not_retried_forever(
    session: Session, alice: Principal, where: Target
) -> None:
    msg.create_project(session, PLATFORM, name="NOTIFY")
    msg.create_topic(session, PLATFORM, project="NOTIFY", topic="downtimes")
    msg.add_member(
        session, PLATFORM, project="NOTIFY", subject="alice@egi.eu", roles=["project_admin"]
    )
    notes.subscribe(session, alice, spec=spec(email=False, topic=TopicRef("NOTIFY", "downtimes")))
    msg.remove_member(session, PLATFORM, project="NOTIFY", subject="alice@egi.eu")
    declare(session, where.services)
    (event,) = events(session, downtimes.EVENT_DECLARED)
    assert handle(session, event) == [True]
    (row,) = notifications(session)
    assert row.status == NotificationStatus.FAILED
    assert "Forbidden" in (row.last_error or "")


# --- the transitions job ---------------------------------------------------------------


def test_transitions_emit_started_and_ended_once_each(
    session: Session, alice: Principal, where: Target
) -> None:
    notes.subscribe(session, alice, spec=spec())
    declare(session, where.services, start_in=timedelta(minutes=5), length=timedelta(hours=1))
    assert downtimes.emit_transitions(session, now=NOW) == 0
    at_start = NOW + timedelta(minutes=5)
    assert downtimes.emit_transitions(session, now=at_start) == 1
    assert downtimes.emit_transitions(session, now=at_start) == 0
    late = NOW + timedelta(days=1)
    assert downtimes.emit_transitions(session, now=late) == 1
    assert downtimes.emit_transitions(session, now=late) == 0
    handle_all(session)
    handle_all(session)
    kinds = [r.kind for r in notifications(session)]
    assert kinds == [downtimes.EVENT_DECLARED, downtimes.EVENT_STARTED, downtimes.EVENT_ENDED]
