"""What the topology's mutations share: global ids of the entities that carry properties
and scopes, the fields a caller gave, countries by code."""

from __future__ import annotations

from typing import Any

from strawberry.types.unset import UnsetType

from domains.common.errors import CommonRule, Invalid
from domains.common.graphql import Info, from_global_id
from domains.topology import service as topology
from domains.topology.rules import TopologyRule

# GraphQL type name -> kind used by the service layer
_KINDS = {
    "NGI": "ngi",
    "Site": "site",
    "Service": "service",
    "Endpoint": "endpoint",
    "ServiceGroup": "service_group",
}


def entity_of(global_id: str, argument: str) -> tuple[str, int]:
    found, pk = from_global_id(global_id, argument=argument)
    if found not in _KINDS:
        raise Invalid(
            argument,
            CommonRule.WRONG_ID_TYPE,
            f"{argument}: the id of an NGI, Site, Service, Endpoint or ServiceGroup",
        )
    return _KINDS[found], pk


def set_fields(obj: Any, names: dict[str, str]) -> dict[str, Any]:
    """The fields the caller gave (leaving out UNSET ones), as service-layer names."""
    return {
        target: getattr(obj, source)
        for source, target in names.items()
        if not isinstance(getattr(obj, source), UnsetType)
    }


def country_id(info: Info, code: str, argument: str) -> int:
    found = topology.country_id_by_code(info.context.session, code=code.upper())
    if found is None:
        raise Invalid(argument, TopologyRule.COUNTRY_UNKNOWN)
    return found


def non_null(fields: dict[str, Any], required: tuple[str, ...], prefix: str) -> None:
    for name in required:
        if name in fields and fields[name] is None:
            camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
            raise Invalid(f"{prefix}.{camel}", TopologyRule.TOPOLOGY_FIELD_NULL)
