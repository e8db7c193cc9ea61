"""A messaging world per test: project ARGO with one user per role, topics and
subscriptions with and without ACL entries, built through the service functions."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.models import pk
from domains.identity.service import ensure_user
from domains.messaging import service as msg
from domains.messaging.rows import ReceivedMessage, SubscriptionView
from tests.conftest import Callers, GraphQLClient
from tests.refusals import fingerprint

ISSUER = "https://aai.test/oidc/"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def principal(session: Session, subject: str, *, admin: bool = False) -> Principal:
    user = ensure_user(session, issuer=ISSUER, subject=subject)
    return Principal(subject=user.subject, user_id=pk(user), is_admin=admin)


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


@dataclass
class World:
    session: Session
    admin: Principal  # platform administrator (AMS service_admin)
    owner: Principal  # project_admin of ARGO
    pub_in: Principal  # publisher listed in T1's ACL
    pub_out: Principal  # publisher in no ACL
    con_in: Principal  # consumer listed in S1's ACL
    con_out: Principal  # consumer in no ACL
    stranger: Principal  # authenticated, no role in ARGO
    other_admin: Principal  # project_admin of another project

    @property
    def callers(self) -> dict[str, Principal]:
        return {
            "anonymous": ANONYMOUS,
            "stranger": self.stranger,
            "other_admin": self.other_admin,
            "pub_in": self.pub_in,
            "pub_out": self.pub_out,
            "con_in": self.con_in,
            "con_out": self.con_out,
            "owner": self.owner,
            "admin": self.admin,
        }

    def publish(self, *texts: str, topic: str = "T1", now: datetime | None = None) -> list[int]:
        return msg.publish(
            self.session,
            self.owner,
            project="ARGO",
            topic=topic,
            messages=[{"data": b64(t)} for t in texts],
            now=now,
        )

    def pull(
        self, n: int = 10, *, sub: str = "S1", now: datetime | None = None
    ) -> list[ReceivedMessage]:
        return msg.pull(
            self.session, self.owner, project="ARGO", subscription=sub, max_messages=n, now=now
        )

    def ack(self, *offsets: int, sub: str = "S1", now: datetime | None = None) -> None:
        msg.acknowledge(
            self.session,
            self.owner,
            project="ARGO",
            subscription=sub,
            ack_ids=[f"projects/ARGO/subscriptions/{sub}:{o}" for o in offsets],
            now=now,
        )

    def sub(self, name: str = "S1") -> SubscriptionView:
        return msg.get_subscription(self.session, self.owner, project="ARGO", subscription=name)


@pytest.fixture
def world(session: Session) -> World:
    w = World(
        session=session,
        admin=principal(session, "admin@egi.eu", admin=True),
        owner=principal(session, "owner@egi.eu"),
        pub_in=principal(session, "pub.in@egi.eu"),
        pub_out=principal(session, "pub.out@egi.eu"),
        con_in=principal(session, "con.in@egi.eu"),
        con_out=principal(session, "con.out@egi.eu"),
        stranger=principal(session, "stranger@egi.eu"),
        other_admin=principal(session, "other.admin@egi.eu"),
    )
    msg.create_project(session, PLATFORM, name="ARGO", description="monitoring")
    msg.create_project(session, PLATFORM, name="OTHER")
    msg.add_member(
        session, PLATFORM, project="OTHER", subject="other.admin@egi.eu", roles=["project_admin"]
    )
    for subject, role in [
        ("owner@egi.eu", "project_admin"),
        ("pub.in@egi.eu", "publisher"),
        ("pub.out@egi.eu", "publisher"),
        ("con.in@egi.eu", "consumer"),
        ("con.out@egi.eu", "consumer"),
    ]:
        msg.add_member(session, PLATFORM, project="ARGO", subject=subject, roles=[role])
    for topic in ("T1", "T2"):
        msg.create_topic(session, w.owner, project="ARGO", topic=topic)
    msg.modify_topic_acl(session, w.owner, project="ARGO", topic="T1", users=["pub.in@egi.eu"])
    msg.create_subscription(
        session, w.owner, project="ARGO", subscription="S1", topic="projects/ARGO/topics/T1"
    )
    msg.create_subscription(
        session, w.owner, project="ARGO", subscription="S2", topic="/projects/ARGO/topics/T2"
    )
    msg.modify_subscription_acl(
        session, w.owner, project="ARGO", subscription="S1", users=["con.in@egi.eu"]
    )
    return w


# --- GraphQL: the same world, reached through the real app with real OIDC tokens ----------

ADMIN_ENTITLEMENT = "urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu"


@dataclass
class Api:
    """GraphQL clients acting as the world's callers (tokens from the test issuer)."""

    world: World
    callers: Callers
    _clients: dict[str, GraphQLClient] = field(default_factory=dict)

    def __call__(self, who: str) -> GraphQLClient:
        client = self._clients.get(who)
        if client is None:
            if who == "anonymous":
                client = self.callers.anonymous
            else:
                caller = self.world.callers[who]
                assert caller.subject is not None
                entitlements = (ADMIN_ENTITLEMENT,) if who == "admin" else ()
                client = self.callers.as_user(caller.subject, entitlements=entitlements)
                # first sight links the token's identity to the user: done before any
                # test takes its "nothing written" snapshot
                assert client.data("{ viewer { subject } }")["viewer"]["subject"]
            self._clients[who] = client
        return client


def written(session: Session) -> dict[str, Any]:
    """Every row of every table: a refused call must leave all of it as it was (offsets and
    pending acks included)."""
    return dict(fingerprint(session))


@pytest.fixture
def api(world: World, callers: Callers) -> Api:
    world.session.commit()  # releases the savepoint: the app's sessions see the world
    return Api(world, callers)
