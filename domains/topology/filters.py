"""Filters of the topology read functions, as plain data (no GraphQL here)."""

from __future__ import annotations

from dataclasses import dataclass

from domains.common.errors import Invalid
from domains.common.scopes import ScopeDefaults, ScopeMatch, ScopeSelection
from domains.topology.models import CertificationStatus, ProductionInfrastructure


@dataclass(frozen=True, slots=True)
class PropertyExpr:
    """Extension-property condition: `key` alone = presence, `key`+`value` = equality,
    or one of `all_of` (AND), `any_of` (OR), `negate` (NOT)."""

    key: str | None = None
    value: str | None = None
    all_of: tuple[PropertyExpr, ...] | None = None
    any_of: tuple[PropertyExpr, ...] | None = None
    negate: PropertyExpr | None = None

    def validate(self, path: str) -> None:
        forms = [
            self.key is not None,
            self.all_of is not None,
            self.any_of is not None,
            self.negate is not None,
        ]
        if sum(forms) != 1:
            raise Invalid(path, "exactly one of key, and, or, not must be given")
        if self.value is not None and self.key is None:
            raise Invalid(path, "value needs a key")
        if self.key is not None and not self.key:
            raise Invalid(f"{path}.key", "must not be empty")
        for name, group in (("and", self.all_of), ("or", self.any_of)):
            if group is not None:
                if not group:
                    raise Invalid(f"{path}.{name}", "must not be empty")
                for i, sub in enumerate(group):
                    sub.validate(f"{path}.{name}[{i}]")
        if self.negate is not None:
            self.negate.validate(f"{path}.not")


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


@dataclass(frozen=True, slots=True)
class ServiceGroupFilter:
    names: tuple[str, ...] | None = None
    scopes: ScopeSelection = ScopeSelection()
    properties: PropertyExpr | None = None


__all__ = [
    "PropertyExpr",
    "ScopeDefaults",
    "ScopeMatch",
    "ScopeSelection",
    "ServiceFilter",
    "ServiceGroupFilter",
    "SiteFilter",
]
