"""GraphQL types of the topology: its entities (nodes.py) and roles (roles.py). Callers
use the names re-exported here."""

from typing import Any

import strawberry

from domains.common.graphql import Info, Node, node_type
from domains.identity.types import Viewer, viewer_home_site_id
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
    owned_entity,
)
from domains.topology.types.roles import identity_fields as _role_fields

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


def _home_site_of_viewer(_root: strawberry.Parent[Viewer], info: Info) -> SiteNode | None:
    site_id = viewer_home_site_id(info)
    row = None if site_id is None else loaders.site(info.context).load(site_id)
    return None if row is None else SiteNode.from_row(row)


def identity_fields() -> dict[type, dict[str, Any]]:
    """The fields topology adds to identity's types: roles (roles.py) and the viewer's home
    site, a site identity keeps only the id of."""
    fields = _role_fields()
    fields[Viewer]["home_site"] = strawberry.field(
        resolver=_home_site_of_viewer,
        description="Your home site (GOCDB's HOMESITE), if one is set.",
    )
    return fields


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
