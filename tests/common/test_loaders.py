"""BatchLoader's batch priming and hints, and row_constructor's builders
(domains/common/loaders.py, domains/common/graphql.py): the shortcuts taken for speed keep
the per-row rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any, cast

import pytest

from domains.common.graphql import row_constructor
from domains.common.loaders import BatchLoader, prime


def _loader(fetched: list[list[int]]) -> BatchLoader[int, object]:
    def fetch(ids: Sequence[int]) -> Mapping[int, object]:
        fetched.append(list(ids))
        return {i: f"fetched {i}" for i in ids}

    return BatchLoader(fetch, lambda: None)


def test_priming_a_batch_keeps_the_first_row_of_an_id_and_fetches_none_of_them() -> None:
    fetched: list[list[int]] = []
    loader = _loader(fetched)
    loader.hint([1, 2, 3])
    first, again, other = (SimpleNamespace(id=1, n=n) for n in ("first", "again", "other"))
    other.id = 2
    rows: Any = iter([first, again, other])  # rows with an id; an iterator, as hints pass
    prime(cast(Any, loader), rows)
    assert loader.load(1) is first
    assert loader.load(2) is other
    assert loader.load(3) == "fetched 3"
    assert fetched == [[3]]  # the primed ids left the pending batch


def test_a_hint_skips_the_ids_already_loaded() -> None:
    fetched: list[list[int]] = []
    loader = _loader(fetched)
    loader.load(1)
    loader.hint(i for i in (1, 2))
    loader.load(2)
    assert fetched == [[1], [2]]


@dataclasses.dataclass
class _Pair:
    left: int
    right: int


def test_a_node_built_from_the_row_alone_refuses_extra_keywords() -> None:
    build = row_constructor(_Pair, ["a", "b", "c"], {"left": "a", "right": "c"})
    assert build((1, 2, 3)) == _Pair(1, 3)
    with pytest.raises(TypeError):
        build((1, 2, 3), left=5)
