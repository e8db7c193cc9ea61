"""Sites: created under an NGI by its managers, edited by the site's own roles; the
certification status changes only through GOCDB's transitions, with a logged reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.authz import authorize
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.time import utcnow
from domains.topology.models import (
    CertificationStatus,
    CertificationStatusLog,
    Country,
    Ngi,
    ProductionInfrastructure,
    Site,
)
from domains.topology.ownership import EntityRef
from domains.topology.rules import SHORT_NAME_RE, Action, TopologyRule, certification_change_allowed
from domains.topology.service.writes.checks import (
    apply_changes,
    audit_created,
    check_description,
    check_fields,
    check_legacy_key,
    check_length,
    check_text_fields,
    check_unique,
    require,
    set_legacy_key,
    snapshot,
)

SITE_FIELDS = frozenset(
    {
        "official_name",
        "description",
        "production_infrastructure",
        "country_id",
        "timezone",
        "latitude",
        "longitude",
        "domain",
        "home_url",
        "email",
        "telephone",
        "alarm_email",
        "csirt_email",
        "csirt_telephone",
        "giis_url",
        "notify",
        "short_name",
    }
)


def _validate_site_fields(
    *,
    short_name: str,
    description: str,
    latitude: float | None,
    longitude: float | None,
    giis_url: str | None,
    timezone: str | None,
) -> None:
    if not SHORT_NAME_RE.match(short_name):
        raise Invalid("shortName", TopologyRule.SITE_SHORT_NAME_CHARACTERS)
    check_length("shortName", short_name, 255)
    check_description("description", description, 2000)
    if latitude is not None and not -90 <= latitude <= 90:
        raise Invalid("latitude", TopologyRule.SITE_LATITUDE_RANGE)
    if longitude is not None and not -180 <= longitude <= 180:
        raise Invalid("longitude", TopologyRule.SITE_LONGITUDE_RANGE)
    if giis_url is not None and not giis_url.startswith("ldap://"):
        raise Invalid("giisUrl", TopologyRule.SITE_GIIS_URL_NOT_LDAP)
    if timezone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Invalid("timezone", TopologyRule.SITE_TIMEZONE_UNKNOWN) from exc


def create_site(
    session: Session,
    principal: Principal,
    *,
    short_name: str,
    ngi_id: int,
    country_id: int,
    certification_status: CertificationStatus = CertificationStatus.CANDIDATE,
    production_infrastructure: ProductionInfrastructure = ProductionInfrastructure.PRODUCTION,
    official_name: str | None = None,
    description: str = "",
    timezone: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    domain: str | None = None,
    home_url: str | None = None,
    email: str | None = None,
    telephone: str | None = None,
    alarm_email: str | None = None,
    csirt_email: str | None = None,
    csirt_telephone: str | None = None,
    giis_url: str | None = None,
    notify: bool = False,
    primary_key: str | None = None,
) -> Site:
    authorize(session, principal, Action.NGI_ADD_SITE, EntityRef("ngi", ngi_id))
    check_text_fields(
        official_name=official_name,
        domain=domain,
        home_url=home_url,
        email=email,
        telephone=telephone,
        alarm_email=alarm_email,
        csirt_email=csirt_email,
        csirt_telephone=csirt_telephone,
        giis_url=giis_url,
    )
    _validate_site_fields(
        short_name=short_name,
        description=description,
        latitude=latitude,
        longitude=longitude,
        giis_url=giis_url,
        timezone=timezone,
    )
    require(session, Ngi, ngi_id, "NGI")
    require(session, Country, country_id, "country")
    check_unique(session, Site.short_name, short_name, "shortName")
    check_legacy_key(session, Site, primary_key)
    site = Site(
        short_name=short_name,
        ngi_id=ngi_id,
        country_id=country_id,
        certification_status=certification_status,
        production_infrastructure=production_infrastructure,
        official_name=official_name,
        description=description,
        timezone=timezone,
        latitude=latitude,
        longitude=longitude,
        domain=domain,
        home_url=home_url,
        email=email,
        telephone=telephone,
        alarm_email=alarm_email,
        csirt_email=csirt_email,
        csirt_telephone=csirt_telephone,
        giis_url=giis_url,
        notify=notify,
        certification_status_changed_at=utcnow(),
    )
    session.add(site)
    session.flush()
    set_legacy_key(session, site, primary_key)
    audit_created(
        session,
        principal,
        "site",
        site,
        ("ngi_id", "country_id", "certification_status", "production_infrastructure"),
    )
    return site


def update_site(
    session: Session, principal: Principal, *, site_id: int, changes: Mapping[str, Any]
) -> Site:
    """Change a site's fields (not its NGI, nor its certification status: see
    change_certification_status)."""
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("site", site_id))
    check_fields(changes, SITE_FIELDS)
    check_text_fields(**changes)
    site: Site = require(session, Site, site_id, "site")
    merged = {**snapshot(site, SITE_FIELDS), **changes}
    _validate_site_fields(
        short_name=merged["short_name"],
        description=merged["description"],
        latitude=merged["latitude"],
        longitude=merged["longitude"],
        giis_url=merged["giis_url"],
        timezone=merged["timezone"],
    )
    if "short_name" in changes and changes["short_name"] != site.short_name:
        check_unique(session, Site.short_name, changes["short_name"], "shortName")
    if "country_id" in changes:
        require(session, Country, changes["country_id"], "country")
    apply_changes(session, principal, "site", site, changes)
    return site


def change_certification_status(
    session: Session,
    principal: Principal,
    *,
    site_id: int,
    status: CertificationStatus,
    reason: str,
) -> Site:
    """GOCDB's transition rules (admins may bypass them) and a mandatory reason; logged."""
    authorize(session, principal, Action.SITE_EDIT_CERT_STATUS, EntityRef("site", site_id))
    site: Site = require(session, Site, site_id, "site")
    if not reason.strip() or len(reason) > 300:
        raise Invalid("reason", TopologyRule.SITE_STATUS_REASON_LENGTH)
    check_description("reason", reason, 300)
    old = site.certification_status
    if status is old:
        raise Invalid(
            "status", TopologyRule.SITE_STATUS_UNCHANGED, f"status: the site is {old.value} already"
        )
    if not principal.is_superuser and not certification_change_allowed(old, status):
        raise Invalid(
            "status",
            TopologyRule.SITE_STATUS_CHANGE_NOT_ALLOWED,
            f"status: {old.value} -> {status.value} is not an allowed change",
        )
    site.certification_status = status
    site.certification_status_changed_at = utcnow()
    session.add(
        CertificationStatusLog(
            site_id=site_id,
            old_status=old,
            new_status=status,
            changed_by=audit.actor_of(principal),
            reason=reason,
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        action="site.certification_status",
        entity_type="site",
        entity_id=site_id,
        entity_name=site.short_name,
        changes={"certification_status": [old.value, status.value]},
        reason=reason,
    )
    return site
