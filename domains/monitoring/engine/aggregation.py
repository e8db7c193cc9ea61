"""ARGO aggregation profiles (reference §3.2): how an endpoint's metrics combine
(`metric_operation`), how the endpoints of a service type combine (each service's
`operation`), how the service types of a group combine (the group's `operation`) and how the
groups of an endpoint group (a site) combine (`profile_operation`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domains.monitoring.engine.operations import (
    OperationsTable,
    ProfileError,
    json_list,
    json_object,
    json_text,
)


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # a service type, e.g. "ARC-CE"
    operation: str  # how the endpoints of that type at one site combine


@dataclass(frozen=True)
class GroupSpec:
    name: str  # e.g. "compute"
    operation: str  # how its service types combine
    services: tuple[ServiceSpec, ...]


@dataclass(frozen=True)
class AggregationSpec:
    name: str
    endpoint_group: str  # ARGO's "sites"
    metric_operation: str
    profile_operation: str
    groups: tuple[GroupSpec, ...]
    metric_profile: str | None  # the metric profile's name, when the profile names one

    @classmethod
    def from_argo(cls, doc: Mapping[str, object]) -> AggregationSpec:
        """Parse ARGO's aggregation profile JSON (`endpoint_group`, `metric_operation`,
        `profile_operation`, `metric_profile{name,id}`, `groups[{name, operation,
        services[{name, operation}]}]`; `id`, `date`, `namespace` are ignored). Raises
        ProfileError naming the path of the first fault."""
        root = json_object(doc, "$")
        name = root.get("name", "")
        if not isinstance(name, str):
            raise ProfileError("name", "must be a string")
        endpoint_group = json_text(root.get("endpoint_group"), "endpoint_group")
        metric_operation = json_text(root.get("metric_operation"), "metric_operation")
        profile_operation = json_text(root.get("profile_operation"), "profile_operation")
        metric_profile: str | None = None
        if root.get("metric_profile") is not None:
            raw_profile = json_object(root.get("metric_profile"), "metric_profile")
            metric_profile = json_text(raw_profile.get("name"), "metric_profile.name")
        groups: list[GroupSpec] = []
        for i, raw_group in enumerate(json_list(root.get("groups"), "groups")):
            path = f"groups[{i}]"
            group = json_object(raw_group, path)
            group_name = json_text(group.get("name"), f"{path}.name")
            if any(g.name == group_name for g in groups):
                raise ProfileError(f"{path}.name", f"{group_name} is defined twice")
            services: list[ServiceSpec] = []
            for j, raw_service in enumerate(json_list(group.get("services"), f"{path}.services")):
                spath = f"{path}.services[{j}]"
                service = json_object(raw_service, spath)
                service_name = json_text(service.get("name"), f"{spath}.name")
                if any(s.name == service_name for s in services):
                    raise ProfileError(f"{spath}.name", f"{service_name} is listed twice")
                services.append(
                    ServiceSpec(
                        service_name, json_text(service.get("operation"), f"{spath}.operation")
                    )
                )
            groups.append(
                GroupSpec(
                    group_name,
                    json_text(group.get("operation"), f"{path}.operation"),
                    tuple(services),
                )
            )
        return cls(
            name, endpoint_group, metric_operation, profile_operation, tuple(groups), metric_profile
        )

    def check_operations(self, operations: OperationsTable) -> None:
        """Raise ProfileError naming the first operation the operations profile lacks."""
        known = set(operations.operations)

        def check(value: str, path: str) -> None:
            if value not in known:
                raise ProfileError(path, f"{value} is not an operation of the operations profile")

        check(self.metric_operation, "metric_operation")
        check(self.profile_operation, "profile_operation")
        for i, group in enumerate(self.groups):
            check(group.operation, f"groups[{i}].operation")
            for j, service in enumerate(group.services):
                check(service.operation, f"groups[{i}].services[{j}].operation")

    def service_operations(self) -> dict[str, str]:
        """Service type -> the operation combining its endpoints (the first group listing
        the type decides, should several list it)."""
        found: dict[str, str] = {}
        for group in self.groups:
            for service in group.services:
                found.setdefault(service.name, service.operation)
        return found
