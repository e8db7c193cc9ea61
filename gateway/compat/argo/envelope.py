"""ARGO web API's bodies (argo-web-api `respond/respond.go`): success is
`{"status": {"message": "Success", "code": "200"}, "data": [...]}`, a failure
`{"status": {"message", "code"[, "details"]}, "errors": [{"message", "code", "details"}]}`,
codes always strings, JSON indented by one space as Go's `MarshalIndent(doc, "", " ")`
writes it, non-ASCII text as UTF-8.

ARGO's results package (and v3's) answers a query without rows or an unknown report
otherwise: `{"message", "code"}`, the code a number (`no_results`, `report_unknown`,
`PlainError`); its v2 status packages an unknown report with `{"message", "code"}`, the
code a string (`status_report_unknown`, `MessageError`).

ARGO's own 401, 403 and 406 carry no `errors` list; here every failure has one (the same
message, code and details as its status), so that a client reading either finds them."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from domains.common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
)

JSON_TYPE = "application/json; charset=utf-8"
ZULU_EXAMPLE = "2006-01-02T15:04:05Z"


def dumps(body: Any) -> bytes:
    return json.dumps(body, indent=1, ensure_ascii=False).encode("utf-8")


def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type=JSON_TYPE, headers=headers)


def status(message: str, code: int, details: str | None = None) -> dict[str, str]:
    found = {"message": message, "code": str(code)}
    if details:
        found["details"] = details
    return found


def success(data: Any, message: str = "Success", code: int = 200) -> dict[str, Any]:
    """The envelope of a list, an item (as a list of one) or a self reference."""
    return {"status": status(message, code), "data": data}


def message_only(message: str, code: int = 200) -> dict[str, Any]:
    """ARGO's answer to an update or a delete: a status and no data."""
    return {"status": status(message, code)}


class Problem:
    """One entry of `errors`."""

    __slots__ = ("code", "details", "message")

    def __init__(self, message: str, code: int, details: str = "") -> None:
        self.message = message
        self.code = code
        self.details = details

    def json(self) -> dict[str, str]:
        found = {"message": self.message, "code": str(self.code)}
        if self.details:
            found["details"] = self.details
        return found


class ArgoError(Exception):
    """A failure answered in ARGO's shape: `status` (message, code, details as ARGO gives
    them) and the problems listed in `errors`."""

    def __init__(
        self,
        code: int,
        message: str,
        details: str = "",
        problems: list[Problem] | None = None,
        *,
        status_details: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(details or message)
        self.code = code
        self.message = message
        self.details = details
        self.problems = problems or [Problem(message, code, details)]
        self.status_details = status_details  # ARGO puts details in `status` too
        self.headers = headers

    def body(self) -> dict[str, Any]:
        head = status(self.message, self.code, self.details if self.status_details else None)
        return {"status": head, "errors": [p.json() for p in self.problems]}

    def body_bytes(self) -> bytes:
        return dumps(self.body())

    def response(self) -> Response:
        return respond(self.body(), self.code, self.headers)


def bad_request(problems: list[Problem]) -> ArgoError:
    """ARGO's 400 for bad query parameters: "Bad Request" and one entry per problem."""
    return ArgoError(400, "Bad Request", problems[0].details, problems)


def bad_request_details(details: str) -> ArgoError:
    """ARGO's `ErrBadRequestDetails`: 400 "Bad Request" saying what is wrong."""
    return ArgoError(400, "Bad Request", details)


UNAUTHORIZED_DETAILS = (
    "You need to provide a correct authentication token using the header 'x-api-key'"
)


def unauthorized(reason: str = "") -> ArgoError:
    """ARGO's 401 (its words in `status.details`); `reason`: what was wrong with what the
    caller sent, in `errors[0].details`."""
    return ArgoError(
        401,
        "Unauthorized",
        UNAUTHORIZED_DETAILS,
        [Problem("Unauthorized", 401, reason or UNAUTHORIZED_DETAILS)],
        status_details=True,
    )


def forbidden(details: str = "") -> ArgoError:
    return ArgoError(403, "Access to the resource is Forbidden", details)


def not_found(
    details: str = "item with the specific ID was not found on the server",
) -> ArgoError:
    return ArgoError(404, "Not Found", details)


NO_RESULTS = "No results found for given query"


class PlainError(ArgoError):
    """A failure of ARGO's results package (`app/results` `createErrorMessage`): not the
    envelope but `{"message", "code"}`, the code a number, indented as Go's
    `MarshalIndent(doc, " ", "  ")` writes it (every line after the first one space in)."""

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code}

    def body_bytes(self) -> bytes:
        text = json.dumps(self.body(), indent=2, ensure_ascii=False)
        return text.replace("\n", "\n ").encode("utf-8")

    def response(self) -> Response:
        return Response(
            self.body_bytes(), status_code=self.code, media_type=JSON_TYPE, headers=self.headers
        )


