"""The ARGO web API's machinery on the in-process app: ARGO's envelope and error bodies,
`Accept` negotiation, unknown paths and methods, the body limit, and `x-api-key` mapped to
opsgraph's principals (on a route of this module's own, through the same ArgoApi the
app mounts)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from domains.common.errors import (
    CommonRule,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from domains.common.identity import PLATFORM, Principal
from domains.identity.service import tokens, users
from gateway.auth.authenticator import build_authenticator
from gateway.compat.argo import ArgoApi, envelope
from gateway.compat.argo.routing import Call, json_object, route
from gateway.config import Settings
from tests.conftest import AppFactory
from tests.refusals import writes_nothing

JSON = {"accept": "application/json"}


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client().client


def _argo(response: Any, code: int) -> dict[str, Any]:
    """The ARGO error body of `response`, checked: status and errors with string codes."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["status"]["code"] == str(code)
    assert body["errors"]
    assert all(e["code"] == str(code) for e in body["errors"])
    assert "data" not in body
    return body


def test_version_is_argo_s_bare_object(client: TestClient) -> None:
    response = client.get("/api/v2/version", headers=JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.text.startswith('{\n "release": ')  # Go's MarshalIndent, one space
    assert response.json()["implementation"] == "opsgraph"


@pytest.mark.parametrize(
    "accept", [None, "", "*/*", "application/xml", "text/html", "application/jsonx"]
)
def test_an_accept_without_json_is_406(client: TestClient, accept: str | None) -> None:
    """ARGO's 406, no header at all included (the test client's default `*/*` removed)."""
    if accept is None:
        del client.headers["accept"]
        response = client.get("/api/v2/version")
    else:
        response = client.get("/api/v2/version", headers={"accept": accept})
    body = _argo(response, 406)
    assert body["status"] == {
        "message": "Not Acceptable Content Type",
        "code": "406",
        "details": envelope.NOT_ACCEPTABLE_DETAILS,
    }


@pytest.mark.parametrize(
    "accept", ["application/json", "application/json; charset=utf-8", "text/html, application/json"]
)
def test_json_among_the_accepted_types_is_enough(client: TestClient, accept: str) -> None:
    assert client.get("/api/v2/version", headers={"accept": accept}).status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v2/nothing", "/api/v2/version/x", "/api/v2/", "/api/v3/x", "/api/v2/version/"]
)
def test_unknown_paths_are_argo_s_404(client: TestClient, session: Session, path: str) -> None:
    with writes_nothing(session):
        for method in ("GET", "POST", "PUT", "DELETE"):
            body = _argo(client.request(method, path, headers=JSON), 404)
            assert body["status"]["message"] == "Not Found"


def test_another_method_on_a_known_path_is_argo_s_405(client: TestClient) -> None:
    response = client.post("/api/v2/version", headers=JSON, content=b"{}")
    body = _argo(response, 405)
    assert body["status"]["message"] == "Method Not Allowed"
    assert response.headers["allow"] == "GET, HEAD"


def test_head_is_get_without_a_body(client: TestClient) -> None:
    response = client.head("/api/v2/version", headers=JSON)
    assert (response.status_code, response.content) == (200, b"")


def test_a_parameter_no_database_stores_is_400(client: TestClient) -> None:
    body = _argo(client.get("/api/v2/version?x=%00", headers=JSON), 400)
    assert body["errors"][0]["details"].startswith("x: ")


def test_an_oversized_body_is_argo_s_413(make_client: AppFactory) -> None:
    client = make_client(max_body_bytes=10).client
    body = _argo(client.post("/api/v2/anything", headers=JSON, content=b"x" * 100), 413)
    assert body["status"]["message"] == "Request Entity Too Large"


# --- x-api-key mapped to opsgraph's principals ------------------------------------------


async def _who(call: Call) -> Any:
    def work(session: Session, principal: Principal) -> Any:
        return {"subject": principal.subject, "admin": principal.is_admin}

    return envelope.success([await call.read(work)])


async def _write(call: Call) -> Any:
    raw = await call.body()

    def work(session: Session, principal: Principal) -> Any:
        body = json_object(raw)
        if not principal.is_admin:
            raise Forbidden("only platform administrators may do this")
        return body

    return envelope.success(await call.write(work), "Done", 201)


@pytest.fixture
def probe(
    engine: Engine, session_factory: sessionmaker[Session], database_url: str
) -> Iterator[TestClient]:
    """An app of ArgoApi routes of this module's own (a read and a write)."""
    settings = replace(Settings(database_url=database_url, log_format="text"), pg_listen=False)
    api = ArgoApi(settings, session_factory, build_authenticator(settings))
    routes = [
        api.route("/who", [route("/who", _who)]),
        api.route("/write", [route("/write", _write, ["POST"])]),
    ]
    with TestClient(Starlette(routes=routes)) as client:
        yield client


@pytest.fixture
def keys(session: Session) -> dict[str, str]:
    found = {}
    for who in ("user@example.org", "admin@example.org"):
        _, found[who] = tokens.create_api_token(session, PLATFORM, name="argo", user_subject=who)
    users.user_by_subject(session, "admin@example.org").is_admin = True
    session.commit()
    return found


