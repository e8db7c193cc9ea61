"""Browser login against the real test issuer: code flow with PKCE, the session cookie,
the same-origin rule for cookie-authenticated requests, and logout."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.websocket import receive_json

CALLBACK = "http://testserver/auth/callback"
VIEWER = {"query": "{ viewer { subject name } }"}
SAME_ORIGIN = {"origin": "http://testserver"}


@pytest.fixture
def browser(oidc_issuer: OIDCIssuer, database_url: str, engine: object) -> Iterator[TestClient]:
    client_entry = oidc_issuer.clients[GATEWAY_CLIENT[0]]
    saved = client_entry.redirect_uris
    client_entry.redirect_uris = (*saved, CALLBACK)
    settings = Settings(
        database_url=database_url,
        log_format="text",
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        session_secret="test-session-secret-not-for-production",
        public_url="http://testserver",
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client
    client_entry.redirect_uris = saved


def log_in(browser: TestClient, next_path: str = "/somewhere", lands_on: str | None = None) -> None:
    start = browser.get("/auth/login", params={"next": next_path})
    assert start.status_code == 302
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [GATEWAY_CLIENT[0]]
    # the issuer is a real server: the browser goes there and is sent back with a code
    issued = httpx2.get(authorize, follow_redirects=False)
    assert issued.status_code == 302
    back = urlsplit(issued.headers["location"])
    done = browser.get(f"{back.path}?{back.query}")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == (lands_on or next_path)
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_login_sets_a_session_the_api_honours(browser: TestClient, oidc_issuer: OIDCIssuer) -> None:
    assert (
        browser.post("/graphql", json=VIEWER, headers=SAME_ORIGIN).json()["data"]["viewer"] is None
    )
    log_in(browser)
    viewer = browser.post("/graphql", json=VIEWER, headers=SAME_ORIGIN).json()["data"]["viewer"]
    assert viewer == {
        "subject": oidc_issuer.current_user["voperson_id"],
        "name": oidc_issuer.current_user["name"],
    }


def test_cookie_requests_from_other_origins_are_refused(browser: TestClient) -> None:
    log_in(browser)
    for headers in ({}, {"origin": "https://evil.example.org"}, {"referer": "http://other/x"}):
        body = browser.post("/graphql", json=VIEWER, headers=headers).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", headers
    same_site_referer = browser.post(
        "/graphql", json=VIEWER, headers={"referer": "http://testserver/app"}
    ).json()
    assert same_site_referer["data"]["viewer"] is not None


def test_logout_ends_the_session(browser: TestClient) -> None:
    log_in(browser)
    assert browser.get("/auth/logout").status_code == 405  # any page could fire a GET
    assert browser.post("/graphql", json=VIEWER, headers=SAME_ORIGIN).json()["data"]["viewer"]
    out = browser.post("/auth/logout")
    assert out.status_code in (302, 303)
    assert (
        browser.post("/graphql", json=VIEWER, headers=SAME_ORIGIN).json()["data"]["viewer"] is None
    )


def test_login_refuses_open_redirects_and_forged_state(browser: TestClient) -> None:
    log_in(browser, next_path="https://evil.example.org/", lands_on="/")
    forged = browser.get("/auth/callback", params={"code": "x", "state": "not-ours"})
    assert forged.status_code == 400


def test_no_login_routes_without_a_session_secret(
    oidc_issuer: OIDCIssuer, database_url: str
) -> None:
    settings = Settings(
        database_url=database_url,
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/auth/login").status_code == 404


def test_a_cross_site_websocket_with_the_cookie_is_refused(browser: TestClient) -> None:
    """Browsers open sockets cross-site with the cookie attached: the handshake must come
    from our own origin, like a state-changing POST."""
    from starlette.websockets import WebSocketDisconnect

    log_in(browser)
    protocol = ["graphql-transport-ws"]
    hostile = {"origin": "https://evil.example"}

    def handshake() -> None:
        with browser.websocket_connect("/graphql", subprotocols=protocol, headers=hostile) as ws:
            ws.send_json({"type": "connection_init", "payload": {}})
            receive_json(ws)

    # strawberry refuses the handshake itself (1008); the cookie check would too
    with pytest.raises(WebSocketDisconnect):
        handshake()
    with browser.websocket_connect("/graphql", subprotocols=protocol, headers=SAME_ORIGIN) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert receive_json(ws)["type"] == "connection_ack"


def test_without_a_public_url_only_a_loopback_host_is_believed(
    oidc_issuer: OIDCIssuer, database_url: str, engine: object
) -> None:
    """The callback URL sent to the issuer must not follow a Host header anyone can forge."""
    settings = Settings(
        database_url=database_url,
        log_format="text",
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        session_secret="test-session-secret-not-for-production",
        # one app, two clients: no LISTEN thread, which could start only once
        pg_listen=False,
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://evil.example", follow_redirects=False) as client:
        for path in ("/auth/login", "/auth/callback?code=x&state=y"):
            refused = client.get(path)
            assert refused.status_code == 400, path
            assert "OPSGRAPH_PUBLIC_URL" in refused.json()["error"]
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        start = client.get("/auth/login")
        assert start.status_code == 302
        redirect_uri = parse_qs(urlsplit(start.headers["location"]).query)["redirect_uri"]
        assert redirect_uri == ["http://127.0.0.1:8000/auth/callback"]
