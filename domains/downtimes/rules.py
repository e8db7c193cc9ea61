"""GOCDB's downtime rules as pure functions of the values and of `now` (an injected clock,
so the 24- and 48-hour boundaries can be tested to the second). Each raises `Invalid`
naming the field and the rule, a member of DowntimeRule."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from domains.common.authz import policy
from domains.common.errors import Invalid, RuleCode
from domains.common.identity import Principal
from domains.common.text import check_text
from domains.downtimes.models import (
    DESCRIPTION_MAX,
    SUBSCRIPTION_NAME_MAX,
    Classification,
    DowntimeSubscription,
)

SCHEDULED_NOTICE = timedelta(hours=24)
MAX_PAST_START = timedelta(hours=48)
END_NOW_DELAY = timedelta(seconds=60)
FORBIDDEN_DESCRIPTION_CHARS = frozenset("'\"`;<>")
SUBSCRIPTION_FILTER_MAX = 255
MAX_SUBSCRIPTIONS_PER_USER = 100


class Action(enum.StrEnum):
    """What only some callers may do with the downtimes' own things. Declaring, editing,
    ending and deleting a downtime is GOCDB's EDIT_OBJECT on its site (topology's Action,
    whose policy knows the roles); subscribing is any signed-in user's (Caller.SIGNED_IN)."""

    MANAGE_SUBSCRIPTION = "MANAGE_SUBSCRIPTION"  # see, replace or delete a subscription


@policy(Action)
def decide(
    _session: Session, principal: Principal, action: Action, entity: DowntimeSubscription
) -> str | None:
    """A downtime subscription is its owner's (and, as everything, a superuser's)."""
    if principal.user_id is not None and entity.user_id == principal.user_id:
        return None
    return f"not allowed: {action.value} of another user's downtime subscription"


class DowntimeRule(RuleCode):
    """The downtimes' input rules: the name is the code clients match (`extensions.rule`),
    the value the rule in words."""

    DOWNTIME_SERVICES_REQUIRED = "at least one service"
    DOWNTIME_SERVICES_OF_ONE_SITE = "all services of one downtime belong to one site"
    DOWNTIME_SERVICE_UNKNOWN = "ids of existing services"
    DOWNTIME_ENDPOINT_UNKNOWN = "ids of existing endpoints"
    DOWNTIME_ENDPOINTS_OF_CHOSEN_SERVICES = "endpoints only of the chosen services"
    DOWNTIME_IDS_REPEATED = "each one once"
    DOWNTIME_TIME_WITHOUT_OFFSET = "a time with a UTC offset"
    DOWNTIME_END_NOT_AFTER_START = "the end must be after the start"
    DOWNTIME_START_TOO_FAR_IN_PAST = "the start may be at most 48 hours in the past"
    DOWNTIME_DESCRIPTION_EMPTY = "must not be empty"
    DOWNTIME_DESCRIPTION_TOO_LONG = f"at most {DESCRIPTION_MAX} characters"
    DOWNTIME_DESCRIPTION_FORBIDDEN_CHARACTERS = (
        "must not contain quotes, backticks, ';', '<' or '>'"
    )
    DOWNTIME_FINISHED = "a finished downtime cannot be changed"
    DOWNTIME_SCHEDULED_LOCKED = (
        "a SCHEDULED downtime cannot be changed or deleted within 24 hours of its start"
    )
    DOWNTIME_DURATION_GROWS = "the duration may not grow: declare a new, adjacent downtime instead"
    DOWNTIME_START_NOT_IN_FUTURE = "a changed start must be in the future"
    DOWNTIME_ALREADY_STARTED = "only a downtime that has not started can be deleted"
    DOWNTIME_NOT_ONGOING = "only an ongoing downtime can be ended"
    DOWNTIME_SERVICE_NOT_AFFECTED = "services affected by this downtime"
    DOWNTIME_FIELD_NULL = "may be left out but not null"
    DOWNTIME_ID_OR_PRIMARY_KEY = "give exactly one of id and primaryKey"
    DOWNTIME_FILTER_WINDOW_REVERSED = "must not be before windowStart"
    DOWNTIME_INTERVAL_REVERSED = "must not be before start"
    DOWNTIME_EVENTS_OVER_WEBSOCKET_ONLY = "over graphql-transport-ws only"
    DOWNTIME_EVENT_SEQUENCE_NEGATIVE = "must not be negative"
    # notification subscriptions
    DOWNTIME_SUBSCRIPTION_NAME_EMPTY = "must not be empty"
    DOWNTIME_SUBSCRIPTION_NAME_TOO_LONG = f"at most {SUBSCRIPTION_NAME_MAX} characters"
    DOWNTIME_SUBSCRIPTION_EVENTS_REQUIRED = "at least one event"
    DOWNTIME_SUBSCRIPTION_FILTER_EMPTY = "must not be empty (null means all)"
    DOWNTIME_SUBSCRIPTION_FILTER_TOO_LONG = f"at most {SUBSCRIPTION_FILTER_MAX} characters"
    DOWNTIME_SUBSCRIPTION_NGI_UNKNOWN = "the name of an existing NGI"
    DOWNTIME_SUBSCRIPTION_SITE_UNKNOWN = "the short name of an existing site"
    DOWNTIME_SUBSCRIPTION_SERVICE_TYPE_UNKNOWN = "the name of an existing service type"
    DOWNTIME_SUBSCRIPTIONS_OVER_LIMIT = f"a user may hold at most {MAX_SUBSCRIPTIONS_PER_USER}"


