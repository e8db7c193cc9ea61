"""`opsgraph import gocdb --url`: the saved answers served by a small local HTTP server the
way GOCDB's PI serves them (public and private areas, cursor paging with <meta>), read
through HttpSource, twice, the second run writing nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine

from domains.common.db import make_engine, make_session_factory
from domains.common.imports import Outcome
from gateway.cli import main
from gateway.gocdb_import import HttpSource, run_import
from gateway.gocdb_import.sources import PROTECTED
from gateway.gocdb_import.xmlrows import BadDocument
from tests.compat.test_gocdb_import import DATA, fingerprint
from tests.databases import private_database

EMPTY_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<results><meta><link rel="self" href="x"/><count>0</count><max_page_size>2</max_page_size>
</meta></results>"""


class FakePI(ThreadingHTTPServer):
    """Serves DATA as GOCDB's PI would: `refuse_private` answers the private area 403, as
    GOCDB does for a caller without a credential."""

    refuse_private = False
    asked: list[str]


class Handler(BaseHTTPRequestHandler):
    server: FakePI

    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        method = query.get("method", "")
        self.server.asked.append(f"{url.path}?{url.query}")
        area = "private" if method in PROTECTED else "public"
        if url.path != f"/gocdbpi/{area}/" or (area == "private" and self.server.refuse_private):
            self._answer(403, b"<error>forbidden</error>")
            return
        if method == "get_site":
            page = {"0": "get_site.1.xml", "102": "get_site.2.xml"}.get(query["next_cursor"])
            self._answer(200, EMPTY_PAGE if page is None else (DATA / page).read_bytes())
            return
        path = DATA / f"{method}.xml"
        if method == "get_nothing":
            self._answer(200, b"<results><error>Unknown method</error></results>")
            return
        if not path.is_file():
            self._answer(200, f"Unable to find method: {method}".encode())
            return
        self._answer(200, path.read_bytes())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def pi() -> Iterator[FakePI]:
    server = FakePI(("127.0.0.1", 0), Handler)
    server.asked = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    with private_database(database_url, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _base(pi: FakePI) -> str:
    return f"http://127.0.0.1:{pi.server_address[1]}/gocdbpi/"


def test_the_pi_is_read_page_by_page_twice_the_second_time_writing_nothing(
    pi: FakePI, db: Engine
) -> None:
    with HttpSource(_base(pi)) as source:
        _twice(source, pi, db)


def _twice(source: HttpSource, pi: FakePI, db: Engine) -> None:
    first = run_import(make_session_factory(db), source)
    assert first.failure is None
    assert first.tally.counts["site"][Outcome.CREATED] == 3
    assert first.tally.counts["downtime"][Outcome.CREATED] == 3
    # every scope asked for; the sites read from cursor 0 until a page counts nothing
    assert "/gocdbpi/private/?method=get_site&scope=&next_cursor=0" in pi.asked
    assert "/gocdbpi/private/?method=get_site&scope=&next_cursor=102" in pi.asked
    assert "/gocdbpi/private/?method=get_site&scope=&next_cursor=205" in pi.asked
    assert "/gocdbpi/public/?method=get_service_types" in pi.asked
    before = fingerprint(db)
    second = run_import(make_session_factory(db), source)
    assert second.failure is None
    assert second.tally.total(Outcome.CREATED) + second.tally.total(Outcome.UPDATED) == 0
    assert fingerprint(db) == before


def test_a_refused_protected_method_stops_the_run_and_says_what_to_give(
    pi: FakePI, db: Engine
) -> None:
    pi.refuse_private = True
    with HttpSource(_base(pi)) as source:
        result = run_import(make_session_factory(db), source)
    assert result.failure is not None
    assert "method=get_project_contacts" in result.failure
    assert result.failure.endswith("HTTP 403 (a protected method: give --cert and --key)")


def test_an_unreachable_pi_is_a_failure_not_a_crash(db: Engine) -> None:
    with HttpSource("http://127.0.0.1:9/gocdbpi") as source:
        result = run_import(make_session_factory(db), source)
    assert result.failure is not None
    assert "127.0.0.1:9" in result.failure


def test_an_error_answer_is_reported(pi: FakePI, db: Engine, tmp_path: Path) -> None:
    with HttpSource(_base(pi)) as source:
        pages = source.pages("get_nothing", "X", params={}, paged=False)
        with pytest.raises(BadDocument, match="the PI answered an error: Unknown method"):
            next(pages)


def test_the_command_with_a_url(
    pi: FakePI, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with private_database(database_url, tmp_path) as url:
        monkeypatch.setenv("OPSGRAPH_DATABASE_URL", url)
        assert main(["import", "gocdb", "--url", _base(pi)]) == 0
        assert main(["import", "gocdb", "--url", _base(pi), "--cert", "only.pem"]) == 2


def test_over_https_with_a_client_certificate(db: Engine, tmp_path: Path) -> None:
    """The PI's certificate checked on --ca-certs, with --cert/--key loaded for the client
    (the test CA's certificates are for servers only: this server asks for none)."""
    import ssl

    from tests.compat.tls import make_certificate

    cert = make_certificate(tmp_path)
    server = FakePI(("127.0.0.1", 0), Handler)
    server.asked = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert_file, cert.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with HttpSource(
            f"https://127.0.0.1:{server.server_address[1]}/gocdbpi",
            cert=str(cert.cert_file),
            key=str(cert.key_file),
            ca=str(cert.ca_file),
        ) as source:
            result = run_import(make_session_factory(db), source)
        assert result.failure is None
        assert result.tally.counts["service"][Outcome.CREATED] == 3
        # without the CA, the PI's certificate is not trusted: refused, not a crash
        with HttpSource(f"https://127.0.0.1:{server.server_address[1]}/gocdbpi") as untrusted:
            refused = run_import(make_session_factory(db), untrusted)
        assert refused.failure is not None
        assert "CERTIFICATE_VERIFY_FAILED" in refused.failure
    finally:
        server.shutdown()
        server.server_close()


def test_a_method_the_pi_does_not_have_is_skipped(pi: FakePI, db: Engine) -> None:
    from gateway.gocdb_import.runner import STEPS

    steps = [*STEPS[:3], replace(STEPS[3], method="get_site_v2")]
    with HttpSource(_base(pi)) as source:
        result = run_import(make_session_factory(db), source, steps=steps)
    assert result.failure is None
    (skipped,) = [s for s in result.tally.skipped if s[1] == "get_site_v2"]
    assert skipped[2].endswith("Unable to find method: get_site_v2")


def test_a_header_is_sent_and_a_bad_one_refused(
    pi: FakePI, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with private_database(database_url, tmp_path) as url:
        monkeypatch.setenv("OPSGRAPH_DATABASE_URL", url)
        assert main(["import", "gocdb", "--url", _base(pi), "--header", "x-api-key: k"]) == 0
        assert main(["import", "gocdb", "--url", _base(pi), "--header", "nocolon"]) == 2
