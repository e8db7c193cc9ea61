"""Seed data for monitoring: EGI-like defaults for the demo (`seed_demo_catalogue`): the
built-in probes and their metrics (catalogue.toml), and ARGO's profiles as JSON files in
ARGO's own shapes, loaded through the same service functions as any upload: the current EGI
operations profile `egi_ops` (egi_ops.json), a metric profile for the demo's service types
(argo_mon_critical.json), a compute/storage/information aggregation (critical_aggregation.json)
and the report "Critical", NGI > SITE, with the 80 % / 85 % thresholds (critical_report.json).
The caller commits."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.monitoring.models.catalogue import ProbeKind
from domains.monitoring.profiles import REPORT, ProfileKind
from domains.monitoring.service.catalogue import create_profile
from domains.monitoring.service.catalogue_probes import create_metric, create_probe

HERE = Path(__file__).resolve().parent
SINCE = date(2024, 1, 1)  # valid on every day the demo has results for
# in the order a report's references need them
PROFILE_FILES = (
    (ProfileKind.OPERATIONS, "egi_ops.json"),
    (ProfileKind.METRIC, "argo_mon_critical.json"),
    (ProfileKind.AGGREGATION, "critical_aggregation.json"),
    (REPORT, "critical_report.json"),
)


def load_json(name: str) -> Any:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def seed_demo_catalogue(session: Session) -> None:
    catalogue = tomllib.loads((HERE / "catalogue.toml").read_text(encoding="utf-8"))
    for probe in catalogue["probes"]:
        create_probe(
            session,
            PLATFORM,
            name=probe["name"],
            version=probe["version"],
            kind=ProbeKind.BUILTIN,
            builtin=probe["builtin"],
            description=probe["description"],
            day=SINCE,
        )
    for metric in catalogue["metrics"]:
        create_metric(
            session,
            PLATFORM,
            name=metric["name"],
            probe_name=metric["probe"],
            probe_version=metric["version"],
            parameters=metric.get("parameters", {}),
            interval_seconds=metric["interval"],
            retry_interval_seconds=metric["retry_interval"],
            day=SINCE,
        )
    for kind, name in PROFILE_FILES:
        create_profile(session, PLATFORM, kind, load_json(name), at=name)


__all__ = ["seed_demo_catalogue"]
