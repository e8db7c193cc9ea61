"""GraphQL mutations of the downtimes. Each one is a single service call inside the
request's transaction, with the request's clock; every rule lives in service/ and rules.py."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types.unset import UNSET, UnsetType

from domains.common.authz import requires
from domains.common.errors import Invalid
from domains.common.graphql import Deleted, Info, id_of_type
from domains.common.models import pk
from domains.downtimes import loaders
from domains.downtimes import service as downtimes
from domains.downtimes.models import Downtime, Severity
from domains.downtimes.rules import DowntimeRule
from domains.downtimes.types import DowntimeNode
from domains.topology.rules import Action as TopologyAction

# declaring, editing, ending and deleting a downtime: GOCDB's EDIT_OBJECT on its site
EDIT_OBJECT = TopologyAction.EDIT_OBJECT


def _ids(values: list[strawberry.ID] | None, type_name: str, argument: str) -> list[int]:
    return [id_of_type(v, type_name, argument=argument) for v in values or ()]


def _fresh(info: Info, downtimes_: list[Downtime]) -> list[DowntimeNode]:
    ctx = info.context
    rows = downtimes.downtimes_by_id(ctx.session, ctx.principal, [pk(d) for d in downtimes_])
    loaders.after_downtimes(ctx, rows.values())
    return [DowntimeNode.from_row(rows[pk(d)]) for d in downtimes_]


@strawberry.input
class DeclareDowntimeInput:
    service_ids: list[strawberry.ID] = strawberry.field(
        description="At least one service; in declareDowntime, all of one site."
    )
    endpoint_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Endpoints of the chosen services; a service none of whose endpoints is "
        "named is affected as a whole.",
    )
    severity: Severity
    starts_at: datetime = strawberry.field(description="At most 48 hours in the past.")
    ends_at: datetime = strawberry.field(description="After the start.")
    description: str = strawberry.field(
        description="Required; at most 4000 characters; no quotes, backticks, ';', '<' or '>'."
    )

    def declaration(self) -> downtimes.Declaration:
        """The declaration the service takes, with the ids decoded."""
        return downtimes.Declaration(
            service_ids=_ids(self.service_ids, "Service", "input.serviceIds"),
            endpoint_ids=_ids(self.endpoint_ids, "Endpoint", "input.endpointIds"),
            severity=self.severity,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            description=self.description,
        )


@strawberry.input(
    description="The same as DeclareDowntimeInput; the services may be of several sites."
)
class DeclareDowntimesInput(DeclareDowntimeInput):
    pass


@strawberry.input(description="Fields left out stay as they are.")
class UpdateDowntimeInput:
    id: strawberry.ID
    severity: Severity | None = UNSET
    starts_at: datetime | None = strawberry.field(
        default=UNSET, description="A changed start must be in the future."
    )
    ends_at: datetime | None = strawberry.field(
        default=UNSET, description="The duration may not grow."
    )
    description: str | None = UNSET
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Services of the same site."
    )
    endpoint_ids: list[strawberry.ID] | None = UNSET


@strawberry.input
class DeleteDowntimeInput:
    id: strawberry.ID


@strawberry.input
class EndDowntimeInput:
    id: strawberry.ID


@strawberry.input
class EndDowntimeForServicesInput:
    id: strawberry.ID
    service_ids: list[strawberry.ID] = strawberry.field(
        description="Services the downtime affects; at least one."
    )


@strawberry.type
class DeclareDowntimePayload:
    downtime: DowntimeNode


@strawberry.type
class DeclareDowntimesPayload:
    downtimes: list[DowntimeNode] = strawberry.field(description="One per site, ordered by site.")


@strawberry.type
class UpdateDowntimePayload:
    downtime: DowntimeNode


@strawberry.type
class EndDowntimePayload:
    downtime: DowntimeNode


@strawberry.type
class EndDowntimeForServicesPayload:
    downtime: DowntimeNode


def _given(value: object, field: str) -> bool:
    """Left out: False; null: refused by name; a value: True."""
    if isinstance(value, UnsetType):
        return False
    if value is None:
        raise Invalid(field, DowntimeRule.DOWNTIME_FIELD_NULL)
    return True


_ON_SITE = "the site of the downtime input.id"


@strawberry.type
class DowntimeMutation:
    @strawberry.mutation(
        description="Declare a downtime of services of one site (needs a role on the site). "
        "SCHEDULED or UNSCHEDULED is computed by the 24-hour rule."
    )
    @requires(EDIT_OBJECT, on="the site of input.serviceIds")
    def declare_downtime(self, info: Info, input: DeclareDowntimeInput) -> DeclareDowntimePayload:
        ctx = info.context
        downtime = downtimes.declare_downtime(
            ctx.session, ctx.principal, declaration=input.declaration(), now=ctx.clock()
        )
        return DeclareDowntimePayload(downtime=_fresh(info, [downtime])[0])

    @strawberry.mutation(
        description="Declare the same window over services of several sites: one downtime "
        "per site, ordered by site, all or none (needs a role on every site)."
    )
    @requires(EDIT_OBJECT, on="every site of input.serviceIds")
    def declare_downtimes(
        self, info: Info, input: DeclareDowntimesInput
    ) -> DeclareDowntimesPayload:
        ctx = info.context
        created = downtimes.declare_downtimes(
            ctx.session, ctx.principal, declaration=input.declaration(), now=ctx.clock()
        )
        return DeclareDowntimesPayload(downtimes=_fresh(info, created))

    @strawberry.mutation(
        description="Edit a downtime: not once finished, not a SCHEDULED one within 24 hours "
        "of its start, never longer; the classification is computed again."
    )
    @requires(EDIT_OBJECT, on=_ON_SITE)
    def update_downtime(self, info: Info, input: UpdateDowntimeInput) -> UpdateDowntimePayload:
        ctx = info.context
        downtime_id = id_of_type(input.id, "Downtime", argument="input.id")
        severity = input.severity if _given(input.severity, "input.severity") else None
        starts_at = input.starts_at if _given(input.starts_at, "input.startsAt") else None
        ends_at = input.ends_at if _given(input.ends_at, "input.endsAt") else None
        description = input.description if _given(input.description, "input.description") else None
        service_ids = (
            _ids(input.service_ids, "Service", "input.serviceIds")
            if _given(input.service_ids, "input.serviceIds")
            else None
        )
        endpoint_ids = (
            _ids(input.endpoint_ids, "Endpoint", "input.endpointIds")
            if _given(input.endpoint_ids, "input.endpointIds")
            else None
        )
        downtime = downtimes.update_downtime(
            ctx.session,
            ctx.principal,
            downtime_id=downtime_id,
            severity=severity,
            starts_at=starts_at,
            ends_at=ends_at,
            description=description,
            service_ids=service_ids,
            endpoint_ids=endpoint_ids,
            now=ctx.clock(),
        )
        return UpdateDowntimePayload(downtime=_fresh(info, [downtime])[0])

    @strawberry.mutation(
        description="Delete a downtime that has not started (not a SCHEDULED one within 24 "
        "hours of its start)."
    )
    @requires(EDIT_OBJECT, on=_ON_SITE)
    def delete_downtime(self, info: Info, input: DeleteDowntimeInput) -> Deleted:
        ctx = info.context
        downtime_id = id_of_type(input.id, "Downtime", argument="input.id")
        downtimes.delete_downtime(
            ctx.session, ctx.principal, downtime_id=downtime_id, now=ctx.clock()
        )
        return Deleted(id=input.id)

    @strawberry.mutation(description="End an ongoing downtime: it ends 60 seconds from now.")
    @requires(EDIT_OBJECT, on=_ON_SITE)
    def end_downtime(self, info: Info, input: EndDowntimeInput) -> EndDowntimePayload:
        ctx = info.context
        downtime_id = id_of_type(input.id, "Downtime", argument="input.id")
        downtime = downtimes.end_downtime(
            ctx.session, ctx.principal, downtime_id=downtime_id, now=ctx.clock()
        )
        return EndDowntimePayload(downtime=_fresh(info, [downtime])[0])

    @strawberry.mutation(
        description="Partial ending: these services leave an ongoing downtime 60 seconds from "
        "now while it goes on for the others; ending all of them ends the downtime."
    )
    @requires(EDIT_OBJECT, on=_ON_SITE)
    def end_downtime_for_services(
        self, info: Info, input: EndDowntimeForServicesInput
    ) -> EndDowntimeForServicesPayload:
        ctx = info.context
        downtime_id = id_of_type(input.id, "Downtime", argument="input.id")
        downtime = downtimes.end_downtime_services(
            ctx.session,
            ctx.principal,
            downtime_id=downtime_id,
            service_ids=_ids(input.service_ids, "Service", "input.serviceIds"),
            now=ctx.clock(),
        )
        return EndDowntimeForServicesPayload(downtime=_fresh(info, [downtime])[0])
