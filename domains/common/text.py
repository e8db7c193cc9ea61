"""Text that every output format can carry.

XML 1.0 forbids the C0 control characters other than tab, line feed and carriage return,
the surrogate code points (U+D800-U+DFFF) and U+FFFE, U+FFFF; iCalendar TEXT forbids the
controls too, and a lone surrogate cannot even be encoded as UTF-8 (nor stored by the
databases). Text that some feed or XML route renders is refused with these on input
(`check_text`) and stripped on output (`xml_text`), so that rows stored before the rule, or
written around it, cannot break a public feed either."""

from __future__ import annotations

import re
from collections.abc import Mapping

from domains.common.errors import Invalid

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

RULE_TEXT = (
    "no control characters other than tab and line ends, no U+FFFE or U+FFFF, "
    "no lone surrogates (characters XML forbids)"
)


def check_text(field: str, value: str | None) -> None:
    """Refuse the characters XML forbids, naming the first one and where it is."""
    if value is None:
        return
    found = _NOT_XML.search(value)
    if found is not None:
        raise Invalid(
            field,
            RULE_TEXT,
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


def lone_surrogate(value: object) -> str | None:
    """Where a decoded JSON value holds a lone surrogate (JSON's `"\\ud800"` decodes to one):
    its path such as `variables.input.name` or `messages[0]`, `""` for the value itself;
    None when there is none. Iterative, so any nesting depth is fine."""
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
                name = f"{path}.{shown}" if path else shown
                if shown != key:
                    return name
                stack.append((name, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
    return None
