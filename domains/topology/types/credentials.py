"""GraphQL types of site API credentials: the `SiteApiCredential` node, and the fields they
add to `Site` (its credentials, shown to those who may edit it, as GOCDB shows them only to
site editors; whether the caller may manage them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domains.common.graphql import Info, Node, node_type, viewer_can
from domains.topology import loaders, ownership
from domains.topology import service as topology
from domains.topology.models import CredentialKind
from domains.topology.ownership import EntityRef

CredentialKindEnum = strawberry.enum(
    CredentialKind,
    name="CredentialKind",
    description="What a site API credential's identifier is: an X.509 DN (X509) or an OIDC "
    "subject (OIDC_SUBJECT).",
)

MANAGE_CREDENTIALS = (
    "addSiteApiCredential",
    "updateSiteApiCredential",
    "renewSiteApiCredential",
    "deleteSiteApiCredential",
)


@strawberry.type(
    name="SiteApiCredential",
    description="An identifier that may use the GOCDB-compatible programmatic interface "
    "(/gocdbpi) for its site: reads at protection level 3, and writes through the v5 write "
    "API when allowWrite is set. Shown to those who may edit the site.",
)
class SiteApiCredentialNode(Node):
    identifier: str = strawberry.field(description="The X.509 DN (slash form) or OIDC subject.")
    kind: CredentialKind
    allow_write: bool = strawberry.field(
        description="Whether it may write through the write API (false when registered)."
    )
    owner_subject: str = strawberry.field(
        description="The subject of the user who owns it: who registered, last edited or "
        "last renewed it."
    )
    owner_name: str | None = strawberry.field(description="That user's name, if known.")
    created_at: datetime
    last_used_at: datetime | None
    last_renewed_at: datetime
    unused_flagged_at: datetime | None = strawberry.field(
        description="When the periodic job flagged it as unused for "
        "OPSGRAPH_API_CREDENTIAL_UNUSED_MONTHS months; null once used or renewed."
    )
    site_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, view: topology.CredentialView) -> SiteApiCredentialNode:
        row = view.credential
        assert row.id is not None
        return cls(
            db_id=row.id,
            identifier=row.identifier,
            kind=row.kind,
            allow_write=row.allow_write,
            owner_subject=view.owner_subject,
            owner_name=view.owner_name,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            last_renewed_at=row.last_renewed_at,
            unused_flagged_at=row.unused_flagged_at,
            site_id=row.site_id,
        )


def _site_ref(root: Any, info: Info) -> EntityRef:
    return ownership.site_ref(info.context.session, root.db_id, root.ngi_id)


def _api_credentials(root: strawberry.Parent[Any], info: Info) -> list[SiteApiCredentialNode]:
    ctx = info.context
    _site_ref(root, info)  # the site's NGI is known: deciding asks nothing more of it
    if not topology.credentials_visible(ctx.session, ctx.principal, site_id=root.db_id):
        return []
    rows = loaders.api_credentials_of_site(ctx).load(root.db_id)
    return [SiteApiCredentialNode.from_row(r) for r in rows]


def site_fields() -> dict[str, Any]:
    """The fields credentials add to `Site` (gateway/schema.py adds them)."""
    return {
        "api_credentials": strawberry.field(
            resolver=_api_credentials,
            description="The site's API credentials, oldest first; empty for a caller who "
            "may not edit the site (GOCDB shows them to site editors only).",
        ),
        "viewer_can_manage_api_credentials": viewer_can(
            *MANAGE_CREDENTIALS, on=_site_ref, thing="this site's API credentials"
        ),
    }


@node_type("SiteApiCredential")
def _resolve(info: Info, pk: int) -> Node | None:
    ctx = info.context
    view = topology.credential_view(ctx.session, pk)
    if view is None or not topology.credentials_visible(
        ctx.session, ctx.principal, site_id=view.credential.site_id
    ):
        return None
    return SiteApiCredentialNode.from_row(view)


__all__ = ["MANAGE_CREDENTIALS", "CredentialKindEnum", "SiteApiCredentialNode", "site_fields"]
