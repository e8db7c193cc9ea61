"""The change log's input rules."""

from __future__ import annotations

from domains.common.errors import RuleCode


class ChangeLogRule(RuleCode):
    """Input rules of the change log's filter (`extensions.rule` carries the name)."""

    CHANGE_TIME_WITHOUT_OFFSET = "a time with a UTC offset"
