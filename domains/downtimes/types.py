"""GraphQL types of the downtimes, their enums, and the fields downtimes adds to topology's
Site and Service (`topology_fields`). Resolvers only translate: arguments to a service or
loader call, rows to types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domains.common.graphql import (
    Connection,
    Info,
    Node,
    as_tuple,
    connection,
    node_type,
    row_constructor,
    viewer_can,
)
from domains.common.query import Record
from domains.downtimes import loaders
from domains.downtimes import service as downtimes
from domains.downtimes.events import EventKind
from domains.downtimes.models import Classification, Severity
from domains.downtimes.rules import SCHEDULED_NOTICE
from domains.identity.types import Viewer
from domains.topology import loaders as topology_loaders
from domains.topology import ownership
from domains.topology.ownership import EntityRef
from domains.topology.queries import After, First
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
# the live stream's events and the notification subscriptions' wishes name the same kinds
EventKindEnum = strawberry.enum(
    EventKind, name="DowntimeEventKind", description="What happened to a downtime."
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

    @classmethod
    def from_row(cls, link: Record) -> AffectedService:
        """From a (downtime_id, service_id, all_endpoints, ended_at) link row."""
        return cls(
            all_endpoints=link.all_endpoints, ended_at=link.ended_at, service_id=link.service_id
        )

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

    # as the service authorizes them: EDIT_OBJECT on the downtime's site
    viewer_can_edit = viewer_can("updateDowntime", on=lambda d, _i: _site(d), thing="it")
    viewer_can_end = viewer_can(
        "endDowntime", "endDowntimeForServices", on=lambda d, _i: _site(d), thing="it"
    )
    viewer_can_delete = viewer_can("deleteDowntime", on=lambda d, _i: _site(d), thing="it")

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
        now = info.context.now_changing_at(self.starts_at, self.ends_at)
        return self.starts_at <= now < self.ends_at

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
        links = loaders.service_links(info.context).load(self.db_id)
        return [AffectedService.from_row(link) for link in links]

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


def _site(root: DowntimeNode | ServiceNode) -> EntityRef:
    """The site a downtime is declared on, the entity its service authorizes."""
    return EntityRef("site", root.site_id)


def topology_fields() -> dict[type, dict[str, Any]]:
    """The fields downtimes adds to topology's types (new ones at each call: a field
    belongs to one schema type)."""
    return {
        SiteNode: {
            "downtimes": strawberry.field(
                resolver=_downtimes_of_site, description="Downtimes of this site, ordered by start."
            ),
            "viewer_can_declare_downtime": viewer_can(
                "declareDowntime",
                on=lambda s, info: ownership.site_ref(info.context.session, s.db_id, s.ngi_id),
                thing="its services",
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
            "viewer_can_declare_downtime": viewer_can(
                "declareDowntime", on=lambda s, _i: _site(s), thing="this service"
            ),
        },
    }


def _declarable_sites(
    _root: strawberry.Parent[Viewer], info: Info, first: First = None, after: After = None
) -> Connection[SiteNode]:
    ctx = info.context
    page = downtimes.declarable_sites(ctx.session, ctx.principal, page=ctx.page(first, after))
    topology_loaders.after_sites(ctx, page.items)
    return connection(page, SiteNode.from_row)


def identity_fields() -> dict[type, dict[str, Any]]:
    """The field downtimes adds to identity's Viewer (a new one at each call)."""
    return {
        Viewer: {
            "declarable_sites": strawberry.field(
                resolver=_declarable_sites,
                description="The sites on which you may call `declareDowntime` (the sites "
                "whose viewerCanDeclareDowntime is true, whatever their scopes), decided by "
                "the same permission; ordered by id.",
            )
        }
    }
