"""Where the PI's answers come from: a running GOCDB (its PI over HTTPS, with a client
certificate for the protected methods) or a directory of saved answers.

A directory holds one file per method, `<method>.xml` (e.g. `get_site.xml`), or several
pages of it, `<method>.<n>.xml` (`get_site.1.xml`, `get_site.2.xml`, ... read in the order
of n). A method without a file is skipped (the summary says so).

The import is an operator's command against a registry the operator names, often inside
their own network: its calls do not go through the egress policy (domains/common/egress.py),
which keeps the server's calls made for users (webhooks, push) off that network."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

import httpx2

from gateway.gocdb_import.xmlrows import BadDocument, Page, read_page


class Missing(Exception):
    """The source has nothing for this method (a directory without its file)."""


@dataclass(frozen=True)
class Answer:
    """One page of a method's answer, and where it came from (for messages)."""

    origin: str
    page: Page


class Source(Protocol):
    def pages(
        self, method: str, tag: str, *, params: Mapping[str, str], paged: bool
    ) -> Iterator[Answer]: ...


class DirectorySource:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def files(self, method: str) -> list[Path]:
        single = self.directory / f"{method}.xml"
        numbered = sorted(
            (int(m.group(1)), p)
            for p in self.directory.glob(f"{method}.*.xml")
            if (m := re.fullmatch(rf"{re.escape(method)}\.(\d+)\.xml", p.name))
        )
        return ([single] if single.is_file() else []) + [p for _, p in numbered]

    def pages(
        self, method: str, tag: str, *, params: Mapping[str, str], paged: bool
    ) -> Iterator[Answer]:
        found = self.files(method)
        if not found:
            raise Missing(f"no {method}.xml in {self.directory}")
        for path in found:
            try:
                page = read_page(path.read_bytes(), tag)
            except BadDocument as exc:
                raise BadDocument(f"{path.name}: {exc}") from None
            yield Answer(path.name, page)


# the methods GOCDB serves only to a credential (protection levels 2 and 3)
PROTECTED = frozenset(
    {
        "get_ngi",
        "get_site",
        "get_service_group",
        "get_user",
        "get_project_contacts",
        "get_cert_status_changes",
    }
)


class HttpSource:
    """GOCDB's PI at `base` (the URL that `/public/` and `/private/` are under, e.g.
    https://goc.egi.eu/gocdbpi). Paged methods are read with cursor paging (GOCDB 5.7 and
    later), from next_cursor=0 until a page counts nothing. `headers`: sent with every
    request (e.g. an OAuth2 bearer token GOCDB accepts, or an opsgraph PI's x-api-key)."""

    def __init__(
        self,
        base: str,
        *,
        cert: str | None = None,
        key: str | None = None,
        ca: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 120.0,
        client: httpx2.Client | None = None,
    ) -> None:
        self.base = base.rstrip("/")
        self.has_credential = cert is not None
        if client is None:
            context = ssl.create_default_context()
            if ca is not None:
                ca_path = Path(ca)
                context.load_verify_locations(
                    capath=str(ca_path) if ca_path.is_dir() else None,
                    cafile=None if ca_path.is_dir() else str(ca_path),
                )
            if cert is not None:
                context.load_cert_chain(cert, key)
            client = httpx2.Client(
                verify=context,
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,
                headers=dict(headers or {}),
            )
        self.client = client

    def __enter__(self) -> HttpSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.close()

    def url(self, method: str, params: Mapping[str, str]) -> str:
        area = "private" if method in PROTECTED else "public"
        return f"{self.base}/{area}/?{urlencode({'method': method, **params})}"

    def pages(
        self, method: str, tag: str, *, params: Mapping[str, str], paged: bool
    ) -> Iterator[Answer]:
        cursor: str | None = "0" if paged else None
        while True:
            query = dict(params) if cursor is None else {**params, "next_cursor": cursor}
            url = self.url(method, query)
            try:
                response = self.client.get(url)
            except httpx2.HTTPError as exc:
                raise BadDocument(f"{url}: {exc}") from None
            if response.status_code != 200:
                hint = (
                    " (a protected method: give --cert and --key)"
                    if response.status_code in (401, 403) and not self.has_credential
                    else ""
                )
                raise BadDocument(f"{url}: HTTP {response.status_code}{hint}")
            if response.content.startswith(b"Unable to find method"):
                # GOCDB's answer for a method it does not have (an older GOCDB)
                raise Missing(f"{url}: {response.text.strip()}")
            try:
                page = read_page(response.content, tag)
            except BadDocument as exc:
                raise BadDocument(f"{url}: {exc}") from None
            yield Answer(url, page)
            if not paged or not page.paged or page.next_cursor in (None, cursor):
                return
            cursor = page.next_cursor
