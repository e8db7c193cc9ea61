"""GraphQL types of the change log: one audit entry, and the orders of the list."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from domains.common.graphql import Node
from domains.common.query import Record


@strawberry.enum(name="ChangeOrder", description="The order of `changes`.")
class ChangeOrder(enum.Enum):
    OLDEST_FIRST = "OLDEST_FIRST"
    NEWEST_FIRST = "NEWEST_FIRST"


@strawberry.type(name="Change", description="One entry of the audit trail.")
class ChangeNode(Node):
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_name: str
    raw_entity_id: strawberry.Private[int]
    changes: strawberry.scalars.JSON = strawberry.field(
        description="Changed fields: {field: [before, after]}."
    )
    reason: str | None

    @strawberry.field
    def entity_id(self) -> int:
        return self.raw_entity_id

    @classmethod
    def from_row(cls, row: Record) -> ChangeNode:
        return cls(
            db_id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            entity_type=row.entity_type,
            entity_name=row.entity_name,
            raw_entity_id=row.entity_id,
            changes=row.changes,
            reason=row.reason,
        )
