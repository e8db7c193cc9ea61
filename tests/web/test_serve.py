"""The web app served by a real `opsgraph serve` process (gateway/web.py,
gateway/auth/browser.py): the app at `/` and on its own paths (history mode), never under a
reserved prefix; caching and Content-Security-Policy; the page that says how to build it;
the demo personas' route, there only with --demo on loopback; /auth/status.

Uses the package's real build of web/app (scripts/build-web; tests/web/build.py)."""

from __future__ import annotations

import http.client
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from tests.server import server_env, serving
from tests.web.build import asset_references, built_app, strip_nonce
from tests.web.conftest import Demo

IMMUTABLE = "public, max-age=31536000, immutable"
CSP = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
RESERVED_MISSES = (
    "/graphql/x",
    "/v1/nope",
    "/feeds/nope",
    "/auth/nope",
    "/healthz/x",
    "/readyz/x",
    "/metrics",
    "/static/x.js",
    "/gocdbpi/x",
    "/gocdbpi",
    "/api/x",
    "/api",
    "/accounting/x",
    "/assets/missing.js",
    "/assets",
)
APP_PATHS = ("/", "/sites", "/sites/INFN-T1", "/downtimes/42", "/messaging/biomed/topics/")
PERSONA_KEYS = {"admin", "ngi-manager", "site-admin", "vo-member"}


def _policy(header: str) -> dict[str, str]:
    directives = (d.strip().split(None, 1) for d in header.split(";") if d.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def _page_policy(response: httpx.Response) -> str:
    """The page's policy is CSP but for its style nonce, which the page's head names (for
    the <style> elements React Aria adds): returns that nonce."""
    policy = _policy(response.headers["content-security-policy"])
    style = policy.pop("style-src")
    assert policy == {k: v for k, v in CSP.items() if k != "style-src"}
    found = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{22})'", style)
    assert found, style
    nonce = found.group(1)
    assert response.text.count("csp-nonce") == 1
    assert f'<meta property="csp-nonce" nonce="{nonce}">' in response.text
    return nonce


