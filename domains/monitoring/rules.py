"""The monitoring domain's actions, their policy and its input rules.

Who may do what: reading the catalogue, status and A/R is public (ARGO's results are public
in EGI), so reads need no action. Defining probes (external plugins are command execution on
the workers), metrics, profiles, reports, weights and monitoring-host grants is for platform
administrators only; `authorize` lets a superuser (a platform administrator) through before
any policy is asked, so the policy refuses everyone else.

Each helper appends its own `Action` and `MonitoringRule` members (a code is unique across
the domains and listed in README's "Error codes")."""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.authz import policy
from domains.common.errors import RuleCode
from domains.common.identity import Principal
from domains.monitoring.models.results import GrantKind, MonitoringHostGrant


class Action(enum.StrEnum):
    """What only some callers may do with the monitoring domain's things."""

    # create, update, delete probes, metrics, profiles, weights and reports
    MANAGE_CATALOGUE = "MANAGE_CATALOGUE"
    # publish metric results (GraphQL): principals holding a monitoring-host grant
    PUBLISH_RESULTS = "PUBLISH_RESULTS"


def monitoring_host_grant(session: Session, principal: Principal) -> MonitoringHostGrant | None:
    """The grant that makes `principal` a monitoring host: of its subject (a user's, an
    OIDC client's; an API token stands for its user), else of its client certificate's DN."""
    for kind, identifier in (
        (GrantKind.SUBJECT, principal.subject),
        (GrantKind.X509_DN, principal.client_dn),
    ):
        if identifier:
            found = session.execute(
                select(MonitoringHostGrant).where(
                    col(MonitoringHostGrant.kind) == kind,
                    col(MonitoringHostGrant.identifier) == identifier,
                )
            ).scalar_one_or_none()
            if found is not None:
                return found
    return None


@policy(Action)
def decide(session: Session, principal: Principal, action: Action, _entity: object) -> str | None:
    """Reached only by a signed-in caller who is not a platform administrator."""
    if action is Action.PUBLISH_RESULTS:
        if monitoring_host_grant(session, principal) is not None:
            return None
        return "only monitoring hosts (granted by a platform administrator) may publish results"
    return f"only platform administrators may {action.value.lower().replace('_', ' ')}"


