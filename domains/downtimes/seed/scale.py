"""Synthetic downtimes for benchmarks (`opsgraph seed --scale N --downtimes M`): a bulk
over whatever `seed_scale` made, inserted with Core executemany in batches. Flushes,
never commits."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import String, cast, insert, select, update
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.identity import PLATFORM
from domains.common.time import utcnow
from domains.downtimes import rules
from domains.downtimes.models import Severity
from domains.downtimes.service import T_DOWNTIME, T_DT_ENDPOINT, T_DT_SERVICE
from domains.topology.service import T_ENDPOINT, T_SERVICE

_H = timedelta(hours=1)
_D = timedelta(days=1)

_BATCH = 5000
_SCALE_DESCRIPTIONS: tuple[str, ...] = (
    "Operating system and kernel security updates, services restarted",
    "Middleware upgrade to the new release",
    "Storage system upgrade and file system check",
    "Network maintenance by the national research network",
    "Power maintenance in the data centre",
    "Cooling system maintenance in the machine room",
    "Hardware replacement after a disk controller failure",
    "Unexpected failure, under investigation",
    "Migration of the service to new hardware",
    "Certificate renewal and configuration update",
    "Batch system upgrade, queues drained beforehand",
    "Database backend upgrade",
    "Reduced capacity while nodes are reinstalled in batches",
    "Firewall reconfiguration, short interruptions possible",
)


class _Durations(NamedTuple):
    """A range of downtime durations and how often a downtime's lies in it."""

    weight: int
    shortest: timedelta
    longest: timedelta


_DURATIONS: tuple[_Durations, ...] = (
    _Durations(40, 1 * _H, 4 * _H),
    _Durations(30, 4 * _H, 12 * _H),
    _Durations(20, 12 * _H, 2 * _D),
    _Durations(10, 2 * _D, 7 * _D),
)


def _service_maps(session: Session) -> tuple[list[list[int]], dict[int, list[int]]]:
    """(the service ids of each site that has services, service id -> its endpoint ids)."""
    by_site: dict[int, list[int]] = defaultdict(list)
    for service_id, site_id in session.execute(
        select(T_SERVICE.c.id, T_SERVICE.c.site_id).order_by(T_SERVICE.c.id)
    ):
        by_site[int(site_id)].append(int(service_id))
    endpoints: dict[int, list[int]] = defaultdict(list)
    for endpoint_id, service_id in session.execute(
        select(T_ENDPOINT.c.id, T_ENDPOINT.c.service_id).order_by(T_ENDPOINT.c.id)
    ):
        endpoints[int(service_id)].append(int(endpoint_id))
    return [by_site[s] for s in sorted(by_site)], endpoints


class _EarlyEnd(NamedTuple):
    service_id: int
    at: datetime  # when it left the downtime


@dataclass(slots=True)
class _Planned:
    row: dict[str, Any]
    services: list[int]
    endpoints: list[int]
    partial_service: int | None  # the service whose endpoints were chosen
    ended: _EarlyEnd | None


