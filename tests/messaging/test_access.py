"""Who may call what (AMS roles + ACLs): every service call against every kind of caller.
A refused call raises the exact error and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domains.common.errors import Forbidden, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.messaging import service as msg
from domains.messaging.errors import UnknownProject
from tests.identity.helpers import snapshot
from tests.messaging.conftest import T0, World, b64

Op = Callable[[World, Principal], Any]
P = "ARGO"


def _pulled(w: World) -> None:
    msg.pull(w.session, PLATFORM, project=P, subscription="S1", max_messages=5)


def _ack(w: World, who: Principal) -> None:
    msg.acknowledge(
        w.session, who, project=P, subscription="S1", ack_ids=["projects/ARGO/subscriptions/S1:0"]
    )


def _push_on_s2(w: World) -> None:
    msg.modify_push_config(
        w.session,
        PLATFORM,
        project=P,
        subscription="S2",
        push_config={"pushEndpoint": "https://push.example.org/hook"},
    )


def _verify(w: World, who: Principal) -> None:
    hash_ = msg.get_subscription(w.session, PLATFORM, project=P, subscription="S2")
    msg.verify_push_endpoint(
        w.session,
        who,
        project=P,
        subscription="S2",
        fetch=lambda url: (200, hash_.push.verification_hash),
    )


def _mattermost_on_s1(w: World) -> None:
    msg.modify_push_config(
        w.session,
        PLATFORM,
        project=P,
        subscription="S1",
        push_config={"type": "mattermost", "mattermostUrl": "https://mm.example.org/hooks/x"},
    )


SETUP: dict[str, Callable[[World], None]] = {
    "acknowledge": _pulled,
    "verify_push_endpoint": _push_on_s2,
    "pull_push_subscription": _mattermost_on_s1,
}


MEMBERS = {"pub_in", "pub_out", "con_in", "con_out", "owner", "admin"}
ADMINS = {"owner", "admin"}

OPS: dict[str, tuple[Op, set[str]]] = {
    "create_project": (
        lambda w, p: msg.create_project(w.session, p, name="NEW"),
        {"admin"},
    ),
    "update_project": (
        lambda w, p: msg.update_project(w.session, p, project=P, description="x"),
        {"admin"},
    ),
    "delete_project": (lambda w, p: msg.delete_project(w.session, p, project=P), {"admin"}),
    "get_project": (lambda w, p: msg.get_project(w.session, p, project=P), MEMBERS),
    "add_member": (
        lambda w, p: msg.add_member(
            w.session, p, project=P, subject="new@egi.eu", roles=["consumer"]
        ),
        ADMINS,
    ),
    "remove_member": (
        lambda w, p: msg.remove_member(w.session, p, project=P, subject="con.out@egi.eu"),
        ADMINS,
    ),
    "list_members": (lambda w, p: msg.list_members(w.session, p, project=P), ADMINS),
    "create_topic": (lambda w, p: msg.create_topic(w.session, p, project=P, topic="T9"), ADMINS),
    "get_topic": (
        lambda w, p: msg.get_topic(w.session, p, project=P, topic="T1"),
        ADMINS | {"pub_in"},
    ),
    "list_topics": (
        lambda w, p: msg.list_topics(w.session, p, project=P),
        ADMINS | {"pub_in", "pub_out"},
    ),
    "delete_topic": (lambda w, p: msg.delete_topic(w.session, p, project=P, topic="T1"), ADMINS),
    "topic_subscriptions": (
        lambda w, p: msg.topic_subscriptions(w.session, p, project=P, topic="T1"),
        ADMINS,
    ),
    "get_topic_acl": (lambda w, p: msg.get_topic_acl(w.session, p, project=P, topic="T1"), ADMINS),
    "modify_topic_acl": (
        lambda w, p: msg.modify_topic_acl(w.session, p, project=P, topic="T1", users=[]),
        ADMINS,
    ),
    "publish": (
        lambda w, p: msg.publish(
            w.session, p, project=P, topic="T1", messages=[{"data": b64("hi")}]
        ),
        ADMINS | {"pub_in"},
    ),
    "topic_metrics": (
        lambda w, p: msg.topic_metrics(w.session, p, project=P, topic="T1"),
        ADMINS | {"pub_in"},
    ),
    "create_subscription": (
        lambda w, p: msg.create_subscription(
            w.session, p, project=P, subscription="S9", topic="projects/ARGO/topics/T1"
        ),
        ADMINS,
    ),
    "get_subscription": (
        lambda w, p: msg.get_subscription(w.session, p, project=P, subscription="S1"),
        ADMINS | {"con_in"},
    ),
    "list_subscriptions": (
        lambda w, p: msg.list_subscriptions(w.session, p, project=P),
        ADMINS | {"con_in", "con_out"},
    ),
    "delete_subscription": (
        lambda w, p: msg.delete_subscription(w.session, p, project=P, subscription="S1"),
        ADMINS,
    ),
    "modify_ack_deadline": (
        lambda w, p: msg.modify_ack_deadline(
            w.session, p, project=P, subscription="S1", ack_deadline=30
        ),
        ADMINS | {"con_in"},
    ),
    "modify_push_config": (
        lambda w, p: msg.modify_push_config(
            w.session,
            p,
            project=P,
            subscription="S1",
            push_config={"pushEndpoint": "https://push.example.org/hook"},
        ),
        ADMINS,
    ),
    "verify_push_endpoint": (_verify, ADMINS),
    "get_subscription_acl": (
        lambda w, p: msg.get_subscription_acl(w.session, p, project=P, subscription="S1"),
        ADMINS,
    ),
    "modify_subscription_acl": (
        lambda w, p: msg.modify_subscription_acl(
            w.session, p, project=P, subscription="S1", users=[]
        ),
        ADMINS,
    ),
    "pull": (
        lambda w, p: msg.pull(w.session, p, project=P, subscription="S1"),
        ADMINS | {"con_in"},
    ),
    "pull_push_subscription": (
        lambda w, p: msg.pull(w.session, p, project=P, subscription="S1"),
        {"admin"},
    ),
    "acknowledge": (_ack, ADMINS | {"con_in"}),
    "offsets": (
        lambda w, p: msg.offsets(w.session, p, project=P, subscription="S1"),
        ADMINS | {"con_in"},
    ),
    "time_to_offset": (
        lambda w, p: msg.time_to_offset(
            w.session, p, project=P, subscription="S1", time="2026-03-01T11:00:00.000Z"
        ),
        ADMINS | {"con_in"},
    ),
    "modify_offset": (
        lambda w, p: msg.modify_offset(w.session, p, project=P, subscription="S1", offset=0),
        ADMINS | {"con_in"},
    ),
    "subscription_metrics": (
        lambda w, p: msg.subscription_metrics(w.session, p, project=P, subscription="S1"),
        ADMINS | {"con_in"},
    ),
    "project_metrics": (lambda w, p: msg.project_metrics(w.session, p, project=P), ADMINS),
}

CALLERS = [
    "anonymous",
    "stranger",
    "other_admin",
    "pub_in",
    "pub_out",
    "con_in",
    "con_out",
    "owner",
    "admin",
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("op_name", sorted(OPS))
def test_access_matrix(world: World, op_name: str, caller: str) -> None:
    op, allowed = OPS[op_name]
    world.publish("m0", now=T0)  # S1 has a message to pull, ack and look up by time
    if op_name in SETUP:
        SETUP[op_name](world)
    who = world.callers[caller]
    if caller in allowed:
        op(world, who)
        return
    before = snapshot(world.session)
    expected = Unauthenticated if caller == "anonymous" else Forbidden
    with pytest.raises(expected):
        op(world, who)
    assert snapshot(world.session) == before


def test_unknown_project_is_bad_input_for_members_and_admins(world: World) -> None:
    """AMS answers 404 "project doesn't exist"; GraphQL BAD_USER_INPUT naming `project`."""
    for who in (world.owner, world.admin):
        with pytest.raises(UnknownProject, match="project doesn't exist") as refused:
            msg.list_topics(world.session, who, project="NOPE")
        assert (refused.value.field, refused.value.http_code) == ("project", 404)


def test_anonymous_is_unauthenticated_even_for_an_unknown_project(world: World) -> None:
    with pytest.raises(Unauthenticated):
        msg.list_topics(world.session, ANONYMOUS, project="NOPE")


def test_publisher_and_consumer_lists_are_filtered_by_acl(world: World) -> None:
    s = world.session
    assert [t.name for t in msg.list_topics(s, world.pub_in, project=P).items] == ["T1"]
    assert msg.list_topics(s, world.pub_out, project=P).items == []
    assert msg.list_topics(s, world.pub_out, project=P).total_count == 0
    assert [t.name for t in msg.list_topics(s, world.owner, project=P).items] == ["T1", "T2"]
    assert [x.name for x in msg.list_subscriptions(s, world.con_in, project=P).items] == ["S1"]
    assert msg.list_subscriptions(s, world.con_out, project=P).items == []
    assert len(msg.list_subscriptions(s, world.admin, project=P).items) == 2


def test_publisher_in_acl_of_one_topic_may_not_publish_to_another(world: World) -> None:
    before = snapshot(world.session)
    with pytest.raises(Forbidden):
        msg.publish(
            world.session, world.pub_in, project=P, topic="T2", messages=[{"data": b64("x")}]
        )
    assert snapshot(world.session) == before


def test_publisher_gets_not_found_before_forbidden_for_a_missing_topic(world: World) -> None:
    with pytest.raises(NotFound, match="Topic doesn't exist"):
        msg.publish(
            world.session, world.pub_out, project=P, topic="NOPE", messages=[{"data": b64("x")}]
        )


def test_list_projects_shows_members_their_projects_and_admins_all(world: World) -> None:
    s = world.session
    assert [p.name for p in msg.list_projects(s, world.con_in).items] == ["ARGO"]
    assert [p.name for p in msg.list_projects(s, world.other_admin).items] == ["OTHER"]
    assert msg.list_projects(s, world.stranger).items == []
    assert {"ARGO", "OTHER"} <= {p.name for p in msg.list_projects(s, world.admin).items}
    with pytest.raises(Unauthenticated):
        msg.list_projects(s, ANONYMOUS)


def test_a_role_granted_in_the_session_counts_at_once(world: World) -> None:
    s = world.session
    with pytest.raises(Forbidden):
        msg.get_topic(s, world.stranger, project=P, topic="T1")
    msg.add_member(s, world.owner, project=P, subject="stranger@egi.eu", roles=["project_admin"])
    assert msg.get_topic(s, world.stranger, project=P, topic="T1").name == "T1"