def test_no_key_reads_as_the_anonymous_caller(probe: TestClient) -> None:
    response = probe.get("/who", headers=JSON)
    assert response.json() == {
        "status": {"message": "Success", "code": "200"},
        "data": [{"subject": None, "admin": False}],
    }


def test_a_key_reads_as_its_user(probe: TestClient, keys: dict[str, str]) -> None:
    response = probe.get("/who", headers={**JSON, "x-api-key": keys["user@example.org"]})
    assert response.json()["data"] == [{"subject": "user@example.org", "admin": False}]


@pytest.mark.parametrize("key", ["not-a-token", " "])
def test_a_key_that_is_not_valid_is_401(probe: TestClient, key: str) -> None:
    body = _argo(probe.get("/who", headers={**JSON, "x-api-key": key}), 401)
    assert body["status"] == {
        "message": "Unauthorized",
        "code": "401",
        "details": envelope.UNAUTHORIZED_DETAILS,
    }


def test_the_key_is_not_read_from_the_query(probe: TestClient, keys: dict[str, str]) -> None:
    response = probe.get(f"/who?key={keys['user@example.org']}", headers=JSON)
    assert response.json()["data"] == [{"subject": None, "admin": False}]


def test_a_write_needs_credentials_before_anything_else(
    probe: TestClient, session: Session
) -> None:
    with writes_nothing(session):
        _argo(probe.post("/write", headers={"accept": "text/html"}, content=b"{"), 401)


def test_a_write_by_the_wrong_caller_is_403(
    probe: TestClient, keys: dict[str, str], session: Session
) -> None:
    headers = {**JSON, "x-api-key": keys["user@example.org"]}
    with writes_nothing(session):
        body = _argo(probe.post("/write", headers=headers, content=b"{}"), 403)
        assert body["status"] == {"message": "Access to the resource is Forbidden", "code": "403"}


def test_a_write_by_an_administrator(probe: TestClient, keys: dict[str, str]) -> None:
    headers = {**JSON, "x-api-key": keys["admin@example.org"]}
    response = probe.post("/write", headers=headers, content=b'{"a": 1}')
    assert response.status_code == 200
    assert response.json() == {"status": {"message": "Done", "code": "201"}, "data": {"a": 1}}


@pytest.mark.parametrize(
    ("content", "details"),
    [
        (b"{", envelope.INVALID_JSON),
        (b"[1]", envelope.INVALID_JSON),
        (b"\xff", envelope.INVALID_JSON),
        (b'{"a": "\\u0000"}', "a: U+0000"),
        (b"[" * 40 + b"]" * 40, "lists and objects nested"),
    ],
)
def test_a_body_that_is_no_json_object_is_400(
    probe: TestClient, keys: dict[str, str], content: bytes, details: str
) -> None:
    headers = {**JSON, "x-api-key": keys["admin@example.org"]}
    body = _argo(probe.post("/write", headers=headers, content=content), 400)
    assert body["errors"][0]["details"].startswith(details)


# --- ARGO's bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (Unauthenticated("x"), 401, "Unauthorized"),
        (Forbidden("x"), 403, "Access to the resource is Forbidden"),
        (NotFound("x"), 404, "Not Found"),
        (Conflict("x"), 409, "Conflict"),
        (Invalid("name", CommonRule.TEXT_TOO_LONG), 422, "Validation Error"),
        (RateLimited("x"), 429, "Too Many Requests"),
        (DomainError("x"), 400, "Bad Request"),
    ],
)
def test_service_refusals_in_argo_s_words(error: DomainError, code: int, message: str) -> None:
    refused = envelope.from_domain_error(error)
    body = json.loads(refused.body_bytes())
    assert (refused.code, body["status"]["code"], body["status"]["message"]) == (
        code,
        str(code),
        message,
    )
    assert body["errors"][0]["code"] == str(code)


def test_the_failure_bodies_argo_documents() -> None:
    assert envelope.validation_failed(["State:C is duplicated"]).body() == {
        "status": {"message": "Validation Error", "code": "422"},
        "errors": [
            {"message": "Validation Failed", "code": "422", "details": "State:C is duplicated"}
        ],
    }
    assert envelope.not_found().body() == {
        "status": {"message": "Not Found", "code": "404"},
        "errors": [
            {
                "message": "Not Found",
                "code": "404",
                "details": "item with the specific ID was not found on the server",
            }
        ],
    }
    assert envelope.internal().body() == {
        "status": {"message": "Internal Server Error", "code": "500"},
        "errors": [{"message": "Internal Server Error", "code": "500"}],
    }
    assert envelope.message_only("Operations Profile Successfully Deleted") == {
        "status": {"message": "Operations Profile Successfully Deleted", "code": "200"}
    }
    assert envelope.unavailable("late").code == 503
    assert envelope.dumps({"a": "é"}) == '{\n "a": "é"\n}'.encode()
