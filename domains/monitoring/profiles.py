"""ARGO's JSON documents <-> catalogue rows: metric, operations, aggregation and thresholds
profiles, weights and reports, in the exact shapes of argo-web-api (v2) so that a profile
exported from ARGO loads unchanged and renders back as ARGO renders it.

Parsing is pure: `parse(kind, doc, at=...)` checks the document's shape and ARGO's own
validation rules and returns a `Parsed` (the normalized document, in ARGO's key order, and
the columns a row is looked up by). A bad document raises `Invalid(path, MonitoringRule.X)`
where `path` is the JSON path of the offending value below `at`, e.g.
`input.document.operations[1].truth_table[4].x`. `render(kind, uuid, day, document)` gives
back ARGO's JSON. Fields ARGO does not define are refused rather than silently dropped; the
read-only fields of ARGO's output (a report's `tenant`, `info.created`, `info.updated`) are
accepted and ignored, so that what ARGO's GET returns can be fed back."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domains.common.errors import Invalid
from domains.monitoring.engine.aggregation import AggregationSpec
from domains.monitoring.engine.operations import OperationsTable, ProfileError
from domains.monitoring.models.catalogue import NAME_MAX, UUID_MAX
from domains.monitoring.rules import MonitoringRule as R


class ProfileKind(enum.StrEnum):
    """The profile types a report names (`profiles[].type`), with ARGO's spelling."""

    METRIC = "metric"
    OPERATIONS = "operations"
    AGGREGATION = "aggregation"
    THRESHOLDS = "thresholds"
    WEIGHTS = "weights"


REPORT = "report"  # a report is parsed and rendered here too, but it is not a profile
REQUIRED_IN_REPORT = (ProfileKind.METRIC, ProfileKind.OPERATIONS, ProfileKind.AGGREGATION)
THRESHOLD_UNITS = ("s", "us", "ms", "%", "B", "KB", "MB", "TB", "c")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_NUM = r"-?\d+(?:\.\d+)*"
# one `label=value[uom];warn;crit;min;max` item: argo-web-api's rule expression
# (thresholdsProfiles/model.go validateRule), applied per whitespace-separated item, so that
# no nested repetition can backtrack
_THRESHOLD = re.compile(
    rf"[a-zA-Z]\w+={_NUM}(?:s|us|ms|%|B|KB|MB|TB|c)?"
    rf"(?:;(?:{_NUM}|(?:~|{_NUM}):(?:{_NUM})?)?){{0,2}}(?:;(?:{_NUM})?){{0,2}};*",
    re.ASCII,
)
THRESHOLDS_MAX = 4000


@dataclass(frozen=True, slots=True)
class Parsed:
    """A checked document: `document` is ARGO's JSON without `id` and `date` (which are the
    row's `uuid` and `date`), `columns` the other columns of the row, `entries` a metric
    profile's (service type, metric) pairs, `references` a report's (kind, uuid) profiles."""

    kind: str
    name: str
    document: dict[str, Any]
    uuid: str | None = None
    date: date | None = None
    description: str = ""
    columns: dict[str, Any] = field(default_factory=dict)
    entries: tuple[tuple[str, str], ...] = ()
    references: tuple[tuple[ProfileKind, str, str], ...] = ()  # (kind, uuid, its path)


# ---------------------------------------------------------------------------------------
# reading JSON with paths


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Invalid(path, R.MONITORING_FIELD_WRONG_TYPE, f"{path}: a JSON object")
    return value


def _only(obj: Mapping[str, Any], path: str, allowed: Sequence[str]) -> None:
    for key in obj:
        if key not in allowed:
            raise Invalid(
                f"{path}.{key}", R.MONITORING_FIELD_UNKNOWN, f"{path}.{key}: not a field of ARGO's"
            )


