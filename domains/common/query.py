"""SQL helpers shared by the domains' read functions: keyset pages and lazy counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

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
    `page.first`."""
    paged = stmt.order_by(key.desc() if descending else key).limit(page.first + 1)
    if page.after is not None:
        paged = paged.where(key < page.after if descending else key > page.after)
    rows = list(session.execute(paged).all()) if page.first > 0 else []
    has_next = len(rows) > page.first
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    return RecordPage(
        items=rows[: page.first],
        has_next_page=has_next,
        has_previous_page=page.after is not None,
        _count=lambda: int(session.execute(count_stmt).scalar_one()),
    )