def _raw_get(base: str, target: str, host: str | None = None) -> tuple[int, bytes]:
    """GET with the request target sent exactly as written (httpx would normalise `..`)."""
    url = urlsplit(base)
    assert url.hostname is not None
    assert url.port is not None
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.putrequest("GET", target, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextmanager
def _serve(database: Path, tmp_path: Path, *args: str, **extra: str) -> Iterator[str]:
    """A server on a copy of the demo database."""
    shutil.copyfile(database, tmp_path / "cli.db")
    with serving(server_env(tmp_path, **extra), *args) as base:
        yield base


@pytest.fixture(scope="module")
def served(demo: Demo) -> str:
    """`serve --demo` on 127.0.0.1 with the package's build of the app (tests/web/conftest.py)."""
    built_app()
    return demo.base


@pytest.fixture(scope="module")
def unbuilt(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """No --demo, the app's build pointed at an empty directory, login configured."""
    tmp_path = tmp_path_factory.mktemp("web-unbuilt")
    (tmp_path / "empty").mkdir()
    with _serve(
        demo_database,
        tmp_path,
        OPSGRAPH_APP_DIR=str(tmp_path / "empty"),
        # login's settings only: nothing asks this issuer before someone signs in
        OPSGRAPH_OIDC_ISSUER="http://127.0.0.1:9/issuer",
        OPSGRAPH_OIDC_CLIENT_ID="opsgraph",
        OPSGRAPH_OIDC_CLIENT_SECRET="client-secret",
        OPSGRAPH_SESSION_SECRET="session-secret-for-tests",
    ) as base:
        yield base


@pytest.mark.parametrize("path", APP_PATHS)
def test_the_app_answers_its_own_paths(served: str, path: str) -> None:
    index = (built_app() / "index.html").read_text(encoding="utf-8")
    response = httpx.get(served + path, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert strip_nonce(response.text) == index
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    _page_policy(response)


def test_each_page_has_a_nonce_of_its_own(served: str) -> None:
    nonces = {_page_policy(httpx.get(f"{served}/sites", timeout=30)) for _ in range(3)}
    assert len(nonces) == 3


def test_head_answers_as_get_without_a_body(served: str) -> None:
    got = httpx.get(f"{served}/sites/INFN-T1", timeout=30)
    head = httpx.head(f"{served}/sites/INFN-T1", timeout=30)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "cache-control", "x-content-type-options", "referrer-policy"):
        assert head.headers[name] == got.headers[name]
    policy = _policy(head.headers["content-security-policy"])
    assert policy.pop("style-src").startswith("'self' 'nonce-")
    assert policy == {k: v for k, v in CSP.items() if k != "style-src"}
    asset = asset_references(got.text)[0]
    head_asset = httpx.head(served + asset, timeout=30)
    assert head_asset.status_code == 200
    assert head_asset.headers["cache-control"] == IMMUTABLE


def test_hashed_assets_are_cached_for_a_year(served: str) -> None:
    page = httpx.get(f"{served}/", timeout=30).text
    assets = asset_references(page)
    assert any(a.endswith(".js") for a in assets), page
    for asset in assets:
        response = httpx.get(served + asset, timeout=30)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["x-content-type-options"] == "nosniff"
        kind = "javascript" if asset.endswith(".js") else "css"
        assert kind in response.headers["content-type"], (asset, response.headers)
        assert response.content == (built_app() / asset.lstrip("/")).read_bytes()


def test_unhashed_files_of_the_build_are_served_uncached(served: str) -> None:
    build = built_app()
    files = [p for p in build.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert {p.name for p in files} > {"index.html"}  # the favicon, at least
    for file in files:
        if file.name == "index.html":  # the page, as at /
            _page_policy(httpx.get(f"{served}/index.html", timeout=30))
            continue
        response = httpx.get(f"{served}/{file.name}", timeout=30)
        assert response.status_code == 200, file.name
        assert response.content == file.read_bytes()
        assert response.headers["cache-control"] == "no-cache"
        assert "content-security-policy" in response.headers


@pytest.mark.parametrize("path", RESERVED_MISSES)
def test_reserved_prefixes_never_fall_back(served: str, path: str) -> None:
    response = httpx.get(served + path, timeout=30, follow_redirects=True)
    assert response.status_code == 404, (path, response.status_code)
    assert "<html" not in response.text.lower()


def test_known_routes_keep_their_own_answers(served: str) -> None:
    """The fallback runs only when no route matched: a route with another method is 405,
    the API answers as before."""
    assert httpx.get(f"{served}/healthz", timeout=30).json() == {"status": "ok"}
    posted = httpx.post(f"{served}/auth/status", timeout=30)
    assert posted.status_code == 405
    assert httpx.post(f"{served}/sites/INFN-T1", timeout=30).status_code == 404
    graphql = httpx.post(f"{served}/graphql", json={"query": "{ __typename }"}, timeout=30)
    assert graphql.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "target",
    [
        "/assets/../../pyproject.toml",
        "/assets/../../../pyproject.toml",
        "/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/assets/..%2f..%2f..%2fREADME.md",
        "/../../pyproject.toml",
        "/%2e%2e/%2e%2e/pyproject.toml",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2fgateway/web.py",
        "/sites/..%2f..%2f..%2f..%2fpyproject.toml",
        "/index.html/../../../pyproject.toml",
        "/.source-hash",
        "/assets/%5c..%5c..%5cpyproject.toml",
    ],
)
def test_path_traversal_leaks_no_file(served: str, target: str) -> None:
    status, body = _raw_get(served, target)
    assert status == 404, (target, status, body[:200])
    assert b"[project]" not in body
    assert b"<html" not in body.lower()


def test_without_a_build_the_app_says_how_to_build_it(unbuilt: str) -> None:
    for path in ("/", "/sites/INFN-T1"):
        response = httpx.get(unbuilt + path, timeout=30)
        assert response.status_code == 503
        assert "scripts/build-web" in response.text
        assert "scripts/install" in response.text
        assert "Node.js" in response.text
        assert _policy(response.headers["content-security-policy"]) == CSP
    assert httpx.head(f"{unbuilt}/", timeout=30).status_code == 503
    assert httpx.get(f"{unbuilt}/assets/index.js", timeout=30).status_code == 404
    assert httpx.get(f"{unbuilt}/api/x", timeout=30).status_code == 404


def _json(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def test_demo_on_loopback_hands_the_personas_to_the_browser(served: str) -> None:
    assert _json(httpx.get(f"{served}/auth/status", timeout=30)) == {
        "loginEnabled": False,
        "demoPersonas": True,
    }
    personas = _json(httpx.get(f"{served}/auth/demo/personas", timeout=30))["personas"]
    assert {p["key"] for p in personas} == PERSONA_KEYS
    for persona in personas:
        assert set(persona) == {"key", "name", "description", "token"}
        # the token works: the app signs in as the persona with it
        viewer = httpx.post(
            f"{served}/graphql",
            json={"query": "{ viewer { name } }"},
            headers={"x-api-key": persona["token"]},
            timeout=30,
        ).json()
        assert viewer == {"data": {"viewer": {"name": persona["name"]}}}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "192.0.2.1"])
def test_personas_refused_to_a_page_that_rebinds_its_name_to_loopback(
    served: str, host: str
) -> None:
    status, body = _raw_get(served, "/auth/demo/personas", host=host)
    assert status == 403
    assert b"token" not in body
    assert b"loopback" in body
    assert _raw_get(served, "/auth/demo/personas", host="localhost")[0] == 200


def test_no_personas_route_without_demo(unbuilt: str) -> None:
    assert _json(httpx.get(f"{unbuilt}/auth/status", timeout=30)) == {
        "loginEnabled": True,
        "demoPersonas": False,
    }
    assert httpx.get(f"{unbuilt}/auth/demo/personas", timeout=30).status_code == 404


def test_no_personas_route_when_listening_beyond_loopback(
    demo_database: Path, tmp_path: Path
) -> None:
    """--demo on 0.0.0.0 (reached here through 127.0.0.1, the only address tests use)."""
    with _serve(demo_database, tmp_path, "--demo", "--host", "0.0.0.0") as base:
        status = _json(httpx.get(f"{base}/auth/status", timeout=30))
        assert status == {"loginEnabled": False, "demoPersonas": False}
        response = httpx.get(f"{base}/auth/demo/personas", timeout=30)
        assert response.status_code == 404
        assert "token" not in response.text
        # the personas exist (console, file) all the same: only the browser route is gone
        stored = json.loads((tmp_path / "cli.db.personas.json").read_text())
        assert {p["key"] for p in stored["personas"]} == PERSONA_KEYS
