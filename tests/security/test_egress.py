"""Issue 10 point 7: the workers never become a scanner of the operator's own network.

Against a real `opsgraph serve --demo` (OPSGRAPH_ALLOW_INSECURE_PUSH off): push endpoints,
Mattermost hooks and downtime webhooks aimed at internal addresses (a listening receiver
on 127.0.0.1, the same through ::ffff:127.0.0.1, `localhost`, a decimal name the system
resolver turns into 127.0.0.1, and "10.x via a name") are refused when configured, with
BAD_USER_INPUT naming the field, and the receiver never gets a connection. In-process,
with an injected resolver: a name resolving to 10.0.0.1 is refused at input time; one that
is public when checked and loopback when connecting (DNS rebinding) is refused at
connection time, before any connection; allowed by OPSGRAPH_EGRESS_ALLOW, the same name
is delivered to (a loopback receiver). Recorded errors are classes of failure.

Before this change, https:// to any address (127.0.0.1 and 10.0.0.1 among them) was
accepted and verified or delivered to; recorded errors were "ConnectError: [Errno 111]
Connection refused" and the endpoint's answer.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy.orm import Session

from domains.common.egress import REFUSED
from domains.common.errors import Invalid
from domains.downtimes import notifications as notes
from domains.messaging import push
from domains.messaging import service as msg
from domains.messaging.errors import AmsInvalid
from domains.messaging.rules import MessagingRule
from tests.common.egress_rig import PUBLIC, Connections, FakeDns, connections, policy
from tests.compat.tls import make_certificate
from tests.downtimes.notify_world import (
    declare,
    handle_all,
    notifications,
    spec,
    subscriber,
    target,
)
from tests.messaging.conftest import World, world, written
from tests.messaging.receiver import Receiver
from tests.server import run_cli, server_env, serving
from workers.messaging import PushHttp
from workers.notifications import NotifyConfig, deliver_due

__all__ = ["connections", "world"]  # fixtures, for pytest

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Listener:
    """A TCP port on loopback that counts the connections it is offered."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def _token(tmp_path: Path, env: dict[str, str], subject: str, roles: str) -> dict[str, str]:
    issued = run_cli(
        tmp_path,
        "messaging",
        "issue-token",
        "--subject",
        subject,
        "--project",
        "OPS",
        "--roles",
        roles,
        env=env,
    )
    assert issued.returncode == 0, issued.stderr
    return {"x-api-key": issued.stdout.strip()}


def _gql(base: str, headers: dict[str, str], query: str, variables: dict[str, Any]) -> Any:
    answer = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


CREATE = (
    "mutation($i: CreateSubscriptionInput!) "
    "{ createSubscription(input: $i) { subscription { name } } }"
)
MODIFY = (
    "mutation($i: ModifyPushConfigInput!) { modifyPushConfig(input: $i) { subscription { name } } }"
)
SUBSCRIBE = (
    "mutation($i: SubscribeToDowntimesInput!) {"
    " subscribeToDowntimes(input: $i) { subscription { id } } }"
)


def _refused(body: Any, field: str) -> None:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field, error