def classify(starts_at: datetime, now: datetime) -> Classification:
    """GOCDB's 24-hour rule: SCHEDULED iff the start is more than 24 h after now."""
    if starts_at > now + SCHEDULED_NOTICE:
        return Classification.SCHEDULED
    return Classification.UNSCHEDULED


def check_aware(field: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(field, DowntimeRule.DOWNTIME_TIME_WITHOUT_OFFSET)


def check_window(
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    *,
    prefix: str = "input",
    new_start: bool = True,
) -> None:
    """`new_start=False`: an edit that keeps the start, which may lie further back by now."""
    check_aware(f"{prefix}.startsAt", starts_at)
    check_aware(f"{prefix}.endsAt", ends_at)
    if new_start and starts_at < now - MAX_PAST_START:
        raise Invalid(f"{prefix}.startsAt", DowntimeRule.DOWNTIME_START_TOO_FAR_IN_PAST)
    if ends_at <= starts_at:
        raise Invalid(f"{prefix}.endsAt", DowntimeRule.DOWNTIME_END_NOT_AFTER_START)


def check_description(description: str, *, field: str = "input.description") -> str:
    text = description.strip()
    if not text:
        raise Invalid(field, DowntimeRule.DOWNTIME_DESCRIPTION_EMPTY)
    if len(text) > DESCRIPTION_MAX:
        raise Invalid(field, DowntimeRule.DOWNTIME_DESCRIPTION_TOO_LONG)
    if FORBIDDEN_DESCRIPTION_CHARS & set(text):
        raise Invalid(field, DowntimeRule.DOWNTIME_DESCRIPTION_FORBIDDEN_CHARACTERS)
    check_text(field, text)
    return text


def check_changeable(
    classification: Classification,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    *,
    field: str = "input.id",
) -> None:
    """May the downtime still be edited (or, with the start rule, deleted)?"""
    if ends_at <= now:
        raise Invalid(field, DowntimeRule.DOWNTIME_FINISHED)
    if classification is Classification.SCHEDULED and now >= starts_at - SCHEDULED_NOTICE:
        raise Invalid(field, DowntimeRule.DOWNTIME_SCHEDULED_LOCKED)


def check_edit(
    *,
    old_start: datetime,
    old_end: datetime,
    new_start: datetime,
    new_end: datetime,
    now: datetime,
) -> None:
    if new_end - new_start > old_end - old_start:
        raise Invalid("input.endsAt", DowntimeRule.DOWNTIME_DURATION_GROWS)
    if new_start != old_start and new_start <= now:
        raise Invalid("input.startsAt", DowntimeRule.DOWNTIME_START_NOT_IN_FUTURE)


def check_deletable(
    classification: Classification, starts_at: datetime, now: datetime, *, field: str = "input.id"
) -> None:
    if starts_at <= now:
        raise Invalid(field, DowntimeRule.DOWNTIME_ALREADY_STARTED)
    if classification is Classification.SCHEDULED and now >= starts_at - SCHEDULED_NOTICE:
        raise Invalid(field, DowntimeRule.DOWNTIME_SCHEDULED_LOCKED)


def check_ongoing(starts_at: datetime, ends_at: datetime, now: datetime, *, field: str) -> None:
    if not starts_at <= now < ends_at:
        raise Invalid(field, DowntimeRule.DOWNTIME_NOT_ONGOING)
