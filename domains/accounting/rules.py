"""The accounting domain's input rules: what makes an APEL message or one of its records
invalid. A message breaking any of them is rejected whole; the error names the record's
position (from 1), the field and the rule (a code unique across the domains, listed in
README's "Error codes")."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.authz import policy
from domains.common.errors import RuleCode
from domains.common.identity import Principal
from domains.identity import service as identity
from domains.identity.models import EntityKind
from domains.topology.models import Ngi, Site
from domains.topology.rules import NGI_MANAGERS, SITE_ADMIN, SITE_MANAGERS

# who may widen an accounting host's scope to an NGI's sites, besides platform administrators
NGI_OPERATIONS_MANAGERS = frozenset({"NGI Operations Manager", "NGI Operations Deputy Manager"})
# A VO's managers, until a VO domain exists: the roles on the VO's group in the caller's
# entitlements (EGI Check-in `urn:mace:egi.eu:group:<vo>:role=vm#aai.egi.eu`, or
# `role=manager`; domains/common/entitlements.py parses them into Principal.vos).
VO_MANAGER_ROLES = frozenset({"vm", "manager"})
# who sees the per-user usage of a site (its roles) or of an NGI's sites (the NGI's managers)
SITE_USAGE_ROLES = SITE_ADMIN | SITE_MANAGERS
NGI_USAGE_ROLES = NGI_MANAGERS
_SITE_USAGE = {(EntityKind.SITE, role) for role in SITE_USAGE_ROLES}
_NGI_USAGE = {(EntityKind.NGI, role) for role in NGI_USAGE_ROLES}


class Action(enum.StrEnum):
    """What only some callers may do with the accounting domain's things."""

    # browse, load again and delete rejected messages: platform administrators only
    MANAGE_REJECTS = "MANAGE_REJECTS"
    # let an accounting host send records of an NGI's sites (the entity: the NGI)
    GRANT_SENDER_SCOPE = "GRANT_SENDER_SCOPE"
    # usage of the caller's own DNs (the portal's /user views, `filter: {mine: true}`):
    # any signed-in caller with a certificate DN (presented, or linked to their user)
    VIEW_OWN_USAGE = "VIEW_OWN_USAGE"
    # per-user usage (the USER dimension, the portal's /vo_admin views) of a UsageScope
    VIEW_USER_USAGE = "VIEW_USER_USAGE"
    # which message a site published last and who signed it (the publication overview;
    # the entity: a UsageScope of the site): the site's administrators and managers, its
    # NGI's managers
    VIEW_PUBLICATION_DETAIL = "VIEW_PUBLICATION_DETAIL"
    # WLCG's federations and pledges, the VOs' disciplines (the portal's reports' data):
    # platform administrators only
    MANAGE_REPORT_DATA = "MANAGE_REPORT_DATA"


@dataclass(frozen=True, slots=True)
class UsageScope:
    """What a per-user view is restricted to (None: not restricted by it); one that the
    caller manages is enough, as the restrictions all apply."""

    vo: str | None = None
    site: str | None = None
    ngi: str | None = None


def manages_vo(principal: Principal, vo: str) -> bool:
    return any(
        held.name == vo and {r.lower() for r in held.roles} & VO_MANAGER_ROLES
        for held in principal.vos
    )


def _manages_usage_of(session: Session, principal: Principal, scope: UsageScope) -> bool:
    if scope.vo is not None and manages_vo(principal, scope.vo):
        return True
    if principal.user_id is None or (scope.site is None and scope.ngi is None):
        return False
    roles = identity.granted_roles(session, principal.user_id)
    sites = {r.entity_id for r in roles if (r.entity_type, r.role_type) in _SITE_USAGE}
    ngis = {r.entity_id for r in roles if (r.entity_type, r.role_type) in _NGI_USAGE}
    if scope.site is not None and (sites or ngis):
        found = session.execute(
            select(col(Site.id), col(Site.ngi_id)).where(col(Site.short_name) == scope.site)
        ).first()
        if found is not None and (found[0] in sites or found[1] in ngis):
            return True
    if scope.ngi is not None and ngis:
        ngi_id = session.execute(
            select(col(Ngi.id)).where(col(Ngi.name) == scope.ngi)
        ).scalar_one_or_none()
        if ngi_id in ngis:
            return True
    return False


