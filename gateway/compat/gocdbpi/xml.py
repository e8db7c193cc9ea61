"""A small element writer producing the XML GOCDB's PI prints (PHP's DOMDocument with
`formatOutput`): the declaration `<?xml version="1.0" encoding="UTF-8"?>`, two-space
indentation, an element holding only text on one line, an empty element as `<X/>`,
attributes in the order they were set. Escaping is the standard library's
(xml.sax.saxutils); characters XML 1.0 cannot carry are dropped.

Value encodings GOCDB uses: `yes_no` (Y/N), `true_false` (TRUE/FALSE), `unix_seconds`,
`minutes` (`Y-m-d H:i`, UTC), `text` for numbers (PHP's rendering of a float: 14
significant digits, no trailing `.0`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.sax.saxutils import escape

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTRIBUTE = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}

Value = str | int | float | bool | None


def text(value: Value) -> str:
    """A value as GOCDB prints it ("" for None)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""  # PHP's string of a boolean
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".14G")
    return str(value)


def yes_no(value: bool) -> str:
    return "Y" if value else "N"


def true_false(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def unix_seconds(moment: datetime) -> str:
    return str(int(_utc(moment).timestamp()))


def minutes(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M")


class Element:
    """One element: its tag, attributes (in the order set), text or children."""

    __slots__ = ("attributes", "children", "tag", "value")

    def __init__(self, tag: str, value: Value = None) -> None:
        self.tag = tag
        self.value = text(value)
        self.attributes: dict[str, str] = {}
        self.children: list[Element] = []

    def set(self, name: str, value: Value) -> Element:
        """Set an attribute (GOCDB keeps an attribute even when its value is empty)."""
        self.attributes[name] = text(value)
        return self

    def add(self, tag: str, value: Value = None) -> Element:
        """A child element, always (GOCDB's addChild), empty if `value` is."""
        child = Element(tag, value)
        self.children.append(child)
        return child

    def add_if(self, tag: str, value: Value) -> Element | None:
        """A child element only when `value` is not empty (GOCDB's addIfNotEmpty)."""
        if value is None or text(value) == "":
            return None
        return self.add(tag, value)

    def _write(self, out: list[str], depth: int) -> None:
        indent = "  " * depth
        attributes = "".join(
            f' {name}="{escape(_clean(value), _ATTRIBUTE)}"'
            for name, value in self.attributes.items()
        )
        if self.children:
            out.append(f"{indent}<{self.tag}{attributes}>\n")
            for child in self.children:
                child._write(out, depth + 1)
            out.append(f"{indent}</{self.tag}>\n")
        elif self.value:
            out.append(
                f"{indent}<{self.tag}{attributes}>{escape(_clean(self.value))}</{self.tag}>\n"
            )
        else:
            out.append(f"{indent}<{self.tag}{attributes}/>\n")

    def render(self) -> bytes:
        """The whole document, this element its root."""
        out = [DECLARATION]
        self._write(out, 0)
        return "".join(out).encode("utf-8")


def _clean(value: str) -> str:
    return _INVALID.sub("", value)


def results() -> Element:
    """The root of every PI answer."""
    return Element("results")
