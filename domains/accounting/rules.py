"""The accounting domain's input rules: what makes an APEL message or one of its records
invalid. A message breaking any of them is rejected whole; the error names the record's
position (from 1), the field and the rule (a code unique across the domains, listed in
README's "Error codes")."""

from __future__ import annotations

import enum

from sqlalchemy.orm import Session

from domains.common.authz import policy
from domains.common.errors import RuleCode
from domains.common.identity import Principal
from domains.identity import service as identity
from domains.identity.models import EntityKind
from domains.topology.models import Ngi

# who may widen an accounting host's scope to an NGI's sites, besides platform administrators
NGI_OPERATIONS_MANAGERS = frozenset({"NGI Operations Manager", "NGI Operations Deputy Manager"})


class Action(enum.StrEnum):
    """What only some callers may do with the accounting domain's things."""

    # browse, load again and delete rejected messages: platform administrators only
    MANAGE_REJECTS = "MANAGE_REJECTS"
    # let an accounting host send records of an NGI's sites (the entity: the NGI)
    GRANT_SENDER_SCOPE = "GRANT_SENDER_SCOPE"


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
    ACCOUNTING_XML_INVALID = "well-formed XML without a DTD, with CAR or StAR records"
    ACCOUNTING_XML_AGGREGATED = "CAR or StAR records (aggregated usage records are not supported)"
    # the portal's views (service/pivot.py, GraphQL `accounting`, gateway/compat/portal.py)
    ACCOUNTING_METRIC_UNKNOWN = (
        "njobs, sumcpu, sumelap, normcpu, normelap, elap_processors, normelap_processors or "
        "cpueff, optionally with a unit (normcpu-hour)"
    )
    ACCOUNTING_UNIT_UNKNOWN = "second, hour or day, and only for a duration metric"
    ACCOUNTING_DIMENSION_UNKNOWN = (
        "SITE, REGION (NGI), COUNTRY, VO, DATE (month), Year, SUBMITHOST, PROCESSORS or "
        "INFRASTRUCTURE"
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