def test_internal_destinations_are_refused_by_a_real_server(
    tmp_path: Path, listener: Listener
) -> None:
    env = server_env(tmp_path)  # OPSGRAPH_ALLOW_INSECURE_PUSH and OPSGRAPH_EGRESS_ALLOW unset
    port = listener.port
    internal = [
        f"https://127.0.0.1:{port}/push",
        f"https://[::ffff:127.0.0.1]:{port}/push",
        f"https://localhost:{port}/push",
        f"https://2130706433:{port}/push",  # a "name" the system resolver makes 127.0.0.1
        f"https://0.0.0.0:{port}/push",
        "https://167772161/push",  # 10.0.0.1 via a name
        "https://169.254.169.254/latest/meta-data/",
    ]
    # seeded first: on a busy machine seeding takes longer than `serving` waits for /healthz
    assert run_cli(tmp_path, "seed", "--demo", env=env).returncode == 0
    with serving(env, "--demo") as base:
        assert run_cli(tmp_path, "messaging", "create-project", "OPS", env=env).returncode == 0
        admin = _token(tmp_path, env, "ops.admin@egi.eu", "project_admin")
        v1 = f"{base}/v1/projects/OPS"
        assert httpx.put(f"{v1}/topics/t", headers=admin).status_code == 200
        pull = {"topic": "projects/OPS/topics/t"}
        assert httpx.put(f"{v1}/subscriptions/pull", json=pull, headers=admin).status_code == 200
        for i, url in enumerate(internal):
            # AMS REST: create, and turn a pull subscription into a push one
            config = {"topic": "projects/OPS/topics/t", "pushConfig": {"pushEndpoint": url}}
            answer = httpx.put(f"{v1}/subscriptions/r{i}", json=config, headers=admin)
            assert answer.status_code == 400, (url, answer.text)
            assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
            answer = httpx.post(
                f"{v1}/subscriptions/pull:modifyPushConfig",
                json={"pushConfig": {"pushEndpoint": url}},
                headers=admin,
            )
            assert answer.status_code == 400, (url, answer.text)
            # GraphQL: push endpoint, Mattermost hook, change of a pull subscription
            push_config = {"pushEndpoint": url}
            new = {"project": "OPS", "name": f"g{i}", "topic": "t", "pushConfig": push_config}
            _refused(_gql(base, admin, CREATE, {"i": new}), "pushConfig.pushEndpoint")
            mattermost = {"type": "mattermost", "mattermostUrl": url}
            new = {"project": "OPS", "name": f"m{i}", "topic": "t", "pushConfig": mattermost}
            _refused(_gql(base, admin, CREATE, {"i": new}), "pushConfig.mattermostUrl")
            change = {"project": "OPS", "subscription": "pull", "pushConfig": mattermost}
            _refused(_gql(base, admin, MODIFY, {"i": change}), "pushConfig.mattermostUrl")
            # a downtime subscription's webhook
            hook = {"name": f"w{i}", "events": ["DECLARED"], "webhookUrl": url}
            _refused(_gql(base, admin, SUBSCRIBE, {"i": hook}), "input.webhookUrl")
        names = httpx.get(f"{v1}/subscriptions", headers=admin).json()["subscriptions"]
        assert [s["name"] for s in names] == ["/projects/OPS/subscriptions/pull"]
        assert names[0]["pushConfig"].get("pushEndpoint", "") == ""
        # whatever is published now has nowhere internal to go
        data = base64.b64encode(b"hello").decode()
        published = httpx.post(
            f"{v1}/topics/t:publish", json={"messages": [{"data": data}]}, headers=admin
        )
        assert published.status_code == 200
        time.sleep(2)  # two push ticks: a refusal that let a row through would POST by now
    assert listener.accepted == 0


def test_a_bad_allow_list_stops_the_command(tmp_path: Path) -> None:
    env = server_env(tmp_path, OPSGRAPH_EGRESS_ALLOW="10.0.0.0/8,http://hooks")
    done = run_cli(tmp_path, "migrate", env=env)
    assert done.returncode == 2, done
    assert "OPSGRAPH_EGRESS_ALLOW" in done.stderr


def test_the_allow_list_opens_a_destination_on_a_real_server(
    tmp_path: Path, listener: Listener
) -> None:
    env = server_env(tmp_path, OPSGRAPH_EGRESS_ALLOW="127.0.0.1/32")
    with serving(env) as base:
        assert run_cli(tmp_path, "messaging", "create-project", "OPS", env=env).returncode == 0
        admin = _token(tmp_path, env, "ops.admin@egi.eu", "project_admin")
        assert httpx.put(f"{base}/v1/projects/OPS/topics/t", headers=admin).status_code == 200
        url = f"https://127.0.0.1:{listener.port}/push"
        new = {"project": "OPS", "name": "s", "topic": "t", "pushConfig": {"pushEndpoint": url}}
        body = _gql(base, admin, CREATE, {"i": new})
        assert body["data"] == {"createSubscription": {"subscription": {"name": "s"}}}, body


