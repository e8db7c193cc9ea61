"""Messaging errors. Each carries what an AMS v1 response needs (HTTP code, status, message)
and subclasses the common error whose GraphQL code fits, so both layers render it as is.

REST: `ams_error_body(exc)` gives `(http_code, {"error": {...}})` for ANY DomainError, these
and the common ones alike. GraphQL: the class decides `extensions.code` as usual.
"""

from __future__ import annotations

from typing import Any

from domains.common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    RuleCode,
    Unauthenticated,
)


class AmsError:
    """Mixin: the AMS rendering of an error."""

    http_code: int = 500
    ams_status: str = "INTERNAL_SERVER_ERROR"
    ams_message: str = "Backend Error"


class AmsNotFound(AmsError, NotFound):
    """404 NOT_FOUND "<Resource> doesn't exist" (project, topic, subscription, users)."""

    http_code = 404
    ams_status = "NOT_FOUND"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.ams_message = message


class AlreadyExists(AmsError, Conflict):
    """409 ALREADY_EXISTS "Topic already exists" (GraphQL: CONFLICT)."""

    http_code = 409
    ams_status = "ALREADY_EXISTS"

    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource} already exists")
        self.ams_message = self.message


class AmsConflict(AmsError, Conflict):
    """409 CONFLICT with AMS's message, e.g. "Subscription's topic doesn't exist"."""

    http_code = 409
    ams_status = "CONFLICT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.ams_message = message


class AmsInvalid(AmsError, Invalid):
    """400 INVALID_ARGUMENT. GraphQL gets BAD_USER_INPUT with the field and the rule; the
    message is AMS's own text ("Invalid ack id", "Offset out of bounds", ...)."""

    http_code = 400
    ams_status = "INVALID_ARGUMENT"

    def __init__(self, field: str, rule: RuleCode, message: str) -> None:
        super().__init__(field, rule, message)
        self.ams_message = message


class UnknownProject(AmsInvalid):
    """404 NOT_FOUND "project doesn't exist" for AMS clients; over GraphQL a project name
    that names nothing is bad input (BAD_USER_INPUT, field `project`), as the issue that
    specified the messaging API asks."""

    http_code = 404
    ams_status = "NOT_FOUND"

    def __init__(self) -> None:
        from domains.messaging.rules import MessagingRule  # rules raises these errors

        super().__init__(
            "project", MessagingRule.MESSAGING_PROJECT_UNKNOWN, "project doesn't exist"
        )


class MessageTooLarge(AmsInvalid):
    """413 INVALID_ARGUMENT "Message size is too large" (GraphQL: BAD_USER_INPUT)."""

    http_code = 413

    def __init__(self, field: str, limit: int) -> None:
        from domains.messaging.rules import MessagingRule  # rules raises these errors

        super().__init__(field, MessagingRule.MESSAGE_TOO_LARGE, "Message size is too large")
        self.words = f"at most {limit} bytes"


class AckTimeout(AmsInvalid):
    """408 TIMEOUT "ack timeout": the ack came after the deadline. The caller's input (an ack
    too late) is what is wrong, so GraphQL sees BAD_USER_INPUT on `ackIds`."""

    http_code = 408
    ams_status = "TIMEOUT"

    def __init__(self, deadline: int) -> None:
        from domains.messaging.rules import MessagingRule  # rules raises these errors

        super().__init__("ackIds", MessagingRule.SUBSCRIPTION_ACK_TOO_LATE, "ack timeout")
        self.words = f"acknowledge within {deadline} s of the pull"


class AckRejected(AmsError, Conflict):
    """ "wrong ack" / "no ack pending": the ack does not fit the subscription's state.
    AMS answers 500 INTERNAL_SERVER_ERROR (the library retries those as balancer errors);
    GraphQL sees CONFLICT, since nothing is broken on our side."""

    http_code = 500
    ams_status = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.ams_message = message


class VerificationFailed(AmsError, Conflict):
    """401 UNAUTHORIZED "Endpoint verification failed.<why>". GraphQL sees CONFLICT: the
    caller is authenticated; it is the endpoint that did not prove its ownership."""

    http_code = 401
    ams_status = "UNAUTHORIZED"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Endpoint verification failed.{reason}")
        self.ams_message = self.message


# How the common errors (raised by shared code: authorization, identity) look in AMS.
_COMMON: tuple[tuple[type[DomainError], int, str, str | None], ...] = (
    (Unauthenticated, 401, "UNAUTHORIZED", "Unauthorized"),
    (Forbidden, 403, "FORBIDDEN", "Access to this resource is forbidden"),
    (NotFound, 404, "NOT_FOUND", None),
    (Conflict, 409, "CONFLICT", None),
    (Invalid, 400, "INVALID_ARGUMENT", None),
    (RateLimited, 429, "TOO_MANY_REQUESTS", None),
)


def ams_error_body(exc: DomainError) -> tuple[int, dict[str, Any]]:
    """(HTTP status, AMS error body) for any domain error."""
    if isinstance(exc, AmsError):
        code, status, message = exc.http_code, exc.ams_status, exc.ams_message
    else:
        code, status, message = 500, "INTERNAL_SERVER_ERROR", exc.message
        for cls, http_code, ams_status, fixed in _COMMON:
            if isinstance(exc, cls):
                code, status, message = http_code, ams_status, fixed or exc.message
                break
    return code, {"error": {"code": code, "message": message, "status": status}}
