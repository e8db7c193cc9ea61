"""/healthz says the process is up; /readyz says the database is reachable and at head."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from domains.common.db import make_engine
from gateway import migrate
from gateway.app import create_app
from gateway.config import Settings
from tests.conftest import GraphQLClient


def test_healthz(gql: GraphQLClient) -> None:
    response = gql.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_on_a_migrated_database(gql: GraphQLClient) -> None:
    response = gql.client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["migrations"] == migrate.head_revision()


def test_readyz_on_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "head is" in response.json()["migrations"]
    engine = make_engine(url)
    migrate.upgrade(engine)
    with TestClient(create_app(Settings(database_url=url), engine=engine)) as client:
        assert client.get("/readyz").status_code == 200
    engine.dispose()


def test_readyz_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("unreachable")


def test_graphiql_on_by_default_and_switchable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ide.db'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
    with TestClient(create_app(Settings(database_url=url, graphiql=False))) as client:
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        assert page.status_code in (400, 404)


def test_graphiql_without_a_build_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from gateway import web

    monkeypatch.setattr(web, "GRAPHIQL", replace(web.GRAPHIQL, directory=tmp_path / "not-built"))
    url = f"sqlite:///{tmp_path / 'ide.db'}"
    with TestClient(create_app(Settings(database_url=url))) as client:
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 503
        assert "scripts/build-web" in page.text
        assert "Node.js" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert client.get("/static/graphiql/assets/index.js").status_code == 404


def test_access_log_is_structured(gql: GraphQLClient, capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.logs import configure_logging

    configure_logging("INFO", "json")
    try:
        response = gql.client.get("/healthz", headers={"x-request-id": "log-test-1"})
        assert response.status_code == 200
        lines = [
            json.loads(line)
            for line in capsys.readouterr().err.splitlines()
            if line.startswith("{")
        ]
        entry = next(e for e in lines if e.get("request_id") == "log-test-1")
        assert entry["path"] == "/healthz"
        assert entry["status"] == 200
        assert entry["method"] == "GET"
        assert isinstance(entry["duration_ms"], float)
    finally:
        configure_logging("INFO", "text")
        logging.getLogger("opsgraph").propagate = True
