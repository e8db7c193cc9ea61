"""The browser front ends, served from files built at install time, with no asset from
another origin: the operations web app at `/` and GraphiQL on `GET /graphql`.

`scripts/build-web` builds them from `web/app` and `web/graphiql` (npm registry, pinned by
their package-lock.json) into `gateway/static/app` and `gateway/static/graphiql`, package
data, so a wheel built afterwards serves them without Node.js. Each build is an `index.html`
and hashed files under `assets/`: the page goes out with a strict Content-Security-Policy and
`Cache-Control: no-cache`, the hashed assets are cached for a year. Without a build the page
answers 503 and says how to make one; a build made later is served at once.

The app routes in the browser (history mode): a GET for any path outside the reserved
prefixes that is not a file of the build answers the app's page, so that `/sites/INFN-T1`
can be reloaded or shared. Under a reserved prefix nothing ever falls back: an unknown
API path stays a 404, never an HTML page with 200."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from html import escape
from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"

# Paths that belong to the server, now or in a later issue: never answered with the app.
RESERVED_PREFIXES: tuple[str, ...] = (
    "/graphql",
    "/v1",  # AMS compatibility
    "/feeds",
    "/auth",
    "/healthz",
    "/readyz",
    "/metrics",
    "/static",  # GraphiQL's build
    "/assets",  # the app's hashed assets
    "/gocdbpi",  # GOCDB's programmatic interface (compatibility)
    "/api",
    "/accounting",
)


def is_reserved(path: str) -> bool:
    """Whether `path` is a reserved prefix or lies under one (`/api`, `/api/x`; not `/apis`)."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED_PREFIXES)


def _csp(*directives: str) -> str:
    return "; ".join(directives)


APP_CONTENT_SECURITY_POLICY = _csp(
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    # 'self' covers ws:/wss: to this origin (CSP level 3): live updates over graphql-transport-ws
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",  # the sign-out form posts to /auth/logout
    "frame-ancestors 'none'",
)

GRAPHIQL_CONTENT_SECURITY_POLICY = _csp(
    "default-src 'none'",
    "script-src 'self'",
    # Monaco and GraphiQL set style attributes and inject <style> elements at run time
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
)

_MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>opsgraph · {title} not built</title></head>
<body>
<h1>{title} is not built</h1>
<p>opsgraph serves {title} from files built at install time, and found none in
<code>{directory}</code>.</p>
<p>From a source checkout, with Node.js 20 (20.19 or newer) and npm, run
<code>scripts/install</code> (or only <code>scripts/build-web</code>), then reload this page.
The build fetches its packages from the npm registry once, as pinned by
<code>{source}/package-lock.json</code>. A wheel built from the checkout afterwards contains
the build, and needs no Node.js where it is installed.</p>
{extra}
</body></html>
"""


_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


def _with_style_nonce(html: str, nonce: str) -> str:
    """The page with `<meta property="csp-nonce" nonce="...">` first in its head, where
    React Aria (and Vite's style loading) find the nonce for the <style> elements they add
    at run time (React Aria's press handling adds one). The policy allows <style> elements
    with this response's nonce and no others, and no style attribute in markup: markup
    injected into the page still cannot style it, and no script runs inline."""
    meta = f'<meta property="csp-nonce" nonce="{nonce}">'
    return _HEAD.sub(lambda head: head.group(0) + meta, html, count=1)


class ImmutableAssets(StaticFiles):
    """A build's hashed files (their names change with their contents): cached for a year.
    Without a build every asset is 404, not a server error. StaticFiles keeps every path
    inside the directory (`..` and symbolic links out of it are not found)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, check_dir=False)

    async def check_config(self) -> None:
        """No build: every asset is simply not found (StaticFiles would raise)."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = IMMUTABLE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@dataclass(frozen=True, slots=True)
class Build:
    """One front end's build: `directory/index.html` and `directory/assets/*`."""

    title: str  # as the page without a build names it
    source: str  # its npm project in a checkout
    directory: Path
    content_security_policy: str
    missing_extra: str = ""  # a paragraph more for the page without a build
    # a fresh nonce for <style> elements on each page (see _with_style_nonce)
    style_nonce: bool = False

    def headers(self, style_nonce: str | None = None) -> dict[str, str]:
        """What the page (and any unhashed file of the build) goes out with."""
        policy = self.content_security_policy
        if style_nonce is not None:
            policy = policy.replace("style-src 'self'", f"style-src 'self' 'nonce-{style_nonce}'")
        return {
            "Content-Security-Policy": policy,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    def page(self) -> Response:
        """The built index.html, or (503) a page that says how to build it."""
        try:
            html = (self.directory / "index.html").read_text(encoding="utf-8")
        except OSError:
            missing = _MISSING.format(
                title=escape(self.title),
                directory=escape(str(self.directory)),
                source=escape(self.source),
                extra=self.missing_extra,
            )
            return HTMLResponse(missing, status_code=503, headers=self.headers())
        if not self.style_nonce:
            return HTMLResponse(html, headers=self.headers())
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(_with_style_nonce(html, nonce), headers=self.headers(nonce))

    def assets(self) -> ImmutableAssets:
        return ImmutableAssets(self.directory / "assets")

    def root_file(self, path: str) -> Path | None:
        """The build's file at `path` outside assets/ (favicon.svg, robots.txt), if any: a
        regular file inside the directory, its name not hidden."""
        parts = path.strip("/").split("/")
        if not path.strip("/") or any(not part for part in parts):
            return None
        root = self.directory.resolve()
        candidate = (root / Path(*parts)).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate


GRAPHIQL = Build(
    "GraphiQL",
    "web/graphiql",
    STATIC / "graphiql",
    GRAPHIQL_CONTENT_SECURITY_POLICY,
    "<p>The API itself works without it: POST GraphQL requests to <code>/graphql</code>.</p>",
)
GRAPHIQL_ASSETS_PREFIX = "/static/graphiql/assets"
APP_ASSETS_PREFIX = "/assets"  # the app's Vite build: base "/", assetsDir "assets"


def app_build(directory: str | None = None) -> Build:
    """The web app's build: OPSGRAPH_APP_DIR, else the package's own."""
    return Build(
        "The opsgraph web app",
        "web/app",
        Path(directory) if directory else STATIC / "app",
        APP_CONTENT_SECURITY_POLICY,
        '<p>The API works without it: GraphiQL is at <a href="/graphql">/graphql</a>.</p>',
        style_nonce=True,
    )


def _unsafe_segment(segment: str) -> bool:
    """`.`, `..` and hidden names (`.env`, `.source-hash`), backslashes and NULs: never a
    route of the app, and never looked up as a file."""
    return segment.startswith(".") or "\\" in segment or "\x00" in segment


class AppFallback:
    """The router's default (it runs when no route matched): GET or HEAD for a path outside
    the reserved prefixes answers the build's file of that name, or the app's page. Anything
    else goes to `not_found`, Starlette's own 404."""

    def __init__(self, build: Build, not_found: ASGIApp) -> None:
        self.build = build
        self.not_found = not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or is_reserved(path)
            or any(_unsafe_segment(segment) for segment in path.split("/"))
        ):
            await self.not_found(scope, receive, send)
            return
        found = self.build.root_file(path)
        response = (
            FileResponse(found, headers=self.build.headers())
            if found and found.name != "index.html"  # the page itself: with its nonce
            else self.build.page()
        )
        await response(scope, receive, send)
