"""Shared pieces of the access tests: row counts of every table, roles granted directly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.common.models import metadata
from domains.identity.models import EntityKind
from domains.topology import ownership, roles


def snapshot(session: Session) -> dict[str, int]:
    """Row count of every table: 'nothing was written' means this did not change."""
    session.expire_all()
    return {
        table.name: int(session.execute(select(func.count()).select_from(table)).scalar_one())
        for table in metadata.sorted_tables
    }


def grant(session: Session, subject: str, role: str, kind: str, name: str) -> None:
    entity_id = ownership.id_of(session, kind, name)
    assert entity_id is not None, f"no {kind} {name}"
    roles.grant_role_directly(
        session,
        PLATFORM,
        subject=subject,
        role_type=role,
        kind=EntityKind(kind),
        entity_id=entity_id,
    )
    session.commit()  # releases the test's savepoint; the outer transaction still rolls back


def global_id(type_name: str, pk: Any) -> str:
    from domains.common.graphql import to_global_id

    return to_global_id(type_name, int(pk))
