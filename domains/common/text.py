"""Text that every output format can carry.

XML 1.0 forbids the C0 control characters other than tab, line feed and carriage return,
the surrogate code points (U+D800-U+DFFF) and U+FFFE, U+FFFF; iCalendar TEXT forbids the
controls too, and a lone surrogate cannot even be encoded as UTF-8 (nor stored by the
databases). Text that some feed or XML route renders is refused with these on input
(`check_text`) and stripped on output (`xml_text`), so that rows stored before the rule, or
written around it, cannot break a public feed either."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from domains.common.errors import CommonRule, Invalid

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

RULE_TEXT = CommonRule.TEXT_NOT_XML.text


def check_text(field: str, value: str | None) -> None:
    """Refuse the characters XML forbids, naming the first one and where it is."""
    if value is None:
        return
    found = _NOT_XML.search(value)
    if found is not None:
        raise Invalid(
            field,
            CommonRule.TEXT_NOT_XML,
            f"{field}: U+{ord(found.group()):04X} at position {found.start()} is not allowed; "
            f"{RULE_TEXT}",
        )


def check_texts(values: Mapping[str, str | None]) -> None:
    """`check_text` for each (field name, value); snake_case names are given in camelCase."""
    for name, value in values.items():
        check_text(re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name), value)


def xml_text(value: str) -> str:
    """`value` without the characters XML forbids (and DEL, which iCal TEXT forbids)."""
    return _NOT_XML.sub("", value).replace("\x7f", "")


NUL_PROBLEM = "U+0000 (NUL) cannot be stored"
SURROGATE_PROBLEM = "a lone surrogate is not a Unicode character"
RULE_STORABLE = CommonRule.TEXT_NOT_STORABLE.text


class Unstorable(NamedTuple):
    """Where text no database stores was found, and what it is."""

    path: str  # such as `variables.input.name` or `messages[0]`; "" for the value itself
    problem: str  # "U+0000 (NUL) cannot be stored" or "a lone surrogate is not a Unicode character"


def unstorable_text(text: str) -> str | None:
    """What is wrong with `text` if no database stores it; None when it is fine."""
    if "\x00" in text:
        return NUL_PROBLEM
    if not text.isascii() and _SURROGATE.search(text):
        return SURROGATE_PROBLEM
    return None


def _shown(name: str) -> str:
    """`name` printable in an error message: lone surrogates and NUL as escapes."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def check_storable(parameters: Iterable[tuple[str, str]]) -> None:
    """Refuse URL parameters (path or query: name, value) holding text no database stores,
    naming the first such parameter (`%00` in a URL decodes to NUL)."""
    for name, value in parameters:
        if unstorable_text(name) or unstorable_text(value):
            raise Invalid(_shown(name), CommonRule.TEXT_NOT_STORABLE)


def unstorable(value: object) -> Unstorable | None:
    """The first place where a decoded JSON value holds text no database stores: a lone
    surrogate (JSON's `"\\ud800"` decodes to one) or U+0000 (JSON's `"\\u0000"`; PostgreSQL's
    text and jsonb refuse it), in a string or a key; None when there is none. Iterative, so
    any nesting depth is fine."""
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = unstorable_text(item)
            if problem is not None:
                return Unstorable(path, problem)
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = unstorable_text(key)
                shown = _shown(key)
                name = f"{path}.{shown}" if path else shown
                if problem is not None:
                    return Unstorable(name, problem)
                stack.append((name, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
    return None
