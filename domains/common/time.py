"""UTC-only time helpers (DESIGN rule 7)."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# set while a cacheable answer is computed (gateway/cache.py): [True] once the clock is read
_clock_read: ContextVar[list[bool] | None] = ContextVar("opsgraph_clock_read", default=None)


def utcnow() -> datetime:
    clock_read()
    return datetime.now(UTC)


def clock_read() -> None:
    """Note that the answer being computed depends on the time (it is not cached)."""
    seen = _clock_read.get()
    if seen is not None:
        seen[0] = True


def watch_clock() -> list[bool]:
    """From now on in this context, note reads of the clock: [True] once one happened."""
    seen = [False]
    _clock_read.set(seen)
    return seen


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetime column; SQLite hands back naive values, we mark them UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: opsgraph stores UTC-aware times only")
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite keeps the text SQLAlchemy wrote (ISO 8601, in UTC); fromisoformat reads it
        # several times faster than the generic regex-based processor.
        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]
