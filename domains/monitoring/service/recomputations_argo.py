"""Recomputations in ARGO's JSON: parsed into a RecomputationSpec, rendered from a stored row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from domains.common.errors import Invalid
from domains.monitoring.models.recomputations import Recomputation
from domains.monitoring.rules import MonitoringRule as R
from domains.monitoring.service.recomputations import (
    MAX_ENTRIES,
    MetricExclusionSpec,
    RecomputationSpec,
    SourceExclusionSpec,
    StatusChangeSpec,
    argo_field,
    parse_zulu,
    zulu,
)

# --- ARGO's JSON ---------------------------------------------------------------------------


def _text(document: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    value = document.get(key)
    if value is None:
        if required:
            raise Invalid(argo_field(path), R.MONITORING_FIELD_REQUIRED)
        return None
    if not isinstance(value, str):
        raise Invalid(argo_field(path), R.MONITORING_FIELD_WRONG_TYPE)
    return value


def _entries(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(argo_field(key), R.MONITORING_FIELD_WRONG_TYPE)
    if len(value) > MAX_ENTRIES:
        raise Invalid(argo_field(key), R.RECOMPUTATION_TOO_MANY)
    return value


def _entry(value: Any, path: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict) or not set(value) <= allowed:
        raise Invalid(argo_field(path), R.RECOMPUTATION_ENTRY_INVALID)
    return value


_METRIC_KEYS = frozenset({"metric", "hostname", "service", "group"})
_SOURCE_KEYS = frozenset({"host", "start_time", "end_time"})
_CHANGE_KEYS = frozenset(
    {"state", "group", "service", "endpoint", "hostname", "metric", "start_time", "end_time"}
)


def from_argo(document: Mapping[str, Any]) -> RecomputationSpec:
    """A recomputation from ARGO's JSON body (fields ARGO does not define at the top level,
    such as an echoed `id` or `status`, are ignored as ARGO ignores them; an entry of a
    list holds only its list's fields, so that a misspelt one never widens it)."""
    metrics = []
    for i, raw in enumerate(_entries(document, "exclude_metrics")):
        path = f"exclude_metrics[{i}]"
        e = _entry(raw, path, _METRIC_KEYS)
        metrics.append(
            MetricExclusionSpec(
                metric=_text(e, "metric", f"{path}.metric"),
                hostname=_text(e, "hostname", f"{path}.hostname", required=False),
                service=_text(e, "service", f"{path}.service", required=False),
                group=_text(e, "group", f"{path}.group", required=False),
            )
        )
    sources = []
    for i, raw in enumerate(_entries(document, "exclude_monitoring_source")):
        path = f"exclude_monitoring_source[{i}]"
        e = _entry(raw, path, _SOURCE_KEYS)
        sources.append(
            SourceExclusionSpec(
                host=_text(e, "host", f"{path}.host"),
                start=parse_zulu(e.get("start_time"), f"{path}.start_time"),
                end=parse_zulu(e.get("end_time"), f"{path}.end_time"),
            )
        )
    changes = []
    for i, raw in enumerate(_entries(document, "applied_status_changes")):
        path = f"applied_status_changes[{i}]"
        e = _entry(raw, path, _CHANGE_KEYS)
        endpoint = _text(e, "endpoint", f"{path}.endpoint", required=False)
        changes.append(
            StatusChangeSpec(
                state=_text(e, "state", f"{path}.state"),
                group=_text(e, "group", f"{path}.group", required=False),
                service=_text(e, "service", f"{path}.service", required=False),
                endpoint=endpoint or _text(e, "hostname", f"{path}.hostname", required=False),
                metric=_text(e, "metric", f"{path}.metric", required=False),
                start=None
                if e.get("start_time") is None
                else parse_zulu(e["start_time"], f"{path}.start_time"),
                end=None
                if e.get("end_time") is None
                else parse_zulu(e["end_time"], f"{path}.end_time"),
            )
        )
    excluded = _entries(document, "exclude")
    for i, site in enumerate(excluded):
        if not isinstance(site, str):
            raise Invalid(argo_field(f"exclude[{i}]"), R.MONITORING_FIELD_WRONG_TYPE)
    return RecomputationSpec(
        report=_text(document, "report", "report"),
        requester_name=_text(document, "requester_name", "requester_name"),
        requester_email=_text(document, "requester_email", "requester_email"),
        reason=_text(document, "reason", "reason"),
        start=parse_zulu(document.get("start_time"), "start_time"),
        end=parse_zulu(document.get("end_time"), "end_time"),
        exclude=tuple(excluded),
        exclude_metrics=tuple(metrics),
        exclude_monitoring_source=tuple(sources),
        applied_status_changes=tuple(changes),
    )


def as_argo(row: Recomputation | Any, report_name: str, *, email: bool = True) -> dict[str, Any]:
    """ARGO's JSON of a recomputation (`GET /recomputations`); the requester's e-mail
    empty unless `email` (the caller may manage it)."""
    return {
        "id": row.uuid,
        "requester_name": row.requester_name,
        "requester_email": row.requester_email if email else "",
        "reason": row.reason,
        "start_time": zulu(row.start_time),
        "end_time": zulu(row.end_time),
        "report": report_name,
        "exclude": list(row.exclude),
        "exclude_metrics": list(row.exclude_metrics),
        "exclude_monitoring_source": list(row.exclude_monitoring_source),
        "applied_status_changes": list(row.applied_status_changes),
        "status": row.status,
        "timestamp": row.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "history": list(row.history),
    }
