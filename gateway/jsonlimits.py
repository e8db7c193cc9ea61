"""JSON from requests, bounded in nesting.

Python's decoder recurses once per level: about 1,000 levels raise RecursionError (a 500 if
nothing catches it), and the levels it does read are walked recursively again later (GraphQL
variable coercion, strawberry's input conversion). Every JSON a request carries is read
through `loads`, which refuses lists and objects nested deeper than a bound with `TooDeep`
naming where, whether or not Python's decoder could have read them.
"""

from __future__ import annotations

import json
import re
from typing import Any

# The deepest a GraphQL variable's value, or an AMS body, may nest lists and objects. The
# deepest input the schema takes (a property filter of MAX_PROPERTY_DEPTH levels, two JSON
# levels each, in its filter object) needs about 22.
MAX_DEPTH = 32

Path = tuple[str | int, ...]


class TooDeep(ValueError):
    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path) or "."
        super().__init__(f"lists and objects nested more than {limit} levels deep (at {where})")


def loads(raw: str | bytes, *, max_depth: int) -> Any:
    """`json.loads(raw)`, or `TooDeep` if lists and objects nest more than `max_depth` levels
    (the outermost one is level 1); other errors are json.loads's own."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise TooDeep(_scan(raw, max_depth), max_depth) from None
    if nests_deeper(value, max_depth):
        raise TooDeep(_locate(value, max_depth), max_depth)
    return value


def nests_deeper(value: Any, max_depth: int) -> bool:
    """Whether lists and objects in `value` nest more than `max_depth` levels. Level by
    level, without recursion."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            return True
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
    return False


def _locate(value: Any, max_depth: int, levels: int = 3) -> Path:
    """The first keys (at most `levels`) of the path to where `value` nests too deeply:
    enough to name a GraphQL variable."""
    path: list[str | int] = []
    while len(path) < levels and max_depth > 0:
        items = value.items() if type(value) is dict else enumerate(value)
        for key, child in items:
            if (type(child) is dict or type(child) is list) and nests_deeper(child, max_depth - 1):
                path.append(key)
                value, max_depth = child, max_depth - 1
                break
        else:
            break
    return tuple(path)


_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _scan(raw: str | bytes, max_depth: int) -> Path:
    """Where nesting first goes past `max_depth`, found without decoding: used only when the
    decoder itself gave up (it recursed too deep to tell). Object keys are named; list
    positions are not counted and show as 0."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    opened: list[str] = []  # the brackets open around the current position
    path: list[str | int] = []  # the key (or 0) of each open container but the outermost
    last: str | None = None  # the last string read inside the current object: its key
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            last = token
        elif token in "[{":  # noqa: S105 (a JSON lexer's token, not a secret)
            if opened:
                key: str | int = 0
                if opened[-1] == "{" and last is not None:
                    try:
                        key = json.loads(last)
                    except ValueError:
                        key = last.strip('"')
                path.append(key)
            opened.append(token)
            if len(opened) > max_depth:
                return tuple(path)
            last = None
        elif opened:
            opened.pop()
            if path:
                path.pop()
            last = None
    return tuple(path)
