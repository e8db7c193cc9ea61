"""Unsigned APEL messages posted to a real `opsgraph serve` (`POST /accounting/v1/messages`)
by the demo site administrator's API token, which her writing site API credential at INFN-T1
admits: loaded and read back through the portal's URL API; a refused message answered 400
naming the record's field and the rule; a body over OPSGRAPH_MAX_BODY_BYTES answered 413.
Over HTTP GraphQL too: the site's publication (its last message to its administrator only)
and the platform administrator deleting the refused message by a filter, an empty filter
refused naming the field and the rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.service.senders import ACCOUNTING_SERVICE_TYPES
from domains.common.db import make_engine
from domains.topology.models import Service, ServiceType, Site
from tests.accounting.test_intake import records
from tests.server import copy_demo, server_env, serving

SITE = "INFN-T1"
LIMIT = 70_000  # a 1 KiB AMS message base64-encoded, and 64 KiB more
PUBLICATION = """query($site: String!) {
  accountingPublication(site: $site, from: "2026-11", to: "2026-11") {
    lastPublished lastMessage { messageId publisher kind }
    months { month jobRecords summaries normalisedSummaries siteSays inSync }
  }
}"""
MATCHING = """mutation($f: AccountingRejectFilter!) {
  deleteAccountingRejectsMatching(input: {filter: $f}) { count }
}"""
REJECTS = "{ accountingRejects { totalCount nodes { sender rule } } }"


def graphql(client: httpx.Client, token: str | None, query: str, **variables: Any) -> Any:
    """The whole answer (data and errors) of a GraphQL request with `token` (None: anonymous)."""
    headers = {"x-api-key": token} if token else {}
    answer = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_site_credential_posts_a_message_read_back_by_the_portal(
    demo_database: Path, tmp_path: Path
) -> None:
    copy_demo(demo_database, tmp_path, demo_accounting=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with Session(engine) as session:  # the demo registers an accounting service there
        assert session.execute(
            select(col(Service.id))
            .join(Site, col(Site.id) == col(Service.site_id))
            .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
            .where(
                col(Site.short_name) == SITE, col(ServiceType.name).in_(ACCOUNTING_SERVICE_TYPES)
            )
        ).first()
    engine.dispose()
    personas = json.loads((tmp_path / "cli.db.personas.json").read_text())["personas"]
    token = next(p["token"] for p in personas if p["key"] == "site-admin")
    admin = next(p["token"] for p in personas if p["key"] == "admin")
    env = server_env(
        tmp_path, OPSGRAPH_MAX_BODY_BYTES=str(LIMIT), OPSGRAPH_MAX_MESSAGE_BYTES="1024"
    )
    with serving(env) as base, httpx.Client(base_url=base, timeout=120) as client:
        url = "/accounting/v1/messages"
        headers = {"x-api-key": token, "content-type": "text/plain"}
        body = records(SITE, "1", "2")
        posted = client.post(url, content=body, headers={**headers, "message-id": "live-1"})
        assert posted.status_code == 200, posted.text
        assert posted.json() == {"messageId": "live-1", "kind": "job", "records": 2}

        bad = body.replace(b"EndTime: ", b"EndTime: soon", 1)
        refused = client.post(url, content=bad, headers=headers)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert (error["field"], error["rule"]) == ("record[1].EndTime", "ACCOUNTING_TIME_INVALID")

        assert client.post(url, content=body).status_code == 401  # no credential
        too_large = client.post(url, content=b"x" * (LIMIT + 1), headers=headers)
        assert too_large.status_code == 413

        portal = f"/accounting/egi/site/{SITE}/njobs/VO/DATE/2026/11/2026/11/all/onlyinfrajobs/JSON"
        read = client.get(portal)
        assert read.status_code == 200, read.text
        assert {item["id"]: item for item in read.json()}["atlas"]["2026-11"] == 2

        public = graphql(client, None, PUBLICATION, site=SITE)["data"]["accountingPublication"]
        assert public["lastPublished"] is not None
        assert public["lastMessage"] is None  # the site's administrators' and managers'
        assert public["months"] == [
            {
                "month": "2026-11",
                "jobRecords": 2,
                "summaries": 0,
                "normalisedSummaries": 0,
                "siteSays": None,
                "inSync": False,  # jobs held that no sync record accounts for
            }
        ]
        own = graphql(client, token, PUBLICATION, site=SITE)["data"]["accountingPublication"]
        last = own["lastMessage"]
        assert (last["messageId"], last["kind"]) == ("live-1", "job")

        # the refused message, deleted by a filter (its sender: the same credential)
        held = graphql(client, admin, REJECTS)["data"]["accountingRejects"]
        assert held["nodes"] == [{"sender": last["publisher"], "rule": "ACCOUNTING_TIME_INVALID"}]
        empty = graphql(client, admin, MATCHING, f={})["errors"][0]["extensions"]
        assert (empty["code"], empty["field"], empty["rule"]) == (
            "BAD_USER_INPUT",
            "input.filter",
            "ACCOUNTING_REJECT_FILTER_EMPTY",
        )
        other = {"sender": last["publisher"], "rule": "ACCOUNTING_NOT_UTF8"}
        assert graphql(client, admin, MATCHING, f=other)["data"] == {
            "deleteAccountingRejectsMatching": {"count": 0}
        }
        refused_by = graphql(client, token, MATCHING, f={"rule": "ACCOUNTING_TIME_INVALID"})
        assert refused_by["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        wanted = {"sender": last["publisher"], "rule": "ACCOUNTING_TIME_INVALID"}
        assert graphql(client, admin, MATCHING, f=wanted)["data"] == {
            "deleteAccountingRejectsMatching": {"count": 1}
        }
        assert graphql(client, admin, REJECTS)["data"]["accountingRejects"]["totalCount"] == 0