def no_results() -> ArgoError:
    """ARGO's 404 for an A/R query with no rows (`/results/...`): its results package's
    `{"message": "No results found for given query", "code": 404}`, not the envelope."""
    return PlainError(404, NO_RESULTS)


def report_unknown(name: str) -> ArgoError:
    """ARGO's 404 on a v2 `/results/...` route or a v3 route naming a report it does not
    know: its results package's (and v3's `createErrorMessage`) own `{"message", "code"}`,
    not the envelope the other packages answer with."""
    return PlainError(404, REPORT_UNKNOWN.format(name))


REPORT_UNKNOWN = "The report with the name {} does not exist"


def results_type_unknown(report: str, asked: str) -> ArgoError:
    """ARGO's 404 on `/results/{report}/{type}[/{name}]` when `type` is neither of the
    report's group types (`app/results` `routeGroup`)."""
    return PlainError(404, f"The report {report} does not define any group type: {asked}")


def results_site_type_unknown(report: str, asked: str, defined: str) -> ArgoError:
    """ARGO's 404 on a v2 results route naming an endpoint group (`…/{type}/{name}/…`) whose
    type is not the report's endpoint group type (its `List*Results` handlers)."""
    return PlainError(
        404,
        f"The report {report} does not define endpoint group type: {asked}. "
        f"Try using {defined} instead.",
    )


def results_group_type_unknown(report: str, asked: str, defined: str) -> ArgoError:
    """opsgraph's 404 for a group above the site (`/results/{report}/{group_type}/{group}/
    {type}…`) whose type is not the report's group type, worded as ARGO's endpoint group
    one (argo-web-api does not look at this part of the path)."""
    return PlainError(
        404,
        f"The report {report} does not define group type: {asked}. Try using {defined} instead.",
    )


class MessageError(ArgoError):
    """A failure of ARGO's v2 status packages (`app/status*` `createMessageOUT`):
    `{"message", "code"}`, the code a string, indented as the envelope is (Go's
    `MarshalIndent(doc, "", " ")`)."""

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "code": str(self.code)}


def status_report_unknown(name: str) -> ArgoError:
    """ARGO's 404 on a v2 `/status/...` route naming a report it does not know."""
    return MessageError(404, REPORT_UNKNOWN.format(name))


def status_type_unknown(report: str, group_type: str) -> ArgoError:
    """ARGO's 404 on a v2 `/status/...` route whose group type the report does not have."""
    return MessageError(
        404, f"The report {report} does not define endpoint group type: {group_type}"
    )


def method_not_allowed(method: str, allowed: frozenset[str] | set[str]) -> ArgoError:
    allow = ", ".join(sorted(allowed))
    return ArgoError(
        405,
        "Method Not Allowed",
        f"{method} is not allowed here; allowed: {allow}",
        headers={"Allow": allow},
    )


NOT_ACCEPTABLE_DETAILS = (
    "Accept header provided did not contain any valid content types. "
    "Acceptable content types are 'application/json'"
)


def not_acceptable() -> ArgoError:
    return ArgoError(
        406, "Not Acceptable Content Type", NOT_ACCEPTABLE_DETAILS, status_details=True
    )


def conflict(details: str) -> ArgoError:
    return ArgoError(409, "Conflict", details)


def validation_failed(details: list[str]) -> ArgoError:
    """ARGO's 422 for a profile that breaks its rules: one "Validation Failed" per rule."""
    problems = [Problem("Validation Failed", 422, d) for d in details]
    return ArgoError(422, "Validation Error", details[0] if details else "", problems)


def internal(details: str = "") -> ArgoError:
    return ArgoError(500, "Internal Server Error", details)


def unavailable(details: str) -> ArgoError:
    """The request ran out of OPSGRAPH_REQUEST_TIMEOUT (ARGO has no such answer)."""
    return ArgoError(503, "Service Unavailable", details)


INVALID_JSON = "Request Body contains malformed JSON, thus rendering the Request Bad"


def from_domain_error(error: DomainError) -> ArgoError:
    """A service's refusal in ARGO's words; a DomainError is never a 500."""
    if isinstance(error, Unauthenticated):
        return unauthorized(error.message)
    if isinstance(error, Forbidden):
        return forbidden(error.message)
    if isinstance(error, NotFound):
        return not_found(error.message)
    if isinstance(error, Conflict):
        return conflict(error.message)
    if isinstance(error, Invalid):
        return validation_failed([error.message])
    if isinstance(error, RateLimited):
        return ArgoError(429, "Too Many Requests", error.message)
    return bad_request_details(error.message)
