"""Seed data files: a record takes exactly its fields, and a bad value says where it is."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from domains.common.seed_data import expect, record


class Colour(enum.StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Thing:
    name: str
    colour: Colour
    size: int = 1


def thing(table: dict[str, Any]) -> Thing:
    return record(Thing, table, where="thing 3", colour=Colour)


def test_a_record_converts_its_values_and_keeps_defaults() -> None:
    assert thing({"name": "a", "colour": "red"}) == Thing("a", Colour.RED, 1)
    assert thing({"name": "a", "colour": "red", "size": 4}).size == 4


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param(
            {"name": "a", "colour": "red", "sise": 4},
            "thing 3: unknown keys ['sise'], missing keys []",
            id="misspelt optional key",
        ),
        pytest.param(
            {"colour": "red"}, "thing 3: unknown keys [], missing keys ['name']", id="missing key"
        ),
        pytest.param(
            {"name": "a", "colour": "blue"},
            "thing 3: colour: 'blue' is not a valid Colour",
            id="bad value",
        ),
    ],
)
def test_a_record_refuses_what_its_dataclass_cannot_hold(
    table: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        thing(table)


@pytest.mark.parametrize(
    ("check", "message"),
    [
        pytest.param(
            lambda: expect({"a": 1, "b": 2, "c": 3}, ("a", "b"), where="[t]"),
            "[t]: unknown keys ['c'], missing keys []",
            id="extra key",
        ),
        pytest.param(
            lambda: expect({"a": 1}, ("a", "b"), where="[t]"),
            "[t]: unknown keys [], missing keys ['b']",
            id="missing key",
        ),
    ],
)
def test_expect_refuses_other_keys(check: Callable[[], None], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check()
    expect({"a": 1, "b": 2}, ("a", "b"), where="[t]")  # exactly the keys: accepted
