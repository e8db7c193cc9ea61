"""Downtimes: declaration and edits with GOCDB's rules, reads for the timeline, the feeds
and other domains, and the events every change records in the outbox.

The package is split along those seams: `writes` (declare, update, end, delete),
`filters` (DowntimeFilter and its SQL), `queries` (reads and pages), `gocdb` (the reads of
GOCDB's PI, with its parameters' semantics), `intervals` (when a service or an endpoint
was in a downtime), `snapshots` (what the events carry and the transitions job) and
`tables` (the tables and shared names). Callers import from here.
"""

from domains.downtimes.service.filters import DowntimeFilter, downtime_conditions
from domains.downtimes.service.gocdb import (
    GocdbDowntime,
    GocdbDowntimeQuery,
    GocdbEndpoint,
    GocdbPageRequest,
    GocdbService,
    gocdb_downtimes,
)
from domains.downtimes.service.intervals import (
    Interval,
    covers,
    effective_end,
    endpoint_downtime_intervals,
    services_in_downtime_at,
)
from domains.downtimes.service.queries import (
    declarable_sites,
    downtimes_by_id,
    downtimes_of_services,
    downtimes_of_sites,
    endpoint_links,
    get_downtime,
    iter_downtimes,
    list_downtimes,
    service_links,
    site_ids_with_roles,
)
from domains.downtimes.service.snapshots import emit_transitions, snapshot, vos_of_services
from domains.downtimes.service.tables import (
    DOWNTIME_COLUMNS,
    EVENT_CANCELLED,
    EVENT_CHANGED,
    EVENT_DECLARED,
    EVENT_ENDED,
    EVENT_KINDS,
    EVENT_STARTED,
    T_DOWNTIME,
    T_DT_ENDPOINT,
    T_DT_SERVICE,
    VO_PROPERTY,
)
from domains.downtimes.service.writes import (
    Declaration,
    declare_downtime,
    declare_downtimes,
    delete_downtime,
    end_downtime,
    end_downtime_services,
    update_downtime,
)

__all__ = [
    "DOWNTIME_COLUMNS",
    "EVENT_CANCELLED",
    "EVENT_CHANGED",
    "EVENT_DECLARED",
    "EVENT_ENDED",
    "EVENT_KINDS",
    "EVENT_STARTED",
    "T_DOWNTIME",
    "T_DT_ENDPOINT",
    "T_DT_SERVICE",
    "VO_PROPERTY",
    "Declaration",
    "DowntimeFilter",
    "GocdbDowntime",
    "GocdbDowntimeQuery",
    "GocdbEndpoint",
    "GocdbPageRequest",
    "GocdbService",
    "Interval",
    "covers",
    "declarable_sites",
    "declare_downtime",
    "declare_downtimes",
    "delete_downtime",
    "downtime_conditions",
    "downtimes_by_id",
    "downtimes_of_services",
    "downtimes_of_sites",
    "effective_end",
    "emit_transitions",
    "end_downtime",
    "end_downtime_services",
    "endpoint_downtime_intervals",
    "endpoint_links",
    "get_downtime",
    "gocdb_downtimes",
    "iter_downtimes",
    "list_downtimes",
    "service_links",
    "services_in_downtime_at",
    "site_ids_with_roles",
    "snapshot",
    "update_downtime",
    "vos_of_services",
]
