"""UTC-only time helpers (DESIGN rule 7)."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class Horizon:
    """How long an answer being computed (gateway/cache.py) stays true as time passes:
    `unbounded` once the clock was read for a value whose next change nobody said, else
    `until`, the first moment a time-dependent value in it changes (None: never)."""

    __slots__ = ("unbounded", "until")

    def __init__(self) -> None:
        self.unbounded = False
        self.until: datetime | None = None

    def shorten(self, moment: datetime) -> None:
        if self.until is None or moment < self.until:
            self.until = moment


# set while a cacheable answer is computed (gateway/cache.py)
_horizon: ContextVar[Horizon | None] = ContextVar("opsgraph_clock_horizon", default=None)


def utcnow() -> datetime:
    clock_read()
    return datetime.now(UTC)


def instant() -> datetime:
    """The time, read without a mark: only for `changing_at`, which bounds what it read."""
    return datetime.now(UTC)


def clock_read() -> None:
    """Note that the answer being computed depends on the time in a way nobody bounded (it
    is not cached)."""
    horizon = _horizon.get()
    if horizon is not None:
        horizon.unbounded = True


def next_midnight(moment: datetime) -> datetime:
    """The first midnight (UTC) after `moment`: when a value read from its day changes."""
    return datetime.combine(moment.astimezone(UTC).date() + timedelta(days=1), time(), UTC)


def changing_at(now: datetime, moments: Iterable[datetime | None]) -> datetime:
    """Note that a value computed from `now` changes next at the first of `moments` still
    ahead of it (none ahead: never again); a cached answer holding it expires then.
    Returns `now`."""
    horizon = _horizon.get()
    if horizon is not None:
        ahead = [moment for moment in moments if moment is not None and moment > now]
        if ahead:
            horizon.shorten(min(ahead))
    return now


def bounding() -> bool:
    """Whether an answer being computed notes its horizon (a cached request): only then is
    reading the moments a value changes at (a query) worth its cost."""
    return _horizon.get() is not None


def now_changing_at(*moments: datetime | None) -> datetime:
    """The time now, for a value that changes only at `moments` (see changing_at)."""
    return changing_at(instant(), moments)


def watch_clock() -> Horizon:
    """From now on in this context, note how the answer depends on the time."""
    horizon = Horizon()
    _horizon.set(horizon)
    return horizon


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
