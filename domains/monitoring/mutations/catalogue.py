"""The catalogue's `Mutation` fields: ARGO's profiles, weights and reports from ARGO's own
JSON (`document`), for platform administrators. Errors name the JSON path below
`input.document`."""

from __future__ import annotations

import strawberry

from domains.common.authz import requires
from domains.common.graphql import Deleted, Info, id_of_type
from domains.monitoring.rules import Action
from domains.monitoring.service import catalogue as svc
from domains.monitoring.service import catalogue_probes as probes_svc
from domains.monitoring.types.catalogue import (
    MonitoringMetric,
    MonitoringProbe,
    MonitoringProfile,
    MonitoringProfileKind,
    ProbeKindType,
)

AT = "input.document"


@strawberry.input(description="A new profile, weights or report, in ARGO's JSON.")
class CreateMonitoringProfileInput:
    kind: MonitoringProfileKind
    document: strawberry.scalars.JSON = strawberry.field(
        description="ARGO's JSON; its `id` is kept when given, its `date` (else today) is "
        "the first version's."
    )


@strawberry.type
class CreateMonitoringProfilePayload:
    profile: MonitoringProfile


@strawberry.input(
    description="A new version of a profile, weights or report: the one of the document's "
    "`date` (today without one), replacing that date's version if there is one."
)
class UpdateMonitoringProfileInput:
    kind: MonitoringProfileKind
    profile_id: str
    document: strawberry.scalars.JSON


@strawberry.type
class UpdateMonitoringProfilePayload:
    profile: MonitoringProfile


@strawberry.input(description="A profile, weights or report, every version of it.")
class DeleteMonitoringProfileInput:
    kind: MonitoringProfileKind
    profile_id: str


@strawberry.input(
    description="A probe: a built-in (`builtin`: tcp, http, tls, apel-pub, apel-sync) or a "
    "Nagios plugin (`command`: its path below the plugin directory, then arguments "
    "substituting only {host}, {port} and {url})."
)
class CreateMonitoringProbeInput:
    name: str
    version: str
    kind: ProbeKindType  # type: ignore[valid-type]
    builtin: str | None = None
    command: list[str] = strawberry.field(default_factory=list)
    timeout_seconds: int = 30
    description: str = ""


@strawberry.type
class CreateMonitoringProbePayload:
    probe: MonitoringProbe


@strawberry.input(
    description="A metric, or a new version of the one of that name: a probe with "
    "parameters, its interval and retry interval in seconds."
)
class CreateMonitoringMetricInput:
    name: str
    probe_name: str
    probe_version: str
    parameters: strawberry.scalars.JSON | None = None
    interval: int = 300
    retry_interval: int = 180
    max_check_attempts: int = 3
    description: str = ""


@strawberry.type
class CreateMonitoringMetricPayload:
    metric: MonitoringMetric


@strawberry.input(
    description="Change how a probe version runs; what is left out stays (its name, version "
    "and kind never change: a new software version is a new probe)."
)
class UpdateMonitoringProbeInput:
    id: strawberry.ID
    builtin: str | None = None
    command: list[str] | None = None
    timeout_seconds: int | None = None
    description: str | None = None


@strawberry.type
class UpdateMonitoringProbePayload:
    probe: MonitoringProbe


@strawberry.input(description="A probe version; not while a metric runs it.")
class DeleteMonitoringProbeInput:
    id: strawberry.ID


@strawberry.input(
    description="Change one version of a metric in place; what is left out stays "
    "(`createMonitoringMetric` adds a dated version)."
)
class UpdateMonitoringMetricInput:
    id: strawberry.ID
    probe_name: str | None = None
    probe_version: str | None = None
    parameters: strawberry.scalars.JSON | None = None
    interval: int | None = None
    retry_interval: int | None = None
    max_check_attempts: int | None = None
    description: str | None = None


@strawberry.type
class UpdateMonitoringMetricPayload:
    metric: MonitoringMetric


@strawberry.input(description="A metric, every version of it; not while a metric profile lists it.")
class DeleteMonitoringMetricInput:
    id: strawberry.ID


