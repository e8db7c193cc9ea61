"""The downtimes' Query fields: `downtimes` (a connection, filtered by a DowntimeFilter)
and `downtime` (by global id or legacy key)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.errors import Invalid
from domains.common.graphql import Connection, Info, as_tuple, connection, from_global_id
from domains.common.scopes import ScopeMatch, ScopeSelection
from domains.downtimes import loaders
from domains.downtimes import service as downtimes
from domains.downtimes.models import Classification, Severity
from domains.downtimes.rules import DowntimeRule
from domains.downtimes.types import DowntimeNode
from domains.topology.queries import After, First, PropertyFilter


@strawberry.input(name="DowntimeFilter", description="Filter of `downtimes`; conditions AND.")
class DowntimeFilterInput:
    primary_key: list[str] | None = strawberry.field(default=None, description="Legacy GOCDB keys.")
    ongoing: bool | None = strawberry.field(
        default=None, description="true: started and not ended; false: all others."
    )
    upcoming: bool | None = strawberry.field(
        default=None, description="true: not started yet; false: started (ongoing or past)."
    )
    window_start: datetime | None = strawberry.field(
        default=None, description="Only downtimes still going on after this moment (overlap)."
    )
    window_end: datetime | None = strawberry.field(
        default=None, description="Only downtimes that start before this moment (overlap)."
    )
    top_entity: list[str] | None = strawberry.field(
        default=None,
        description="GOCDB's topentity: a host name, site, NGI, or country (code or name).",
    )
    severity: list[Severity] | None = None
    classification: list[Classification] | None = None
    site: list[str] | None = strawberry.field(default=None, description="Site short names.")
    ngi: list[str] | None = strawberry.field(default=None, description="NGI names.")
    country: list[str] | None = strawberry.field(
        default=None, description="ISO codes or country names."
    )
    host_name: list[str] | None = None
    service_type: list[str] | None = None
    scopes: list[str] | None = strawberry.field(
        default=None,
        description="Scope tags of an affected service. Absent: the instance's default "
        "scopes; empty list: any scope.",
    )
    scope_match: ScopeMatch | None = None
    production: bool | None = strawberry.field(
        default=None, description="The production flag of an affected service."
    )
    monitored: bool | None = strawberry.field(
        default=None, description="The monitored flag of an affected service."
    )
    vo: list[str] | None = strawberry.field(
        default=None, description="VOs an affected service serves (its `vo` property)."
    )
    site_properties: PropertyFilter | None = None
    service_properties: PropertyFilter | None = None

    def to_domain(self) -> downtimes.DowntimeFilter:
        return downtimes.DowntimeFilter(
            primary_keys=as_tuple(self.primary_key),
            ongoing=self.ongoing,
            upcoming=self.upcoming,
            window_start=self.window_start,
            window_end=self.window_end,
            top_entity=as_tuple(self.top_entity),
            severities=as_tuple(self.severity),
            classifications=as_tuple(self.classification),
            sites=as_tuple(self.site),
            ngis=as_tuple(self.ngi),
            countries=as_tuple(self.country),
            host_names=as_tuple(self.host_name),
            service_types=as_tuple(self.service_type),
            scopes=ScopeSelection(names=as_tuple(self.scopes), match=self.scope_match),
            production=self.production,
            monitored=self.monitored,
            vos=as_tuple(self.vo),
            site_properties=None
            if self.site_properties is None
            else self.site_properties.to_domain(),
            service_properties=(
                None if self.service_properties is None else self.service_properties.to_domain()
            ),
        )


@strawberry.type
class DowntimeQuery:
    @strawberry.field(description="Downtimes, ordered by id (GOCDB's get_downtime).")
    def downtimes(
        self,
        info: Info,
        filter: DowntimeFilterInput | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[DowntimeNode]:
        ctx = info.context
        page = downtimes.list_downtimes(
            ctx.session,
            ctx.principal,
            filter=(filter or DowntimeFilterInput()).to_domain(),
            page=ctx.page(first, after),
            scope_defaults=ctx.scope_defaults,
            now=ctx.instant(),  # unmarked: the service says when its filters change
        )
        loaders.after_downtimes(ctx, page.items)
        return connection(page, DowntimeNode.from_row)

    @strawberry.field(description="One downtime by global id or by legacy primary key.")
    def downtime(
        self, info: Info, id: strawberry.ID | None = None, primary_key: str | None = None
    ) -> DowntimeNode | None:
        ctx = info.context
        if (id is None) == (primary_key is None):
            raise Invalid("id", DowntimeRule.DOWNTIME_ID_OR_PRIMARY_KEY)
        if id is not None:
            type_name, pk = from_global_id(id)
            row = loaders.downtime(ctx).load(pk) if type_name == "Downtime" else None
        else:
            row = downtimes.get_downtime(ctx.session, ctx.principal, primary_key=primary_key)
            if row is not None:
                loaders.after_downtimes(ctx, [row])
        return None if row is None else DowntimeNode.from_row(row)
