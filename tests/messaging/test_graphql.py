"""The messaging GraphQL API through the real app with real OIDC tokens: every mutation's
happy path, the queries, a publish/pull/acknowledge round trip, and statement counts."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.audit import AuditEntry
from domains.common.identity import PLATFORM
from domains.messaging import service as msg
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, Callers, StatementCounter
from tests.messaging.conftest import ADMIN_ENTITLEMENT, T0, Api, World, b64

P = "ARGO"

PUBLISH = """mutation($i: PublishInput!) { publish(input: $i) { messageIds } }"""
PULL = """mutation($i: PullInput!) {
  pull(input: $i) { receivedMessages { ackId messageId data attributes { key value } publishTime } }
}"""
ACK = """mutation($i: AcknowledgeInput!) {
  acknowledge(input: $i) { subscription { name offsets { min max current } pendingAckSince } }
}"""
SUB_FIELDS = """id name fullName topicName ackDeadlineSeconds createdAt pendingAckSince
  messageCount bytes offsets { min max current } acl
  topic { name } project { name }
  pushConfig { type pushEndpoint maxMessages retryPolicy { type period }
    authorizationHeader { type value } verified verificationHash base64Decode }
  pushDelivery { status lastError consecutiveFailures nextAttemptAt deliveredCount }"""


def _audits(session: Session, action: str) -> int:
    session.expire_all()
    return len(session.execute(select(AuditEntry).where(col(AuditEntry.action) == action)).all())


def test_create_and_delete_a_project_as_platform_admin(api: Api, session: Session) -> None:
    admin = api("admin")
    created = admin.data(
        """mutation($i: CreateMessagingProjectInput!) {
          createMessagingProject(input: $i) { project { id name description createdBy createdAt } }
        }""",
        {"i": {"name": "NEW", "description": "fresh"}},
    )["createMessagingProject"]["project"]
    assert created["name"] == "NEW"
    assert created["description"] == "fresh"
    assert created["createdBy"] == "admin@egi.eu"
    assert msg.get_project(session, PLATFORM, project="NEW").description == "fresh"

    deleted = admin.data(
        """mutation($i: DeleteMessagingProjectInput!) {
          deleteMessagingProject(input: $i) { id }
        }""",
        {"i": {"name": "NEW"}},
    )["deleteMessagingProject"]
    assert deleted["id"] == created["id"]
    assert [p.name for p in msg.list_projects(session, PLATFORM).items] == [P, "OTHER"]
    assert _audits(session, "msg_project.delete") == 1


def test_members_are_added_and_removed_by_the_project_admin(api: Api, session: Session) -> None:
    owner = api("owner")
    member = owner.data(
        """mutation($i: AddProjectMemberInput!) {
          addProjectMember(input: $i) { member { subject roles } }
        }""",
        {"i": {"project": P, "subject": "new@egi.eu", "roles": ["PUBLISHER", "CONSUMER"]}},
    )["addProjectMember"]["member"]
    assert member == {"subject": "new@egi.eu", "roles": ["PUBLISHER", "CONSUMER"]}
    members = owner.data(
        "query($p: String!) { messagingProject(name: $p) { members { subject roles } } }",
        {"p": P},
    )["messagingProject"]["members"]
    assert {"subject": "new@egi.eu", "roles": ["PUBLISHER", "CONSUMER"]} in members

    project = owner.data(
        """mutation($i: RemoveProjectMemberInput!) {
          removeProjectMember(input: $i) { project { name members { subject } } }
        }""",
        {"i": {"project": P, "subject": "new@egi.eu"}},
    )["removeProjectMember"]["project"]
    assert "new@egi.eu" not in [m["subject"] for m in project["members"]]


def test_topics_are_created_listed_acl_set_and_deleted(api: Api, session: Session) -> None:
    owner = api("owner")
    topic = owner.data(
        """mutation($i: CreateTopicInput!) {
          createTopic(input: $i) {
            topic { id name fullName messageCount bytes nextOffset project { name } } }
        }""",
        {"i": {"project": P, "name": "T3"}},
    )["createTopic"]["topic"]
    assert topic["fullName"] == "/projects/ARGO/topics/T3"
    assert topic["project"] == {"name": P}
    assert (topic["messageCount"], topic["bytes"], topic["nextOffset"]) == (0, 0, 0)

    acl = owner.data(
        """mutation($i: SetTopicAclInput!) { setTopicAcl(input: $i) { topic { name acl } } }""",
        {"i": {"project": P, "topic": "T3", "users": ["pub.out@egi.eu", "pub.in@egi.eu"]}},
    )["setTopicAcl"]["topic"]
    assert acl == {"name": "T3", "acl": ["pub.in@egi.eu", "pub.out@egi.eu"]}
    assert msg.get_topic_acl(session, PLATFORM, project=P, topic="T3") == [
        "pub.in@egi.eu",
        "pub.out@egi.eu",
    ]

    listed = owner.data(
        """query($p: String!) { messagingProject(name: $p) {
          topics { totalCount nodes { name acl subscriptions { name } } } } }""",
        {"p": P},
    )["messagingProject"]["topics"]
    assert listed["totalCount"] == 3
    assert [t["name"] for t in listed["nodes"]] == ["T1", "T2", "T3"]
    assert listed["nodes"][0]["subscriptions"] == [{"name": "S1"}]

    # a publisher sees only the topics whose ACL lists them
    seen = api("pub_out").data(
        """query($p: String!) { messagingProject(name: $p) {
          topics { totalCount nodes { name } } } }""",
        {"p": P},
    )["messagingProject"]["topics"]
    assert seen == {"totalCount": 1, "nodes": [{"name": "T3"}]}

    deleted = owner.data(
        """mutation($i: DeleteTopicInput!) { deleteTopic(input: $i) { id } }""",
        {"i": {"project": P, "name": "T3"}},
    )["deleteTopic"]
    assert deleted["id"] == topic["id"]
    assert [t.name for t in msg.list_topics(session, PLATFORM, project=P).items] == ["T1", "T2"]


def test_topic_connection_pages_with_cursors(api: Api, world: World) -> None:
    for n in range(3, 8):
        msg.create_topic(world.session, world.owner, project=P, topic=f"T{n}")
    world.session.commit()
    query = """query($p: String!, $after: String) { messagingProject(name: $p) {
      topics(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { name } }
      } } }"""
    first = api("owner").data(query, {"p": P})["messagingProject"]["topics"]
    assert [e["node"]["name"] for e in first["edges"]] == ["T1", "T2", "T3"]
    assert first["totalCount"] == 7
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    second = api("owner").data(query, {"p": P, "after": first["pageInfo"]["endCursor"]})
    page = second["messagingProject"]["topics"]
    assert [e["node"]["name"] for e in page["edges"]] == ["T4", "T5", "T6"]
    assert page["pageInfo"]["hasPreviousPage"] is True
    third = api("owner").data(query, {"p": P, "after": page["pageInfo"]["endCursor"]})
    last = third["messagingProject"]["topics"]
    assert [e["node"]["name"] for e in last["edges"]] == ["T7"]
    assert last["pageInfo"]["hasNextPage"] is False


def test_publish_pull_acknowledge_round_trip(api: Api, session: Session) -> None:
    ids = api("pub_in").data(
        PUBLISH,
        {
            "i": {
                "project": P,
                "topic": "T1",
                "messages": [
                    {"data": b64("one"), "attributes": [{"key": "site", "value": "CERN"}]},
                    {"data": b64(b"\x00\xff")},
                ],
            }
        },
    )["publish"]["messageIds"]
    assert ids == ["0", "1"]

    consumer = api("con_in")
    pulled = consumer.data(PULL, {"i": {"project": P, "subscription": "S1", "maxMessages": 5}})
    messages = pulled["pull"]["receivedMessages"]
    assert [m["messageId"] for m in messages] == ["0", "1"]
    assert [base64.b64decode(m["data"]) for m in messages] == [b"one", b"\x00\xff"]
    assert messages[0]["attributes"] == [{"key": "site", "value": "CERN"}]
    assert messages[1]["attributes"] == []
    assert messages[0]["ackId"] == "projects/ARGO/subscriptions/S1:0"
    assert messages[0]["publishTime"].endswith("+00:00")

    acked = consumer.data(
        ACK, {"i": {"project": P, "subscription": "S1", "ackIds": [messages[-1]["ackId"]]}}
    )["acknowledge"]["subscription"]
    assert acked["offsets"] == {"min": 0, "max": 2, "current": 2}
    assert acked["pendingAckSince"] is None
    assert (
        consumer.data(PULL, {"i": {"project": P, "subscription": "S1"}})["pull"]["receivedMessages"]
        == []
    )
    view = msg.get_subscription(session, PLATFORM, project=P, subscription="S1")
    assert (view.offset, view.message_count) == (2, 2)


def test_subscriptions_are_created_configured_and_deleted(api: Api, session: Session) -> None:
    owner = api("owner")
    created = owner.data(
        f"""mutation($i: CreateSubscriptionInput!) {{
          createSubscription(input: $i) {{ subscription {{ {SUB_FIELDS} }} }} }}""",
        {"i": {"project": P, "name": "S3", "topic": "T2", "ackDeadlineSeconds": 30}},
    )["createSubscription"]["subscription"]
    assert created["fullName"] == "/projects/ARGO/subscriptions/S3"
    assert created["topicName"] == "T2"
    assert created["topic"] == {"name": "T2"}
    assert created["ackDeadlineSeconds"] == 30
    assert created["pushConfig"] is None
    assert created["pushDelivery"] is None
    assert created["offsets"] == {"min": 0, "max": 0, "current": 0}

    acl = owner.data(
        """mutation($i: SetSubscriptionAclInput!) {
          setSubscriptionAcl(input: $i) { subscription { acl } } }""",
        {"i": {"project": P, "subscription": "S3", "users": ["con.out@egi.eu"]}},
    )["setSubscriptionAcl"]["subscription"]
    assert acl == {"acl": ["con.out@egi.eu"]}

    deadline = api("con_out").data(
        """mutation($i: ModifyAckDeadlineInput!) {
          modifyAckDeadline(input: $i) { subscription { ackDeadlineSeconds } } }""",
        {"i": {"project": P, "subscription": "S3", "ackDeadlineSeconds": 120}},
    )["modifyAckDeadline"]["subscription"]
    assert deadline == {"ackDeadlineSeconds": 120}

    pushed = owner.data(
        """mutation($i: ModifyPushConfigInput!) { modifyPushConfig(input: $i) { subscription {
          pushConfig { type pushEndpoint maxMessages retryPolicy { type period }
            authorizationHeader { type value } verified verificationHash }
          pushDelivery { status consecutiveFailures deliveredCount } } } }""",
        {
            "i": {
                "project": P,
                "subscription": "S3",
                "pushConfig": {
                    "pushEndpoint": "https://push.example.org/hook",
                    "maxMessages": 5,
                    "retryPolicy": {"type": "linear", "period": 500},
                },
            }
        },
    )["modifyPushConfig"]["subscription"]
    config = pushed["pushConfig"]
    assert config["type"] == "http_endpoint"
    assert config["pushEndpoint"] == "https://push.example.org/hook"
    assert config["maxMessages"] == 5
    assert config["retryPolicy"] == {"type": "linear", "period": 500}
    assert config["authorizationHeader"]["type"] == "autogen"
    assert len(config["authorizationHeader"]["value"]) == 40
    assert config["verified"] is False
    assert len(config["verificationHash"]) == 40
    assert pushed["pushDelivery"] == {"status": "", "consecutiveFailures": 0, "deliveredCount": 0}
    stored = msg.get_subscription(session, PLATFORM, project=P, subscription="S3")
    assert stored.push.verification_hash == config["verificationHash"]

    # a consumer in the ACL sees the push config, not its secrets
    seen = api("con_out").data(
        """query { subscription(project: "ARGO", name: "S3") {
          pushConfig { pushEndpoint verificationHash authorizationHeader { type value } } } }"""
    )["subscription"]["pushConfig"]
    assert seen == {
        "pushEndpoint": "https://push.example.org/hook",
        "verificationHash": None,
        "authorizationHeader": {"type": "autogen", "value": None},
    }

    back = owner.data(
        "mutation($i: ModifyPushConfigInput!) "
        "{ modifyPushConfig(input: $i) { subscription { pushConfig { type } } } }",
        {"i": {"project": P, "subscription": "S3"}},
    )["modifyPushConfig"]["subscription"]
    assert back == {"pushConfig": None}

    deleted = owner.data(
        """mutation($i: DeleteSubscriptionInput!) { deleteSubscription(input: $i) { id } }""",
        {"i": {"project": P, "name": "S3"}},
    )["deleteSubscription"]
    assert deleted["id"] == created["id"]
    assert [s.name for s in msg.list_subscriptions(session, PLATFORM, project=P).items] == [
        "S1",
        "S2",
    ]


def test_create_subscription_with_a_push_config(api: Api) -> None:
    created = api("owner").data(
        """mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { subscription {
          pushConfig { type pushEndpoint maxMessages authorizationHeader { type value } } } } }""",
        {
            "i": {
                "project": P,
                "name": "PUSHED",
                "topic": "T1",
                "pushConfig": {
                    "pushEndpoint": "https://push.example.org/in",
                    "authorizationHeader": {"type": "disabled"},
                },
            }
        },
    )["createSubscription"]["subscription"]
    assert created["pushConfig"] == {
        "type": "http_endpoint",
        "pushEndpoint": "https://push.example.org/in",
        "maxMessages": 1,
        "authorizationHeader": {"type": "disabled", "value": None},
    }


def test_modify_offset_rewinds(api: Api, world: World) -> None:
    world.publish("a", "b", "c")
    world.pull(3)
    world.ack(2)
    world.session.commit()
    moved = api("con_in").data(
        """mutation($i: ModifyOffsetInput!) {
          modifyOffset(input: $i) { subscription { offsets { min max current } } } }""",
        {"i": {"project": P, "subscription": "S1", "offset": 1}},
    )["modifyOffset"]["subscription"]
    assert moved["offsets"] == {"min": 0, "max": 3, "current": 1}
    pulled = api("con_in").data(PULL, {"i": {"project": P, "subscription": "S1", "maxMessages": 5}})
    assert [m["messageId"] for m in pulled["pull"]["receivedMessages"]] == ["1", "2"]


def test_offset_at_a_time(api: Api, world: World) -> None:
    world.publish("early", now=T0)
    world.publish("late", now=T0 + timedelta(minutes=5))
    world.session.commit()
    query = """query($t: DateTime!) { subscription(project: "ARGO", name: "S1") {
      offsetAt(time: $t) } }"""
    con = api("con_in")
    at = con.data(query, {"t": (T0 + timedelta(minutes=1)).isoformat()})
    assert at["subscription"]["offsetAt"] == 1
    assert con.data(query, {"t": T0.isoformat()})["subscription"]["offsetAt"] == 0
    too_late = con.error(query, {"t": (T0 + timedelta(hours=1)).isoformat()})
    assert too_late["extensions"]["code"] == "CONFLICT"
    naive = con.error(query, {"t": "2026-03-01T12:00:00"})
    assert naive["extensions"]["code"] == "BAD_USER_INPUT"
    assert naive["extensions"]["field"] == "time"
    assert api("con_out").error(query, {"t": T0.isoformat()})["extensions"]["code"] == "FORBIDDEN"


class _HashServer:
    """An HTTP server on loopback answering /ams_verification_hash with `body`."""

    def __init__(self) -> None:
        self.body = ""
        self.paths: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.paths.append(self.path)
                payload = owner.body.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _HashServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def hash_server() -> Iterator[_HashServer]:
    with _HashServer() as server:
        yield server


@pytest.fixture
def insecure_api(world: World, make_client: AppFactory, oidc_issuer: OIDCIssuer) -> Api:
    """The world behind an app that accepts http:// push endpoints on loopback."""
    client = make_client(
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        admin_entitlements=(ADMIN_ENTITLEMENT,),
        allow_insecure_push=True,
    )
    world.session.commit()
    return Api(world, Callers(client, oidc_issuer))