def managed_ngis(session: Session, principal: Principal) -> frozenset[int]:
    """The NGIs (ids) the caller is an operations manager (or deputy) of."""
    if principal.user_id is None:
        return frozenset()
    return frozenset(
        role.entity_id
        for role in identity.granted_roles(session, principal.user_id)
        if role.entity_type is EntityKind.NGI and role.role_type in NGI_OPERATIONS_MANAGERS
    )


@policy(Action)
def decide(session: Session, principal: Principal, action: Action, entity: object) -> str | None:
    """Reached only by a signed-in caller who is not a platform administrator."""
    if action is Action.VIEW_OWN_USAGE:
        if identity.certificate_dns(session, principal):
            return None
        return (
            "your own usage is found by your certificate's DN: present your client "
            "certificate, or have its DN linked to your account"
        )
    if action is Action.VIEW_USER_USAGE and isinstance(entity, UsageScope):
        if _manages_usage_of(session, principal, entity):
            return None
        return (
            "per-user usage is shown to the managers of the VO asked for (entitlement "
            "role=vm or role=manager), the administrators of the site asked for, the managers "
            "of the NGI asked for and platform administrators; your own usage: the /user "
            "views or `mine`"
        )
    if action is Action.VIEW_PUBLICATION_DETAIL and isinstance(entity, UsageScope):
        if _manages_usage_of(session, principal, entity):
            return None
        return (
            "a site's last message and its sender are shown to the site's administrators, "
            "its NGI's managers and platform administrators"
        )
    if action is Action.GRANT_SENDER_SCOPE and isinstance(entity, Ngi):
        if entity.id in managed_ngis(session, principal):
            return None
        return (
            "only the NGI's operations managers and platform administrators may widen an "
            "accounting host's scope"
        )
    return f"only platform administrators may {action.value.lower().replace('_', ' ')}"


