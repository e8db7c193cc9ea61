"""What env.py and the drift check share: the metadata and how to compare and render it."""

from __future__ import annotations

from typing import Any

from sqlmodel.sql.sqltypes import AutoString

# imported for their side effect: they register their tables on the metadata
import domains.accounting.models
import domains.common.audit
import domains.common.outbox
import domains.downtimes.models
import domains.identity.models
import domains.messaging.models
import domains.monitoring.models
import domains.topology.models  # noqa: F401
from domains.common.models import metadata
from domains.common.time import UTCDateTime
from domains.monitoring.service.partitions import is_partition_name

target_metadata = metadata


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Render our column types as plain SQLAlchemy ones, so that migrations never import
    application code (they must keep working when that code changes)."""
    if type_ == "type":
        if isinstance(obj, AutoString):
            return f"sa.String(length={obj.length})"
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
    return False


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """The drift check compares the models' tables only: the day partitions of the metric
    results (PostgreSQL) are the retention job's, not the models'."""
    return not (type_ == "table" and name is not None and is_partition_name(name))


def compare_options() -> dict[str, Any]:
    return {
        "include_name": include_name,
        "compare_type": True,
        "compare_server_default": True,
        "render_as_batch": True,
        "render_item": render_item,
    }
