"""opsgraph measures itself: its own endpoints as a site of the topology and a report of
the catalogue, so that the tool's availability is a number anyone can query like any
site's (`availability(report: "opsgraph", level: SITE, name: "OPSGRAPH", …)`).

`ensure_self_monitoring(session, base_url)` (idempotent, and safe for processes racing at
start: they take turns) makes sure the database holds. Whichever process runs the probe
scheduler calls it, on its first `monitoring.sync_checks` (workers/monitoring.py): `opsgraph
serve` without a broker, or each `opsgraph worker` while OPSGRAPH_PROBE_SCHEDULE is on.

- topology: the NGI and site `OPSGRAPH` (production, certified) with one monitored
  production service per listener, of the service types `opsgraph.graphql` (GET
  /graphql?query={__typename}), `opsgraph.ams` (GET /v1/status), `opsgraph.feeds` (GET
  /feeds/downtimes.rss) and `opsgraph.workers` (GET /healthz/workers: 503 while no worker
  process beat recently); their URLs follow `base_url` (OPSGRAPH_PUBLIC_URL, else where
  `serve` listens) and are updated when it changes;
- catalogue: the built-in `http` probe, the metric `opsgraph.http` (expects 200, WARNING
  over 1 s, CRITICAL over 5 s, every minute), the metric profile `SELF_MONITORING`, the
  aggregation `opsgraph` (every listener must be up: AND of one group per service type)
  over the operations profile `egi_ops`, and the report `opsgraph`.

From there nothing is special: the scheduler (service/scheduling.py) schedules the checks
because the enabled report's metric profile expects them, the workers run the built-in
HTTP probe (the own listener an allowed destination of the egress policy, probes/targets.py),
and the availability engine computes the report's days as any other's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.identity import PLATFORM
from domains.monitoring.models.catalogue import ProbeKind
from domains.monitoring.profiles import REPORT, ProfileKind
from domains.monitoring.seed import load_json
from domains.monitoring.service.catalogue import create_profile, history
from domains.monitoring.service.catalogue_probes import (
    create_metric,
    create_probe,
    metrics_on,
    probes,
)
from domains.topology.models import CertificationStatus, Service, ServiceType, Site
from domains.topology.rules import HOST_NAME_RE
from domains.topology.seed.reference import (
    Country,
    ensure_countries,
    ensure_ngi,
    ensure_project,
)
from domains.topology.service import writes

SINCE = date(2024, 1, 1)
NGI = "OPSGRAPH"
SITE = "OPSGRAPH"
REPORT_NAME = "opsgraph"
METRIC = "opsgraph.http"
PROBE = ("http", "1.0")
# ISO 3166's user-assigned "unknown": opsgraph runs wherever it is deployed
COUNTRY = Country("ZZ", "Unspecified", NGI, "", "UTC", 0.0, 0.0, "")
FALLBACK_HOST = "opsgraph.localdomain"  # when the URL's host is no valid host name


@dataclass(frozen=True, slots=True)
class Listener:
    service_type: str
    path: str
    description: str


LISTENERS = (
    Listener("opsgraph.graphql", "/graphql?query=%7B__typename%7D", "the GraphQL API of opsgraph"),
    Listener("opsgraph.ams", "/v1/status", "the AMS-compatible routes of opsgraph"),
    Listener("opsgraph.feeds", "/feeds/downtimes.rss", "the downtime feeds of opsgraph"),
    Listener("opsgraph.workers", "/healthz/workers", "the heartbeat of the opsgraph workers"),
)

# fixed ids: the same report on every installation (ARGO's JSON shapes)
METRIC_PROFILE_ID = "3f0c7d52-6a8e-4b1f-9d2a-0e5b7c4a1f01"
AGGREGATION_ID = "3f0c7d52-6a8e-4b1f-9d2a-0e5b7c4a1f02"
REPORT_ID = "3f0c7d52-6a8e-4b1f-9d2a-0e5b7c4a1f03"
EGI_OPS_ID = "8ce59c4d-3761-4f25-a364-f019e394bf8b"
# the PostgreSQL advisory lock that makes racing ensurers take turns (any fixed number: no
# other part of opsgraph takes advisory locks)
ADVISORY_LOCK = 0x6F7073676D6F6E  # "opsgmon"


def service_url(base_url: str, listener: Listener) -> str:
    return base_url.rstrip("/") + listener.path


def host_name_of(base_url: str) -> str:
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    return host if HOST_NAME_RE.match(host) and "." in host else FALLBACK_HOST


def _metric_profile() -> dict[str, Any]:
    return {
        "id": METRIC_PROFILE_ID,
        "date": SINCE.isoformat(),
        "name": "SELF_MONITORING",
        "description": "opsgraph's own listeners and workers' heartbeat",
        "services": [{"service": x.service_type, "metrics": [METRIC]} for x in LISTENERS],
    }


def _aggregation() -> dict[str, Any]:
    return {
        "id": AGGREGATION_ID,
        "date": SINCE.isoformat(),
        "name": "opsgraph",
        "endpoint_group": "sites",
        "metric_operation": "AND",
        "profile_operation": "AND",
        "metric_profile": {"name": "SELF_MONITORING", "id": METRIC_PROFILE_ID},
        "groups": [
            {
                "name": x.service_type.removeprefix("opsgraph."),
                "operation": "OR",
                "services": [{"name": x.service_type, "operation": "OR"}],
            }
            for x in LISTENERS
        ],
    }


def _report() -> dict[str, Any]:
    return {
        "id": REPORT_ID,
        "date": SINCE.isoformat(),
        "disabled": False,
        "info": {
            "name": REPORT_NAME,
            "description": "opsgraph's own availability: its GraphQL API, AMS routes, feeds "
            "and workers' heartbeat, probed by its own workers",
        },
        "computations": {"ar": True, "status": True, "trends": []},
        "topology_schema": {"group": {"type": "NGI", "group": {"type": "SITE"}}},
        "thresholds": {
            "availability": 80.0,
            "reliability": 85.0,
            "uptime": 80.0,
            "unknown": 10.0,
            "downtime": 10.0,
        },
        "profiles": [
            {"id": METRIC_PROFILE_ID, "name": "SELF_MONITORING", "type": "metric"},
            {"id": EGI_OPS_ID, "name": "egi_ops", "type": "operations"},
            {"id": AGGREGATION_ID, "name": "opsgraph", "type": "aggregation"},
        ],
        "filter_tags": [],
    }


def _ensure_catalogue(session: Session) -> None:
    if PROBE not in {(p.name, p.version) for p in probes(session)}:
        create_probe(
            session,
            PLATFORM,
            name=PROBE[0],
            version=PROBE[1],
            kind=ProbeKind.BUILTIN,
            builtin="http",
            description="HTTP(S) GET of the endpoint's URL: expected status and latency thresholds",
            day=SINCE,
        )
    if METRIC not in metrics_on(session, SINCE):
        create_metric(
            session,
            PLATFORM,
            name=METRIC,
            probe_name=PROBE[0],
            probe_version=PROBE[1],
            parameters={"expected_status": 200, "warning_ms": 1000, "critical_ms": 5000},
            interval_seconds=60,
            retry_interval_seconds=60,
            day=SINCE,
        )
    documents = (
        (ProfileKind.OPERATIONS, EGI_OPS_ID, lambda: load_json("egi_ops.json")),
        (ProfileKind.METRIC, METRIC_PROFILE_ID, _metric_profile),
        (ProfileKind.AGGREGATION, AGGREGATION_ID, _aggregation),
        (REPORT, REPORT_ID, _report),
    )
    for kind, uuid, document in documents:
        if not history(session, kind, uuid):
            create_profile(session, PLATFORM, kind, document(), at=f"selfmon.{kind}")


def _ensure_site(session: Session) -> int:
    found = session.scalar(select(col(Site.id)).where(col(Site.short_name) == SITE))
    if found is not None:
        return int(found)
    ngi_id = ensure_ngi(
        session,
        name=NGI,
        description="opsgraph itself: its own listeners, measured by its own report",
        domain="opsgraph.localdomain",
        project_id=ensure_project(session),
        scope_ids=[],
    )
    country_id = ensure_countries(session, [COUNTRY])[COUNTRY.code]
    site = writes.create_site(
        session,
        PLATFORM,
        short_name=SITE,
        ngi_id=ngi_id,
        country_id=country_id,
        certification_status=CertificationStatus.CERTIFIED,
        official_name="opsgraph",
        description="the own endpoints of opsgraph (domains/monitoring/selfmon.py)",
    )
    assert site.id is not None
    return site.id


def _service_types(session: Session) -> dict[str, int]:
    types = {
        t.name: t.id
        for t in session.scalars(
            select(ServiceType).where(
                col(ServiceType.name).in_([x.service_type for x in LISTENERS])
            )
        )
        if t.id is not None
    }
    for listener in LISTENERS:
        if listener.service_type not in types:
            created = writes.create_service_type(
                session, PLATFORM, name=listener.service_type, description=listener.description
            )
            assert created.id is not None
            types[listener.service_type] = created.id
    return types


def _take_turns(session: Session) -> None:
    """Serialise ensurers until the caller commits: two worker processes starting together
    would otherwise both find nothing and both create it (a unique violation for one, or
    two copies of what has no unique name). On SQLite a writer's BEGIN IMMEDIATE already
    takes the one write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})


