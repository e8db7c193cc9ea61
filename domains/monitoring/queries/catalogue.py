"""The catalogue's `Query` fields: public reads of ARGO's profiles, weights and reports (as
valid on a day), probes and metrics."""

from __future__ import annotations

import datetime as dt

import strawberry

from domains.common.graphql import Connection, Info, list_connection
from domains.monitoring.service import catalogue as svc
from domains.monitoring.service import catalogue_probes as probes_svc
from domains.monitoring.types.catalogue import (
    MonitoringMetric,
    MonitoringProbe,
    MonitoringProfile,
    MonitoringProfileKind,
)
from domains.topology.queries import After, First


@strawberry.input(description="Which profiles: by kind and name, as valid on a day.")
class MonitoringProfileFilter:
    kind: MonitoringProfileKind | None = None
    name: str | None = None
    valid_on: dt.date | None = strawberry.field(
        default=None, description="The versions valid on this day; today when left out."
    )


@strawberry.type
class MonitoringCatalogueQuery:
    @strawberry.field(
        description="ARGO's profiles, weights and reports, each in its version valid on the "
        "day asked (today by default); public."
    )
    def monitoring_profiles(
        self,
        info: Info,
        filter: MonitoringProfileFilter | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[MonitoringProfile]:
        ctx = info.context
        request = ctx.page(first, after)
        wanted = filter or MonitoringProfileFilter()
        kinds = list(svc.TABLES) if wanted.kind is None else [wanted.kind.value]
        found = [
            MonitoringProfile.from_row(kind, row)
            for kind in kinds
            for row in svc.versions_on(ctx.session, kind, wanted.valid_on or ctx.today())
            if wanted.name is None or row.name == wanted.name
        ]
        return list_connection(found, request, lambda profile: profile.db_id)

    @strawberry.field(description="Every version of one profile or report, oldest first.")
    def monitoring_profile_history(
        self,
        info: Info,
        kind: MonitoringProfileKind,
        profile_id: str,
        first: First = None,
        after: After = None,
    ) -> Connection[MonitoringProfile]:
        ctx = info.context
        request = ctx.page(first, after)
        rows = svc.history(ctx.session, kind.value, profile_id)
        return list_connection(
            [MonitoringProfile.from_row(kind.value, row) for row in rows], request
        )

    @strawberry.field(description="The probes metrics run; public.")
    def monitoring_probes(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[MonitoringProbe]:
        ctx = info.context
        probes = [MonitoringProbe.from_row(row) for row in probes_svc.probes(ctx.session)]
        return list_connection(probes, ctx.page(first, after), lambda probe: probe.db_id)

    @strawberry.field(description="The metrics as valid on a day (today by default); public.")
    def monitoring_metrics(
        self,
        info: Info,
        valid_on: dt.date | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[MonitoringMetric]:
        ctx = info.context
        metrics = [
            MonitoringMetric.from_row(m)
            for m in probes_svc.metrics_on(ctx.session, valid_on or ctx.today()).values()
        ]
        return list_connection(metrics, ctx.page(first, after), lambda metric: metric.db_id)