class MonitoringRule(RuleCode):
    """The monitoring domain's input rules: the name is the code clients match
    (`extensions.rule`), the value the rule in words."""

    # ARGO JSON documents: the field named is the JSON path, e.g. input.document.defaults.down
    MONITORING_DOCUMENT_NOT_OBJECT = "a JSON object"
    MONITORING_FIELD_REQUIRED = "a field this kind of profile requires"
    MONITORING_FIELD_WRONG_TYPE = "a value of the type ARGO gives this field"
    MONITORING_FIELD_UNKNOWN = "only the fields ARGO defines for this kind"
    MONITORING_NAME_EMPTY = "must not be empty"
    MONITORING_NAME_TOO_LONG = "at most 255 characters"
    MONITORING_UUID_INVALID = "a UUID"
    MONITORING_DATE_INVALID = "a date as YYYY-MM-DD"
    MONITORING_STATE_UNKNOWN = "one of the profile's available_states"
    MONITORING_OPERATION_UNKNOWN = "the name of one of the operations profile's operations"
    MONITORING_TRUTH_TABLE_INCOMPLETE = "a result for every pair of states"
    MONITORING_TRUTH_TABLE_CONFLICT = "one result for each (a, b) of a truth table"
    MONITORING_REPEATED = "each one once"
    MONITORING_PROFILE_INVALID = "a profile the availability engine accepts"
    MONITORING_PROFILE_UNKNOWN = "the id of an existing profile of that type"
    MONITORING_PROFILE_TYPE_UNKNOWN = "metric, operations, aggregation, thresholds or weights"
    MONITORING_PROFILE_NAME_TAKEN = "a name no other profile of this kind has"
    MONITORING_PROFILE_IN_USE = "a profile no report uses"
    MONITORING_VERSION_EXISTS = "a date on which this profile has no version yet"
    MONITORING_THRESHOLD_INVALID = "label=value[uom];warn;crit;min;max rules, ARGO's format"
    MONITORING_PROBE_KIND_MISMATCH = "a built-in name for BUILTIN, a command for PLUGIN"
    MONITORING_PROBE_BUILTIN_UNKNOWN = "tcp, http, tls, apel-pub or apel-sync"
    MONITORING_PROBE_COMMAND_INVALID = (
        "a plugin path inside the plugin directory and arguments substituting only "
        "{host}, {port} and {url}"
    )
    MONITORING_PROBE_UNKNOWN = "the name and version of an existing probe"
    MONITORING_PROBE_VERSION_TAKEN = "a version of the probe not defined yet"
    MONITORING_PROBE_IN_USE = "a probe no metric runs"
    MONITORING_METRIC_IN_USE = "a metric no metric profile lists"
    MONITORING_METRIC_PARAMETERS_INVALID = (
        "the parameters the metric's built-in probe takes, with valid values"
    )
    MONITORING_METRIC_UNKNOWN = "the name of an existing metric"
    MONITORING_INTERVAL_OUT_OF_RANGE = "from 60 seconds to one day"
    MONITORING_TIMEOUT_OUT_OF_RANGE = "from 1 to 600 seconds"
    MONITORING_ATTEMPTS_OUT_OF_RANGE = "from 1 to 10"
    MONITORING_REPORT_UNKNOWN = "the name of an existing report"
    MONITORING_WEIGHT_INVALID = "a number, not negative"
    # availability queries
    MONITORING_GRANULARITY_UNKNOWN = "daily, monthly or custom"
    MONITORING_PERIOD_REVERSED = "an end not before the start"
    MONITORING_DAY_IN_FUTURE = "a day not after today (UTC)"
    MONITORING_SPAN_TOO_LONG = "a status window of at most 31 days"

    # metric results (ingest_results: a Rejection's rule; the field is the record's)
    RESULT_FIELD_EMPTY = "non-empty text"
    RESULT_TEXT_TOO_LONG = "within the field's maximum length"
    RESULT_TEXT_NOT_STORABLE = "text without U+0000 (NUL) or lone surrogates"
    RESULT_TAGS_INVALID = "a map of at most 64 entries of text"
    RESULT_STATUS_UNKNOWN = "one of OK, WARNING, CRITICAL, UNKNOWN"
    RESULT_TIMESTAMP_MALFORMED = "a UTC time as YYYY-MM-DDTHH:MM:SSZ"
    MONITORING_TIME_WITHOUT_OFFSET = "a time with a UTC offset"
    RESULT_TIMESTAMP_IN_FUTURE = "no further ahead of the server's clock than the skew tolerance"
    RESULT_TIMESTAMP_TOO_OLD = "no older than the late-results age"
    RESULT_METRIC_UNKNOWN = "a metric of the catalogue"
    RESULT_ENDPOINT_UNKNOWN = "a host name with a service type the topology registers"
    RESULT_AVRO_MALFORMED = "an Avro-binary metric_data record (ARGO's schema)"
    RESULT_MESSAGE_TYPE = "a message whose type attribute is metric_data"
    RESULT_BATCH_TOO_LARGE = "at most 10000 results per call"
    MONITORING_HOST_IDENTIFIER_EMPTY = "a subject or DN, not empty"
    MONITORING_HOST_IDENTIFIER_INVALID = "at most 512 characters of storable text"
    MONITORING_HOST_NOTE_INVALID = "at most 255 characters of storable text"
    STATUS_SERVICE_TYPE_NOT_IN_REPORT = "a service type the report's metric profile names"
    # statusChanges, the live stream (domains.monitoring.streams)
    STATUS_CHANGES_OVER_WEBSOCKET_ONLY = "over graphql-transport-ws only"
    STATUS_CHANGE_AFTER_NEGATIVE = "must not be negative"
    STATUS_FILTER_VALUE_COUNT = "from 1 to 100 values (leave the condition out to match all)"
    STATUS_FILTER_NAME_INVALID = "non-empty names of at most 255 characters"
    STATUS_FILTER_STATUS_UNKNOWN = (
        "OK, WARNING, CRITICAL or UNKNOWN (above the metric MISSING or DOWNTIME too)"
    )

    # alert rules (domains.monitoring.service.alerts)
    ALERT_RULE_NAME_EMPTY = "must not be empty"
    ALERT_RULE_NAME_TOO_LONG = "at most 255 characters"
    ALERT_RULE_SCOPE_REQUIRED = "a site, an NGI or a service type"
    ALERT_RULE_SCOPE_AMBIGUOUS = "a site or an NGI, not both"
    ALERT_RULE_SITE_UNKNOWN = "the short name of an existing site"
    ALERT_RULE_NGI_UNKNOWN = "the name of an existing NGI"
    ALERT_RULE_SERVICE_TYPE_UNKNOWN = "the name of an existing service type"
    ALERT_RULE_NOTHING_TO_ALERT = "onCritical, or afterFailures set"
    ALERT_RULE_FAILURES_OUT_OF_RANGE = "from 1 to 100 results"
    ALERT_RULE_REMIND_OUT_OF_RANGE = "from 1 to 168 hours"
    ALERT_RULE_FLAP_CHANGES_OUT_OF_RANGE = "from 2 to 100 changes"
    ALERT_RULE_FLAP_WINDOW_OUT_OF_RANGE = "from 1 to 1440 minutes"
    ALERT_RULES_OVER_LIMIT = "at most 100 alert rules per user"

    # recomputations (domains.monitoring.service.recomputations)
    RECOMPUTATION_TEXT_INVALID = "non-empty storable text of at most 255 characters"
    RECOMPUTATION_REASON_INVALID = "non-empty storable text of at most 1000 characters"
    RECOMPUTATION_EMAIL_INVALID = "an e-mail address"
    RECOMPUTATION_TIME_INVALID = "a UTC time as YYYY-MM-DDTHH:MM:SSZ"
    RECOMPUTATION_SITE_UNKNOWN = "the short name of an existing site"
    RECOMPUTATION_HOST_UNKNOWN = "a host name the topology registers"
    RECOMPUTATION_ENTRY_INVALID = "an object with the fields ARGO defines for this list"
    RECOMPUTATION_TARGET_REQUIRED = "a group, service, endpoint or metric to apply the state to"
    RECOMPUTATION_STATE_UNKNOWN = "OK, WARNING, CRITICAL, UNKNOWN, MISSING or DOWNTIME"
    RECOMPUTATION_TOO_MANY = "at most 100 entries"
    RECOMPUTATION_STATUS_UNKNOWN = "pending, approved, rejected, running or done"


class AlertAction(enum.StrEnum):
    """Alert rules: a site's are for whoever may edit the site (its administrators, its
    NGI's managers), an NGI's for whoever may edit the NGI, and rules over every site (a
    service type's) for platform administrators; an existing rule is also its owner's."""

    MANAGE_ALERT_RULE = "MANAGE_ALERT_RULE"  # policy: domains.monitoring.service.alerts


class RecomputationAction(enum.StrEnum):
    """Recomputations: platform administrators; an NGI's operations manager (or deputy)
    for recomputations that touch only that NGI's sites (ones that exclude a monitoring
    source, or a metric or a state of no particular site or host, are administrators')."""

    MANAGE_RECOMPUTATION = "MANAGE_RECOMPUTATION"  # policy: service.recomputations