def _get(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> Any:
    if key not in obj or obj[key] is None:
        if required:
            raise Invalid(f"{path}.{key}", R.MONITORING_FIELD_REQUIRED)
        return None
    return obj[key]


def _string(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = _get(obj, key, path, required=required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{path}.{key}", R.MONITORING_FIELD_WRONG_TYPE, f"{path}.{key}: a string")
    return value


def _text(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = _string(obj, key, path)
    assert value is not None  # required
    return value


def _name(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = _text(obj, key, path).strip()
    if not value:
        raise Invalid(f"{path}.{key}", R.MONITORING_NAME_EMPTY)
    if len(value) > NAME_MAX:
        raise Invalid(f"{path}.{key}", R.MONITORING_NAME_TOO_LONG)
    return value


def _list(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> list[Any]:
    value = _get(obj, key, path, required=required)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(f"{path}.{key}", R.MONITORING_FIELD_WRONG_TYPE, f"{path}.{key}: a list")
    return value


def _number(obj: Mapping[str, Any], key: str, path: str) -> float | int | None:
    value = _get(obj, key, path, required=False)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{path}.{key}", R.MONITORING_FIELD_WRONG_TYPE, f"{path}.{key}: a number")
    return value


def _bool(obj: Mapping[str, Any], key: str, path: str) -> bool | None:
    value = _get(obj, key, path, required=False)
    if value is not None and not isinstance(value, bool):
        raise Invalid(f"{path}.{key}", R.MONITORING_FIELD_WRONG_TYPE, f"{path}.{key}: a boolean")
    return value


def _strings(obj: Mapping[str, Any], key: str, path: str) -> list[str]:
    items = _list(obj, key, path)
    seen: set[str] = set()
    for i, item in enumerate(items):
        at = f"{path}.{key}[{i}]"
        if not isinstance(item, str):
            raise Invalid(at, R.MONITORING_FIELD_WRONG_TYPE, f"{at}: a string")
        if item in seen:
            raise Invalid(at, R.MONITORING_REPEATED, f"{at}: {item} is repeated")
        seen.add(item)
    return list(items)


def check_uuid(value: str, path: str) -> str:
    if len(value) > UUID_MAX or not _ID.fullmatch(value):
        raise Invalid(path, R.MONITORING_UUID_INVALID)
    return value


def check_date(value: str, path: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(path, R.MONITORING_DATE_INVALID) from None


def _identity(obj: Mapping[str, Any], path: str) -> tuple[str | None, date | None]:
    uuid = _string(obj, "id", path, required=False)
    day = _string(obj, "date", path, required=False)
    return (
        None if uuid is None else check_uuid(uuid, f"{path}.id"),
        None if day is None else check_date(day, f"{path}.date"),
    )


# ---------------------------------------------------------------------------------------
# the kinds


def parse_metric_profile(doc: object, at: str = "document") -> Parsed:
    obj = _object(doc, at)
    _only(obj, at, ("id", "date", "name", "description", "services"))
    uuid, day = _identity(obj, at)
    name = _name(obj, "name", at)
    description = _string(obj, "description", at, required=False) or ""
    services: list[dict[str, Any]] = []
    entries: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(_list(obj, "services", at)):
        path = f"{at}.services[{i}]"
        service = _object(item, path)
        _only(service, path, ("service", "metrics"))
        service_type = _name(service, "service", path)
        if service_type in seen:
            raise Invalid(f"{path}.service", R.MONITORING_REPEATED, f"{path}.service: repeated")
        seen.add(service_type)
        metrics = _strings(service, "metrics", path)
        services.append({"service": service_type, "metrics": metrics})
        entries.extend((service_type, metric) for metric in metrics)
    document = {"name": name, "description": description, "services": services}
    return Parsed(
        ProfileKind.METRIC, name, document, uuid, day, description, entries=tuple(entries)
    )


def parse_operations_profile(doc: object, at: str = "document") -> Parsed:
    """ARGO's checks (operationsProfiles/model.go): no state or operation twice, defaults
    and every cell among the available states, each state mentioned at least n-1 times in
    each table; one result per (a, b); then the engine's (engine/operations.py): a result for
    every pair, (b, a) read from (a, b) where the profile has no (b, a) row."""
    obj = _object(doc, at)
    _only(obj, at, ("id", "date", "name", "available_states", "defaults", "operations"))
    uuid, day = _identity(obj, at)
    name = _name(obj, "name", at)
    states = _strings(obj, "available_states", at)
    defaults_at = f"{at}.defaults"
    defaults = _object(_get(obj, "defaults", at, required=True), defaults_at)
    _only(defaults, defaults_at, ("down", "missing", "unknown"))
    chosen = {key: _text(defaults, key, defaults_at) for key in ("down", "missing", "unknown")}
    for key, state in chosen.items():
        _state(state, states, f"{defaults_at}.{key}")
    operations: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, item in enumerate(_list(obj, "operations", at)):
        path = f"{at}.operations[{i}]"
        operation = _object(item, path)
        _only(operation, path, ("name", "truth_table"))
        op_name = _name(operation, "name", path)
        if op_name in names:
            raise Invalid(f"{path}.name", R.MONITORING_REPEATED, f"{path}.name: repeated")
        names.add(op_name)
        operations.append({"name": op_name, "truth_table": _truth_table(operation, path, states)})
    document = {
        "name": name,
        "available_states": states,
        "defaults": chosen,
        "operations": operations,
    }
    _engine_accepts(OperationsTable.from_argo, document, at)
    return Parsed(ProfileKind.OPERATIONS, name, document, uuid, day)


def _engine_accepts(load: Callable[[Mapping[str, object]], object], doc: Any, at: str) -> None:
    """The A/R engine owns the profiles' semantics: what it cannot run is refused."""
    try:
        load(doc)
    except ProfileError as error:
        path = at if error.path == "$" else f"{at}.{error.path}"
        raise Invalid(path, R.MONITORING_PROFILE_INVALID, f"{path}: {error.message}") from None


def _state(value: str, states: Sequence[str], path: str) -> None:
    if value not in states:
        raise Invalid(
            path, R.MONITORING_STATE_UNKNOWN, f"{path}: {value} is not an available state"
        )


def _truth_table(operation: Mapping[str, Any], path: str, states: Sequence[str]) -> list[Any]:
    rows: list[dict[str, str]] = []
    cells: dict[tuple[str, str], str] = {}
    mentions = dict.fromkeys(states, 0)
    for j, item in enumerate(_list(operation, "truth_table", path)):
        at = f"{path}.truth_table[{j}]"
        row = _object(item, at)
        _only(row, at, ("a", "b", "x"))
        a, b, x = (_text(row, key, at) for key in ("a", "b", "x"))
        for key, value in (("a", a), ("b", b), ("x", x)):
            _state(value, states, f"{at}.{key}")
        pair = (a, b)
        if cells.setdefault(pair, x) != x:
            raise Invalid(
                f"{at}.x",
                R.MONITORING_TRUTH_TABLE_CONFLICT,
                f"{at}.x: {a} and {b} already give {cells[pair]}",
            )
        mentions[a] += 1
        mentions[b] += 1
        rows.append({"a": a, "b": b, "x": x})
    for state in states:
        if mentions[state] < len(states) - 1:
            raise Invalid(
                f"{path}.truth_table",
                R.MONITORING_TRUTH_TABLE_INCOMPLETE,
                f"{path}.truth_table: not enough mentions of state {state}",
            )
    return rows


def parse_aggregation_profile(doc: object, at: str = "document") -> Parsed:
    obj = _object(doc, at)
    allowed = (
        "id",
        "date",
        "name",
        "namespace",
        "endpoint_group",
        "metric_operation",
        "profile_operation",
        "metric_profile",
        "groups",
    )
    _only(obj, at, allowed)
    uuid, day = _identity(obj, at)
    name = _name(obj, "name", at)
    namespace = _string(obj, "namespace", at, required=False)
    endpoint_group = _name(obj, "endpoint_group", at)
    metric_operation = _name(obj, "metric_operation", at)
    profile_operation = _name(obj, "profile_operation", at)
    metric_profile: dict[str, str] | None = None
    raw = _get(obj, "metric_profile", at, required=False)
    if raw is not None:
        ref_at = f"{at}.metric_profile"
        ref = _object(raw, ref_at)
        _only(ref, ref_at, ("name", "id"))
        metric_profile = {"name": _name(ref, "name", ref_at), "id": _text(ref, "id", ref_at)}
    groups: list[dict[str, Any]] = []
    group_names: set[str] = set()
    service_names: set[str] = set()
    for i, item in enumerate(_list(obj, "groups", at)):
        path = f"{at}.groups[{i}]"
        group = _object(item, path)
        _only(group, path, ("name", "operation", "services"))
        group_name = _name(group, "name", path)
        if group_name in group_names:
            raise Invalid(f"{path}.name", R.MONITORING_REPEATED, f"{path}.name: repeated")
        group_names.add(group_name)
        operation = _name(group, "operation", path)
        services: list[dict[str, str]] = []
        for j, entry in enumerate(_list(group, "services", path)):
            s_at = f"{path}.services[{j}]"
            service = _object(entry, s_at)
            _only(service, s_at, ("name", "operation"))
            service_name = _name(service, "name", s_at)
            if service_name in service_names:
                raise Invalid(f"{s_at}.name", R.MONITORING_REPEATED, f"{s_at}.name: repeated")
            service_names.add(service_name)
            services.append({"name": service_name, "operation": _name(service, "operation", s_at)})
        groups.append({"name": group_name, "operation": operation, "services": services})
    document: dict[str, Any] = {"name": name}
    if namespace is not None:
        document["namespace"] = namespace
    document |= {
        "endpoint_group": endpoint_group,
        "metric_operation": metric_operation,
        "profile_operation": profile_operation,
    }
    if metric_profile is not None:
        document["metric_profile"] = metric_profile
    document["groups"] = groups
    columns = {
        "endpoint_group": endpoint_group,
        "metric_operation": metric_operation,
        "profile_operation": profile_operation,
        "metric_profile_name": "" if metric_profile is None else metric_profile["name"],
    }
    _engine_accepts(AggregationSpec.from_argo, document, at)
    return Parsed(ProfileKind.AGGREGATION, name, document, uuid, day, columns=columns)


def aggregation_operations(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every operation an aggregation document uses, with its JSON path below the document:
    a report checks them against its operations profile."""
    used = [
        ("metric_operation", document["metric_operation"]),
        ("profile_operation", document["profile_operation"]),
    ]
    for i, group in enumerate(document["groups"]):
        used.append((f"groups[{i}].operation", group["operation"]))
        for j, service in enumerate(group["services"]):
            used.append((f"groups[{i}].services[{j}].operation", service["operation"]))
    return used


def check_thresholds(value: str, path: str) -> str:
    """argo-web-api's thresholds rule format, item by whitespace-separated item."""
    items = value.split()
    if not items or len(value) > THRESHOLDS_MAX:
        raise Invalid(path, R.MONITORING_THRESHOLD_INVALID)
    for item in items:
        if not _THRESHOLD.fullmatch(item):
            raise Invalid(path, R.MONITORING_THRESHOLD_INVALID, f"{path}: invalid item {item!r}")
    return value


def parse_thresholds_profile(doc: object, at: str = "document") -> Parsed:
    obj = _object(doc, at)
    _only(obj, at, ("id", "date", "name", "rules"))
    uuid, day = _identity(obj, at)
    name = _name(obj, "name", at)
    rules: list[dict[str, str]] = []
    for i, item in enumerate(_list(obj, "rules", at)):
        path = f"{at}.rules[{i}]"
        rule = _object(item, path)
        _only(rule, path, ("endpoint_group", "host", "metric", "thresholds"))
        out: dict[str, str] = {}
        for key in ("endpoint_group", "host"):
            optional = _string(rule, key, path, required=False)
            if optional:  # ARGO's omitempty
                out[key] = optional
        out["metric"] = _name(rule, "metric", path)
        out["thresholds"] = check_thresholds(_text(rule, "thresholds", path), f"{path}.thresholds")
        rules.append(out)
    return Parsed(ProfileKind.THRESHOLDS, name, {"name": name, "rules": rules}, uuid, day)


def parse_weights(doc: object, at: str = "document") -> Parsed:
    obj = _object(doc, at)
    _only(obj, at, ("id", "date", "name", "weight_type", "group_type", "groups"))
    uuid, day = _identity(obj, at)
    name = _name(obj, "name", at)
    weight_type = _name(obj, "weight_type", at)
    group_type = _name(obj, "group_type", at)
    groups: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(_list(obj, "groups", at)):
        path = f"{at}.groups[{i}]"
        group = _object(item, path)
        _only(group, path, ("name", "value"))
        group_name = _name(group, "name", path)
        if group_name in seen:
            raise Invalid(f"{path}.name", R.MONITORING_REPEATED, f"{path}.name: repeated")
        seen.add(group_name)
        value = _number(group, "value", path)
        if value is None or value < 0:
            raise Invalid(f"{path}.value", R.MONITORING_WEIGHT_INVALID)
        groups.append({"name": group_name, "value": value})
    document = {
        "name": name,
        "weight_type": weight_type,
        "group_type": group_type,
        "groups": groups,
    }
    columns = {"weight_type": weight_type, "group_type": group_type}
    return Parsed(ProfileKind.WEIGHTS, name, document, uuid, day, columns=columns)


THRESHOLD_KEYS = ("availability", "reliability", "uptime", "unknown", "downtime")


def parse_report(doc: object, at: str = "document") -> Parsed:
    """ARGO's report. `profiles` names one metric, operations and aggregation profile and at
    most one thresholds and weights profile, by id; `name` in a reference is ignored (the
    profile's own name is rendered)."""
    obj = _object(doc, at)
    allowed = (
        "id",
        "date",
        "tenant",
        "disabled",
        "weight",
        "info",
        "computations",
        "topology_schema",
        "thresholds",
        "profiles",
        "filter_tags",
    )
    _only(obj, at, allowed)
    uuid, day = _identity(obj, at)
    _string(obj, "tenant", at, required=False)
    disabled = bool(_bool(obj, "disabled", at))
    info_at = f"{at}.info"
    info = _object(_get(obj, "info", at, required=True), info_at)
    _only(info, info_at, ("name", "description", "created", "updated"))
    name = _name(info, "name", info_at)
    description = _string(info, "description", info_at, required=False) or ""
    document: dict[str, Any] = {
        "disabled": disabled,
        "info": {"name": name, "description": description},
    }
    weight = _string(obj, "weight", at, required=False)
    if weight is not None:
        document["weight"] = weight
    computations = _get(obj, "computations", at, required=False)
    if computations is not None:
        c_at = f"{at}.computations"
        comp = _object(computations, c_at)
        _only(comp, c_at, ("ar", "status", "trends"))
        document["computations"] = {
            "ar": _bool(comp, "ar", c_at) is not False,
            "status": _bool(comp, "status", c_at) is not False,
            "trends": _strings(comp, "trends", c_at) if "trends" in comp else [],
        }
    group_type, endpoint_group_type = _topology_schema(obj, at)
    document["topology_schema"] = {
        "group": {"type": group_type, "group": {"type": endpoint_group_type}}
    }
    thresholds = _get(obj, "thresholds", at, required=False)
    if thresholds is not None:
        t_at = f"{at}.thresholds"
        values = _object(thresholds, t_at)
        _only(values, t_at, THRESHOLD_KEYS)
        document["thresholds"] = {
            key: number
            for key in THRESHOLD_KEYS
            if (number := _number(values, key, t_at)) is not None
        }
    references: list[tuple[ProfileKind, str, str]] = []
    profiles: list[dict[str, str]] = []
    kinds: set[ProfileKind] = set()
    for i, item in enumerate(_list(obj, "profiles", at)):
        path = f"{at}.profiles[{i}]"
        ref = _object(item, path)
        _only(ref, path, ("id", "name", "type"))
        try:
            kind = ProfileKind(_text(ref, "type", path))
        except ValueError:
            raise Invalid(f"{path}.type", R.MONITORING_PROFILE_TYPE_UNKNOWN) from None
        if kind in kinds:
            raise Invalid(f"{path}.type", R.MONITORING_REPEATED, f"{path}.type: repeated")
        kinds.add(kind)
        ref_uuid = check_uuid(_text(ref, "id", path), f"{path}.id")
        references.append((kind, ref_uuid, f"{path}.id"))
        # the name the profile has: the service fills it in
        ref_name = _string(ref, "name", path, required=False) or ""
        profiles.append({"id": ref_uuid, "name": ref_name, "type": kind.value})
    for kind in REQUIRED_IN_REPORT:
        if kind not in kinds:
            raise Invalid(
                f"{at}.profiles", R.MONITORING_FIELD_REQUIRED, f"{at}.profiles: a {kind} profile"
            )
    document["profiles"] = profiles
    filter_tags: list[dict[str, str]] = []
    for i, item in enumerate(_list(obj, "filter_tags", at, required=False)):
        path = f"{at}.filter_tags[{i}]"
        tag = _object(item, path)
        _only(tag, path, ("name", "value", "context"))
        filter_tags.append(
            {
                "name": _text(tag, "name", path),
                "value": _text(tag, "value", path),
                "context": _string(tag, "context", path, required=False) or "",
            }
        )
    document["filter_tags"] = filter_tags
    by_kind = {kind: ref_uuid for kind, ref_uuid, _ in references}
    columns = {
        "disabled": disabled,
        "group_type": group_type,
        "endpoint_group_type": endpoint_group_type,
        "metric_profile_uuid": by_kind[ProfileKind.METRIC],
        "operations_profile_uuid": by_kind[ProfileKind.OPERATIONS],
        "aggregation_profile_uuid": by_kind[ProfileKind.AGGREGATION],
        "thresholds_profile_uuid": by_kind.get(ProfileKind.THRESHOLDS),
        "weights_uuid": by_kind.get(ProfileKind.WEIGHTS),
    }
    return Parsed(
        REPORT, name, document, uuid, day, description, columns, references=tuple(references)
    )


def _topology_schema(obj: Mapping[str, Any], at: str) -> tuple[str, str]:
    path = f"{at}.topology_schema"
    schema = _object(_get(obj, "topology_schema", at, required=True), path)
    _only(schema, path, ("group",))
    outer_at = f"{path}.group"
    outer = _object(_get(schema, "group", path, required=True), outer_at)
    _only(outer, outer_at, ("type", "group"))
    inner_at = f"{outer_at}.group"
    inner = _object(_get(outer, "group", outer_at, required=True), inner_at)
    _only(inner, inner_at, ("type",))
    return _name(outer, "type", outer_at), _name(inner, "type", inner_at)


PARSERS = {
    ProfileKind.METRIC: parse_metric_profile,
    ProfileKind.OPERATIONS: parse_operations_profile,
    ProfileKind.AGGREGATION: parse_aggregation_profile,
    ProfileKind.THRESHOLDS: parse_thresholds_profile,
    ProfileKind.WEIGHTS: parse_weights,
    REPORT: parse_report,
}


def parse(kind: str, doc: object, at: str = "document") -> Parsed:
    return PARSERS[kind](doc, at)


def render(kind: str, uuid: str, day: date, document: Mapping[str, Any]) -> dict[str, Any]:
    """ARGO's JSON of one version: `id` and `date` first, as argo-web-api gives them (a
    report has no `date` in ARGO: it is left out)."""
    if kind == REPORT:
        return {"id": uuid, **document}
    return {"id": uuid, "date": day.isoformat(), **document}
