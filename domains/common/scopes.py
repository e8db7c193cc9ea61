"""Scope tags select what central tools see (GOCDB: `EGI` visible, `Local` hidden). Every
domain that lists topology-bound things filters by them the same way."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ScopeMatch(enum.StrEnum):
    ANY = "any"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class ScopeDefaults:
    """Instance configuration: the scopes applied when a query names none (GOCDB's
    `default_scope`, `EGI` there) and how several scopes combine by default."""

    scopes: tuple[str, ...] = ()
    match: ScopeMatch = ScopeMatch.ALL


@dataclass(frozen=True, slots=True)
class ScopeSelection:
    """`names=None`: use the instance default; `names=()`: any scope at all."""

    names: tuple[str, ...] | None = None
    match: ScopeMatch | None = None

    def resolve(self, defaults: ScopeDefaults) -> tuple[tuple[str, ...], ScopeMatch]:
        names = defaults.scopes if self.names is None else self.names
        return names, self.match or defaults.match
