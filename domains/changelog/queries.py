"""The change log's Query field: the audit trail as each caller may read it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.changelog import service as change_log
from domains.changelog.rules import ChangeLogRule
from domains.changelog.service import ChangeFilter
from domains.changelog.types import ChangeNode, ChangeOrder
from domains.common.errors import Invalid
from domains.common.graphql import Connection, Info, connection, from_global_id
from domains.monitoring.service import catalogue
from domains.monitoring.types.catalogue import KINDS

# a type whose audit entries name it otherwise than its GraphQL name in lower case
_AUDITED_TYPES = {
    "ServiceGroup": "service_group",
    "MonitoringProbe": catalogue.AUDIT_PROBE,
    "MonitoringMetric": catalogue.AUDIT_METRIC,
    "AlertRule": "alert_rule",
}


@strawberry.input(
    name="ChangeFilter", description="Filter of `changes`; conditions combine with AND."
)
class ChangeFilterInput:
    entity: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the entity changed."
    )
    entity_type: str | None = None
    actor: str | None = strawberry.field(default=None, description="Subject of who changed it.")
    since: datetime | None = None
    until: datetime | None = None

    def to_domain(self) -> ChangeFilter:
        entity_type, entity_id = self.entity_type, None
        if self.entity is not None:
            type_name, entity_id = from_global_id(self.entity, argument="filter.entity")
            entity_type = _AUDITED_TYPES.get(type_name, type_name.lower())
            if type_name == "MonitoringProfile":  # its global id holds the kind too
                entity_id, code = divmod(entity_id, len(KINDS) + 1)
                entity_type = catalogue.AUDIT_KIND.get(KINDS[code] if code < len(KINDS) else "")
        for field, value in (("filter.since", self.since), ("filter.until", self.until)):
            if value is not None and value.tzinfo is None:
                raise Invalid(field, ChangeLogRule.CHANGE_TIME_WITHOUT_OFFSET)
        return ChangeFilter(
            entity_type=entity_type,
            entity_id=entity_id,
            actor=self.actor,
            since=self.since,
            until=self.until,
        )


@strawberry.type
class ChangeLogQuery:
    @strawberry.field(
        description="The audit trail, oldest first unless `order` says otherwise (in the "
        "order the entries were written; a cursor continues in the order it was given "
        "with): the entries about what the caller may read (administrators: all). Secrets "
        "in it are masked."
    )
    def changes(
        self,
        info: Info,
        filter: ChangeFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
        order: ChangeOrder = ChangeOrder.OLDEST_FIRST,
    ) -> Connection[ChangeNode]:
        ctx = info.context
        page = change_log.list_changes(
            ctx.session,
            ctx.principal,
            filter=(filter or ChangeFilterInput()).to_domain(),
            page=ctx.page(first, after),
            newest_first=order is ChangeOrder.NEWEST_FIRST,
        )
        return connection(page, ChangeNode.from_row)
