"""The web app's real build in the package (scripts/build-web), as the tests read it."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.web import STATIC

APP_BUILD = STATIC / "app"


def built_app() -> Path:
    """The app's build directory; fails (never skips) when scripts/build-web has not made it."""
    index = APP_BUILD / "index.html"
    assert index.is_file(), (
        f"no web app build in {APP_BUILD}: run scripts/build-web (scripts/install runs it; "
        "Node.js >= 20.19 and npm)"
    )
    return APP_BUILD


def asset_references(html: str) -> list[str]:
    """The paths of the scripts and stylesheets the page loads."""
    return re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)


def strip_nonce(html: str) -> str:
    """The page as built: without the style nonce the server puts first in its head."""
    return re.sub(r'<meta property="csp-nonce" nonce="[^"]*">', "", html, count=1)
