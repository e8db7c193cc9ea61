"""The audit trail: who changed what, when, before and after. Written in the same
transaction as the change it records, by the service function that made it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import UTCDateTime, utcnow

ACTOR_LENGTH = 255


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_entity", "entity_type", "entity_id"),
        Index("ix_audit_entry_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(max_length=ACTOR_LENGTH, index=True)
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=32)
    entity_id: int
    entity_name: str = Field(default="", max_length=255)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str | None = Field(default=None, max_length=1000)


def _plain(value: Any) -> Any:
    """JSON-safe form of a column value (enums by value, times in ISO 8601)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return value.value
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field whose value changed."""
    fields = set(before) | set(after)
    return {
        name: [_plain(before.get(name)), _plain(after.get(name))]
        for name in sorted(fields)
        if _plain(before.get(name)) != _plain(after.get(name))
    }


# Fields whose values are secrets wherever an audit entry carries them: a downtime
# subscription's webhook, a push subscription's Mattermost hook, Authorization header value
# and verification hash. Their values never reach the stored entry in clear.
SECRET_KEYS = frozenset({"webhook_url", "mattermost_url", "auth_header_value", "verification_hash"})
# URL-valued secrets keep their scheme and host, so an operator sees where they point.
_SECRET_URL_KEYS = frozenset({"webhook_url", "mattermost_url"})
MASK = "***"


def mask_value(key: str, value: Any) -> Any:
    """The audit form of a secret: empty values stay as they are (set or unset is visible),
    a URL keeps `scheme://host[:port]` and loses the rest (user, path, query), anything else
    becomes MASK. No fingerprint: even a short hash of a weak secret lets anyone who reads
    the log test guesses offline. Idempotent: a masked value masks to itself."""
    if key not in SECRET_KEYS or value is None or value == "":
        return value
    if key in _SECRET_URL_KEYS and isinstance(value, str):
        try:
            parts = urlsplit(value)
            host, port = parts.hostname, parts.port
        except ValueError:
            return MASK
        if parts.scheme and host:
            netloc = f"[{host}]" if ":" in host else host
            return f"{parts.scheme}://{netloc}{'' if port is None else f':{port}'}/{MASK}"
    return MASK


def mask_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` ({field: [before, after]}) with every secret field masked."""
    return {
        key: [mask_value(key, v) for v in value]
        if key in SECRET_KEYS and isinstance(value, list)
        else mask_value(key, value)
        for key, value in changes.items()
    }


def actor_of(principal: Principal) -> str:
    """Who the entry names: the caller's subject, or, for a write through GOCDB's write
    API, the identifier of the site API credential that authorized it (the same string
    for an OIDC subject or an unlinked certificate; the DN for a user's linked one)."""
    return (principal.api_credential or principal.subject or "anonymous")[:ACTOR_LENGTH]


def record(
    session: Any,
    principal: Principal,
    *,
    action: str,
    entity_type: str,
    entity_id: int,
    entity_name: str = "",
    changes: Mapping[str, list[Any]] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor_of(principal),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_name=entity_name,
        changes=mask_changes(changes or {}),
        reason=reason,
    )
    session.add(entry)
    session.flush()
    return entry


def entity_label(obj: Any) -> str:
    """The name the audit log shows of a row: a site's short name, a subscription's or a
    project's name, a service's host name; empty when it has none of them."""
    for name in ("short_name", "name", "host_name"):
        value = getattr(obj, name, None)
        if value:
            return str(value)
    return ""


def record_change(
    session: Any,
    principal: Principal,
    kind: str,
    verb: str,
    obj: Any,
    changes: Mapping[str, list[Any]],
) -> AuditEntry:
    """The entry `<kind>.<verb>` about the row `obj` (entity type `kind`, its id and
    entity_label), with each changed field's [before, after]: what every domain's create,
    update and delete of a row records."""
    return record(
        session,
        principal,
        action=f"{kind}.{verb}",
        entity_type=kind,
        entity_id=pk(obj),
        entity_name=entity_label(obj),
        changes=changes,
    )
