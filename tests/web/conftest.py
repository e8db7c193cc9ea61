"""The front end in a real browser: Debian's Chromium, driven by Playwright, against a real
`opsgraph serve --demo` serving the built app (scripts/install builds it).

Fixtures:
- `demo` (one per test module): the server, on its own copy of a demo database, with the
  personas' tokens. Tests in a module share it, so they must not depend on each other's
  writes (use unique names).
- `browser` (one per session) and `page` (one per test): a fresh context for each test; at
  its end the page's screenshot goes to test-output/screenshots/<module>/<test>.png, and
  the test fails if the page logged an error (a Content-Security-Policy violation, an
  uncaught exception).
- `visit(page, demo, path, as_=persona)`: open a route as a persona (None: anonymous).
- `assert_accessible(page)`: axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.server import copy_demo, server_env, serving

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "app" / "node_modules" / "axe-core" / "axe.min.js"
APP = ROOT / "gateway" / "static" / "app" / "index.html"
SCREENSHOTS = Path(os.environ.get("OPSGRAPH_SCREENSHOTS", ROOT / "test-output" / "screenshots"))


@dataclass
class Demo:
    base: str
    tokens: dict[str, str]  # persona key -> API token
    names: dict[str, str]  # persona key -> display name
    log: Path
    database: Path

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def answer(self, query: str, *, key: str | None = None, **variables: Any) -> dict[str, Any]:
        """The whole answer (data and errors) of a GraphQL request, with `key` as the API
        token (None: anonymous)."""
        headers = {"x-api-key": key} if key else {}
        response = httpx.post(
            self.url("/graphql"),
            json={"query": query, "variables": variables},
            headers=headers,
            timeout=30,
        )
        body: dict[str, Any] = response.json()
        return body

    def graphql(self, persona: str | None, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a GraphQL request made as `persona` (its API token; None: anonymous);
        it must succeed."""
        body = self.answer(query, key=self.tokens[persona] if persona else None, **variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@dataclass
class PageProblems:
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def demo(
    demo_database: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Demo]:
    """The module's server; a module's DEMO_ENV (a dict) adds OPSGRAPH_* settings to it."""
    assert APP.exists(), "the front end is not built: run scripts/install (needs Node.js and npm)"
    tmp_path = tmp_path_factory.mktemp("web-demo")
    copy_demo(demo_database, tmp_path)
    log = tmp_path / "serve.log"
    extra: dict[str, str] = getattr(request.module, "DEMO_ENV", {})
    with serving(server_env(tmp_path, **extra), "--demo", output=log) as base:
        personas = json.loads((tmp_path / "cli.db.personas.json").read_text())["personas"]
        yield Demo(
            base=base,
            tokens={p["key"]: p["token"] for p in personas},
            names={p["key"]: p["name"] for p in personas},
            log=log,
            database=tmp_path / "cli.db",
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # per module, not per session: Playwright's sync API keeps an asyncio loop running in
    # this thread while it is open, and later tests that call asyncio.run() would fail
    assert CHROMIUM, "the browser tests need Chromium: apt-get install chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _screenshot_path(request: pytest.FixtureRequest) -> Path:
    module = str(request.node.module.__name__).rsplit(".", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(request.node.name))
    return SCREENSHOTS / module / f"{name}.png"


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    problems = PageProblems()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.errors.append(f"console: {message.text}")

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: problems.errors.append(f"uncaught: {error}"))
    try:
        yield opened
    finally:
        target = _screenshot_path(request)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            opened.screenshot(path=str(target), full_page=True)
        finally:
            context.close()
    expected = getattr(request.node, "expected_page_errors", ())
    unexpected = [e for e in problems.errors if not any(x in e for x in expected)]
    assert not unexpected, f"the page logged errors: {unexpected}"


def act_as(page: Page, demo: Demo, persona: str | None) -> None:
    """Make the tab act as a demo persona before any page script runs (the persona switcher
    does the same; tests/web/test_shell.py drives the switcher itself)."""
    if persona is None:
        return
    value = json.dumps({"key": persona, "name": demo.names[persona], "token": demo.tokens[persona]})
    page.add_init_script(f"window.sessionStorage.setItem('opsgraph.persona', {value!r});")


def visit(page: Page, demo: Demo, path: str, *, as_: str | None = None) -> None:
    act_as(page, demo, as_)
    page.goto(demo.url(path))
    page.locator("h1#page-title").wait_for()


def assert_accessible(page: Page) -> None:
    """axe-core (the npm package the front end's build installs) on the page as it is now:
    no serious or critical violation. Evaluated through the DevTools protocol, which the
    page's Content-Security-Policy does not govern."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"
    )
    assert result == [], json.dumps(result, indent=2)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the screenshots are (CI keeps the checkout's test-output/)."""
    shots = sorted(SCREENSHOTS.rglob("*.png")) if SCREENSHOTS.exists() else []
    if shots:
        terminalreporter.write_line(f"{len(shots)} browser screenshots in {SCREENSHOTS}")
