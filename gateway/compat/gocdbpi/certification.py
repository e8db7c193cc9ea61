"""Certification methods of the PI: get_cert_status_changes (the log of status changes,
level 3: it names who changed them) and get_cert_status_date (each production site's
status and the date it entered it, level 2). GOCDB's dates: `d-M-Y H.i.s` and unix seconds
in the log, `d-M-y H.i.s A` for the status date, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from domains.common.scopes import ScopeSelection
from domains.topology import service as topology
from domains.topology.filters import SiteFilter, SiteLike
from domains.topology.models import ProductionInfrastructure
from domains.topology.service import certification
from domains.topology.service.pi import PiLevel
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.params import error
from gateway.compat.gocdbpi.registry import Call, Method

CHANGES_PARAMS = frozenset({"site", "startdate", "enddate"})
STATUS_DATE_PARAMS = frozenset({"certification_status", "roc"})


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_date(name: str, value: str | None) -> datetime | None:
    """A date (`YYYY-MM-DD`) or date and time (ISO 8601; UTC unless it says otherwise)."""
    if value is None:
        return None
    try:
        return _utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise error(f"Invalid '{name}' parameter - a date as YYYY-MM-DD is expected") from None


def get_cert_status_changes(call: Call) -> bytes:
    """Changes of sites LIKE `site`, made after `startdate` and before `enddate`."""
    params = call.params
    page = certification.list_certification_changes(
        call.session,
        call.principal,
        site_like=params.get("site"),
        after=parse_date("startdate", params.get("startdate")),
        before=parse_date("enddate", params.get("enddate")),
        page=call.page.request(),
        restrict_personal_data=call.instance.restrict_personal_data,
    )
    root = xml.results()
    for row in page.items:
        changed = _utc(row.changed_at)
        item = root.add("result").set("ID", row.id)
        item.add("TIME", changed.strftime("%d-%b-%Y %H.%M.%S"))
        item.add("UNIX_TIME", xml.unix_seconds(changed))
        item.add("SITE", row.site)
        item.add("OLD_STATUS", row.old_status)
        item.add("NEW_STATUS", row.new_status)
        item.add("CHANGED_BY", row.changed_by)
        item.add("COMMENT", row.reason)
    call.page.meta(root, [int(row.id) for row in page.items])
    return root.render()


def get_cert_status_date(call: Call) -> bytes:
    """Production sites (of every scope) with a status LIKE `certification_status` in an NGI
    LIKE `roc`; the date only where it is known (GOCDB's imported sites may lack it)."""
    site_filter = SiteFilter(
        scopes=ScopeSelection(names=()),
        like=SiteLike(
            production_infrastructure=ProductionInfrastructure.PRODUCTION.value,
            certification_status=call.params.get("certification_status"),
            ngi=call.params.get("roc"),
        ),
    )
    page = topology.list_sites(
        call.session,
        call.principal,
        filter=site_filter,
        page=call.page.request(),
        scope_defaults=call.instance.scope_defaults,
    )
    root = xml.results()
    for row in page.items:
        item = root.add("site").set("ID", row.id)
        item.add("name", row.short_name)
        item.add("cert_status", row.certification_status)
        if row.certification_status_changed_at is not None:
            changed = _utc(row.certification_status_changed_at)
            item.add("cert_date", changed.strftime("%d-%b-%y %H.%M.%S %p"))
    call.page.meta(root, [int(row.id) for row in page.items])
    return root.render()


METHODS = (
    Method(
        "get_cert_status_changes",
        PiLevel.PERSONAL_DATA,
        CHANGES_PARAMS,
        paged=True,
        handler=get_cert_status_changes,
    ),
    Method(
        "get_cert_status_date",
        PiLevel.AUTHENTICATED,
        STATUS_DATE_PARAMS,
        paged=True,
        handler=get_cert_status_date,
    ),
)
