"""GraphQL types of the topology: its entities (nodes.py) and roles (roles.py). Callers
use the names re-exported here."""

from domains.common.graphql import Info, Node, node_type
from domains.topology import loaders
from domains.topology.types.nodes import (
    CertificationStatusChange,
    Country,
    EndpointNode,
    ExtensionProperty,
    NgiNode,
    ProjectNode,
    ScopeNode,
    ServiceGroupNode,
    ServiceNode,
    ServiceTypeNode,
    SiteNode,
)
from domains.topology.types.roles import (
    RoleEntityKindEnum,
    RoleNode,
    RoleTypeNode,
    identity_fields,
    owned_entity,
)

# --- node(id) resolution --------------------------------------------------------------


def _register_nodes() -> None:
    pairs = [
        ("Project", loaders.project, ProjectNode),
        ("NGI", loaders.ngi, NgiNode),
        ("Site", loaders.site, SiteNode),
        ("Service", loaders.service_, ServiceNode),
        ("Endpoint", loaders.endpoint, EndpointNode),
        ("ServiceType", loaders.service_type, ServiceTypeNode),
        ("ServiceGroup", loaders.service_group, ServiceGroupNode),
        ("Scope", loaders.scope, ScopeNode),
    ]
    for name, loader, node_cls in pairs:

        def resolve(info: Info, pk: int, loader=loader, node_cls=node_cls) -> Node | None:  # type: ignore[no-untyped-def]
            row = loader(info.context).load(pk)
            return None if row is None else node_cls.from_row(row)

        node_type(name)(resolve)


_register_nodes()


__all__ = [
    "CertificationStatusChange",
    "Country",
    "EndpointNode",
    "ExtensionProperty",
    "NgiNode",
    "ProjectNode",
    "RoleEntityKindEnum",
    "RoleNode",
    "RoleTypeNode",
    "ScopeNode",
    "ServiceGroupNode",
    "ServiceNode",
    "ServiceTypeNode",
    "SiteNode",
    "identity_fields",
    "owned_entity",
]