@strawberry.type
class MonitoringCatalogueMutation:
    @strawberry.mutation(description="Define a probe; platform admins only.")
    @requires(Action.MANAGE_CATALOGUE)
    def create_monitoring_probe(
        self, info: Info, input: CreateMonitoringProbeInput
    ) -> CreateMonitoringProbePayload:
        ctx = info.context
        probe = probes_svc.create_probe(
            ctx.session,
            ctx.principal,
            name=input.name,
            version=input.version,
            kind=input.kind,
            builtin=input.builtin,
            command=input.command,
            timeout_seconds=input.timeout_seconds,
            description=input.description,
            at="input.",
        )
        return CreateMonitoringProbePayload(probe=MonitoringProbe.from_row(probe))

    @strawberry.mutation(description="Define a metric (a dated version); platform admins only.")
    @requires(Action.MANAGE_CATALOGUE)
    def create_monitoring_metric(
        self, info: Info, input: CreateMonitoringMetricInput
    ) -> CreateMonitoringMetricPayload:
        ctx = info.context
        metric = probes_svc.create_metric(
            ctx.session,
            ctx.principal,
            name=input.name,
            probe_name=input.probe_name,
            probe_version=input.probe_version,
            parameters=input.parameters,
            interval_seconds=input.interval,
            retry_interval_seconds=input.retry_interval,
            max_check_attempts=input.max_check_attempts,
            description=input.description,
            at="input.",
        )
        return CreateMonitoringMetricPayload(metric=MonitoringMetric.from_row(metric))

    @strawberry.mutation(description="Change how a probe runs; platform admins only.")
    @requires(Action.MANAGE_CATALOGUE)
    def update_monitoring_probe(
        self, info: Info, input: UpdateMonitoringProbeInput
    ) -> UpdateMonitoringProbePayload:
        ctx = info.context
        probe = probes_svc.update_probe(
            ctx.session,
            ctx.principal,
            id_of_type(input.id, "MonitoringProbe", argument="input.id"),
            builtin=input.builtin,
            command=input.command,
            timeout_seconds=input.timeout_seconds,
            description=input.description,
            at="input.",
        )
        return UpdateMonitoringProbePayload(probe=MonitoringProbe.from_row(probe))

    @strawberry.mutation(description="Delete a probe no metric runs; platform admins only.")
    @requires(Action.MANAGE_CATALOGUE)
    def delete_monitoring_probe(self, info: Info, input: DeleteMonitoringProbeInput) -> Deleted:
        ctx = info.context
        pk = id_of_type(input.id, "MonitoringProbe", argument="input.id")
        probes_svc.delete_probe(ctx.session, ctx.principal, pk)
        return Deleted(id=input.id)

    @strawberry.mutation(description="Change a metric's version; platform admins only.")
    @requires(Action.MANAGE_CATALOGUE)
    def update_monitoring_metric(
        self, info: Info, input: UpdateMonitoringMetricInput
    ) -> UpdateMonitoringMetricPayload:
        ctx = info.context
        metric = probes_svc.update_metric(
            ctx.session,
            ctx.principal,
            id_of_type(input.id, "MonitoringMetric", argument="input.id"),
            probe_name=input.probe_name,
            probe_version=input.probe_version,
            parameters=input.parameters,
            interval_seconds=input.interval,
            retry_interval_seconds=input.retry_interval,
            max_check_attempts=input.max_check_attempts,
            description=input.description,
            at="input.",
        )
        return UpdateMonitoringMetricPayload(metric=MonitoringMetric.from_row(metric))

    @strawberry.mutation(
        description="Delete a metric (every version) no metric profile lists; platform admins."
    )
    @requires(Action.MANAGE_CATALOGUE)
    def delete_monitoring_metric(self, info: Info, input: DeleteMonitoringMetricInput) -> Deleted:
        ctx = info.context
        pk = id_of_type(input.id, "MonitoringMetric", argument="input.id")
        probes_svc.delete_metric(ctx.session, ctx.principal, pk)
        return Deleted(id=input.id)

    @strawberry.mutation(description="Load an ARGO profile, weights or report; platform admins.")
    @requires(Action.MANAGE_CATALOGUE)
    def create_monitoring_profile(
        self, info: Info, input: CreateMonitoringProfileInput
    ) -> CreateMonitoringProfilePayload:
        ctx = info.context
        kind = input.kind.value
        row = svc.create_profile(ctx.session, ctx.principal, kind, input.document, at=AT)
        return CreateMonitoringProfilePayload(profile=MonitoringProfile.from_row(kind, row))

    @strawberry.mutation(description="Add a dated version to a profile; platform admins.")
    @requires(Action.MANAGE_CATALOGUE)
    def update_monitoring_profile(
        self, info: Info, input: UpdateMonitoringProfileInput
    ) -> UpdateMonitoringProfilePayload:
        ctx = info.context
        kind = input.kind.value
        row = svc.update_profile(
            ctx.session, ctx.principal, kind, input.profile_id, input.document, at=AT
        )
        return UpdateMonitoringProfilePayload(profile=MonitoringProfile.from_row(kind, row))

    @strawberry.mutation(
        description="Delete a profile (every version; not while a report uses it); platform admins."
    )
    @requires(Action.MANAGE_CATALOGUE)
    def delete_monitoring_profile(self, info: Info, input: DeleteMonitoringProfileInput) -> Deleted:
        ctx = info.context
        kind = input.kind.value
        rows = svc.history(ctx.session, kind, input.profile_id)
        svc.delete_profile(ctx.session, ctx.principal, kind, input.profile_id)
        last = MonitoringProfile.from_row(kind, rows[-1])
        return Deleted(id=last.id())