class AccountingRule(RuleCode):
    """Rules of APEL's formats, as APEL's loader applies them (and a few bounds of ours)."""

    ACCOUNTING_MESSAGE_EMPTY = "a header line and at least one record"
    ACCOUNTING_HEADER_UNKNOWN = (
        "an APEL header such as 'APEL-individual-job-message: v0.3', or CAR or StAR XML"
    )
    ACCOUNTING_TOO_MANY_RECORDS = "at most 10,000 records in one message"
    ACCOUNTING_LINE_NOT_KEY_VALUE = "every line of a record is 'Key: Value'"
    ACCOUNTING_FIELD_UNKNOWN = "a field of this record type and version"
    ACCOUNTING_FIELD_REPEATED = "each field at most once in a record"
    ACCOUNTING_FIELD_MISSING = "mandatory: given, and not none, null or empty"
    ACCOUNTING_TEXT_TOO_LONG = "at most 255 characters"
    ACCOUNTING_TEXT_NOT_STORABLE = "text without U+0000 (NUL) or lone surrogates"
    ACCOUNTING_NOT_UTF8 = "a message body in UTF-8"
    ACCOUNTING_SITE_UNKNOWN = "the name of a site the topology registers"
    ACCOUNTING_SITE_NOT_SENDERS = (
        "a site the sender accounts for: the site of its accounting service, or one it was granted"
    )
    ACCOUNTING_INTEGER_INVALID = "a whole number: digits, optionally signed"
    ACCOUNTING_NUMBER_INVALID = "a finite decimal number"
    ACCOUNTING_TIME_INVALID = (
        "seconds since 1970-01-01T00:00:00Z, or YYYY-MM-DDTHH:MM:SSZ, before the year 10000"
    )
    ACCOUNTING_DURATION_INVALID = "an ISO 8601 duration such as PT3600S or P1DT2H"
    ACCOUNTING_BENCHMARK_INVALID = (
        "a dictionary such as {hepspec: 11.4, HEPscore23: 15.3} naming HEPscore23, HEPSPEC "
        "or si2k, each at most once, with numbers"
    )
    ACCOUNTING_SERVICE_LEVEL_PAIR = "ServiceLevelType and ServiceLevel both given or both left out"
    ACCOUNTING_SERVICE_LEVEL_TYPE = "si2k, HEPSPEC or HEPscore23 (any case)"
    ACCOUNTING_BENCHMARK_MIXTURE = (
        "NormalisedWallDuration and NormalisedCpuDuration of the same benchmark type"
    )
    ACCOUNTING_END_BEFORE_START = "EndTime not before StartTime"
    ACCOUNTING_END_IN_FUTURE = "EndTime no later than two days from now"
    ACCOUNTING_MONTH_INVALID = "a month from 1 to 12"
    ACCOUNTING_YEAR_INVALID = "a year from 1970 to 9999"
    ACCOUNTING_MONTH_IN_FUTURE = "a month that has begun"
    ACCOUNTING_END_TIME_OUTSIDE_MONTH = (
        "EarliestEndTime and LatestEndTime within the record's month, the earliest first"
    )
    ACCOUNTING_NEGATIVE = "not negative"
    ACCOUNTING_CLOUD_MEASUREMENT_TIME = (
        "a time to account the VM at: EndTime when completed, else RecordCreateTime or StartTime"
    )
    ACCOUNTING_SIGNATURE_INVALID = (
        "an S/MIME message signed with a certificate of a configured CA (and decryptable)"
    )
    ACCOUNTING_SIGNER_REVOKED = (
        "signed with a certificate its CA has not revoked (the CA's CRL in "
        "OPSGRAPH_ACCOUNTING_CA_PATH, e.g. <hash>.r0 from fetch-crl)"
    )
    ACCOUNTING_SIGNER_NOT_VALID = (
        "signed by the host DN of an accounting service the topology registers (APEL's "
        "'Signer not in valid DNs list')"
    )
    ACCOUNTING_MESSAGE_ID_INVALID = "1 to 128 printable ASCII characters, no spaces"
    ACCOUNTING_DN_INVALID = "an X.509 DN in OpenSSL's slash form, e.g. /C=UK/O=eScience/CN=host"
    ACCOUNTING_SCOPE_INVALID = "exactly one of a site's short name and an NGI's name, registered"
    ACCOUNTING_DATABASE_REFUSED = "rows the database stores (it refused one)"
    # the reject store's filter (service/rejects.py, GraphQL `accountingRejects`)
    ACCOUNTING_TIME_WITHOUT_OFFSET = "a time with a UTC offset"
    ACCOUNTING_REJECT_FILTER_EMPTY = (
        "at least one of sender, rule, receivedAfter and receivedBefore (deleting by filter)"
    )
    ACCOUNTING_XML_INVALID = "well-formed XML without a DTD, with CAR or StAR records"
    ACCOUNTING_XML_AGGREGATED = "CAR or StAR records (aggregated usage records are not supported)"
    # the portal's views (service/pivot.py, GraphQL `accounting`, gateway/compat/portal.py)
    ACCOUNTING_METRIC_UNKNOWN = (
        "njobs, sumcpu, sumelap, normcpu, normelap, elap_processors, normelap_processors or "
        "cpueff, optionally with a unit (normcpu-hour)"
    )
    ACCOUNTING_CLOUD_METRIC_UNKNOWN = (
        "sum_elap_processors, sum_elap, vm_num, processors, mem-GByte, disk, net_in or net_out, "
        "the durations optionally with a unit (cost is not supported: no cloud record has a price)"
    )
    ACCOUNTING_CLOUD_DIMENSION_UNKNOWN = (
        "for cloud usage: SITE, REGION (NGI), COUNTRY, VO, DATE (month), Year, PROCESSORS "
        "(vCPUs) or USER"
    )
    ACCOUNTING_UNIT_UNKNOWN = "second, hour or day, and only for a duration metric"
    ACCOUNTING_DIMENSION_UNKNOWN = (
        "SITE, REGION (NGI), COUNTRY, VO, DATE (month), Year, SUBMITHOST, PROCESSORS, "
        "INFRASTRUCTURE or USER (the DN)"
    )
    ACCOUNTING_DIMENSIONS_SAME = "rows and columns of different dimensions"
    ACCOUNTING_PERIOD_MONTH_INVALID = "a month as YYYY-MM, year 1970 to 9999, month 1 to 12"
    ACCOUNTING_PERIOD_REVERSED = "the start month no later than the end month"
    ACCOUNTING_PERIOD_TOO_LONG = "at most 20 years (240 months) from start to end"
    ACCOUNTING_VO_GROUP_UNKNOWN = "all, egi, lhc, top10 or custom-<vo>[,<vo>...] (at most 100 VOs)"
    ACCOUNTING_LOCAL_JOBS_UNKNOWN = "onlyinfrajobs, localinfrajobs or onlylocaljobs"
    ACCOUNTING_FORMAT_UNKNOWN = "CSV or JSON"
    ACCOUNTING_SCOPE_UNKNOWN = (
        "operations_centres, countries, operation_centre/<NGI>, country/<name> or "
        "resource_centre/<site>"
    )
    ACCOUNTING_PATH_INVALID = (
        "<metric>/<row>/<col>/<YYYY>/<MM>/<YYYY>/<MM>/<vo_group>/<local_job_filter>/<format>"
    )
    ACCOUNTING_VO_ADMIN_PATH_INVALID = (
        "htc/ or cloud/, [<scope>/]<vo>/<metric>/<row>/<col>/<YYYY>/<MM>/<YYYY>/<MM>"
        "[/<vo_group>/<local_job_filter>]/<format>"
    )
    # the reports' data (service/reports.py) and the portal's reports
    ACCOUNTING_FEDERATION_NAME = "1 to 64 characters: letters, digits, '-', '_' and '.'"
    ACCOUNTING_TIER_INVALID = "1 or 2 (WLCG's Tier-0 is accounted as a Tier-1 federation)"
    ACCOUNTING_COUNTRY_UNKNOWN = "the name or two-letter code of a country the topology registers"
    ACCOUNTING_FEDERATION_SITE_UNKNOWN = "short names of sites the topology registers"
    ACCOUNTING_FEDERATION_SITE_TAKEN = "a site in one federation at most (remove it from the other)"
    ACCOUNTING_FEDERATION_UNKNOWN = "the name of a WLCG federation opsgraph holds"
    ACCOUNTING_PLEDGE_YEAR_INVALID = "a year from 2000 to 9999"
    ACCOUNTING_PLEDGE_INVALID = "a finite number of HEPSPEC06 from 0 to 1,000,000,000"
    ACCOUNTING_DISCIPLINE_NAME = "1 to 128 characters, no ';' (it separates disciplines in URLs)"
    ACCOUNTING_DISCIPLINE_UNKNOWN = "the name of a discipline opsgraph holds"
    ACCOUNTING_DISCIPLINE_CYCLE = "a parent that is neither the discipline nor one below it"
    ACCOUNTING_VO_NAME_INVALID = "a VO name: 1 to 255 characters without spaces"
    ACCOUNTING_REPORT_UNIT_UNKNOWN = "hours or days"
    ACCOUNTING_REPORT_PATH_INVALID = (
        "<YYYY>/<MM>/<YYYY>/<MM>[/<hours|days>][/<format>] (tier1, tier2, countries); "
        "disciplines: <YYYY>/<MM>/<YYYY>/<MM>/<htc|cloud>/<include_parent>/<disciplines>/<format>"
    )
    ACCOUNTING_REPORT_KIND_UNKNOWN = "tier1, tier2 or countries"
    ACCOUNTING_INFRASTRUCTURE_UNKNOWN = "htc or cloud"
    ACCOUNTING_INCLUDE_PARENT_INVALID = "true or false (also 1 or 0, yes or no)"