def test_mattermost_hooks_are_for_project_administrators_only(tmp_path: Path) -> None:
    """Decision: a Mattermost subscription is verified at once, so only a project
    administrator may set one (publishers and consumers may not)."""
    env = server_env(tmp_path, OPSGRAPH_EGRESS_ALLOW="hooks.example.org")
    with serving(env) as base:
        assert run_cli(tmp_path, "messaging", "create-project", "OPS", env=env).returncode == 0
        admin = _token(tmp_path, env, "ops.admin@egi.eu", "project_admin")
        assert httpx.put(f"{base}/v1/projects/OPS/topics/t", headers=admin).status_code == 200
        pull = {"project": "OPS", "name": "s", "topic": "t"}
        assert _gql(base, admin, CREATE, {"i": pull})["data"]
        mattermost = {"type": "mattermost", "mattermostUrl": "https://hooks.example.org/h/x"}
        for roles in ("consumer", "publisher", "consumer,publisher"):
            other = _token(tmp_path, env, f"{roles.replace(',', '.')}@egi.eu", roles)
            change = {"project": "OPS", "subscription": "s", "pushConfig": mattermost}
            body = _gql(base, other, MODIFY, {"i": change})
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
            new = {"project": "OPS", "name": "m", "topic": "t", "pushConfig": mattermost}
            body = _gql(base, other, CREATE, {"i": new})
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        sub = httpx.get(f"{base}/v1/projects/OPS/subscriptions/s", headers=admin).json()
        assert sub["pushConfig"].get("type", "") == ""


# --- in-process, with an injected resolver ----------------------------------------------


def test_a_name_resolving_to_a_private_address_is_refused_at_input(
    world: World, session: Session
) -> None:
    dns = FakeDns({"push.internal.example": ["10.0.0.1"], "hook.internal.example": ["fd00::1"]})
    strict = policy(dns)
    before = written(session)
    cases = [
        ({"pushEndpoint": "https://push.internal.example/p"}, "pushConfig.pushEndpoint"),
        (
            {"type": "mattermost", "mattermostUrl": "https://hook.internal.example/h"},
            "pushConfig.mattermostUrl",
        ),
    ]
    for config, field in cases:
        with pytest.raises(AmsInvalid) as caught:
            msg.create_subscription(
                session,
                world.owner,
                project="ARGO",
                subscription="NEW",
                topic="projects/ARGO/topics/T1",
                push_config=config,
                egress=strict,
            )
        assert caught.value.field == field
        assert caught.value.rule is MessagingRule.SUBSCRIPTION_PUSH_DESTINATION_REFUSED
        assert "private address" in caught.value.message  # the egress policy's reason
        with pytest.raises(AmsInvalid):
            msg.modify_push_config(
                session,
                world.owner,
                project="ARGO",
                subscription="S1",
                push_config=config,
                egress=strict,
            )
    assert written(session) == before
    owner = subscriber(session, "hooks@egi.eu")
    with pytest.raises(Invalid) as refused:
        notes.subscribe(
            session,
            owner,
            spec=spec(webhook_url="https://hook.internal.example/h"),
            egress=strict,
        )
    assert refused.value.field == "input.webhookUrl"


def _mattermost(world: World, url: str, dns: FakeDns) -> int:
    view = msg.create_subscription(
        world.session,
        world.owner,
        project="ARGO",
        subscription="MM",
        topic="projects/ARGO/topics/T1",
        push_config={"type": "mattermost", "mattermostUrl": url},
        egress=policy(dns),  # checked when configured: the name is public then
        now=T0,
    )
    return view.id


def _cycle(world: World, sub_id: int, http: PushHttp, egress: Any) -> push.PushOutcome:
    batch = push.begin_cycle(world.session, sub_id, egress=egress)
    assert batch is not None
    status, error = push.send_batch(batch, http.send)
    return push.finish_cycle(world.session, batch, status, error, now=T0)


