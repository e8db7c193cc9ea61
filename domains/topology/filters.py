"""Filters of the topology read functions, as plain data (no GraphQL here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from domains.common.errors import Invalid
from domains.common.scopes import ScopeDefaults, ScopeMatch, ScopeSelection
from domains.topology.models import CertificationStatus, ProductionInfrastructure
from domains.topology.rules import MAX_PROPERTY_DEPTH, MAX_PROPERTY_TERMS, TopologyRule

N = TypeVar("N")


def check_tree_bounds(root: N, children: Callable[[N], Sequence[N]], field: str) -> None:
    """`Invalid(field, ...)` if the tree under `root` has more than MAX_PROPERTY_TERMS nodes
    or more than MAX_PROPERTY_DEPTH levels. Iterative, and it stops as soon as a bound is
    passed: a tree of any size or depth costs at most about MAX_PROPERTY_TERMS steps. For
    the GraphQL input and the domain expression alike, so neither is walked recursively
    before it is known to be small."""
    stack: list[tuple[N, int]] = [(root, 1)]
    count = 1
    while stack:
        node, depth = stack.pop()
        if depth > MAX_PROPERTY_DEPTH:
            raise Invalid(field, TopologyRule.PROPERTY_FILTER_TOO_DEEP)
        below = children(node)
        count += len(below)
        if count > MAX_PROPERTY_TERMS:
            raise Invalid(field, TopologyRule.PROPERTY_FILTER_TOO_MANY_TERMS)
        stack.extend((child, depth + 1) for child in below)


@dataclass(frozen=True, slots=True)
class PropertyExpr:
    """Extension-property condition: `key` alone = presence, `key`+`value` = equality,
    or one of `all_of` (AND), `any_of` (OR), `negate` (NOT)."""

    key: str | None = None
    value: str | None = None
    all_of: tuple[PropertyExpr, ...] | None = None
    any_of: tuple[PropertyExpr, ...] | None = None
    negate: PropertyExpr | None = None

    def children(self) -> tuple[PropertyExpr, ...]:
        return (
            *(self.all_of or ()),
            *(self.any_of or ()),
            *(() if self.negate is None else (self.negate,)),
        )

    def validate(self, path: str) -> None:
        check_tree_bounds(self, PropertyExpr.children, path)
        self._validate(path)

    def _validate(self, path: str) -> None:
        # recursive, but only after check_tree_bounds: at most MAX_PROPERTY_DEPTH levels
        forms = [
            self.key is not None,
            self.all_of is not None,
            self.any_of is not None,
            self.negate is not None,
        ]
        if sum(forms) != 1:
            raise Invalid(path, TopologyRule.PROPERTY_FILTER_NOT_ONE_FORM)
        if self.value is not None and self.key is None:
            raise Invalid(path, TopologyRule.PROPERTY_FILTER_VALUE_WITHOUT_KEY)
        if self.key is not None and not self.key:
            raise Invalid(f"{path}.key", TopologyRule.PROPERTY_FILTER_KEY_EMPTY)
        for name, group in (("and", self.all_of), ("or", self.any_of)):
            if group is not None:
                if not group:
                    raise Invalid(f"{path}.{name}", TopologyRule.PROPERTY_FILTER_GROUP_EMPTY)
                for i, sub in enumerate(group):
                    sub._validate(f"{path}.{name}[{i}]")
        if self.negate is not None:
            self.negate._validate(f"{path}.not")


@dataclass(frozen=True, slots=True)
class SiteFilter:
    short_names: tuple[str, ...] | None = None
    ngis: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    certification_statuses: tuple[CertificationStatus, ...] | None = None
    exclude_certification_statuses: tuple[CertificationStatus, ...] | None = None
    production_infrastructures: tuple[ProductionInfrastructure, ...] | None = None
    scopes: ScopeSelection = ScopeSelection()
    properties: PropertyExpr | None = None
    like: SiteLike | None = None


@dataclass(frozen=True, slots=True)
class SiteLike:
    """SQL LIKE patterns (`%` any run, `_` one character; case-sensitive), as GOCDB's PI
    matches sites: short name, NGI name, country name, certification status (matching or
    not) and production infrastructure. None: not filtered."""

    short_name: str | None = None
    ngi: str | None = None
    country: str | None = None
    certification_status: str | None = None
    exclude_certification_status: str | None = None
    production_infrastructure: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceFilter:
    host_names: tuple[str, ...] | None = None
    sites: tuple[str, ...] | None = None
    ngis: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    service_types: tuple[str, ...] | None = None
    monitored: bool | None = None
    production: bool | None = None
    beta: bool | None = None
    scopes: ScopeSelection = ScopeSelection()
    properties: PropertyExpr | None = None
    # GOCDB's PI: SQL LIKE patterns (case-sensitive) on the host name, the service type
    # and the hosting site (its short name, NGI, country, certification status)
    host_name_like: str | None = None
    service_type_like: str | None = None
    site_like: SiteLike | None = None


@dataclass(frozen=True, slots=True)
class ServiceGroupFilter:
    names: tuple[str, ...] | None = None
    scopes: ScopeSelection = ScopeSelection()
    properties: PropertyExpr | None = None
    name_like: str | None = None  # one SQL LIKE pattern, as GOCDB's PI matches names


__all__ = [
    "MAX_PROPERTY_DEPTH",
    "MAX_PROPERTY_TERMS",
    "PropertyExpr",
    "ScopeDefaults",
    "ScopeMatch",
    "ScopeSelection",
    "ServiceFilter",
    "ServiceGroupFilter",
    "SiteFilter",
    "SiteLike",
    "check_tree_bounds",
]
