"""Mutations of site API credentials: add, update, renew, delete; by those who may edit the
site (topology.service.credentials decides and validates)."""

from __future__ import annotations

import strawberry

from domains.common.authz import requires
from domains.common.graphql import Deleted, Info, id_of_type
from domains.common.models import pk
from domains.topology import service as topology
from domains.topology.models import CredentialKind
from domains.topology.rules import Action
from domains.topology.types.credentials import SiteApiCredentialNode


def _fresh(info: Info, credential_id: int) -> SiteApiCredentialNode:
    view = topology.credential_view(info.context.session, credential_id)
    assert view is not None  # just written in this transaction
    return SiteApiCredentialNode.from_row(view)


@strawberry.input
class AddSiteApiCredentialInput:
    site_id: strawberry.ID
    identifier: str = strawberry.field(description="An X.509 DN in slash form, or an OIDC subject.")
    kind: CredentialKind
    allow_write: bool = strawberry.field(
        default=False, description="May it write through the write API? False by default."
    )


@strawberry.input(description="The fields to change; those left out stay as they are.")
class UpdateSiteApiCredentialInput:
    id: strawberry.ID
    identifier: str | None = None
    kind: CredentialKind | None = None
    allow_write: bool | None = None


@strawberry.input
class RenewSiteApiCredentialInput:
    id: strawberry.ID


@strawberry.input
class DeleteSiteApiCredentialInput:
    id: strawberry.ID


@strawberry.type
class AddSiteApiCredentialPayload:
    credential: SiteApiCredentialNode


@strawberry.type
class UpdateSiteApiCredentialPayload:
    credential: SiteApiCredentialNode


@strawberry.type
class RenewSiteApiCredentialPayload:
    credential: SiteApiCredentialNode


def _credential_id(global_id: strawberry.ID) -> int:
    return id_of_type(global_id, "SiteApiCredential", argument="input.id")


@strawberry.type
class CredentialMutation:
    @strawberry.mutation(
        description="Register an API credential for a site; the caller becomes its owner."
    )
    @requires(Action.EDIT_OBJECT, on="the site input.siteId")
    def add_site_api_credential(
        self, info: Info, input: AddSiteApiCredentialInput
    ) -> AddSiteApiCredentialPayload:
        ctx = info.context
        site_id = id_of_type(input.site_id, "Site", argument="input.siteId")
        credential = topology.add_site_credential(
            ctx.session,
            ctx.principal,
            site_id=site_id,
            identifier=input.identifier,
            kind=input.kind,
            allow_write=input.allow_write,
        )
        return AddSiteApiCredentialPayload(credential=_fresh(info, pk(credential)))

    @strawberry.mutation(
        description="Change a site API credential; the caller becomes its owner (a change of "
        "owner renews it), as in GOCDB."
    )
    @requires(Action.EDIT_OBJECT, on="the site of the credential input.id")
    def update_site_api_credential(
        self, info: Info, input: UpdateSiteApiCredentialInput
    ) -> UpdateSiteApiCredentialPayload:
        ctx = info.context
        credential_id = _credential_id(input.id)
        topology.update_site_credential(
            ctx.session,
            ctx.principal,
            credential_id=credential_id,
            identifier=input.identifier,
            kind=input.kind,
            allow_write=input.allow_write,
        )
        return UpdateSiteApiCredentialPayload(credential=_fresh(info, credential_id))

    @strawberry.mutation(
        description="Renew a site API credential (it is still wanted): its renewal time is "
        "now, the caller its owner, and an unused flag is lifted."
    )
    @requires(Action.EDIT_OBJECT, on="the site of the credential input.id")
    def renew_site_api_credential(
        self, info: Info, input: RenewSiteApiCredentialInput
    ) -> RenewSiteApiCredentialPayload:
        ctx = info.context
        credential_id = _credential_id(input.id)
        topology.renew_site_credential(ctx.session, ctx.principal, credential_id=credential_id)
        return RenewSiteApiCredentialPayload(credential=_fresh(info, credential_id))

    @strawberry.mutation(description="Delete a site API credential.")
    @requires(Action.EDIT_OBJECT, on="the site of the credential input.id")
    def delete_site_api_credential(
        self, info: Info, input: DeleteSiteApiCredentialInput
    ) -> Deleted:
        ctx = info.context
        topology.delete_site_credential(
            ctx.session, ctx.principal, credential_id=_credential_id(input.id)
        )
        return Deleted(id=input.id)
