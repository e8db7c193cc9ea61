"""Seed data for downtimes: a realistic history over the demo federation, and a synthetic
bulk over whatever `seed_scale` made, for benchmarks.

`seed_demo_downtimes` declares what could be declared now (upcoming downtimes, and ongoing
ones that started less than 48 hours ago) through `declare_downtime`, so those rows obey
the same rules, audit and events as any other declaration. What was declared in the past
(everything older, and the SCHEDULED ones already under way) is written with Core inserts,
as an import from the old system would: `declared_at` and `classification` agree with the
24-hour rule at the moment of declaration, and the moments already past are marked as
announced so the transitions job does not announce them at first start.

`seed_scale_downtimes` bulk-inserts N downtimes with Core executemany in batches.
Neither function commits: the caller does.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, insert, select, update
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.identity import PLATFORM
from domains.common.models import legacy_key
from domains.common.time import utcnow
from domains.downtimes import rules
from domains.downtimes.models import Severity
from domains.downtimes.service import (
    T_DOWNTIME,
    T_DT_ENDPOINT,
    T_DT_SERVICE,
    declare_downtime,
)
from domains.topology.service import T_ENDPOINT, T_SERVICE, T_SERVICE_TYPE, T_SITE

_OUTAGE = Severity.OUTAGE
_WARNING = Severity.WARNING
_H = timedelta(hours=1)
_D = timedelta(days=1)

# ---------------------------------------------------------------------------------------
# Demo downtimes


@dataclass(frozen=True, slots=True)
class _Demo:
    """One demo downtime, its times relative to the seeding moment (rounded down to the
    hour for the start and end, so they look like what people declare).

    `services`: host labels of the site (`ce01` is every service on host ce01.<domain>,
    `se01/SRM` only its SRM); `endpoints`: `label:endpoint name` of chosen endpoints
    (their services then lose `all_endpoints`); `declared`: when it was declared,
    relative to the exact seeding moment (None: now, through `declare_downtime`);
    `ended`: host label -> when that service left the downtime early."""

    site: str
    services: tuple[str, ...]
    severity: Severity
    start: timedelta
    duration: timedelta
    description: str
    declared: timedelta | None = None
    endpoints: tuple[str, ...] = ()
    ended: tuple[tuple[str, timedelta], ...] = ()


_DEMO: tuple[_Demo, ...] = (
    # --- past, declared long ago ---------------------------------------------------------
    _Demo(
        "FZK-LCG2",
        ("se01",),
        _OUTAGE,
        -700 * _D,
        10 * _H,
        "Annual dCache upgrade to the new major release, all storage doors closed",
        declared=-714 * _D,
    ),
    _Demo(
        "INFN-T1",
        ("ce01", "ce02", "ce03"),
        _OUTAGE,
        -540 * _D,
        3 * _D,
        "Data centre power infrastructure works, the whole farm is switched off",
        declared=-570 * _D,
    ),
    _Demo(
        "RAL-LCG2",
        ("se01/SRM",),
        _WARNING,
        -400 * _D,
        6 * _H,
        "Tape library firmware upgrade, recalls from tape are delayed",
        declared=-407 * _D,
        endpoints=("se01:gridftp",),
    ),
    _Demo(
        "IN2P3-CC",
        ("site-bdii",),
        _WARNING,
        -365 * _D,
        2 * _H,
        "Reinstallation of the site BDII on new hardware, short interruptions expected",
        declared=-365 * _D - 3 * _H,
    ),
    _Demo(
        "pic",
        ("ce01",),
        _OUTAGE,
        -300 * _D,
        5 * _H,
        "Unexpected failure of the shared file system, jobs cannot start",
        declared=-300 * _D + timedelta(minutes=40),
    ),
    _Demo(
        "NDGF-T1",
        ("se01",),
        _OUTAGE,
        -240 * _D,
        8 * _H,
        "Network maintenance by the national research network, WAN links interrupted",
        declared=-250 * _D,
    ),
    _Demo(
        "SARA-MATRIX",
        ("ce01", "ce02"),
        _OUTAGE,
        -200 * _D,
        12 * _H,
        "Migration of the compute elements to EL9 and the new ARC release",
        declared=-214 * _D,
        ended=(("ce02", -200 * _D + 5 * _H),),
    ),
    _Demo(
        "praguelcg2",
        ("squid01",),
        _WARNING,
        -150 * _D,
        timedelta(minutes=90),
        "Squid cache reconfiguration, CVMFS clients may fall back to the second proxy",
        declared=-150 * _D - 2 * _H,
    ),
    _Demo(
        "CSCS-LCG2",
        ("se01", "ce01"),
        _OUTAGE,
        -120 * _D,
        2 * _D,
        "Cooling failure in the machine room, worker nodes and storage switched off",
        declared=-120 * _D + 3 * _H,
    ),
    _Demo(
        "CYFRONET-CLOUD",
        ("keystone", "occi"),
        _OUTAGE,
        -90 * _D,
        6 * _H,
        "OpenStack upgrade to the next release, running virtual machines are preserved",
        declared=-104 * _D,
    ),
    _Demo(
        "UKI-SCOTGRID-GLASGOW",
        ("ce01",),
        _WARNING,
        -60 * _D,
        4 * _H,
        "Kernel security updates on the worker nodes, rolling reboots drain the queues",
        declared=-60 * _D - 5 * _H,
    ),
    _Demo(
        "HG-09-Okeanos-Cloud",
        ("keystone",),
        _WARNING,
        -45 * _D,
        10 * _H,
        "Storage backend rebalancing, slower volume operations for new instances",
        declared=-52 * _D,
        endpoints=("keystone:compute",),
    ),
    _Demo(
        "DESY-HH",
        ("se01",),
        _OUTAGE,
        -30 * _D,
        7 * _H,
        "Replacement of a failed RAID controller on the storage head node",
        declared=-30 * _D + 2 * _H,
    ),
    _Demo(
        "IFCA-LCG2",
        ("ce01", "apel"),
        _OUTAGE,
        -20 * _D,
        9 * _H,
        "Electrical maintenance of the building, all grid services stopped",
        declared=-35 * _D,
    ),
    _Demo(
        "CESNET-MCC",
        ("keystone",),
        _WARNING,
        -12 * _D,
        3 * _H,
        "Certificate renewal on the Keystone endpoint, short API interruptions",
        declared=-12 * _D - 20 * _H,
    ),
    _Demo(
        "UNIBE-LHEP",
        ("ce01",),
        _OUTAGE,
        -7 * _D,
        26 * _H,
        "Batch system head node crashed after a disk failure, restoring from backup",
        declared=-7 * _D + 1 * _H,
    ),
    _Demo(
        "BUDAPEST",
        ("site-bdii", "apel"),
        _WARNING,
        -5 * _D,
        4 * _H,
        "Operating system upgrade of the service virtual machines",
        declared=-9 * _D,
    ),
    _Demo(
        "SiGNET",
        ("se01",),
        _OUTAGE,
        -4 * _D,
        20 * _H,
        "Storage expansion, new disk servers added to the pool",
        declared=-18 * _D,
        endpoints=("se01:gridftp", "se01:https"),
    ),
    _Demo(
        "TR-10-ULAKBIM",
        ("ce01",),
        _WARNING,
        -3 * _D,
        5 * _H,
        "Intermittent network problems at the campus router, jobs may fail to stage out",
        declared=-3 * _D + timedelta(minutes=90),
    ),
    # --- ongoing, declared long enough ago to be SCHEDULED, or started > 48 h ago --------
    _Demo(
        "NIKHEF-ELPROD",
        ("ce01", "ce02", "se01/SRM", "site-bdii"),
        _OUTAGE,
        -3 * _D,
        6 * _D,
        "Move of the grid cluster to the new data centre hall, services leave the "
        "downtime as they come back",
        declared=-17 * _D,
        ended=(("site-bdii", -1 * _D), ("ce02", -6 * _H)),
    ),
    _Demo(
        "IN2P3-CC",
        ("se01/XRootD",),
        _WARNING,
        -2 * _D,
        5 * _D,
        "Reduced XRootD throughput while the storage pools are migrated to new servers",
        declared=-9 * _D,
    ),
    _Demo(
        "RAL-LCG2",
        ("squid01", "squid02"),
        _WARNING,
        -10 * _H,
        2 * _D,
        "Squid servers replaced one at a time, degraded cache hit rate expected",
        declared=-4 * _D,
    ),
    _Demo(
        "INFN-BARI",
        ("ce01",),
        _OUTAGE,
        -4 * _D,
        8 * _D,
        "Flooding in the basement damaged the power distribution, repairs under way",
        declared=-4 * _D + 2 * _H,
    ),
    _Demo(
        "GRIF",
        ("se01",),
        _OUTAGE,
        -5 * _H,
        30 * _H,
        "dCache head node migration to new hardware and PostgreSQL upgrade",
        declared=-6 * _D,
        endpoints=("se01:gridftp", "se01:main"),
    ),
    _Demo(
        "WEIZMANN-LCG2",
        ("apel",),
        _WARNING,
        -3 * _D,
        10 * _D,
        "Accounting publication paused during the APEL client upgrade, records are kept",
        declared=-3 * _D + 5 * _H,
    ),
    # --- ongoing, declared now (started less than 48 h ago: UNSCHEDULED) ---------------
    _Demo(
        "GoeGrid",
        ("ce01",),
        _OUTAGE,
        -3 * _H,
        12 * _H,
        "Emergency intervention, the batch server does not accept new jobs",
    ),
    _Demo(
        "UKI-LT2-QMUL",
        ("se01", "ce01"),
        _OUTAGE,
        -30 * _H,
        3 * _D,
        "Lustre file system failure, restoring metadata from the last consistent snapshot",
        endpoints=("se01:main", "se01:https"),
    ),
    _Demo(
        "IISAS-FedCloud",
        ("keystone",),
        _WARNING,
        -1 * _H,
        8 * _H,
        "Degraded performance of the compute API while a hypervisor is evacuated",
    ),
    _Demo(
        "LIP-Lisbon",
        ("site-bdii",),
        _WARNING,
        -20 * _H,
        2 * _D,
        "Information system publishing stale values, investigation in progress",
    ),
    # --- upcoming, declared now ----------------------------------------------------------
    _Demo(
        "FZK-LCG2",
        ("ce01", "ce02", "ce03"),
        _OUTAGE,
        9 * _D,
        2 * _D,
        "Upgrade of the ARC compute elements and the batch system to the new releases",
    ),
    _Demo(
        "INFN-T1",
        ("se01/SRM", "se01/webdav"),
        _OUTAGE,
        14 * _D,
        10 * _H,
        "StoRM upgrade and file system check on the disk storage",
        endpoints=("se01:gridftp",),
    ),
    _Demo(
        "CYFRONET-LCG2",
        ("ce01",),
        _WARNING,
        3 * _D,
        6 * _H,
        "Worker node reinstallation in batches, reduced job slots",
    ),
    _Demo(
        "PSNC",
        ("site-bdii", "apel"),
        _WARNING,
        21 * _D,
        4 * _H,
        "Migration of the site services to the new virtualisation cluster",
    ),
    _Demo(
        "RO-07-NIPNE",
        ("ce01",),
        _OUTAGE,
        5 * _H,
        6 * _H,
        "Urgent replacement of the core network switch",
    ),
    _Demo(
        "IEPSAS-Kosice",
        ("se01",),
        _WARNING,
        10 * _H,
        3 * _H,
        "Storage firmware updates, transfers may be slower",
    ),
    _Demo(
        "UNI-BONN",
        ("ce01",),
        _OUTAGE,
        2 * _H,
        4 * _H,
        "Power cut announced by the university facility management at short notice",
    ),
    _Demo(
        "BG05-SUGrid",
        ("ce01",),
        _OUTAGE,
        40 * _D,
        3 * _D,
        "Machine room renovation, the site is switched off",
    ),
    # --- upcoming, declared days ago ------------------------------------------------------
    _Demo(
        "NDGF-T1",
        ("ce01", "ce02"),
        _OUTAGE,
        12 * _H,
        8 * _H,
        "Distributed Tier-1 network reconfiguration at the Copenhagen hub",
        declared=-3 * _D,
    ),
    _Demo(
        "SARA-MATRIX",
        ("se01",),
        _WARNING,
        7 * _D,
        12 * _H,
        "Tape robot maintenance, staging requests queue until it ends",
        declared=-5 * _D,
        endpoints=("se01:gridftp",),
    ),
    _Demo(
        "WCSS64",
        ("ce01",),
        _OUTAGE,
        6 * _H,
        2 * _H,
        "Unplanned restart of the batch server after a configuration error",
        declared=-2 * _H,
    ),
)


def _site_services(session: Session, short_names: Sequence[str]) -> dict[str, list[Any]]:
    """site short name -> (service id, site id, host label, type name) rows, by id."""
    rows = session.execute(
        select(
            T_SITE.c.short_name,
            T_SERVICE.c.id,
            T_SERVICE.c.site_id,
            T_SERVICE.c.host_name,
            T_SERVICE_TYPE.c.name,
        )
        .join(T_SERVICE, T_SERVICE.c.site_id == T_SITE.c.id)
        .join(T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id)
        .where(T_SITE.c.short_name.in_(list(short_names)))
        .order_by(T_SERVICE.c.id)
    ).all()
    out: dict[str, list[Any]] = defaultdict(list)
    for short_name, service_id, site_id, host, type_name in rows:
        out[short_name].append((int(service_id), int(site_id), host.split(".", 1)[0], type_name))
    return out


def _resolve(
    session: Session, demo: _Demo, services: list[Any]
) -> tuple[int, list[int], dict[str, list[int]], list[int]]:
    """(site id, service ids, host label -> its service ids, chosen endpoint ids)."""
    chosen: list[int] = []
    by_label: dict[str, list[int]] = defaultdict(list)
    for spec in demo.services:
        label, _, type_name = spec.partition("/")
        matched = [s[0] for s in services if s[2] == label and (not type_name or s[3] == type_name)]
        if not matched:
            raise LookupError(f"demo downtime at {demo.site}: no service {spec!r}")
        for service_id in matched:
            if service_id not in chosen:
                chosen.append(service_id)
                by_label[label].append(service_id)
    endpoints: list[int] = []
    for spec in demo.endpoints:
        label, _, name = spec.partition(":")
        found = session.execute(
            select(T_ENDPOINT.c.id)
            .where(T_ENDPOINT.c.service_id.in_(by_label.get(label, [])), T_ENDPOINT.c.name == name)
            .order_by(T_ENDPOINT.c.id)
        ).scalars()
        ids = [int(i) for i in found]
        if not ids:
            raise LookupError(f"demo downtime at {demo.site}: no endpoint {spec!r}")
        endpoints.extend(ids)
    return services[0][1], chosen, by_label, endpoints


def _insert_historic(
    session: Session,
    demo: _Demo,
    *,
    site_id: int,
    service_ids: Sequence[int],
    by_label: dict[str, list[int]],
    endpoint_ids: Sequence[int],
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> None:
    assert demo.declared is not None
    declared_at = now + demo.declared
    assert starts_at >= declared_at - rules.MAX_PAST_START, demo
    rules.check_description(demo.description)
    downtime_id = int(
        session.execute(
            insert(T_DOWNTIME).returning(T_DOWNTIME.c.id),
            {
                "site_id": site_id,
                "severity": demo.severity,
                "classification": rules.classify(starts_at, declared_at),
                "description": demo.description,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "declared_at": declared_at,
                "updated_at": declared_at,
                "declared_by": audit.actor_of(PLATFORM),
                "started_notified": starts_at <= now,
                "ended_notified": ends_at <= now,
            },
        ).scalar_one()
    )
    session.execute(
        update(T_DOWNTIME)
        .where(T_DOWNTIME.c.id == downtime_id)
        .values(primary_key=legacy_key(downtime_id))
    )
    owners = dict(
        session.execute(
            select(T_ENDPOINT.c.id, T_ENDPOINT.c.service_id).where(
                T_ENDPOINT.c.id.in_(list(endpoint_ids))
            )
        ).all()
    )
    partial = {int(s) for s in owners.values()}
    ended: dict[int, datetime] = {}
    for label, moment in demo.ended:
        for service_id in by_label[label]:
            ended[service_id] = now + moment
    session.execute(
        insert(T_DT_SERVICE),
        [
            {
                "downtime_id": downtime_id,
                "service_id": service_id,
                "all_endpoints": service_id not in partial,
                "ended_at": ended.get(service_id),
            }
            for service_id in service_ids
        ],
    )
    if endpoint_ids:
        session.execute(
            insert(T_DT_ENDPOINT),
            [{"downtime_id": downtime_id, "endpoint_id": e} for e in endpoint_ids],
        )


def seed_demo_downtimes(session: Session, *, now: datetime | None = None) -> int:
    """Write the demo downtimes over the federation of `seed_demo` (deterministic given
    `now`) and flush them. Returns how many were written."""
    now = now or utcnow()
    rules.check_aware("now", now)
    hour = now.replace(minute=0, second=0, microsecond=0)
    services = _site_services(session, sorted({d.site for d in _DEMO}))
    missing = sorted({d.site for d in _DEMO} - set(services))
    if missing:
        raise LookupError(f"demo downtimes need the demo federation: no site {missing[0]}")
    for demo in _DEMO:
        site_id, service_ids, by_label, endpoint_ids = _resolve(session, demo, services[demo.site])
        starts_at = hour + demo.start
        ends_at = starts_at + demo.duration
        if demo.declared is None:
            if demo.ended:
                raise ValueError("a partial ending is written only for historic downtimes")
            declare_downtime(
                session,
                PLATFORM,
                service_ids=service_ids,
                endpoint_ids=endpoint_ids,
                severity=demo.severity,
                starts_at=starts_at,
                ends_at=ends_at,
                description=demo.description,
                now=now,
            )
        else:
            _insert_historic(
                session,
                demo,
                site_id=site_id,
                service_ids=service_ids,
                by_label=by_label,
                endpoint_ids=endpoint_ids,
                starts_at=starts_at,
                ends_at=ends_at,
                now=now,
            )
    session.flush()
    return len(_DEMO)


# ---------------------------------------------------------------------------------------
# Synthetic downtimes for benchmarks

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
# (weight, shortest, longest) of a downtime's duration
_DURATIONS: tuple[tuple[int, timedelta, timedelta], ...] = (
    (40, 1 * _H, 4 * _H),
    (30, 4 * _H, 12 * _H),
    (20, 12 * _H, 2 * _D),
    (10, 2 * _D, 7 * _D),
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


@dataclass(slots=True)
class _Planned:
    row: dict[str, Any]
    services: list[int]
    endpoints: list[int]
    partial_service: int | None  # the service whose endpoints were chosen
    ended: tuple[int, datetime] | None


def _plan(
    rng: random.Random,
    now: datetime,
    site_services: list[int],
    site_id: int,
    endpoints: dict[int, list[int]],
) -> _Planned:
    start = now + timedelta(minutes=15 * rng.randrange(-365 * 96, 365 * 96))
    weights = [w for w, _, _ in _DURATIONS]
    _, shortest, longest = rng.choices(_DURATIONS, weights=weights)[0]
    quarters = rng.randrange(
        int(shortest / timedelta(minutes=15)), int(longest / timedelta(minutes=15)) + 1
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
    ended: tuple[int, datetime] | None = None
    if len(services) > 1 and start < now and rng.random() < 0.05:
        last = min(end, now)
        ended = (rng.choice(services), start + (last - start) * rng.uniform(0.1, 0.9))
    row = {
        "site_id": site_id,
        "severity": _OUTAGE if rng.random() < 0.6 else _WARNING,
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
            ended_service, ended_at = p.ended if p.ended else (None, None)
            links.extend(
                {
                    "downtime_id": downtime_id,
                    "service_id": s,
                    "all_endpoints": s != p.partial_service,
                    "ended_at": ended_at if s == ended_service else None,
                }
                for s in p.services
            )
            chosen.extend({"downtime_id": downtime_id, "endpoint_id": e} for e in p.endpoints)
        session.execute(insert(T_DT_SERVICE), links)
        if chosen:
            session.execute(insert(T_DT_ENDPOINT), chosen)
    session.flush()
    return count