def test_dns_rebinding_is_refused_when_pushing(
    world: World, connections: Connections, tmp_path: Path
) -> None:
    """Public when configured, loopback (then 10.0.0.1) when the worker connects: nothing
    is sent, and what the subscriber sees is "refused by egress policy". Allowed by
    OPSGRAPH_EGRESS_ALLOW, the same name is delivered to (the loopback receiver)."""
    tls = make_certificate(tmp_path, ("mm.rebind.example",))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tls.cert_file, tls.key_file)
    receiver = Receiver(tls=server)
    try:
        port = receiver.server.server_address[1]
        url = f"https://mm.rebind.example:{port}/hooks/x"
        dns = FakeDns({"mm.rebind.example": [[PUBLIC], ["127.0.0.1"], ["10.0.0.1"]]})
        sub_id = _mattermost(world, url, dns)
        world.publish("first", now=T0)
        trust = ssl.create_default_context(cafile=str(tls.ca_file))
        strict = policy(dns, verify=trust)
        for _ in range(2):  # resolves to 127.0.0.1, then to 10.0.0.1
            with PushHttp(timeout=5, egress=strict) as http:
                outcome = _cycle(world, sub_id, http, strict)
            assert (outcome.delivered, outcome.error) == (0, REFUSED)
        assert connections.made == []
        assert connections.refused == []
        assert receiver.requests == []
        state = world.sub("MM")
        assert state.delivery.last_error == REFUSED
        assert state.push_status.endswith(f"Could not send message, {REFUSED}")

        dns.answers["mm.rebind.example"] = ["127.0.0.1"]
        allowed = policy(dns, "mm.rebind.example", verify=trust)
        with PushHttp(timeout=5, egress=allowed) as http:
            outcome = _cycle(world, sub_id, http, allowed)
        assert (outcome.delivered, outcome.error) == (1, None)
        (post,) = receiver.posts()
        assert json.loads(post.body)["text"] == "first"
        assert connections.made == [("127.0.0.1", port)]
    finally:
        receiver.close()


def test_dns_rebinding_is_refused_for_a_downtime_webhook(
    session: Session,
    session_factory: Any,
    connections: Connections,
) -> None:
    where = target(session)
    alice = subscriber(session, "alice@egi.eu")
    dns = FakeDns({"hooks.rebind.example": [[PUBLIC], ["127.0.0.1"]]})
    notes.subscribe(
        session,
        alice,
        spec=spec(email=False, webhook_url="https://hooks.rebind.example/h"),
        egress=policy(dns),
    )
    declare(session, where.services)
    handle_all(session)
    session.commit()
    config = NotifyConfig(timeout=5.0, egress=policy(dns))
    assert deliver_due(session_factory, notes.CHANNELS, config) == 0
    (row,) = notifications(session)
    assert row.last_error == REFUSED
    assert connections.made == []
    assert connections.refused == []


def test_delivery_errors_say_the_class_of_failure(world: World, connections: Connections) -> None:
    """A closed port and an endpoint answering 500: "connection failed" and "HTTP 500",
    not the system's words for the port nor the body of the answer."""
    closed = Receiver()
    url = closed.url
    closed.close()
    loopback = policy(FakeDns({}), loopback=True)
    sub_id = msg.create_subscription(
        world.session,
        world.owner,
        project="ARGO",
        subscription="MM",
        topic="projects/ARGO/topics/T1",
        push_config={"type": "mattermost", "mattermostUrl": f"{url}/hook"},
        egress=loopback,
        now=T0,
    ).id
    world.publish("x", now=T0)
    with PushHttp(timeout=5, egress=loopback) as http:
        outcome = _cycle(world, sub_id, http, loopback)
    assert outcome.error == "connection failed"
    failing = Receiver()
    try:
        failing.fail_next, failing.fail_body = 1, "secret internal page"
        msg.modify_push_config(
            world.session,
            world.owner,
            project="ARGO",
            subscription="MM",
            push_config={"type": "mattermost", "mattermostUrl": f"{failing.url}/hook"},
            egress=loopback,
            now=T0,
        )
        with PushHttp(timeout=5, egress=loopback) as http:
            outcome = _cycle(world, sub_id, http, loopback)
        assert outcome.error == "HTTP 500"
        assert "secret" not in world.sub("MM").push_status
    finally:
        failing.close()
