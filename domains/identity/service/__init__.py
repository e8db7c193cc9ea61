"""Identity's reads and writes: users (users.py), granted roles and the standing gates
(access.py), API tokens (tokens.py). Callers use the names re-exported here; the role
workflow and what roles allow are topology's (domains/topology/roles.py, rules.py)."""

from domains.identity.service.access import (
    granted_roles,
)
from domains.identity.service.users import (
    LAST_SEEN_GRANULARITY,
    X509_ISSUER,
    certificate_dns,
    ensure_user,
    link_identity,
    lookup_principal_from_claims,
    make_admin,
    own_user,
    principal_for_client_dn,
    principal_from_claims,
    register_user,
    user_by_subject,
    user_is_admin,
)

__all__ = [
    "LAST_SEEN_GRANULARITY",
    "X509_ISSUER",
    "certificate_dns",
    "ensure_user",
    "granted_roles",
    "link_identity",
    "lookup_principal_from_claims",
    "make_admin",
    "own_user",
    "principal_for_client_dn",
    "principal_from_claims",
    "register_user",
    "user_by_subject",
    "user_is_admin",
]
