"""Identity's Query fields: the viewer and the role requests to decide."""

from __future__ import annotations

import strawberry

from domains.common.graphql import (
    Info,
)
from domains.identity.types import Viewer, VoMembershipType


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The authenticated caller; null for anonymous callers.")
    def viewer(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        if principal.is_anonymous or principal.subject is None:
            return None
        return Viewer(
            subject=principal.subject,
            name=principal.name,
            email=principal.email,
            is_admin=principal.is_superuser,
            assurance=list(principal.assurance),
            vos=[VoMembershipType(name=vo.name, roles=sorted(vo.roles)) for vo in principal.vos],
            client_dn=principal.client_dn,
            user_id=principal.user_id,
        )
