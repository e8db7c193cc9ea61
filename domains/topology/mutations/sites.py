"""Mutations of sites: create, update, change the certification status."""

from __future__ import annotations

import strawberry
from strawberry.types.unset import UNSET, UnsetType

from domains.common.authz import requires
from domains.common.errors import Invalid
from domains.common.graphql import Info, id_of_type
from domains.common.models import pk
from domains.topology import service as topology
from domains.topology.models import CertificationStatus, ProductionInfrastructure
from domains.topology.mutations.common import country_id, non_null, set_fields
from domains.topology.rules import Action, TopologyRule
from domains.topology.service import writes
from domains.topology.types import (
    SiteNode,
)


def _fresh_site(info: Info, site_id: int) -> SiteNode:
    row = topology.sites_by_id(info.context.session, info.context.principal, [site_id])[site_id]
    return SiteNode.from_row(row)


# --- sites ---------------------------------------------------------------------------


@strawberry.input
class CreateSiteInput:
    ngi: str = strawberry.field(description="Name of the NGI the site belongs to.")
    short_name: str
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    official_name: str | None = None
    description: str = ""
    production_infrastructure: ProductionInfrastructure = ProductionInfrastructure.PRODUCTION
    timezone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    domain: str | None = None
    home_url: str | None = None
    email: str | None = None
    telephone: str | None = None
    alarm_email: str | None = None
    csirt_email: str | None = None
    csirt_telephone: str | None = None
    giis_url: str | None = None
    notify: bool = False


_SITE_FIELDS = {
    "short_name": "short_name",
    "official_name": "official_name",
    "description": "description",
    "production_infrastructure": "production_infrastructure",
    "timezone": "timezone",
    "latitude": "latitude",
    "longitude": "longitude",
    "domain": "domain",
    "home_url": "home_url",
    "email": "email",
    "telephone": "telephone",
    "alarm_email": "alarm_email",
    "csirt_email": "csirt_email",
    "csirt_telephone": "csirt_telephone",
    "giis_url": "giis_url",
    "notify": "notify",
}


@strawberry.input(description="Fields left out stay as they are.")
class UpdateSiteInput:
    id: strawberry.ID
    short_name: str | None = UNSET
    country_code: str | None = UNSET
    official_name: str | None = UNSET
    description: str | None = UNSET
    production_infrastructure: ProductionInfrastructure | None = UNSET
    timezone: str | None = UNSET
    latitude: float | None = UNSET
    longitude: float | None = UNSET
    domain: str | None = UNSET
    home_url: str | None = UNSET
    email: str | None = UNSET
    telephone: str | None = UNSET
    alarm_email: str | None = UNSET
    csirt_email: str | None = UNSET
    csirt_telephone: str | None = UNSET
    giis_url: str | None = UNSET
    notify: bool | None = UNSET


@strawberry.input
class ChangeCertificationStatusInput:
    site_id: strawberry.ID
    status: CertificationStatus
    reason: str = strawberry.field(description="Why; 1 to 300 characters, kept in the history.")


@strawberry.type
class CreateSitePayload:
    site: SiteNode


@strawberry.type
class UpdateSitePayload:
    site: SiteNode


@strawberry.type
class ChangeCertificationStatusPayload:
    site: SiteNode


@strawberry.type
class SiteMutation:
    @strawberry.mutation(description="Register a site in an NGI (needs NGI_ADD_SITE there).")
    @requires(Action.NGI_ADD_SITE, on="the NGI named input.ngi")
    def create_site(self, info: Info, input: CreateSiteInput) -> CreateSitePayload:
        ctx = info.context
        ngi = topology.get_ngi_by_name(ctx.session, ctx.principal, name=input.ngi)
        if ngi is None:
            raise Invalid("input.ngi", TopologyRule.NGI_UNKNOWN)
        fields = set_fields(input, _SITE_FIELDS)
        site = writes.create_site(
            ctx.session,
            ctx.principal,
            ngi_id=ngi.id,
            country_id=country_id(info, input.country_code, "input.countryCode"),
            **fields,
        )
        return CreateSitePayload(site=_fresh_site(info, pk(site)))

    @strawberry.mutation(description="Change a site's fields.")
    @requires(Action.EDIT_OBJECT, on="the site input.id")
    def update_site(self, info: Info, input: UpdateSiteInput) -> UpdateSitePayload:
        ctx = info.context
        site_id = id_of_type(input.id, "Site", argument="input.id")
        fields = set_fields(input, _SITE_FIELDS)
        non_null(
            fields, ("short_name", "description", "production_infrastructure", "notify"), "input"
        )
        if not isinstance(input.country_code, UnsetType):
            if input.country_code is None:
                raise Invalid("input.countryCode", TopologyRule.TOPOLOGY_FIELD_NULL)
            fields["country_id"] = country_id(info, input.country_code, "input.countryCode")
        writes.update_site(ctx.session, ctx.principal, site_id=site_id, changes=fields)
        return UpdateSitePayload(site=_fresh_site(info, site_id))

    @strawberry.mutation(description="Change a site's certification status, with a reason.")
    @requires(Action.SITE_EDIT_CERT_STATUS, on="the site input.siteId")
    def change_certification_status(
        self, info: Info, input: ChangeCertificationStatusInput
    ) -> ChangeCertificationStatusPayload:
        ctx = info.context
        site_id = id_of_type(input.site_id, "Site", argument="input.siteId")
        writes.change_certification_status(
            ctx.session, ctx.principal, site_id=site_id, status=input.status, reason=input.reason
        )
        return ChangeCertificationStatusPayload(site=_fresh_site(info, site_id))
