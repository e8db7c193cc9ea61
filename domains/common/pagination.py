"""Keyset pagination shared by every list: ascending id, opaque cursors, a cap on `first`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from domains.common.errors import CommonRule, Invalid

T = TypeVar("T")

_PREFIX = "cursor:"

# Database keys are INTEGER columns (32-bit signed on PostgreSQL): a larger key names nothing,
# and the database would refuse to compare with it.
MAX_KEY = 2**31 - 1
RULE_KEY = f"its key an integer from 0 to {MAX_KEY}"


def parse_key(text: str) -> int | None:
    """A database key written in decimal (ASCII digits, at most MAX_KEY); None otherwise."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_KEY:
        return None
    return int(text)


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, argument: str = "after") -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise Invalid(
            argument, CommonRule.MALFORMED_CURSOR, f"{argument}: malformed cursor"
        ) from exc
    key = parse_key(text[len(_PREFIX) :]) if text.startswith(_PREFIX) else None
    if key is None:
        raise Invalid(
            argument, CommonRule.MALFORMED_CURSOR, f"{argument}: malformed cursor ({RULE_KEY})"
        )
    return key


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated `first`/`after` pair. `before` (instead of `after`): the `first` rows
    just before that key, still in ascending order (GOCDB's `prev_cursor`)."""

    first: int
    after: int | None
    before: int | None = None

    @classmethod
    def build(
        cls, first: int | None, after: str | None, *, default: int, maximum: int
    ) -> PageRequest:
        size = default if first is None else first
        if size < 0:
            raise Invalid("first", CommonRule.PAGE_SIZE_NEGATIVE)
        if size > maximum:
            raise Invalid(
                "first",
                CommonRule.PAGE_SIZE_OVER_CAP,
                f"first: {size} is over the cap of {maximum}",
            )
        return cls(first=size, after=None if after is None else decode_cursor(after))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    keys: Sequence[int]
    total_count: int
    has_next_page: bool
    has_previous_page: bool
