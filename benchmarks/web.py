"""The front end in headless Chromium against a real `opsgraph serve` on loopback.

    python -m benchmarks.web [--scale 500] [--runs 5]

Prints:
- the JavaScript the first route (`/`) loads: every script response the page fetched until it
  was idle, raw and gzipped (level 6, as a reverse proxy would send it; target 250 KB), and
  beside it the data files from /assets the page fetches (the map's countries);
- the time from navigation to the first rendered row of the sites list (`/sites`), median
  and p95 over `--runs` fresh browser contexts (cold cache each time);
- the time to page through the whole sites list of a synthetic federation of `--scale`
  sites with the list's "Next page" button, and the rows seen (they must equal the scale).

Needs the built front end (scripts/install) and Debian's Chromium. Run from the repository
root with the project's virtualenv.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, Response, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.server import run_cli, server_env, serving

ROW = "table tbody tr"
Sizes = tuple[int, int, int]  # files, raw bytes, gzipped bytes


def first_route_javascript(browser: Browser, base: str) -> tuple[Sizes, Sizes]:
    """The scripts `/` loads, and the other files from /assets it fetches (the map's
    countries), each as (files, raw bytes, gzipped bytes)."""
    bodies: dict[str, bytes] = {}
    data: dict[str, bytes] = {}

    def on_response(response: Response) -> None:
        if not response.ok:
            return
        if response.request.resource_type == "script":
            bodies[response.url] = response.body()
        elif "/assets/" in response.url and not response.url.endswith(".css"):
            data[response.url] = response.body()

    context = browser.new_context()
    page = context.new_page()
    page.on("response", on_response)
    page.goto(f"{base}/", wait_until="networkidle")
    page.locator("h1#page-title").wait_for()
    page.wait_for_load_state("networkidle")
    context.close()
    return _sizes(bodies), _sizes(data)


def _sizes(bodies: dict[str, bytes]) -> Sizes:
    raw = sum(len(body) for body in bodies.values())
    zipped = sum(len(gzip.compress(body, compresslevel=6)) for body in bodies.values())
    return len(bodies), raw, zipped


def time_to_first_row(browser: Browser, base: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{base}/sites")
    page.locator(ROW).first.wait_for()
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed


def page_through(browser: Browser, base: str) -> tuple[float, int, int]:
    """(seconds, rows seen, pages) for the whole list, page by page."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    started = time.perf_counter()
    page.goto(f"{base}/sites")
    page.locator(ROW).first.wait_for()
    rows, pages = page.locator(ROW).count(), 1
    while True:
        button = page.get_by_role("button", name="Next page")
        if button.count() == 0:
            break
        first = page.locator(ROW).first.inner_text()
        button.click()
        page.wait_for_function(
            "([selector, before]) => { const r = document.querySelector(selector);"
            " return r !== null && r.innerText !== before; }",
            arg=[ROW, first],
        )
        rows += page.locator(ROW).count()
        pages += 1
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed, rows, pages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp_path = Path(directory)
        env = server_env(tmp_path)
        done = run_cli(tmp_path, "seed", "--scale", str(args.scale), env=env)
        assert done.returncode == 0, done.stderr
        with serving(env) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            (files, raw, zipped), (data_files, data_raw, data_zipped) = first_route_javascript(
                browser, base
            )
            print(
                f"first route (/): {files} scripts, {raw / 1000:.1f} kB raw, "
                f"{zipped / 1000:.1f} kB gzipped (target <= 250 kB); and {data_files} data "
                f"files fetched after it (the map's countries), {data_raw / 1000:.1f} kB raw, "
                f"{data_zipped / 1000:.1f} kB gzipped"
            )
            samples = [time_to_first_row(browser, base) * 1000 for _ in range(args.runs)]
            p95 = sorted(samples)[max(0, round(0.95 * len(samples)) - 1)]
            print(
                f"/sites, first rendered row, cold context: median "
                f"{statistics.median(samples):.0f} ms, p95 {p95:.0f} ms ({args.runs} runs)"
            )
            seconds, rows, pages = page_through(browser, base)
            print(
                f"/sites paged through at --scale {args.scale}: {rows} rows in {pages} pages, "
                f"{seconds:.2f} s ({seconds / pages * 1000:.0f} ms a page)"
            )
            assert rows == args.scale, f"saw {rows} rows of {args.scale} sites"
            browser.close()


if __name__ == "__main__":
    main()
