"""The downtime tables as SQLAlchemy Core tables, and the names every part of the service
shares: the column order of a downtime row, the VO property, the event kinds."""

from __future__ import annotations

from sqlalchemy import Table

from domains.downtimes.models import Downtime, DowntimeEndpoint, DowntimeService

T_DOWNTIME: Table = Downtime.__table__  # type: ignore[attr-defined]
T_DT_SERVICE: Table = DowntimeService.__table__  # type: ignore[attr-defined]
T_DT_ENDPOINT: Table = DowntimeEndpoint.__table__  # type: ignore[attr-defined]

DOWNTIME_COLUMNS = tuple(column.name for column in T_DOWNTIME.c)

# The extension property of a service that names the VOs it serves (comma-separated);
# the VO filter of the timeline and of subscriptions reads it.
VO_PROPERTY = "vo"

EVENT_DECLARED = "downtime.declared"
EVENT_CHANGED = "downtime.changed"
EVENT_CANCELLED = "downtime.cancelled"
EVENT_STARTED = "downtime.started"
EVENT_ENDED = "downtime.ended"
EVENT_KINDS = (EVENT_DECLARED, EVENT_CHANGED, EVENT_CANCELLED, EVENT_STARTED, EVENT_ENDED)
