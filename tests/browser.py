"""Headless Chromium for the tests that drive a real browser (tests/web through Playwright,
tests/security/test_newcomer.py on the command line): where it is, and the flags that keep a
fresh one off the network of this closed machine."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
# what a fresh Chromium would otherwise try to reach; every host but 127.0.0.1 resolves to
# nothing, so a page that needs anything from another origin cannot get it
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
