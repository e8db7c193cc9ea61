"""Status changes above the metric for a `statusChanges` stream: when metric changes arrive,
the endpoints, services, sites and NGIs they are under get their live status computed again
for each report (`service.levels`, the A/R engine's timelines: the one way statuses combine),
and those whose status now differs from before are events, as ARGO's streaming job emits
status events at the endpoint, service and endpoint-group levels as well as the metric's.

"Before" is what the stream last told of the item or, for an item it has not told of, the
status its timeline had just before the earliest of the metric changes read; so a metric
change that does not change an item's status emits nothing for it, and a second identical
result (which makes no metric change) emits nothing at all. A change at 00:00 (a downtime
starting at midnight) has no point before it in the day's timeline: there the status before
is the one the item had at the end of the day before. Only the items under the
changes' sites and NGIs are computed (a site's all its endpoints, an NGI's all its sites),
and only when a subscriber asked for a level above the metric.

Public, as `service.levels` is."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.monitoring.engine.timeline import day_start
from domains.monitoring.models.availability import ArLevel
from domains.monitoring.profiles import REPORT
from domains.monitoring.service import catalogue, levels
from domains.monitoring.service.timelines import Point


class StatusLevel(enum.StrEnum):
    """The level of a status event: a metric on an endpoint, or above it in a report."""

    METRIC = "METRIC"
    ENDPOINT = "ENDPOINT"
    SERVICE = "SERVICE"
    SITE = "SITE"
    NGI = "NGI"


ABOVE_METRIC: dict[StatusLevel, ArLevel] = {
    StatusLevel.ENDPOINT: ArLevel.ENDPOINT,
    StatusLevel.SERVICE: ArLevel.SERVICE,
    StatusLevel.SITE: ArLevel.SITE,
    StatusLevel.NGI: ArLevel.SUPERGROUP,
}
_OF_AR = {ar: level for level, ar in ABOVE_METRIC.items()}

Key = tuple[str, StatusLevel, str, str, str]  # report, level, site, service type, name


@dataclass(frozen=True, slots=True)
class LevelChange:
    """An item's status change in a report; `timestamp`: when its timeline turned to
    `status` (at most now)."""

    report: str
    level: StatusLevel
    name: str  # host name, service type, site or NGI, by level
    site: str | None  # None for an NGI
    ngi: str
    service_type: str | None  # an endpoint's or a service's
    status: str
    previous_status: str | None
    timestamp: dt.datetime


@dataclass(slots=True)
class LevelTracker:
    """What one stream told last, per report and item; `levels` the ones it follows."""

    levels: frozenset[StatusLevel]
    told: dict[Key, str] = field(default_factory=dict)


def _before(points: Iterable[Point], moment: dt.datetime) -> str | None:
    found = None
    for point in points:
        if point.timestamp >= moment:
            break
        found = point.status
    return found


def level_changes(
    session: Session,
    principal: Principal,
    *,
    tracker: LevelTracker,
    places: Collection[tuple[str, str]],
    since: dt.datetime,
    now: dt.datetime,
    reports: Collection[str] | None = None,
) -> list[LevelChange]:
    """The changes of the tracked levels' items under `places` (the (site, NGI) of the metric
    changes just read, the earliest at `since`), in every report valid today (or those named
    in `reports`), by report, level (endpoint first), NGI, site, name; remembers them."""
    wanted = {ABOVE_METRIC[level] for level in tracker.levels if level in ABOVE_METRIC}
    if not wanted or not places:
        return []
    since = since.replace(microsecond=0)  # the engine's timelines count whole seconds
    sites = {site for site, _ in places}
    ngis = {ngi for _, ngi in places}
    found: list[LevelChange] = []
    for report in catalogue.versions_on(session, REPORT, now.date()):
        if report.disabled or (reports is not None and report.name not in reports):
            continue
        try:
            day = levels.status_levels(
                session,
                principal,
                report=report.uuid,
                now=now,
                levels=wanted,
                ngis=ngis,
                sites=None if ArLevel.SUPERGROUP in wanted else sites,
            )
        except Invalid:  # a profile the report names is missing today: no status to tell
            continue
        evening = _evening(session, principal, report.uuid, day, since, now, wanted, ngis, sites)
        for item in day.items:
            if item.level is not ArLevel.SUPERGROUP and item.site not in sites:
                continue
            level = _OF_AR[item.level]
            key = (report.name, level, item.site, item.service_type, item.name)
            previous = (
                tracker.told.get(key)
                or _before(item.points, since)
                or evening.get((item.level, item.site, item.service_type, item.name))
            )
            tracker.told[key] = item.status
            if previous == item.status:
                continue
            found.append(
                LevelChange(
                    report=report.name,
                    level=level,
                    name=item.name,
                    site=item.site or None,
                    ngi=item.ngi,
                    service_type=_service_type(item),
                    status=item.status,
                    previous_status=previous,
                    timestamp=item.points[-1].timestamp,
                )
            )
    return found


def _evening(
    session: Session,
    principal: Principal,
    report: str,
    day: levels.StatusDay,
    since: dt.datetime,
    now: dt.datetime,
    wanted: set[ArLevel],
    ngis: set[str],
    sites: set[str],
) -> dict[tuple[ArLevel, str, str, str], str]:
    """The items' statuses at the end of the day before, when `since` is at or before the
    day's 00:00 (else none are needed)."""
    if since > day_start(day.day):
        return {}
    try:
        before = levels.status_levels(
            session,
            principal,
            report=report,
            day=day.day - dt.timedelta(days=1),
            now=now,
            levels=wanted,
            ngis=ngis,
            sites=None if ArLevel.SUPERGROUP in wanted else sites,
        )
    except Invalid:  # no profile valid that day: nothing known before
        return {}
    return {(i.level, i.site, i.service_type, i.name): i.status for i in before.items}


def _service_type(item: levels.LevelStatus) -> str | None:
    if item.level is ArLevel.ENDPOINT:
        return item.service_type
    if item.level is ArLevel.SERVICE:
        return item.name
    return None
