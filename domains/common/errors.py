"""Domain errors. The gateway maps each class to one `extensions.code`; a broken input rule
also gives `extensions.rule`, a stable code from the domain's `RuleCode` enum."""

from __future__ import annotations

import enum


class DomainError(Exception):
    """Base of every error a service function raises on purpose."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class RuleCode(enum.Enum):
    """Base of each domain's enum of input rules (`TopologyRule`, `DowntimeRule`, ... in the
    domain's `rules.py`). A member's name is the code clients match on (`extensions.rule`,
    e.g. `DOWNTIME_START_TOO_FAR_IN_PAST`), stable across releases and unique across the
    domains (a test checks, and that README lists each); its value is the rule in words,
    the default human message. Members with the same words stay distinct members."""

    text: str

    def __new__(cls, text: str) -> RuleCode:
        member = object.__new__(cls)
        # numbered, so that two rules worded alike are not merged into one member
        member._value_ = len(cls.__members__) + 1
        member.text = text
        return member

    @property
    def code(self) -> str:
        return self.name


class CommonRule(RuleCode):
    """Rules of the arguments every domain shares: ids, cursors, page sizes, text."""

    MALFORMED_GLOBAL_ID = "a global id, as the API gave it"
    WRONG_ID_TYPE = "the id of an object of the type this argument takes"
    UNKNOWN_OBJECT_TYPE = "the id of an object of a known type"
    MALFORMED_CURSOR = "a cursor, as the API gave it"
    PAGE_SIZE_NEGATIVE = "must not be negative"
    PAGE_SIZE_OVER_CAP = "at most the server's maximum page size"
    TEXT_NOT_XML = (
        "no control characters other than tab and line ends, no U+FFFE or U+FFFF, "
        "no lone surrogates (characters XML forbids)"
    )
    TEXT_NOT_STORABLE = (
        "text holds no U+0000 (NUL, which PostgreSQL cannot store) and no lone surrogate"
    )
    TEXT_TOO_LONG = "at most the field's maximum length"
    QUERY_OVER_LIMIT = "within the gateway's query limits"
    JSON_TOO_DEEP = "lists and objects nested no deeper than the server reads"
    BODY_TOO_LARGE = "a request body of at most OPSGRAPH_MAX_BODY_BYTES bytes"
    BODY_TOO_SLOW = "a request body sent within OPSGRAPH_BODY_TIMEOUT seconds"
    RESPONSE_TOO_LARGE = "a response of at most OPSGRAPH_MAX_RESPONSE_BYTES bytes"
    PERSISTED_QUERY_MALFORMED = 'extensions.persistedQuery as {"version": 1, "sha256Hash": hex}'
    PERSISTED_QUERY_HASH_MISMATCH = "the SHA-256 of the document sent with it"
    TRUSTED_DOCUMENT_REQUIRED = "a document of the trusted-documents manifest"
    ENTITY_KEY_REQUIRED = "a representation with its entity type's key (id; a Site's shortName)"


class Invalid(DomainError):
    """Bad input: names the field (or argument) and the rule it broke.

    `rule` is a `RuleCode` member (its code goes to `extensions.rule`); `message` replaces
    the default "field: rule in words" where the case at hand says more ("first: 900 is
    over the cap of 500"). A plain string rule is for settings read at start-up, which
    never reach an API client."""

    code = "BAD_USER_INPUT"

    def __init__(self, field: str, rule: RuleCode | str, message: str | None = None) -> None:
        self.words = rule.text if isinstance(rule, RuleCode) else rule
        super().__init__(message or f"{field}: {self.words}")
        self.field = field
        self.rule = rule

    @property
    def rule_code(self) -> str:
        """What `extensions.rule` says: the code, or a settings rule's words."""
        return self.rule.code if isinstance(self.rule, RuleCode) else self.rule
