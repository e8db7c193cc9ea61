"""What the ARGO web API's tests share: API keys of a platform administrator and of an
ordinary user, ARGO's documents (the catalogue's seed files, as ARGO exports them), and a
client sending ARGO's headers."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from domains.common.identity import PLATFORM
from domains.identity.service import tokens, users

SEED = Path(__file__).resolve().parents[2] / "domains" / "monitoring" / "seed"
JSON = {"accept": "application/json"}
ADMIN = "argo-admin@example.org"
USER = "argo-user@example.org"


def make_keys(session: Session) -> dict[str, str]:
    """An API key for ADMIN (a platform administrator) and for USER; committed."""
    found = {}
    for who in (USER, ADMIN):
        _, found[who] = tokens.create_api_token(session, PLATFORM, name="argo", user_subject=who)
    users.user_by_subject(session, ADMIN).is_admin = True
    session.commit()
    return found


@cache
def _seed(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SEED / name).read_text(encoding="utf-8"))
    return loaded


def seed_document(file: str, **changes: Any) -> dict[str, Any]:
    """A seed file's document without its `id` and `date` (a new profile), with `changes`."""
    document = copy.deepcopy(_seed(file))
    document.pop("id", None)
    document.pop("date", None)
    document.update(changes)
    return document


@dataclass
class Argo:
    """A client of the ARGO routes acting as the anonymous caller, USER or ADMIN."""

    client: TestClient
    keys: dict[str, str]

    def headers(self, who: str | None) -> dict[str, str]:
        return {**JSON, "x-api-key": self.keys[who]} if who else dict(JSON)

    def call(self, method: str, path: str, body: Any = None, who: str | None = ADMIN) -> Any:
        content = None if body is None else json.dumps(body).encode()
        return self.client.request(
            method, f"/api/v2{path}", content=content, headers=self.headers(who)
        )

    def get(self, path: str, who: str | None = None) -> Any:
        return self.call("GET", path, who=who)

    def data(self, path: str) -> Any:
        response = self.get(path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == {"message": "Success", "code": "200"}
        return body["data"]

    def create(self, resource: str, body: dict[str, Any], query: str = "") -> str:
        response = self.call("POST", f"/{resource}{query}", body)
        assert response.status_code == 201, response.text
        uuid: str = response.json()["data"]["id"]
        return uuid


def ops_document(name: str = "argo-test-ops") -> dict[str, Any]:
    return seed_document("egi_ops.json", name=name)


def make_profiles(argo: Argo, suffix: str = "") -> dict[str, str]:
    """A metric, operations and aggregation profile of the tests' own; their ids."""
    metric = argo.create(
        "metric_profiles", seed_document("argo_mon_critical.json", name=f"argo-test-mp{suffix}")
    )
    ops = argo.create("operations_profiles", ops_document(f"argo-test-ops{suffix}"))
    aggregation = seed_document(
        "critical_aggregation.json",
        name=f"argo-test-agg{suffix}",
        metric_profile={"name": f"argo-test-mp{suffix}", "id": metric},
    )
    return {
        "metric": metric,
        "operations": ops,
        "aggregation": argo.create("aggregation_profiles", aggregation),
    }


def make_report(argo: Argo, name: str = "argo-test-report", suffix: str = "") -> str:
    """A report over profiles of the tests' own; its id."""
    ids = make_profiles(argo, suffix)
    report = seed_document(
        "critical_report.json",
        info={"name": name, "description": ""},
        profiles=[{"id": uuid, "type": kind} for kind, uuid in ids.items()],
    )
    return argo.create("reports", report)
