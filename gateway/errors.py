"""One table from errors to `extensions.code`, at the edge (DESIGN rule 10).

- A domain error keeps its code and message; BAD_USER_INPUT names the field and rule.
- Errors raised before execution (syntax, validation, variable coercion, limits) are the
  caller's: BAD_USER_INPUT, with the argument they concern where the document shows it.
- Anything else is ours: INTERNAL, masked, logged with the request id.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError, parse
from graphql.language import ArgumentNode, Node, ObjectFieldNode, VariableDefinitionNode

from domains.common.errors import CommonRule, DomainError, Invalid

log = logging.getLogger("opsgraph.errors")

# graphql-core 3.3: Variable '$f' has invalid value at .a.b[0]: ...
_VARIABLE_PATH = re.compile(r"Variable '\$(\w+)' has invalid value at ([^:\s]+):")
_VARIABLE_NAME = re.compile(r"Variable '\$(\w+)'")


class LimitExceeded(Invalid):
    """A document over one of the gateway's limits (gateway/cost.py). `limit` names it (the
    setting, or graphql-core's constant for its own limits); `value` is what the document
    needs, `maximum` what the limit allows."""

    def __init__(self, limit: str, value: int, maximum: int, message: str) -> None:
        super().__init__("query", CommonRule.QUERY_OVER_LIMIT, message)
        self.limit = limit
        self.value = value
        self.maximum = maximum


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path is not None:
        formatted["path"] = list(error.path)

    if isinstance(original, DomainError):
        extensions: dict[str, Any] = {"code": original.code}
        if isinstance(original, Invalid):
            extensions["field"] = original.field
            extensions["rule"] = original.rule_code
        if isinstance(original, LimitExceeded):
            extensions["limit"] = original.limit
            extensions["value"] = original.value
            extensions["maximum"] = original.maximum
        formatted["message"] = original.message
    elif error.path is None:
        extensions = {"code": "BAD_USER_INPUT"}
        argument = _argument_of(error)
        if argument:
            extensions["field"] = argument
            if argument not in error.message:
                formatted["message"] = f"{error.message} (argument {argument!r})"
    else:
        log.error(
            "internal error in resolver",
            exc_info=original or error,
            extra={"request_id": request_id, "path": error.path},
        )
        extensions = {"code": "INTERNAL", "requestId": request_id}
        formatted["message"] = f"Internal server error; request id {request_id}"
    extensions["requestId"] = request_id
    formatted["extensions"] = extensions
    return formatted


def _argument_of(error: GraphQLError) -> str | None:
    """The argument (dotted through input fields) that an early error points into."""
    match = _VARIABLE_PATH.search(error.message)
    if match:
        return match.group(1) + match.group(2)
    source = error.source
    if source is None or not error.positions:
        match = _VARIABLE_NAME.search(error.message)
        return match.group(1) if match else None
    try:
        document = parse(source.body)
    except GraphQLError:
        return None
    path: list[str] = []
    _descend(document, next(iter(error.positions)), path)
    return ".".join(path) or None


def _descend(node: Node, offset: int, path: list[str]) -> None:
    for key in node.keys:
        value = getattr(node, key, None)
        children = value if isinstance(value, (list, tuple)) else [value]
        for child in children:
            if not isinstance(child, Node) or child.loc is None:
                continue
            if child.loc.start <= offset < child.loc.end:
                if isinstance(child, (ArgumentNode, ObjectFieldNode)):
                    path.append(child.name.value)
                elif isinstance(child, VariableDefinitionNode):
                    path.append("$" + child.variable.name.value)
                _descend(child, offset, path)
                return
