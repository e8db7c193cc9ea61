"""Extension properties (key = value) of sites, services, endpoints and service groups.

`set_property` and `remove_property` are the role-authorized writes; `store_property`,
`drop_property` and `drop_properties` are what they do once authorized, shared with GOCDB's
write API (`writes.api`), which authorizes by a site API credential instead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.audit import record_change
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.models import pk
from domains.topology.models import (
    MAX_PROPERTIES_PER_ENTITY,
    MAX_PROPERTY_LENGTH,
    EndpointProperty,
    ServiceGroupProperty,
    ServiceProperty,
    SiteProperty,
)
from domains.topology.rules import PROPERTY_KEY_RE, TopologyRule
from domains.topology.service.reads import PROPERTY_TABLES
from domains.topology.service.writes.checks import check_length, require
from domains.topology.service.writes.owners import owner_to_edit

PROPERTY_MODELS: dict[str, type[Any]] = {
    "site": SiteProperty,
    "service": ServiceProperty,
    "endpoint": EndpointProperty,
    "service_group": ServiceGroupProperty,
}


def set_property(
    session: Session, principal: Principal, *, kind: str, owner_id: int, key: str, value: str
) -> None:
    """Insert or replace one extension property (at most 20 per entity, 255 characters)."""
    owner = owner_to_edit(session, principal, kind, owner_id, PROPERTY_MODELS)
    store_property(session, principal, kind=kind, owner=owner, key=key, value=value)


def store_property(
    session: Session, principal: Principal, *, kind: str, owner: Any, key: str, value: str
) -> None:
    """`set_property` on an owner the caller was authorized to edit."""
    if not key or not PROPERTY_KEY_RE.match(key):
        raise Invalid("key", TopologyRule.PROPERTY_KEY_MALFORMED)
    check_length("key", key, MAX_PROPERTY_LENGTH)
    check_length("value", value, MAX_PROPERTY_LENGTH)
    table, fk = PROPERTY_TABLES[kind]
    owner_id = pk(owner)
    existing = session.execute(
        select(table.c.id, table.c.key, table.c.value).where(table.c[fk] == owner_id)
    ).all()
    model = PROPERTY_MODELS[kind]
    before: str | None = None
    for row in existing:
        if row.key == key:
            before = row.value
            prop = require(session, model, row.id, "property")
            prop.value = value
            break
    else:
        if len(existing) >= MAX_PROPERTIES_PER_ENTITY:
            raise Invalid(
                "key",
                TopologyRule.PROPERTY_LIMIT_REACHED,
                f"key: at most {MAX_PROPERTIES_PER_ENTITY} properties per entity",
            )
        session.add(model(**{fk: owner_id, "key": key, "value": value}))
    session.flush()
    if before != value:
        record_change(
            session, principal, kind, "set_property", owner, {f"property:{key}": [before, value]}
        )


def remove_property(
    session: Session, principal: Principal, *, kind: str, owner_id: int, key: str
) -> bool:
    """Remove one extension property; False if the entity had none by that key."""
    owner = owner_to_edit(session, principal, kind, owner_id, PROPERTY_MODELS)
    return drop_property(session, principal, kind=kind, owner=owner, key=key)


def drop_property(
    session: Session, principal: Principal, *, kind: str, owner: Any, key: str
) -> bool:
    """`remove_property` on an owner the caller was authorized to edit."""
    table, fk = PROPERTY_TABLES[kind]
    row = session.execute(
        select(table.c.id, table.c.value).where(table.c[fk] == pk(owner), table.c.key == key)
    ).first()
    if row is None:
        return False
    session.execute(table.delete().where(table.c.id == row.id))
    session.flush()
    record_change(
        session, principal, kind, "remove_property", owner, {f"property:{key}": [row.value, None]}
    )
    return True


def drop_properties(session: Session, principal: Principal, *, kind: str, owner: Any) -> int:
    """Remove every extension property of an owner the caller was authorized to edit, in
    one audit entry; how many there were."""
    table, fk = PROPERTY_TABLES[kind]
    rows = session.execute(
        select(table.c.key, table.c.value).where(table.c[fk] == pk(owner)).order_by(table.c.key)
    ).all()
    if not rows:
        return 0
    session.execute(table.delete().where(table.c[fk] == pk(owner)))
    session.flush()
    record_change(
        session,
        principal,
        kind,
        "remove_property",
        owner,
        {f"property:{row.key}": [row.value, None] for row in rows},
    )
    return len(rows)
