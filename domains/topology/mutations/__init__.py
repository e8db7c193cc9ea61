"""GraphQL mutations of the topology, one module per thing. Each one is a single service
call inside the request's transaction; authorization and every rule live in the service
layer (writes/, roles.py)."""

from __future__ import annotations

import strawberry

from domains.topology.mutations.credentials import CredentialMutation
from domains.topology.mutations.properties import PropertyMutation
from domains.topology.mutations.roles import RoleMutation
from domains.topology.mutations.scopes import ScopeMutation
from domains.topology.mutations.services import ServiceMutation
from domains.topology.mutations.sites import SiteMutation


@strawberry.type
class TopologyMutation(
    SiteMutation, ServiceMutation, PropertyMutation, ScopeMutation, RoleMutation, CredentialMutation
):
    """Every mutation of the topology (gateway/schema.py merges it with the others)."""
