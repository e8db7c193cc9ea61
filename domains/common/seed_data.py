"""The seed data files (TOML) that ship inside the domain packages, read into typed records.

A record refuses a key it does not know and a required key that is missing, naming where:
a misspelt optional key must fail the seed, not fall back to its default unnoticed."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import MISSING, fields
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def load(package: str, name: str) -> dict[str, Any]:
    """The TOML file `name` inside `package` (package data, so it is in the wheel too)."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def expect(table: Mapping[str, Any], keys: Collection[str], *, where: str) -> None:
    """Refuse a table whose keys are not exactly `keys`."""
    unknown, missing = sorted(set(table) - set(keys)), sorted(set(keys) - set(table))
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {unknown}, missing keys {missing}")


def record(
    cls: type[R], table: Mapping[str, Any], *, where: str, **convert: Callable[[Any], Any]
) -> R:
    """`cls(**table)` for the dataclass `cls`, each value passed through its converter in
    `convert` if it has one (enums, tuples of records)."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    missing = sorted(
        name
        for name, f in known.items()
        if name not in table and f.default is MISSING and f.default_factory is MISSING
    )
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {unknown}, missing keys {missing}")
    values = dict(table)
    for key, converter in convert.items():
        if key in values:
            try:
                values[key] = converter(values[key])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where}: {key}: {exc}") from exc
    return cls(**values)