VERIFY = """mutation($i: VerifyPushEndpointInput!) {
  verifyPushEndpoint(input: $i) {
    subscription { pushConfig { verified } pushDelivery { nextAttemptAt } } } }"""


def test_verify_push_endpoint_fetches_the_hash_over_http(
    insecure_api: Api, hash_server: _HashServer, session: Session
) -> None:
    owner = insecure_api("owner")
    endpoint = f"http://127.0.0.1:{hash_server.port}/receive"
    config = owner.data(
        """mutation($i: ModifyPushConfigInput!) {
          modifyPushConfig(input: $i) { subscription { pushConfig { verificationHash } } } }""",
        {"i": {"project": P, "subscription": "S2", "pushConfig": {"pushEndpoint": endpoint}}},
    )["modifyPushConfig"]["subscription"]["pushConfig"]
    hash_server.body = config["verificationHash"] + "\n"
    verified = owner.data(VERIFY, {"i": {"project": P, "subscription": "S2"}})
    assert verified["verifyPushEndpoint"]["subscription"]["pushConfig"] == {"verified": True}
    assert (
        verified["verifyPushEndpoint"]["subscription"]["pushDelivery"]["nextAttemptAt"] is not None
    )
    assert hash_server.paths == ["/ams_verification_hash"]
    assert msg.get_subscription(session, PLATFORM, project=P, subscription="S2").push.verified


