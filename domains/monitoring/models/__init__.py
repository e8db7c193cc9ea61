"""The monitoring domain's tables, one module per area (each helper appends its own)."""

from domains.monitoring.models.alerts import (
    AlertCursor,
    AlertFired,
    AlertKind,
    AlertNotification,
    AlertRule,
    AlertState,
)
from domains.monitoring.models.availability import ArLevel, DailyAvailability
from domains.monitoring.models.catalogue import (
    AggregationProfile,
    Metric,
    MetricProfile,
    MetricProfileEntry,
    OperationsProfile,
    Probe,
    ProbeKind,
    Report,
    ThresholdsProfile,
    Weights,
)
from domains.monitoring.models.heartbeat import WorkerHeartbeat
from domains.monitoring.models.recomputations import Recomputation
from domains.monitoring.models.results import (
    GrantKind,
    MetricResult,
    MonitoringHostGrant,
    RecomputeDay,
    ResultRejectionCount,
    TopicCursor,
)
from domains.monitoring.models.scheduling import ScheduledCheck
from domains.monitoring.models.status import (
    ChangePoint,
    DowntimeMomentCursor,
    MetricStatus,
    StatusChange,
)

__all__ = [
    "GrantKind",
    "MetricResult",
    "MetricStatus",
    "MonitoringHostGrant",
    "Recomputation",
    "RecomputeDay",
    "ResultRejectionCount",
    "ChangePoint",
    "StatusChange",
    "TopicCursor",
    "AggregationProfile",
    "Metric",
    "MetricProfile",
    "MetricProfileEntry",
    "OperationsProfile",
    "Probe",
    "ProbeKind",
    "Report",
    "ScheduledCheck",
    "WorkerHeartbeat",
    "ThresholdsProfile",
    "Weights",
    "ArLevel",
    "DailyAvailability",
    "AlertCursor",
    "DowntimeMomentCursor",
    "AlertFired",
    "AlertKind",
    "AlertNotification",
    "AlertRule",
    "AlertState",
]
