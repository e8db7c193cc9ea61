"""GraphQL types of the topology: its entities (nodes.py) and roles (roles.py). Callers
use the names re-exported here."""

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
