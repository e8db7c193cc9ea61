"""GraphQL types and queries of the downtimes. Resolvers only translate: arguments to a
service or loader call, rows to types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domains.common.errors import Invalid
from domains.common.graphql import (
    Connection,
    Info,
    Node,
    as_tuple,
    connection,
    from_global_id,
    node_type,
    row_constructor,
)
from domains.common.query import Record
from domains.common.scopes import ScopeMatch, ScopeSelection
from domains.downtimes import loaders
from domains.downtimes import service as downtimes
from domains.downtimes.models import Classification, Severity
from domains.downtimes.rules import SCHEDULED_NOTICE
from domains.topology import loaders as topology_loaders
from domains.topology.queries import After, First, PropertyFilter
from domains.topology.types import EndpointNode, ServiceNode, SiteNode

SeverityEnum = strawberry.enum(
    Severity,
    name="DowntimeSeverity",
    description="OUTAGE: unavailable, counted as maintenance by availability. WARNING: "
    "available but possibly degraded; notified, ignored by availability.",
)
ClassificationEnum = strawberry.enum(
    Classification,
    name="DowntimeClassification",
    description="Computed by the server on every change: SCHEDULED when the start is more "
    "than 24 hours after the moment of declaration or edit, else UNSCHEDULED.",
)


@strawberry.type(description="A service affected by a downtime.")
class AffectedService:
    all_endpoints: bool = strawberry.field(
        description="No endpoint of the service was chosen: all of its endpoints are affected."
    )
    ended_at: datetime | None = strawberry.field(
        description="When the service left the downtime early (partial ending), if it did."
    )
    service_id: strawberry.Private[int]

    @strawberry.field
    def service(self, info: Info) -> ServiceNode:
        row = topology_loaders.service_(info.context).load(self.service_id)
        assert row is not None  # a foreign key guarantees it
        return ServiceNode.from_row(row)


@strawberry.type(name="Downtime", description="A period in which services of one site are down.")
class DowntimeNode(Node):
    primary_key: str | None = strawberry.field(description="Legacy GOCDB key (`<n>G0`).")
    severity: Severity
    classification: Classification
    description: str
    starts_at: datetime
    ends_at: datetime
    declared_at: datetime = strawberry.field(description="GOCDB's insert date.")
    updated_at: datetime
    site_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Record) -> DowntimeNode:
        return _DOWNTIME(row)

    @strawberry.field(
        description="When users are told: 24 hours before the start if SCHEDULED, else "
        "the declaration."
    )
    def announced_at(self) -> datetime:
        if self.classification is Classification.SCHEDULED:
            return self.starts_at - SCHEDULED_NOTICE
        return self.declared_at

    @strawberry.field(description="Whether it has started and not yet ended.")
    def ongoing(self, info: Info) -> bool:
        return self.starts_at <= info.context.clock() < self.ends_at

    @strawberry.field
    def site(self, info: Info) -> SiteNode:
        row = topology_loaders.site(info.context).load(self.site_id)
        assert row is not None
        return SiteNode.from_row(row)

    @strawberry.field(description="The affected services, ordered by id.")
    def services(self, info: Info) -> list[ServiceNode]:
        links = loaders.service_links(info.context).load(self.db_id)
        rows = topology_loaders.service_(info.context).load_many(
            [link.service_id for link in links]
        )
        return [ServiceNode.from_row(row) for row in rows if row is not None]

    @strawberry.field(description="The affected services with their own state.")
    def affected_services(self, info: Info) -> list[AffectedService]:
        return [
            AffectedService(
                all_endpoints=link.all_endpoints, ended_at=link.ended_at, service_id=link.service_id
            )
            for link in loaders.service_links(info.context).load(self.db_id)
        ]

    @strawberry.field(
        description="The endpoints chosen, ordered by id; a service none of whose endpoints "
        "was chosen is affected as a whole."
    )
    def endpoints(self, info: Info) -> list[EndpointNode]:
        ids = loaders.endpoint_ids(info.context).load(self.db_id)
        rows = topology_loaders.endpoint(info.context).load_many(ids)
        return [EndpointNode.from_row(row) for row in rows if row is not None]


_DOWNTIME = row_constructor(
    DowntimeNode,
    downtimes.DOWNTIME_COLUMNS,
    {
        "db_id": "id",
        "primary_key": "primary_key",
        "severity": "severity",
        "classification": "classification",
        "description": "description",
        "starts_at": "starts_at",
        "ends_at": "ends_at",
        "declared_at": "declared_at",
        "updated_at": "updated_at",
        "site_id": "site_id",
    },
)


@node_type("Downtime")
def _resolve_downtime(info: Info, pk: int) -> Node | None:
    row = loaders.downtime(info.context).load(pk)
    return None if row is None else DowntimeNode.from_row(row)


# --- what the topology's types show of their downtimes ------------------------------------
# Topology's Site and Service know nothing of downtimes; these fields join them where the
# schema is assembled (gateway/schema.py, extend_type).


def _downtimes_of_site(root: strawberry.Parent[SiteNode], info: Info) -> list[DowntimeNode]:
    rows = loaders.downtimes_of_site(info.context, root.db_id)
    return [DowntimeNode.from_row(r) for r in rows]


def _downtimes_of_service(root: strawberry.Parent[ServiceNode], info: Info) -> list[DowntimeNode]:
    rows = loaders.downtimes_of_service(info.context, root.db_id)
    return [DowntimeNode.from_row(r) for r in rows]


def _service_in_downtime_at(
    root: strawberry.Parent[ServiceNode],
    info: Info,
    time: datetime,
    severity: list[Severity] | None = None,
) -> bool:
    rows = loaders.downtimes_of_service(info.context, root.db_id)
    return downtimes.covers(rows, time, as_tuple(severity))


def topology_fields() -> dict[type, dict[str, Any]]:
    """The fields downtimes adds to topology's types (new ones at each call: a field
    belongs to one schema type)."""
    return {
        SiteNode: {
            "downtimes": strawberry.field(
                resolver=_downtimes_of_site, description="Downtimes of this site, ordered by start."
            ),
        },
        ServiceNode: {
            "downtimes": strawberry.field(
                resolver=_downtimes_of_service,
                description="Downtimes affecting this service, ordered by start.",
            ),
            "in_downtime_at": strawberry.field(
                resolver=_service_in_downtime_at,
                description="Whether the service was in a downtime (of these severities; any "
                "if left out) at `time`; a service ended early left its downtime then.",
            ),
        },
    }


# --- filters and queries ----------------------------------------------------------------


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
            now=ctx.clock(),
        )
        loaders.after_downtimes(ctx, page.items)
        return connection(page, DowntimeNode.from_row)

    @strawberry.field(description="One downtime by global id or by legacy primary key.")
    def downtime(
        self, info: Info, id: strawberry.ID | None = None, primary_key: str | None = None
    ) -> DowntimeNode | None:
        ctx = info.context
        if (id is None) == (primary_key is None):
            raise Invalid("id", "give exactly one of id and primaryKey")
        if id is not None:
            type_name, pk = from_global_id(id)
            row = loaders.downtime(ctx).load(pk) if type_name == "Downtime" else None
        else:
            row = downtimes.get_downtime(ctx.session, ctx.principal, primary_key=primary_key)
            if row is not None:
                loaders.after_downtimes(ctx, [row])
        return None if row is None else DowntimeNode.from_row(row)
