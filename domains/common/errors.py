"""Domain errors. The gateway maps each class to one `extensions.code`."""

from __future__ import annotations


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


class Invalid(DomainError):
    """Bad input: names the field (or argument) and the rule it broke."""

    code = "BAD_USER_INPUT"

    def __init__(self, field: str, rule: str, message: str | None = None) -> None:
        super().__init__(message or f"{field}: {rule}")
        self.field = field
        self.rule = rule
