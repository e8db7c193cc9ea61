"""GOCDB's opt-in cursor paging (PI 5.7): a method that pages reads everything unless the
caller sends `next_cursor` (the rows with larger ids) or `prev_cursor` (the rows just
before that id), at most PAGE_SIZE at a time, always in ascending id order. A paged answer
starts with `<meta>`: links `self` (the query as sent), `next` and `prev` (from the last and
first id of the page; past either end, from the cursor sent), `start` (`next_cursor=0`),
then `<count>` and `<max_page_size>`. Iterate until `count` is 0. The reads are the keyset
pages of domains/common/query.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote_plus

from domains.common.pagination import MAX_KEY, PageRequest, parse_key
from gateway.compat.gocdbpi.params import Params, error
from gateway.compat.gocdbpi.xml import Element

PAGE_SIZE = 100  # GOCDB's index.php (its classes default to 500)
CURSORS = frozenset({"next_cursor", "prev_cursor"})
_UNPAGED = PageRequest(first=MAX_KEY - 1, after=None)  # GOCDB reads everything unpaged


@dataclass(frozen=True, slots=True)
class Paging:
    """The page one call asks for, and what its `<meta>` links are built from."""

    next_cursor: int | None = None
    prev_cursor: int | None = None
    size: int = PAGE_SIZE
    # the links: base URL + path, and the query as sent (name, value), in order
    url: str = ""
    query: tuple[tuple[str, str], ...] = ()
    raw_query: str = ""

    @property
    def paged(self) -> bool:
        return self.next_cursor is not None or self.prev_cursor is not None

    def request(self) -> PageRequest:
        """What the domain read is asked for (everything when not paged)."""
        if self.prev_cursor is not None:
            return PageRequest(first=self.size, after=None, before=self.prev_cursor)
        if self.next_cursor is not None:
            return PageRequest(first=self.size, after=self.next_cursor)
        return _UNPAGED

    def meta(self, root: Element, keys: Sequence[int]) -> None:
        """Put `<meta>` first in `root` if the call pages; `keys`: the ids of the page."""
        if not self.paged:
            return
        first: int | None = keys[0] if keys else None
        last: int | None = keys[-1] if keys else None
        if not keys and self.next_cursor is not None:
            first = self.next_cursor + 1  # past the end: `prev` leads back to the last page
        elif not keys and self.prev_cursor is not None:
            last = max(self.prev_cursor - 1, 0)  # before the start: `next` leads forward
        meta = Element("meta")
        for rel, href in self._links(first, last):
            meta.add("link").set("rel", rel).set("href", href)
        meta.add("count", len(keys))
        meta.add("max_page_size", self.size)
        root.children.insert(0, meta)

    def _links(self, first: int | None, last: int | None) -> list[tuple[str, str]]:
        # built as GOCDB builds them: one parameter list, changed link after link
        query: dict[str, str] = {}
        for name, value in self.query:
            query[name] = value  # the first one's place, the last one's value (parse_str)
        links = [("self", f"{self.url}?{self.raw_query}")]
        if last is not None:
            query.pop("prev_cursor", None)
            query["next_cursor"] = str(last)
            links.append(("next", self._href(query)))
        if first is not None:
            query.pop("next_cursor", None)
            query["prev_cursor"] = str(first)
            links.append(("prev", self._href(query)))
        query.pop("prev_cursor", None)
        query.pop("next_cursor", None)
        query["next_cursor"] = "0"
        links.append(("start", self._href(query)))
        return links

    def _href(self, query: dict[str, str]) -> str:
        encoded = "&".join(f"{_php_encode(k)}={_php_encode(v)}" for k, v in query.items())
        return f"{self.url}?{encoded}"


def _php_encode(text: str) -> str:
    """PHP's urlencode (http_build_query): spaces as `+`, everything but [A-Za-z0-9._-]
    escaped."""
    return quote_plus(text, safe="").replace("~", "%7E")


def from_params(
    params: Params, *, url: str, query: Sequence[tuple[str, str]], raw_query: str
) -> Paging:
    """The cursors of a paged method's call, checked as GOCDB checks them."""
    given = {name: params.get(name) for name in CURSORS if name in params}
    if len(given) == 2:
        raise error(
            "It is invalid to specify both 'next_cursor' and 'prev_cursor' parameters "
            "in the same query"
        )
    cursors: dict[str, int] = {}
    for name, value in given.items():
        key = parse_key(value or "")
        if key is None:
            raise error(
                f"Invalid '{name}' parameter - must be a whole number greater than or equal to zero"
            )
        cursors[name] = key
    return Paging(
        next_cursor=cursors.get("next_cursor"),
        prev_cursor=cursors.get("prev_cursor"),
        size=PAGE_SIZE,
        url=url,
        query=tuple(query),
        raw_query=raw_query,
    )
