"""What every topology write shares: field checks, look-ups that raise `NotFound`, GOCDB's
legacy keys, and the audit records of a create, an update and a delete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.audit import record_change
from domains.common.errors import CommonRule, Conflict, Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import legacy_key, pk
from domains.common.text import check_text, check_texts
from domains.topology.rules import (
    FORBIDDEN_DESCRIPTION_CHARS,
    LEGACY_KEY_RE,
    TAG_NAME_RE,
    TopologyRule,
)


def check_length(field: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise Invalid(field, CommonRule.TEXT_TOO_LONG, f"{field}: at most {limit} characters")
    check_text(field, value)


def check_text_fields(**values: object) -> None:
    """Every text given: none of the characters XML forbids (feeds and XML routes show
    them). Field names in snake_case are reported in camelCase, as the API spells them."""
    check_texts({name: v for name, v in values.items() if isinstance(v, str)})


def check_description(field: str, value: str, limit: int) -> None:
    check_length(field, value, limit)
    if FORBIDDEN_DESCRIPTION_CHARS & set(value):
        raise Invalid(field, TopologyRule.TOPOLOGY_DESCRIPTION_CHARACTERS)


def check_tag_name(field: str, value: str) -> None:
    if not TAG_NAME_RE.match(value):
        raise Invalid(field, TopologyRule.TOPOLOGY_TAG_NAME_CHARACTERS)


def require(session: Session, model: type[Any], entity_id: int, what: str) -> Any:
    obj = session.get(model, entity_id)
    if obj is None:
        raise NotFound(f"{what} {entity_id} does not exist")
    return obj


def require_each(
    session: Session, model: type[Any], entity_ids: Sequence[int], field: str, what: str
) -> None:
    """A list of references: each given once, each to a row that exists."""
    if len(set(entity_ids)) != len(entity_ids):
        raise Invalid(field, TopologyRule.TOPOLOGY_ID_REPEATED, f"{field}: each {what} once")
    for entity_id in entity_ids:
        require(session, model, entity_id, what)


def exists(session: Session, column: Any, *conditions: Any) -> bool:
    """Whether any row meets all `conditions` (`column` is the one selected)."""
    return session.execute(select(column).where(*conditions).limit(1)).first() is not None


def check_unique(session: Session, column: Any, value: Any, field: str) -> None:
    """Refuse a duplicate natural key with a field-naming error, not an IntegrityError."""
    if exists(session, column, column == value):
        raise Invalid(
            field, TopologyRule.TOPOLOGY_VALUE_TAKEN, f"{field}: {value!r} is already in use"
        )


def check_legacy_key(session: Session, model: type[Any], primary_key: str | None) -> None:
    if primary_key is not None:
        if not LEGACY_KEY_RE.match(primary_key):
            raise Invalid("primaryKey", TopologyRule.TOPOLOGY_PRIMARY_KEY_MALFORMED)
        check_unique(session, model.primary_key, primary_key, "primaryKey")


def set_legacy_key(session: Session, obj: Any, primary_key: str | None) -> None:
    """Keep an imported GOCDB key, or give the GOCDB form `<id>G0` of our own id."""
    if primary_key is None:
        primary_key = legacy_key(pk(obj))
        model = type(obj)
        if exists(session, model.id, model.primary_key == primary_key, model.id != pk(obj)):
            raise Conflict(
                f"legacy key {primary_key} is held by an imported {model.__name__}; "
                "give this one a primary key explicitly"
            )
    obj.primary_key = primary_key


def check_fields(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """First thing in every update: only known, changeable fields go any further."""
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(sorted(unknown)[0], TopologyRule.TOPOLOGY_FIELD_NOT_CHANGEABLE)


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def audit_created(
    session: Session, principal: Principal, kind: str, obj: Any, fields: Sequence[str]
) -> None:
    created = {name: getattr(obj, name) for name in ("primary_key", *fields) if hasattr(obj, name)}
    record_change(session, principal, kind, "create", obj, audit.diff({}, created))


def apply_changes(
    session: Session, principal: Principal, kind: str, obj: Any, changes: Mapping[str, Any]
) -> None:
    """Set the (already checked) fields, flush, and audit each one's old and new value."""
    before = snapshot(obj, changes)
    for name, value in changes.items():
        setattr(obj, name, value)
    session.flush()
    record_change(
        session, principal, kind, "update", obj, audit.diff(before, snapshot(obj, changes))
    )


def delete_audited(
    session: Session, principal: Principal, kind: str, obj: Any, fields: Sequence[str]
) -> None:
    """Delete the row, flush, and audit the `fields` it had (the log outlives the row; the
    deleted object keeps its loaded values until the commit)."""
    gone = snapshot(obj, fields)
    session.delete(obj)
    session.flush()
    record_change(
        session,
        principal,
        kind,
        "delete",
        obj,
        {name: [value, None] for name, value in gone.items()},
    )