def test_projects_and_node_lookups(api: Api) -> None:
    owner = api("owner")
    projects = owner.data("{ messagingProjects { nodes { id name description } } }")[
        "messagingProjects"
    ]["nodes"]
    assert [p["name"] for p in projects] == [P]
    everything = api("admin").data("{ messagingProjects { nodes { name } } }")["messagingProjects"][
        "nodes"
    ]
    assert [p["name"] for p in everything] == [P, "OTHER"]
    paging = """query($after: String) { messagingProjects(first: 1, after: $after) {
      totalCount nodes { name } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    first = api("admin").data(paging)["messagingProjects"]
    assert (first["totalCount"], [p["name"] for p in first["nodes"]]) == (2, [P])
    assert (first["pageInfo"]["hasNextPage"], first["pageInfo"]["hasPreviousPage"]) == (True, False)
    second = api("admin").data(paging, {"after": first["pageInfo"]["endCursor"]})
    rest = second["messagingProjects"]
    assert ([p["name"] for p in rest["nodes"]], rest["pageInfo"]["hasNextPage"]) == (
        ["OTHER"],
        False,
    )

    ids = owner.data(
        """{ messagingProject(name: "ARGO") { id }
             topic(project: "ARGO", name: "T1") { id }
             subscription(project: "ARGO", name: "S1") { id } }"""
    )
    for key, typename in (
        ("messagingProject", "MessagingProject"),
        ("topic", "Topic"),
        ("subscription", "MessagingSubscription"),
    ):
        found = owner.data(
            "query($id: ID!) { node(id: $id) { __typename id } }", {"id": ids[key]["id"]}
        )["node"]
        assert found == {"__typename": typename, "id": ids[key]["id"]}
    # a publisher may not read subscriptions: the node is not there for them
    hidden = api("pub_in").data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": ids["subscription"]["id"]}
    )
    assert hidden["node"] is None


def test_project_metrics(api: Api, world: World) -> None:
    world.publish("abc")
    world.session.commit()
    metrics = api("owner").data(
        """{ messagingProject(name: "ARGO") { metrics {
          topics subscriptions usage { messagesIn bytesIn } perUser { subject } } } }"""
    )["messagingProject"]["metrics"]
    assert metrics == {
        "topics": 2,
        "subscriptions": 2,
        "usage": {"messagesIn": 1, "bytesIn": 3},
        "perUser": [{"subject": "owner@egi.eu"}],
    }


def test_a_consumer_sees_its_subscriptions_but_not_their_topics(api: Api) -> None:
    seen = api("con_in").data(
        """{ messagingProject(name: "ARGO") { subscriptions {
          totalCount nodes { name topicName topic { name } offsets { current } } } } }"""
    )["messagingProject"]["subscriptions"]
    assert seen == {
        "totalCount": 1,
        "nodes": [{"name": "S1", "topicName": "T1", "topic": None, "offsets": {"current": 0}}],
    }


LISTS = """query($n: Int!) { messagingProject(name: "ARGO") {
  topics(first: $n) { totalCount nodes { name acl project { name }
    subscriptions { name offsets { current } } } }
  subscriptions(first: $n) { totalCount nodes { name acl pendingAckSince
    topic { name } offsets { min max current } pushConfig { verificationHash } } } } }"""


def test_list_statements_do_not_grow_with_the_page_size(
    api: Api, world: World, statements: StatementCounter
) -> None:
    for n in range(3, 9):
        msg.create_topic(world.session, world.owner, project=P, topic=f"T{n}")
        msg.create_subscription(
            world.session,
            world.owner,
            project=P,
            subscription=f"S{n}",
            topic=f"projects/{P}/topics/T{n}",
            push_config={"pushEndpoint": f"https://push{n}.example.org/h"},
        )
        msg.modify_subscription_acl(
            world.session, world.owner, project=P, subscription=f"S{n}", users=["con.in@egi.eu"]
        )
    # the first page's subscription is a push one too: the same fields are read on both
    msg.modify_push_config(
        world.session,
        world.owner,
        project=P,
        subscription="S1",
        push_config={"pushEndpoint": "https://push1.example.org/h"},
    )
    world.publish("x", topic="T3")
    world.session.commit()
    owner = api("owner")

    counts = []
    for size in (1, 8):
        statements.reset()
        data = owner.data(LISTS, {"n": size})["messagingProject"]
        assert len(data["topics"]["nodes"]) == size
        assert len(data["subscriptions"]["nodes"]) == size
        counts.append(list(statements.statements))
    assert len(counts[0]) == len(counts[1]), counts
