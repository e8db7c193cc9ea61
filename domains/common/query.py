"""SQL helpers shared by the domains' read functions: keyset pages and lazy counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    func,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

from domains.common.pagination import PageRequest

Record = Row[Any]


@dataclass(slots=True)
class RecordPage:
    """One page of rows. The total is counted only if somebody asks for it."""

    items: list[Record]
    has_next_page: bool
    has_previous_page: bool
    _count: Callable[[], int] = field(repr=False)
    _total: int | None = field(default=None, repr=False)

    @property
    def total_count(self) -> int:
        if self._total is None:
            self._total = self._count()
        return self._total


def keyset_page(
    session: Session,
    stmt: Select[Any],
    key: ColumnElement[int],
    page: PageRequest,
    *,
    descending: bool = False,
) -> RecordPage:
    """Rows of `stmt` ordered by `key` ascending (or descending), after the cursor (the key
    of the last row seen: larger keys follow it, or smaller ones when descending), at most
    `page.first`. With `page.before` instead: the `page.first` rows just before that key
    (read backwards, returned in the same order as a forward page)."""
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    backwards = page.before is not None
    reverse = descending != backwards
    paged = stmt.order_by(key.desc() if reverse else key).limit(page.first + 1)
    if page.before is not None:
        paged = paged.where(key > page.before if descending else key < page.before)
    elif page.after is not None:
        paged = paged.where(key < page.after if descending else key > page.after)
    rows = list(session.execute(paged).all()) if page.first > 0 else []
    more = len(rows) > page.first
    rows = rows[: page.first]
    if backwards:
        rows.reverse()
    return RecordPage(
        items=rows,
        has_next_page=True if backwards else more,
        has_previous_page=more if backwards else page.after is not None,
        _count=lambda: int(session.execute(count_stmt).scalar_one()),
    )


class _Like(ColumnElement[bool]):
    """`column LIKE pattern`, case-sensitive on every backend: SQLite's LIKE ignores case
    (ASCII), so there it is GLOB with the pattern translated."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], pattern: str) -> None:
        self.column = type_coerce(column, String())
        # a lone backslash at the end escapes nothing: PostgreSQL refuses such a pattern,
        # so it is a literal backslash there, as it is in the GLOB and in MySQL
        trailing = len(pattern) - len(pattern.rstrip("\\"))
        literal = pattern + "\\" if trailing % 2 else pattern
        self.pattern = bindparam(None, literal, type_=String(), unique=True)
        self.glob_value = bindparam(None, glob_pattern(pattern), type_=String(), unique=True)


def glob_pattern(pattern: str) -> str:
    """A LIKE pattern (`%`, `_`, backslash escapes, as PostgreSQL reads them) as a GLOB."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(_GLOB_LITERAL.get(char, char))
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(_GLOB_LITERAL.get(char, char))
    return "".join(out)


_GLOB_LITERAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


@compiles(_Like)
def _like_default(element: _Like, compiler: Any, **kw: Any) -> str:
    return (
        f"({compiler.process(element.column, **kw)} LIKE {compiler.process(element.pattern, **kw)})"
    )


@compiles(_Like, "sqlite")
def _like_sqlite(element: _Like, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"({column} GLOB {compiler.process(element.glob_value, **kw)})"


def like(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    """`column` matches the SQL LIKE `pattern` (`%` any run, `_` one character), case-
    sensitively on every backend (GOCDB's PI filters)."""
    return _Like(column, pattern)


class _InIds(ColumnElement[bool]):
    """`column IN (:ids...)`, the list given at execution as the parameter `ids`. On
    PostgreSQL `column = ANY(:ids)`, one array parameter: an expanding IN of hundreds of
    ids is a new statement text each time, which psycopg parses again (its cache stops at
    50 parameters) and SQLAlchemy re-renders, several ms per loader batch (benchmarks/peer.py,
    the reference query's endpoints: ~30 ms against ~7 ms on a loaded machine)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[int]) -> None:
        self.column = column


@compiles(_InIds)
def _in_ids_default(element: _InIds, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.in_(bindparam("ids", expanding=True)), **kw))


@compiles(_InIds, "postgresql")
def _in_ids_postgresql(element: _InIds, compiler: Any, **kw: Any) -> str:
    ids = bindparam("ids", type_=ARRAY(Integer()))
    return str(compiler.process(element.column == any_(ids), **kw))


def in_ids(column: ColumnElement[int]) -> ColumnElement[bool]:
    """`column` is one of the ids passed at execution as `{"ids": [...]}` (a list): for the
    by-key statements built once at import."""
    return _InIds(column)