def _plan(
    rng: random.Random,
    now: datetime,
    site_services: list[int],
    site_id: int,
    endpoints: dict[int, list[int]],
) -> _Planned:
    start = now + timedelta(minutes=15 * rng.randrange(-365 * 96, 365 * 96))
    durations = rng.choices(_DURATIONS, weights=[d.weight for d in _DURATIONS])[0]
    quarter = timedelta(minutes=15)
    quarters = rng.randrange(
        int(durations.shortest / quarter), int(durations.longest / quarter) + 1
    )
    end = start + timedelta(minutes=15 * quarters)
    if rng.random() < 0.75:  # planned: declared 1.5 to 21 days ahead
        declared = start - timedelta(hours=rng.uniform(36, 21 * 24))
    else:  # at short notice, or up to 6 h after it began
        declared = start - timedelta(hours=rng.uniform(-6, 20))
    if declared > now:  # not yet declared by then: it was declared in the last two weeks
        declared = now - timedelta(seconds=rng.uniform(0, 14 * 86400))
    roll = rng.random()
    count = 1 if roll < 0.6 else 2 if roll < 0.8 else 3 if roll < 0.92 else len(site_services)
    services = sorted(rng.sample(site_services, min(count, len(site_services))))
    chosen: list[int] = []
    partial: int | None = None
    if rng.random() < 0.12:
        candidates = [s for s in services if endpoints.get(s)]
        if candidates:
            partial = rng.choice(candidates)
            pool = endpoints[partial]
            chosen = sorted(rng.sample(pool, rng.randint(1, max(1, len(pool) - 1))))
    ended: _EarlyEnd | None = None
    if len(services) > 1 and start < now and rng.random() < 0.05:
        last = min(end, now)
        ended = _EarlyEnd(rng.choice(services), start + (last - start) * rng.uniform(0.1, 0.9))
    row = {
        "site_id": site_id,
        "severity": Severity.OUTAGE if rng.random() < 0.6 else Severity.WARNING,
        "classification": rules.classify(start, declared),
        "description": rng.choice(_SCALE_DESCRIPTIONS),
        "starts_at": start,
        "ends_at": end,
        "declared_at": declared,
        "updated_at": declared,
        "declared_by": audit.actor_of(PLATFORM),
        "started_notified": start <= now,
        "ended_notified": end <= now,
    }
    return _Planned(row, services, chosen, partial, ended)


def seed_scale_downtimes(
    session: Session, count: int, *, seed: int = 1, now: datetime | None = None
) -> int:
    """Bulk-insert `count` synthetic downtimes over the existing services (deterministic
    per seed and `now`): starts spread over a year either side of now; durations from an
    hour to a week, mostly hours; 60% OUTAGE; about 75% declared 1.5-21 days ahead
    (SCHEDULED), the rest at short notice or after the start; 60% on one service, the rest
    on 2, 3 or all of a site's; 12% with chosen endpoints; 5% of the multi-service ones
    already under way with one service ended early. Ids follow declaration order.
    Flushes, never commits; returns how many were written."""
    if count < 0:
        raise ValueError("count must not be negative")
    now = now or utcnow()
    rules.check_aware("now", now)
    rng = random.Random(seed)
    sites, endpoints = _service_maps(session)
    if count and not sites:
        raise LookupError("no services to declare downtimes on: seed a federation first")
    site_of: dict[int, int] = {}
    for service_id, site_id in session.execute(select(T_SERVICE.c.id, T_SERVICE.c.site_id)):
        site_of[int(service_id)] = int(site_id)
    planned = []
    for _ in range(count):
        site_services = rng.choice(sites)
        planned.append(_plan(rng, now, site_services, site_of[site_services[0]], endpoints))
    planned.sort(key=lambda p: p.row["declared_at"])
    for i in range(0, len(planned), _BATCH):
        batch = planned[i : i + _BATCH]
        stmt = insert(T_DOWNTIME).returning(T_DOWNTIME.c.id, sort_by_parameter_order=True)
        ids = [int(x) for x in session.execute(stmt, [p.row for p in batch]).scalars()]
        session.execute(
            update(T_DOWNTIME)
            .where(T_DOWNTIME.c.id.between(min(ids), max(ids)), T_DOWNTIME.c.primary_key.is_(None))
            .values(primary_key=cast(T_DOWNTIME.c.id, String) + "G0")
        )
        links: list[dict[str, Any]] = []
        chosen: list[dict[str, Any]] = []
        for downtime_id, p in zip(ids, batch, strict=True):
            links.extend(
                {
                    "downtime_id": downtime_id,
                    "service_id": s,
                    "all_endpoints": s != p.partial_service,
                    "ended_at": p.ended.at if p.ended and p.ended.service_id == s else None,
                }
                for s in p.services
            )
            chosen.extend({"downtime_id": downtime_id, "endpoint_id": e} for e in p.endpoints)
        session.execute(insert(T_DT_SERVICE), links)
        if chosen:
            session.execute(insert(T_DT_ENDPOINT), chosen)
    session.flush()
    return count