def ensure_self_monitoring(session: Session, base_url: str) -> int:
    """The self-monitoring site, services and report (see the module's notes), their URLs
    on `base_url` (an http(s) URL with a host: OPSGRAPH_PUBLIC_URL is checked so when
    read); the site's id. The caller commits."""
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{base_url!r} is not an http(s) URL with a host")
    _take_turns(session)
    _ensure_catalogue(session)
    site_id = _ensure_site(session)
    types = _service_types(session)
    host = host_name_of(base_url)
    existing = {
        s.service_type_id: s
        for s in session.scalars(select(Service).where(col(Service.site_id) == site_id))
    }
    for listener in LISTENERS:
        url = service_url(base_url, listener)
        service = existing.get(types[listener.service_type])
        if service is None:
            writes.create_service(
                session,
                PLATFORM,
                site_id=site_id,
                service_type_id=types[listener.service_type],
                host_name=host,
                url=url,
                description=listener.description,
            )
        elif service.url != url or service.host_name != host:
            assert service.id is not None
            writes.update_service(
                session,
                PLATFORM,
                service_id=service.id,
                changes={"url": url, "host_name": host},
            )
    session.flush()
    return site_id


__all__ = ["LISTENERS", "NGI", "REPORT_NAME", "SITE", "ensure_self_monitoring"]
