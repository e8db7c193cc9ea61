"""GOCDB's downtime rules as pure functions of the values and of `now` (an injected clock,
so the 24- and 48-hour boundaries can be tested to the second). Each raises `Invalid`
naming the field and the rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from domains.common.errors import Invalid
from domains.common.text import check_text
from domains.downtimes.models import DESCRIPTION_MAX, Classification

SCHEDULED_NOTICE = timedelta(hours=24)
MAX_PAST_START = timedelta(hours=48)
END_NOW_DELAY = timedelta(seconds=60)
FORBIDDEN_DESCRIPTION_CHARS = frozenset("'\"`;<>")

# Rule texts, as `Invalid.rule` carries them (tests and clients match on these).
RULE_SERVICES_REQUIRED = "at least one service"
RULE_ONE_SITE = "all services of one downtime belong to one site"
RULE_ENDPOINTS_OF_SERVICES = "endpoints only of the chosen services"
RULE_START_BEFORE_END = "the end must be after the start"
RULE_PAST_START = "the start may be at most 48 hours in the past"
RULE_DESCRIPTION_REQUIRED = "must not be empty"
RULE_DESCRIPTION_LENGTH = f"at most {DESCRIPTION_MAX} characters"
RULE_DESCRIPTION_CHARS = "must not contain quotes, backticks, ';', '<' or '>'"
RULE_FINISHED = "a finished downtime cannot be changed"
RULE_SCHEDULED_LOCK = (
    "a SCHEDULED downtime cannot be changed or deleted within 24 hours of its start"
)
RULE_NO_EXTENSION = "the duration may not grow: declare a new, adjacent downtime instead"
RULE_START_IN_FUTURE = "a changed start must be in the future"
RULE_DELETE_STARTED = "only a downtime that has not started can be deleted"
RULE_NOT_ONGOING = "only an ongoing downtime can be ended"
RULE_SERVICES_OF_DOWNTIME = "services affected by this downtime"
RULE_EACH_ONCE = "each one once"
RULE_UTC = "a time with a UTC offset"


def classify(starts_at: datetime, now: datetime) -> Classification:
    """GOCDB's 24-hour rule: SCHEDULED iff the start is more than 24 h after now."""
    if starts_at > now + SCHEDULED_NOTICE:
        return Classification.SCHEDULED
    return Classification.UNSCHEDULED


def check_aware(field: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(field, RULE_UTC)


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
        raise Invalid(f"{prefix}.startsAt", RULE_PAST_START)
    if ends_at <= starts_at:
        raise Invalid(f"{prefix}.endsAt", RULE_START_BEFORE_END)


def check_description(description: str, *, field: str = "input.description") -> str:
    text = description.strip()
    if not text:
        raise Invalid(field, RULE_DESCRIPTION_REQUIRED)
    if len(text) > DESCRIPTION_MAX:
        raise Invalid(field, RULE_DESCRIPTION_LENGTH)
    if FORBIDDEN_DESCRIPTION_CHARS & set(text):
        raise Invalid(field, RULE_DESCRIPTION_CHARS)
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
        raise Invalid(field, RULE_FINISHED)
    if classification is Classification.SCHEDULED and now >= starts_at - SCHEDULED_NOTICE:
        raise Invalid(field, RULE_SCHEDULED_LOCK)


def check_edit(
    *,
    old_start: datetime,
    old_end: datetime,
    new_start: datetime,
    new_end: datetime,
    now: datetime,
) -> None:
    if new_end - new_start > old_end - old_start:
        raise Invalid("input.endsAt", RULE_NO_EXTENSION)
    if new_start != old_start and new_start <= now:
        raise Invalid("input.startsAt", RULE_START_IN_FUTURE)


def check_deletable(
    classification: Classification, starts_at: datetime, now: datetime, *, field: str = "id"
) -> None:
    if starts_at <= now:
        raise Invalid(field, RULE_DELETE_STARTED)
    if classification is Classification.SCHEDULED and now >= starts_at - SCHEDULED_NOTICE:
        raise Invalid(field, RULE_SCHEDULED_LOCK)


def check_ongoing(starts_at: datetime, ends_at: datetime, now: datetime, *, field: str) -> None:
    if not starts_at <= now < ends_at:
        raise Invalid(field, RULE_NOT_ONGOING)
