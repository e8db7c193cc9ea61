"""The parameters of the PI read methods, checked as GOCDB checks them: `method` and
`output` are taken out first; a parameter the method does not know, or a value holding
`"`, `'` or a backquote, is answered with GOCDB's error (HTTP 200, a one-line `<error>`),
before anything is read. The last of repeated parameters counts (PHP's `$_GET`).

Shared readings of values: `scope`/`scope_match` (GOCDB: absent = the instance default
scope, `scope=` = every scope, a comma list otherwise; `scope_match=all`, anything else
`any`), `yes_no` (Y/N parameters) and `extensions` (GOCDB's LDAP-like expressions, see
`extensions`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from domains.common.scopes import ScopeMatch, ScopeSelection
from domains.topology.filters import PropertyExpr

# taken out of the query before a method sees it (GOCDB's index.php)
RESERVED = frozenset({"method", "output"})
_FORBIDDEN = frozenset("\"'`")


class PiError(Exception):
    """GOCDB's answer to a request it refuses: HTTP 200 and this body (its `die()`)."""

    def __init__(self, body: str) -> None:
        super().__init__(body)
        self.body = body


def error(message: str) -> PiError:
    """`<error>message</error>`, as GOCDB prints its parameter errors."""
    return PiError(f"<error>{escape(message)}</error>")


@dataclass(frozen=True, slots=True)
class Params:
    """The checked parameters of one call, by name."""

    values: Mapping[str, str]

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def scopes(self) -> ScopeSelection:
        return scope_selection(self.get("scope"), self.get("scope_match"))

    def extensions(self, name: str = "extensions") -> PropertyExpr | None:
        value = self.get(name)
        return None if value is None else extensions(value)


def check(items: Iterable[tuple[str, str]], allowed: frozenset[str] | None) -> Params:
    """The query's parameters if `allowed` has each of them and no value holds a character
    GOCDB refuses; else GOCDB's error for the first that does not. `allowed` None: taken
    as they are (a method GOCDB does not check)."""
    values: dict[str, str] = {}
    for name, value in items:
        if name not in RESERVED:
            values[name] = value
    if allowed is None:
        return Params(values)
    for name in values:
        if name not in allowed:
            raise error(f"Unsupported parameter: {name}")
    for value in values.values():
        if _FORBIDDEN & set(value):
            raise error(f"Unsuported chracter in value: {value}")  # sic, GOCDB's words
    return Params(values)


def scope_selection(scope: str | None, match: str | None) -> ScopeSelection:
    """GOCDB's `scope` and `scope_match`."""
    if scope is None:
        names: tuple[str, ...] | None = None
    else:
        names = tuple(name.strip() for name in scope.strip().strip(",").split(",") if name.strip())
    return ScopeSelection(
        names=names,
        match=None if match is None else ScopeMatch.ALL if match == "all" else ScopeMatch.ANY,
    )


def yes_no(value: str | None) -> bool | None:
    """GOCDB's Y/N parameters (either case); any other value filters nothing."""
    if value in ("Y", "y"):
        return True
    if value in ("N", "n"):
        return False
    return None


# --- extensions ------------------------------------------------------------------------
# GOCDB's extension-property expressions (its ExtensionsParser): a sequence of groups,
# each an optional operator (AND, the default; OR; NOT) followed by one or more `(key=value)`
# terms, e.g. `(VO=atlas)`, `AND(VO=atlas)(tier=2)NOT(VO=lhcb)`, `OR(a=1)(b=2)`. A value
# `*` or empty is the key's presence. Every AND term holds, no NOT term holds, and at least
# one OR term holds (if any is given).

EXTENSIONS_LIMIT = 40  # terms must be fewer (GOCDB's `extensions` limit in local_info.xml)
_KEY = re.compile(r"[a-zA-Z0-9\s@_\-\[\]\+\.]{1,255}")
_VALUE = re.compile(r"[^'\";()`]{0,255}")
_OPERATORS = ("AND", "OR", "NOT")
BAD_EXTENSIONS = (
    "This is not a valid extensions expression. Please see the wiki for information on "
    "valid expressions."
)


def extensions(expression: str) -> PropertyExpr:
    """GOCDB's `extensions` expression as a PropertyExpr; PiError (GOCDB's message) if it
    is not one. Reads each character once: any input costs linear time."""
    groups: dict[str, list[PropertyExpr]] = {name: [] for name in _OPERATORS}
    count, pos = 0, 0
    while pos < len(expression):
        operator = next((op for op in _OPERATORS if expression.startswith(op, pos)), "")
        pos += len(operator)
        terms = 0
        while pos < len(expression) and expression[pos] == "(":
            end = expression.find(")", pos)
            key, equals, value = expression[pos + 1 : max(end, pos)].partition("=")
            if end < 0 or not equals or not _KEY.fullmatch(key) or not _VALUE.fullmatch(value):
                raise PiError(BAD_EXTENSIONS)
            term = PropertyExpr(key=key) if value in ("", "*") else PropertyExpr(key, value)
            groups[operator or "AND"].append(term)
            terms, count, pos = terms + 1, count + 1, end + 1
            if count >= EXTENSIONS_LIMIT:
                raise PiError(
                    "You have exceeded the max amount of quieries allowed. Max allowed is: "
                    f"{EXTENSIONS_LIMIT}"  # sic, GOCDB's words
                )
        if terms == 0:
            raise PiError(BAD_EXTENSIONS)
    conditions = [
        *groups["AND"],
        *(PropertyExpr(negate=term) for term in groups["NOT"]),
    ]
    if groups["OR"]:
        conditions.append(PropertyExpr(any_of=tuple(groups["OR"])))
    if not conditions:
        raise PiError(BAD_EXTENSIONS)
    return conditions[0] if len(conditions) == 1 else PropertyExpr(all_of=tuple(conditions))
