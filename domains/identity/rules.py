"""Identity's input rules."""

from __future__ import annotations

from domains.common.errors import RuleCode

MAX_TOKEN_NAME = 100
MAX_TOKENS_PER_USER = 50


class IdentityRule(RuleCode):
    """Input rules of API tokens (`extensions.rule` carries the name). No value here is a
    secret: bandit's S105 reads TOKEN in a name as one, hence the noqa marks."""

    TOKEN_NAME_EMPTY = "must not be empty"  # noqa: S105
    TOKEN_NAME_TOO_LONG = f"at most {MAX_TOKEN_NAME} characters"
    TOKEN_EXPIRY_WITHOUT_OFFSET = "a time with a UTC offset"  # noqa: S105
    TOKEN_EXPIRY_PAST = "must be in the future"  # noqa: S105
    TOKEN_LIMIT_REACHED = f"a user may hold at most {MAX_TOKENS_PER_USER} live tokens"
