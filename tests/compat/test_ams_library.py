"""argo-ams-library 1.0.0, as published on PyPI and unchanged, against a real opsgraph
server on loopback over HTTPS, bootstrapped with the CLI as an operator would."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argo_ams_library import AmsMessage, AmsServiceException, ArgoMessagingService

from tests.compat.tls import make_certificate
from tests.server import run_cli, server_env, serving

PROJECT = "EGI"


@dataclass
class Ams:
    endpoint: str
    tokens: dict[str, str]

    def client(self, who: str) -> ArgoMessagingService:
        return ArgoMessagingService(endpoint=self.endpoint, token=self.tokens[who], project=PROJECT)


def _cli(env: dict[str, str], tmp_path: Path, *args: str) -> str:
    done: subprocess.CompletedProcess[str] = run_cli(tmp_path, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def ams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ams]:
    tmp_path = tmp_path_factory.mktemp("ams")
    cert = make_certificate(tmp_path / "tls")
    env = server_env(tmp_path)
    _cli(env, tmp_path, "messaging", "create-project", PROJECT, "--description", "EGI ops")
    tokens = {
        who: _cli(
            env,
            tmp_path,
            "messaging",
            "issue-token",
            "--subject",
            f"{who}@egi.eu",
            "--project",
            PROJECT,
            "--roles",
            roles,
        )
        for who, roles in (
            ("admin", "project_admin"),
            ("publisher", "publisher"),
            ("consumer", "consumer"),
        )
    }
    tls = ("--ssl-certfile", str(cert.cert_file), "--ssl-keyfile", str(cert.key_file))
    import ssl

    ca = ssl.create_default_context(cafile=str(cert.ca_file))
    with (
        pytest.MonkeyPatch.context() as patch,
        serving(env, scheme="https", verify=ca, extra=tls) as base,
    ):
        # how the library is told to trust a CA: requests reads this variable
        patch.setenv("REQUESTS_CA_BUNDLE", str(cert.ca_file))
        yield Ams(endpoint=base.removeprefix("https://"), tokens=tokens)


def test_topics_and_subscriptions_lifecycle(ams: Ams) -> None:
    admin = ams.client("admin")
    topic = admin.create_topic("lifecycle", retobj=True)
    assert topic.name == "lifecycle"
    assert admin.has_topic("lifecycle")
    assert not admin.has_topic("missing")
    sub = admin.create_sub("lifecycle-sub", "lifecycle", ackdeadline=30, retobj=True)
    assert sub.name == "lifecycle-sub"
    assert admin.has_sub("lifecycle-sub")
    assert not admin.has_sub("missing")
    assert "lifecycle" in [t.name for t in admin.iter_topics()]
    listed = {s.name: s for s in admin.iter_subs()}
    assert listed["lifecycle-sub"].topic.name == "lifecycle"
    assert listed["lifecycle-sub"].ackdeadline == 30
    assert any(t["name"] == "/projects/EGI/topics/lifecycle" for t in admin.list_topics()["topics"])
    admin.delete_sub("lifecycle-sub")
    admin.delete_topic("lifecycle")
    assert not admin.has_sub("lifecycle-sub")
    assert not admin.has_topic("lifecycle")


def test_publish_pull_acknowledge(ams: Ams) -> None:
    admin = ams.client("admin")
    admin.create_topic("results")
    admin.create_sub("results-sub", "results")
    batch = [
        AmsMessage(data=f"result {i}", attributes={"host": f"ce{i}.example.org", "n": str(i)})
        for i in range(5)
    ]
    batch.append(AmsMessage(data="no attributes"))
    published = admin.publish("results", batch)
    assert len(published["messageIds"]) == 6

    pulled = admin.pull_sub("results-sub", num=4, return_immediately=True)
    assert [m.get_data() for _, m in pulled] == [b"result 0", b"result 1", b"result 2", b"result 3"]
    assert pulled[1][1].get_attr() == {"host": "ce1.example.org", "n": "1"}
    assert pulled[0][1].get_msgid() == published["messageIds"][0]
    assert (
        pulled[0][0] == f"projects/{PROJECT}/subscriptions/results-sub:{pulled[0][1].get_msgid()}"
    )
    assert admin.ack_sub("results-sub", [ack for ack, _ in pulled])

    rest = admin.pullack_sub("results-sub", num=10, return_immediately=True)
    assert [m.get_data() for m in rest] == [b"result 4", b"no attributes"]
    assert admin.pull_sub("results-sub", num=1, return_immediately=True) == []

    offsets = admin.getoffsets_sub("results-sub")
    assert offsets["current"] == offsets["max"]
    assert offsets["max"] - offsets["min"] == 6
    # rewind: everything comes again
    admin.modifyoffset_sub("results-sub", offsets["min"])
    again = admin.pull_sub("results-sub", num=10, return_immediately=True)
    assert len(again) == 6
    assert admin.getoffsets_sub("results-sub", "current") == offsets["min"]


def test_unacked_messages_come_again(ams: Ams) -> None:
    admin = ams.client("admin")
    admin.create_topic("redeliver")
    admin.create_sub("redeliver-sub", "redeliver")
    admin.publish("redeliver", [AmsMessage(data="once")])
    first = admin.pull_sub("redeliver-sub", num=1, return_immediately=True)
    second = admin.pull_sub("redeliver-sub", num=1, return_immediately=True)
    assert first[0][0] == second[0][0]


def test_time_to_offset_with_the_library_time_formats(ams: Ams) -> None:
    admin = ams.client("admin")
    admin.create_topic("timed")
    admin.create_sub("timed-sub", "timed")
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) - dt.timedelta(seconds=1)
    time.sleep(0.01)
    admin.publish("timed", [AmsMessage(data="a"), AmsMessage(data="b")])
    first = int(admin.pull_sub("timed-sub", num=1, return_immediately=True)[0][1].get_msgid())
    # whole seconds go out as "2019-09-02 13:39:11.000Z", others as ISO with milliseconds
    assert admin.time_to_offset_sub("timed-sub", before) == first
    assert admin.time_to_offset_sub("timed-sub", before.replace(microsecond=500_000)) == first


def test_acls_limit_publishers_and_consumers(ams: Ams) -> None:
    admin, publisher, consumer = (
        ams.client("admin"),
        ams.client("publisher"),
        ams.client("consumer"),
    )
    admin.create_topic("guarded")
    admin.create_sub("guarded-sub", "guarded")
    with pytest.raises(AmsServiceException) as refused:
        publisher.publish("guarded", [AmsMessage(data="x")])
    assert refused.value.code == 403
    assert admin.modifyacl_topic("guarded", ["publisher@egi.eu"])
    assert admin.getacl_topic("guarded") == {"authorized_users": ["publisher@egi.eu"]}
    publisher.publish("guarded", [AmsMessage(data="allowed")])
    assert [t.name for t in publisher.iter_topics()] == ["guarded"]

    with pytest.raises(AmsServiceException) as refused:
        consumer.pull_sub("guarded-sub", return_immediately=True)
    assert refused.value.code == 403
    admin.modifyacl_sub("guarded-sub", ["consumer@egi.eu"])
    assert admin.getacl_sub("guarded-sub") == {"authorized_users": ["consumer@egi.eu"]}
    got = consumer.pullack_sub("guarded-sub", num=5, return_immediately=True)
    assert [m.get_data() for m in got] == [b"allowed"]
    with pytest.raises(AmsServiceException) as unknown:
        admin.modifyacl_topic("guarded", ["nobody@egi.eu"])
    assert unknown.value.code == 404


def test_push_configuration_round_trip(ams: Ams) -> None:
    admin = ams.client("admin")
    admin.create_topic("pushed")
    admin.create_sub("pushed-sub", "pushed")
    admin.pushconfig_sub("pushed-sub", push_endpoint="https://receiver.example.org/ams")
    push = admin.get_sub("pushed-sub")["pushConfig"]
    assert push["pushEndpoint"] == "https://receiver.example.org/ams"
    assert push["retryPolicy"] == {"type": "linear", "period": 300}
    assert push["verified"] is False
    admin.pushconfig_sub("pushed-sub")
    assert admin.get_sub("pushed-sub")["pushConfig"]["pushEndpoint"] == ""


def test_errors_have_the_ams_shape(ams: Ams) -> None:
    admin = ams.client("admin")
    admin.create_topic("errors")
    admin.create_sub("errors-sub", "errors")
    with pytest.raises(AmsServiceException) as missing:
        admin.get_topic("nope")
    assert missing.value.code == 404
    assert "Topic doesn't exist" in missing.value.msg
    with pytest.raises(AmsServiceException) as exists:
        admin.create_topic("errors")
    assert exists.value.code == 409
    with pytest.raises(AmsServiceException) as bad_ack:
        admin.ack_sub("errors-sub", ["projects/EGI/subscriptions/errors-sub:x"])
    assert bad_ack.value.code == 400
    with pytest.raises(AmsServiceException) as bad_token:
        ArgoMessagingService(endpoint=ams.endpoint, token="0" * 40, project=PROJECT).get_topic(
            "errors"
        )
    assert bad_token.value.code == 401
    with pytest.raises(AmsServiceException) as no_project:
        ArgoMessagingService(
            endpoint=ams.endpoint, token=ams.tokens["admin"], project="NOPE"
        ).get_topic("errors")
    assert no_project.value.code == 404


def test_project_members(ams: Ams) -> None:
    admin = ams.client("admin")
    added = admin.add_project_member("newcomer@egi.eu", roles=["consumer"])
    assert added.name == "newcomer@egi.eu"
    assert added.projects[0].roles == ["consumer"]
    got = admin.get_project_member("newcomer@egi.eu")
    assert (got.name, got.projects[0].project) == ("newcomer@egi.eu", PROJECT)
    admin.remove_project_member("newcomer@egi.eu", PROJECT)
    with pytest.raises(AmsServiceException) as gone:
        admin.get_project_member("newcomer@egi.eu")
    assert gone.value.code == 404
    with pytest.raises(AmsServiceException) as refused:
        ams.client("publisher").add_project_member("x@egi.eu", roles=["consumer"])
    assert refused.value.code == 403
