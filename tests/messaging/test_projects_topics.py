"""Projects, members, topics, ACLs, paging and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from domains.common.audit import AuditEntry
from domains.common.errors import Invalid, NotFound
from domains.common.identity import PLATFORM
from domains.messaging import service as msg
from domains.messaging.errors import AlreadyExists, AmsNotFound, UnknownProject
from domains.messaging.models import MsgMessage, MsgSubscription, MsgTopic
from tests.identity.helpers import snapshot
from tests.messaging.conftest import World, principal

P = "ARGO"


def actions(world: World) -> list[str]:
    return list(
        world.session.execute(
            select(col(AuditEntry.action))
            .where(col(AuditEntry.entity_type).startswith("msg_"))
            .order_by(col(AuditEntry.id))
        ).scalars()
    )


def test_project_view_and_update(world: World) -> None:
    s = world.session
    view = msg.get_project(s, world.con_in, project=P)
    assert (view.name, view.description, view.created_by) == ("ARGO", "monitoring", None)
    msg.create_project(s, world.admin, name="EGI")
    assert msg.get_project(s, world.admin, project="EGI").created_by == "admin@egi.eu"
    updated = msg.update_project(s, world.admin, project="EGI", description="d", new_name="EGI2")
    assert (updated.name, updated.description) == ("EGI2", "d")
    with pytest.raises(AlreadyExists, match="Project already exists"):
        msg.create_project(s, world.admin, name="ARGO")
    with pytest.raises(Invalid, match="Invalid Project name"):
        msg.create_project(s, world.admin, name="no spaces")


def test_deleting_a_project_deletes_everything_in_it(world: World) -> None:
    world.publish("a", "b")
    world.pull()
    s = world.session
    msg.delete_project(s, world.admin, project=P)
    s.expire_all()
    for model in (MsgTopic, MsgSubscription, MsgMessage):
        assert s.execute(select(func.count()).select_from(model)).scalar_one() == 0
    with pytest.raises(UnknownProject, match="project doesn't exist"):
        msg.get_project(s, world.admin, project=P)
    assert "msg_project.delete" in actions(world)


def test_members_roles_are_replaced_and_validated(world: World) -> None:
    s = world.session
    member = msg.add_member(
        s, world.owner, project=P, subject="newbie@egi.eu", roles=["consumer", "publisher"]
    )
    assert member.roles == ("publisher", "consumer")
    msg.add_member(s, world.owner, project=P, subject="newbie@egi.eu", roles=["consumer"])
    roles = {m.subject: m.roles for m in msg.list_members(s, world.owner, project=P)}
    assert roles["newbie@egi.eu"] == ("consumer",)
    before = snapshot(s)
    for bad in ([], ["root"]):
        with pytest.raises(Invalid) as caught:
            msg.add_member(s, world.owner, project=P, subject="x@egi.eu", roles=bad)
        assert caught.value.field == "roles"
    assert snapshot(s) == before


def test_removing_a_member_takes_them_off_the_acls(world: World) -> None:
    s = world.session
    msg.remove_member(s, world.owner, project=P, subject="pub.in@egi.eu")
    assert msg.get_topic_acl(s, world.owner, project=P, topic="T1") == []
    with pytest.raises(AmsNotFound):
        msg.remove_member(s, world.owner, project=P, subject="pub.in@egi.eu")


def test_topic_create_get_delete(world: World) -> None:
    s = world.session
    topic = msg.create_topic(s, world.owner, project=P, topic="metrics_v2-x")
    assert (topic.full_name, topic.next_offset) == ("/projects/ARGO/topics/metrics_v2-x", 0)
    with pytest.raises(AlreadyExists, match="Topic already exists"):
        msg.create_topic(s, world.owner, project=P, topic="metrics_v2-x")
    msg.delete_topic(s, world.owner, project=P, topic="metrics_v2-x")
    with pytest.raises(NotFound, match="Topic doesn't exist"):
        msg.get_topic(s, world.owner, project=P, topic="metrics_v2-x")


@pytest.mark.parametrize("name", ["has space", "a.b", "a/b", "", "x" * 256, "é"])
def test_invalid_topic_names(world: World, name: str) -> None:
    before = snapshot(world.session)
    with pytest.raises(Invalid, match="Invalid Topic name"):
        msg.create_topic(world.session, world.owner, project=P, topic=name)
    assert snapshot(world.session) == before


def test_same_names_in_other_projects_are_independent(world: World) -> None:
    other = msg.create_topic(world.session, PLATFORM, project="OTHER", topic="T1")
    assert other.full_name == "/projects/OTHER/topics/T1"


def test_topic_subscriptions_lists_ams_names(world: World) -> None:
    msg.create_subscription(
        world.session, world.owner, project=P, subscription="S3", topic="projects/ARGO/topics/T1"
    )
    assert msg.topic_subscriptions(world.session, world.owner, project=P, topic="T1") == [
        "/projects/ARGO/subscriptions/S1",
        "/projects/ARGO/subscriptions/S3",
    ]


def test_acl_replace_and_read(world: World) -> None:
    s = world.session
    got = msg.modify_topic_acl(
        s, world.owner, project=P, topic="T1", users=["pub.out@egi.eu", "pub.in@egi.eu"]
    )
    assert got == ["pub.in@egi.eu", "pub.out@egi.eu"]
    assert msg.get_topic_acl(s, world.owner, project=P, topic="T1") == got
    msg.modify_subscription_acl(s, world.owner, project=P, subscription="S1", users=[])
    assert msg.get_subscription_acl(s, world.owner, project=P, subscription="S1") == []
    assert actions(world).count("msg_topic.acl") == 2  # the world's own, then this one


def test_acl_with_unknown_users_is_not_found_naming_them(world: World) -> None:
    s = world.session
    principal(s, "outsider@egi.eu")  # a user, but no member of ARGO
    before = snapshot(s)
    with pytest.raises(AmsNotFound, match=r"User\(s\): ghost@egi.eu, outsider@egi.eu do not"):
        msg.modify_topic_acl(
            s,
            world.owner,
            project=P,
            topic="T1",
            users=["pub.out@egi.eu", "ghost@egi.eu", "outsider@egi.eu"],
        )
    with pytest.raises(AmsNotFound, match="ghost@egi.eu"):
        msg.modify_subscription_acl(
            s, world.owner, project=P, subscription="S1", users=["ghost@egi.eu"]
        )
    assert snapshot(s) == before
    assert msg.get_topic_acl(s, world.owner, project=P, topic="T1") == ["pub.in@egi.eu"]


def test_keyset_pages(world: World) -> None:
    s = world.session
    for i in range(3):
        msg.create_topic(s, world.owner, project=P, topic=f"X{i}")
    everything = msg.list_topics(s, world.owner, project=P)
    assert [t.name for t in everything.items] == ["T1", "T2", "X0", "X1", "X2"]
    assert (everything.has_next_page, everything.has_previous_page) == (False, False)
    assert everything.total_count == 5

    names: list[str] = []
    after: int | None = None
    pages = 0
    while True:
        page = msg.list_topics(s, world.owner, project=P, first=2, after=after)
        assert page.total_count == 5
        assert page.has_previous_page is (after is not None)
        names += [t.name for t in page.items]
        pages += 1
        if not page.has_next_page:
            break
        after = page.items[-1].id
    assert (names, pages) == (["T1", "T2", "X0", "X1", "X2"], 3)

    subs = msg.list_subscriptions(s, world.owner, project=P, first=1)
    assert ([x.name for x in subs.items], subs.has_next_page, subs.total_count) == (["S1"], True, 2)
    rest = msg.list_subscriptions(s, world.owner, project=P, after=subs.items[-1].id)
    assert ([x.name for x in rest.items], rest.has_next_page) == (["S2"], False)


def test_changes_are_audited_but_not_traffic(world: World) -> None:
    world.publish("a")
    world.pull()
    world.ack(0)
    msg.delete_subscription(world.session, world.owner, project=P, subscription="S2")
    msg.delete_topic(world.session, world.owner, project=P, topic="T2")
    seen = actions(world)
    for action in (
        "msg_project.create",
        "msg_project.member",
        "msg_topic.create",
        "msg_topic.acl",
        "msg_subscription.create",
        "msg_subscription.acl",
        "msg_subscription.delete",
        "msg_topic.delete",
    ):
        assert action in seen
    assert not [a for a in seen if "publish" in a or "pull" in a or "ack" in a.split(".")[-1]]
