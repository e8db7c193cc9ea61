"""GraphiQL served from the installed package, with no asset from another origin.

The page and its assets are built at install time from `web/graphiql` (npm registry,
pinned by its package-lock.json) into `gateway/static/graphiql` (see `scripts/build-graphiql`).
The page goes out on `GET /graphql` with a Content-Security-Policy that allows scripts, styles,
fonts, workers and connections from this origin only; the hashed assets under
`/static/graphiql/assets/` are cached for a year. Without a build, the page says how to make
one instead of rendering blank.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

BUILD = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_PREFIX = "/static/graphiql/assets"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # Monaco and GraphiQL set style attributes and inject <style> elements at run time
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        # 'self' covers ws:/wss: to this origin (CSP level 3)
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>opsgraph · GraphiQL not built</title></head>
<body style="font-family: sans-serif; max-width: 48rem; margin: 3rem auto; line-height: 1.5">
<h1>GraphiQL's assets are not built</h1>
<p>opsgraph serves GraphiQL from files built at install time, and found none in
<code>{build}</code>.</p>
<p>From a source checkout, with Node.js 20 (or newer) and npm, run <code>scripts/install</code>
(or only <code>scripts/build-graphiql</code>), then reload this page.
The build fetches GraphiQL and its peers from the npm registry once, as pinned by
<code>web/graphiql/package-lock.json</code>.</p>
<p>The API itself works without them: POST GraphQL requests to this URL.</p>
</body></html>
"""


def graphiql_page() -> Response:
    """The built GraphiQL page, or (503) one that says how to build it."""
    try:
        html = (BUILD / "index.html").read_text(encoding="utf-8")
    except OSError:
        return HTMLResponse(
            _MISSING.format(build=escape(str(BUILD))), status_code=503, headers=_HEADERS
        )
    return HTMLResponse(html, headers=_HEADERS)


class GraphiQLAssets(StaticFiles):
    """The build's hashed files: immutable, so cached for a year. Without a build every asset
    is 404 (not a server error); a build made later is served at once."""

    def __init__(self) -> None:
        super().__init__(directory=BUILD / "assets", check_dir=False)

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
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
