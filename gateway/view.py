"""The /graphql endpoint: strawberry's ASGI view, with execution moved off the event loop.

Resolvers are synchronous and talk to the database directly. Running graphql-core's
synchronous executor in a worker thread keeps the event loop free, and avoids the cost of
one coroutine per resolved field that async execution would bring (see README, benchmark).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar, cast

import anyio.to_thread
from cross_web import HTTPException
from graphql import GraphQLError, get_operation_ast
from graphql.language import OperationType as DocumentOperation
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.extensions import ParserCache
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from domains.common import tracing
from domains.common.context import Limits, RequestContext, Transact
from domains.common.db import unit_of_work
from domains.common.deadline import RequestTimeout
from domains.common.egress import EgressPolicy
from domains.common.errors import CommonRule, DomainError, Forbidden, Invalid, Unauthenticated
from domains.common.identity import ANONYMOUS, Principal
from domains.common.replica import read_on_primary, read_standby
from domains.common.text import unstorable
from domains.common.time import clock_read, instant, utcnow
from gateway import cache, deadlines, jsonlimits, persisted, web
from gateway.auth.authenticator import Authenticator, Credentials
from gateway.config import Settings
from gateway.errors import format_error
from gateway.http import http_getter
from gateway.metrics import Metrics, StatementCount
from gateway.ws import FORBIDDEN, UNAUTHORIZED, CheckedTransportWSHandler

T = TypeVar("T")

# the parse cache of gateway/schema.py's ParserCache(maxsize=512), shared by size
_parse = ParserCache(maxsize=512).cached_parse_document


class _RolledBack(Exception):
    """Ends a request's unit of work without committing, with the answer to send: a
    request with any error writes nothing."""

    def __init__(self, result: ExecutionResult) -> None:
        super().__init__("rolled back")
        self.result = result


class _NotModified(Exception):
    """The caller holds the answer already (If-None-Match names its ETag): 304."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("not modified")
        self.headers = headers


class GraphQLView(GraphQL[RequestContext, None]):
    # streams end with their credential (gateway/ws.py)
    graphql_transport_ws_handler_class = CheckedTransportWSHandler

    def __init__(
        self,
        schema: BaseSchema,
        settings: Settings,
        session_factory: sessionmaker[Session],
        authenticator: Authenticator,
        *,
        clock: Callable[[], datetime] = utcnow,
        egress: EgressPolicy | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            # only graphql-transport-ws: the legacy protocol has a history of auth bypasses
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.settings = settings
        self.session_factory = session_factory
        self.authenticator = authenticator
        self.clock = clock
        # the same clock without the mark (utcnow marks every read)
        self.instant = instant if clock is utcnow else clock
        self.egress = egress or EgressPolicy.from_settings(settings)
        self.persisted = persisted.from_settings(settings)
        self.metrics: Metrics | None = None  # set by create_app
        self.cache: cache.ResponseCache | None = None  # set by create_app (gateway/cache.py)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL build, same-origin assets only (strawberry's loads a CDN's)."""
        return web.GRAPHIQL.page()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        context = RequestContext(
            # unbound, so any use fails: each request's unit of work puts its own session
            # here (execute_single); a subscription's steps get theirs through `transact`
            session=Session(),
            principal=ANONYMOUS,
            limits=Limits(
                default_page_size=self.settings.default_page_size,
                max_page_size=self.settings.max_page_size,
                max_message_bytes=self.settings.max_message_bytes,
            ),
            scope_defaults=self.settings.scope_defaults,
            request_id=_request_id(request),
            restrict_personal_data=self.settings.restrict_personal_data,
            http_get=http_getter(self.egress),
            egress=self.egress,
            clock=self._clock,
            instant=self.instant,
            settings=self.settings,
        )
        # The token is checked here, on the event loop (the issuer may be asked over HTTP);
        # the user behind it is looked up later, inside the request's transaction.
        context.memo["credentials"] = await self.authenticator.credentials(request)
        if isinstance(request, WebSocket):
            context.transact = self._transact(context)
        return context

    def _clock(self) -> datetime:
        """The request's clock: a read makes its answer one the cache does not keep."""
        clock_read()
        return self.instant()

    def _transact(self, context: RequestContext) -> Transact:
        async def transact(fn: Callable[[Session, Principal], T], *, write: bool = True) -> T:
            def run() -> T:
                with unit_of_work(self.session_factory, write=write) as session:
                    read_on_primary(session)  # woken by the primary's commits
                    return fn(session, context.principal)

            return await anyio.to_thread.run_sync(run)

        return transact

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: the caller is who the `connection_init` payload says
        (`authorization: Bearer …` or `x-api-key`), else who the handshake's headers or
        session cookie say. Refused credentials close the socket (4403); none is anonymous."""
        params = context.connection_params or {}
        credentials: Credentials = context.memo.pop("credentials")
        if params.get("authorization") or params.get("x-api-key"):
            credentials = await self.authenticator.credentials_from(
                authorization=_text(params.get("authorization")),
                api_key=_text(params.get("x-api-key")),
                client_dn=credentials.client_dn,  # the handshake's certificate stays
            )

        def resolve() -> Principal:
            with unit_of_work(self.session_factory, write=False) as session:
                return self.authenticator.principal_for_reading(
                    session, self.session_factory, credentials
                )

        try:
            context.principal = await anyio.to_thread.run_sync(resolve)
        except Unauthenticated as refused:
            raise ConnectionRejectionError({"message": refused.message}) from refused
        context.memo[_WS_CREDENTIALS] = credentials  # re-checked while the socket lives
        unset: UnsetType = UNSET
        return unset

    async def recheck(self, context: RequestContext) -> tuple[int, str] | None:
        """Whether the socket's credential still holds (gateway/ws.py): None, or the close
        code and reason. Reads only; the database only for API tokens."""
        credentials: Credentials | None = context.memo.get(_WS_CREDENTIALS)
        if credentials is None:
            return None

        def check() -> None:
            if not self.authenticator.needs_database(credentials):
                self.authenticator.recheck(None, credentials, context.principal)
                return
            with unit_of_work(self.session_factory, write=False) as session:
                self.authenticator.recheck(session, credentials, context.principal)

        try:
            if self.authenticator.needs_database(credentials):
                await anyio.to_thread.run_sync(check)
            else:
                check()
        except Unauthenticated as ended:
            return UNAUTHORIZED, ended.message
        except Forbidden as refused:
            return FORBIDDEN, refused.message
        return None

    async def stream_document(self, context: RequestContext, payload: Mapping[str, Any]) -> str:
        """A subscribe message's document (gateway/ws.py), by the HTTP rules."""
        extensions = payload.get("extensions")
        document = await self.persisted.resolve(
            _text(payload.get("query")), extensions if isinstance(extensions, dict) else None
        )
        self.persisted.check_allowed(document, context.principal)
        return document.query or ""

    def recheck_delay(self, context: RequestContext) -> float:
        """OPSGRAPH_STREAM_RECHECK_SECONDS, or until the token's `exp` if that is sooner."""
        delay = self.settings.stream_recheck_seconds
        credentials: Credentials | None = context.memo.get(_WS_CREDENTIALS)
        expires = None if credentials is None else self.authenticator.expires_at(credentials)
        if expires is not None:
            delay = min(delay, max(expires - time.time(), 0.0) + 0.01)
        return delay

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        if self.metrics is None:
            return await self._execute_single(request_adapter, sub_response, context, request_data)
        started = time.perf_counter()
        label: list[str] = []  # the operation's label, once its document is known
        ok = False
        with StatementCount() as statements:
            try:
                result = await self._execute_single(
                    request_adapter, sub_response, context, request_data, label
                )
                ok = not result.errors
                return result
            except _NotModified:
                ok = True
                raise
            finally:
                self.metrics.graphql_done(
                    label[0] if label else "other",
                    ok,
                    time.perf_counter() - started,
                    statements[0],
                )

    async def _execute_single(
        self,
        request_adapter: Any,
        sub_response: Any,
        context: RequestContext,
        request_data: GraphQLRequestData,
        label: list[str] | None = None,
    ) -> ExecutionResult:
        allowed = OperationType.from_http(request_adapter.method)
        if not self.allow_queries_via_get and request_adapter.method == "GET":
            allowed = allowed - {OperationType.QUERY}
        try:  # a document named by its hash (gateway/persisted.py)
            document = await self.persisted.resolve(request_data.query, request_data.extensions)
        except DomainError as refused:
            return _refusal(refused)
        request_data = replace(request_data, query=document.query)
        if label is not None and self.metrics is not None and document.trusted:
            label.append(self.metrics.operation_label(document.query, request_data.operation_name))
        # Only a mutation's transaction writes (and, on SQLite, takes the write lock).
        operation = self._operation(request_data)
        write = OperationType.MUTATION in allowed and operation is DocumentOperation.MUTATION
        # gateway/cache.py: a query's answer, by document, variables and who may see it
        normal = None
        missed: str | None = None  # the anonymous key the lookup before the transaction missed
        if (
            self.cache is not None
            and operation is DocumentOperation.QUERY
            and OperationType.QUERY in allowed
            and request_data.query
        ):
            normal = cache.normalised(request_data.query)
            credentials: Credentials = context.memo["credentials"]
            if credentials == Credentials() and self.persisted.allows(document, ANONYMOUS):
                # anonymous: answered from the cache without a transaction
                lookup = partial(
                    self.cache.lookup,
                    normal,
                    request_data.operation_name,
                    request_data.variables,
                    cache.ANONYMOUS,
                    self.instant(),
                )
                # in Redis: a round trip, off the event loop
                anonymous_key, found = (
                    await anyio.to_thread.run_sync(lookup)
                    if self.cache.shared is not None
                    else lookup()
                )
                if found is not None:
                    return self._cached(request_adapter, sub_response, found, cache.PUBLIC)
                missed = anonymous_key  # not asked again below (in Redis, a round trip)
        kept: list[tuple[cache.Entry, str]] = []  # the answer's entry, and Cache-Control

        def run() -> ExecutionResult:
            # taken before the transaction begins: any write it does not see comes later
            # (None: the cache's shared store is unreachable, the answer is not cached)
            since = self.cache.sequence() if normal is not None and self.cache is not None else None
            # One transaction per request, owned by its unit of work: all of it or nothing.
            try:
                with unit_of_work(self.session_factory, write=write) as session:
                    context.session = session
                    # OPSGRAPH_REQUEST_TIMEOUT: the database and the executor stop then
                    context.deadline = deadlines.start(self.settings.request_timeout)
                    deadlines.limit(session, context.deadline)
                    credentials: Credentials = context.memo.pop("credentials")
                    try:
                        context.principal = (
                            self.authenticator.principal(session, credentials)
                            if write
                            else self.authenticator.principal_for_reading(
                                session, self.session_factory, credentials
                            )
                        )
                    except Unauthenticated as refused:
                        raise _RolledBack(_refusal(refused)) from refused
                    try:  # OPSGRAPH_TRUSTED_DOCUMENTS=only: ad-hoc documents for admins
                        self.persisted.check_allowed(document, context.principal)
                    except Invalid as refused:
                        raise _RolledBack(_refusal(refused)) from refused
                    key = reads = None
                    control = cache.PRIVATE
                    if normal is not None and self.cache is not None and since is None:
                        self.cache.observe("unavailable")
                    elif normal is not None and self.cache is not None:
                        visible = cache.visibility(context.principal)
                        if missed is not None and visible == cache.ANONYMOUS:
                            key, found = missed, None
                        else:
                            key, found = self.cache.lookup(
                                normal,
                                request_data.operation_name,
                                request_data.variables,
                                visible,
                                self.instant(),
                            )
                        control = cache.PUBLIC if visible == cache.ANONYMOUS else cache.PRIVATE
                        if found is not None:
                            kept.append((found, control))
                            return _Measured(data={}, errors=None, encoded=found.body)
                        reads = cache.watch()
                    result = self.schema.execute_sync(
                        request_data.query,
                        variable_values=request_data.variables,
                        context_value=context,
                        operation_name=request_data.operation_name,
                        allowed_operation_types=allowed,
                        operation_extensions=request_data.extensions,
                    )
                    result = _bounded(result, self.settings.max_response_bytes)
                    if result.errors:
                        raise _RolledBack(result)
                    if (
                        key is not None
                        and reads is not None
                        and since is not None
                        and self.cache is not None
                    ):
                        entry, outcome = None, "skip"
                        # read on a standby: maybe older than the changes heard of
                        if (
                            isinstance(result, _Measured)
                            and not result.extensions
                            and not read_standby(session)
                        ):
                            entry, outcome = self.cache.put(key, result.encoded, since, reads)
                        self.cache.observe(outcome)
                        if entry is not None:
                            kept.append((entry, control))
                    return result
            except _RolledBack as rolled_back:
                return rolled_back.result
            except RequestTimeout as timeout:  # before execution (the caller's lookup)
                return ExecutionResult(
                    data=None, errors=[GraphQLError(timeout.message, original_error=timeout)]
                )

        try:
            result = await anyio.to_thread.run_sync(run)
            if kept:
                return self._cached(request_adapter, sub_response, *kept[0], result)
            return result
        except CannotGetOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason()) from e
        except InvalidOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason(request_adapter.method)) from e
        except MissingQueryError as e:
            raise HTTPException(400, "No GraphQL query found in the request") from e

    def _operation(self, request_data: GraphQLRequestData) -> DocumentOperation | None:
        """The kind of operation the request runs, known before executing it. Parsed
        through the cache strawberry's ParserCache keeps, with the same token limit: the
        document is parsed once. A document that does not parse, or names no single
        operation, is refused by strawberry before anything runs: None here."""
        if not request_data.query:
            return None
        try:
            document = _parse(request_data.query, max_tokens=self.settings.max_tokens)
        except GraphQLError:
            return None
        operation = get_operation_ast(document, request_data.operation_name)
        return None if operation is None else operation.operation

    def _cached(
        self,
        request_adapter: Any,
        sub_response: Any,
        entry: cache.Entry,
        control: str,
        result: ExecutionResult | None = None,
    ) -> ExecutionResult:
        """A cacheable answer (`result`, or the entry's own): its ETag and Cache-Control;
        304 when the caller's If-None-Match names it."""
        headers = {"etag": entry.etag, "cache-control": control}
        if cache.matches(request_adapter.headers.get("if-none-match"), entry.etag):
            raise _NotModified(headers)
        sub_response.headers.update(headers)
        return result if result is not None else _Measured(data={}, errors=None, encoded=entry.body)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        if isinstance(result, _Measured):  # `data` was encoded to measure it: not twice
            data["data"] = cast(dict[str, object], _RawJSON(result.encoded))
        if result.errors:
            request_id = _request_id(request)
            errors = [format_error(error, request_id) for error in result.errors]
            data["errors"] = cast(list[Any], errors)
            if self.metrics is not None:
                for formatted in errors:
                    self.metrics.graphql_error((formatted.get("extensions") or {}).get("code"))
        if result.extensions:
            data["extensions"] = result.extensions
        trace_id = tracing.current_trace_id()
        if trace_id is not None:  # traced: the id an operator looks the request up by
            data["extensions"] = {**(data.get("extensions") or {}), "traceId": trace_id}
        return data

    # --- bounds (OPSGRAPH_REQUEST_TIMEOUT, OPSGRAPH_MAX_RESPONSE_BYTES, JSON nesting) -------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response: Response
        try:
            response = await self.run(request)
        except _TooDeep as refused:
            error = GraphQLError(refused.invalid.message, original_error=refused.invalid)
            body = {"errors": [format_error(error, _request_id(request))]}
            response = Response(self.encode_json(body), 400, media_type="application/json")
        except HTTPException as e:
            response = PlainTextResponse(e.reason, status_code=e.status_code)
        except _NotModified as same:
            response = Response(status_code=304, headers=same.headers)
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        """The request body: its variables nested at most jsonlimits.MAX_DEPTH deep."""
        return _parse_bounded(data, ())

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """GET: `variables` and `extensions` are JSON, bounded as in a body."""
        parsed = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = _parse_bounded(parsed[name], (name,))
        return parsed

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages: one nested too deeply is refused like one that is not JSON
        (the socket closes with 4400)."""
        try:
            value = jsonlimits.loads(data, max_depth=jsonlimits.MAX_DEPTH + 2)
        except jsonlimits.TooDeep as deep:
            raise json.JSONDecodeError(str(deep), "", 0) from deep
        found = unstorable(value)
        if found is not None:  # JSON's "\\ud800" or "\\u0000": no database stores it
            raise _NotText(f"{found.path or 'the message'}: {found.problem}")
        return value

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, dict) and isinstance(data.get("data"), _RawJSON):
            rest = {k: v for k, v in data.items() if k != "data"}
            head: str = '{"data":' + data["data"].text
            return head + ("," + json.dumps(rest, separators=(",", ":"))[1:] if rest else "}")
        return json.dumps(data, separators=(",", ":"))


class _TooDeep(Exception):
    """A request's JSON nests too deeply: answered 400 with a GraphQL error naming where."""

    def __init__(self, invalid: Invalid) -> None:
        super().__init__(invalid.message)
        self.invalid = invalid


_DEPTH_RULE = CommonRule.JSON_TOO_DEEP


def _parse_bounded(data: str | bytes, prefix: tuple[str, ...]) -> Any:
    """JSON of a request; `prefix`: where it sits in a request body (() for the body itself,
    ("variables",) for GET's `variables`). A variable's value may nest MAX_DEPTH levels."""
    try:
        value = jsonlimits.loads(data, max_depth=jsonlimits.MAX_DEPTH + 2 - len(prefix))
    except UnicodeDecodeError as e:
        raise HTTPException(400, "the request body is not valid UTF-8") from e
    except jsonlimits.TooDeep as deep:
        path = (*prefix, *deep.path)
        if len(path) >= 2 and path[0] == "variables":
            name = f"${path[1]}"
            message = f"Variable '{name}' has lists and objects nested more than "
            message += f"{jsonlimits.MAX_DEPTH} levels deep."
            raise _TooDeep(Invalid(name, _DEPTH_RULE, message)) from None
        field = str(path[0]) if path else "body"
        message = f"The request body has lists and objects nested more than {deep.limit} "
        message += "levels deep" + (f" (in '{field}')." if path else ".")
        raise _TooDeep(Invalid(field, _DEPTH_RULE, message)) from None
    except json.JSONDecodeError as e:
        raise HTTPException(400, "Unable to parse request body as JSON") from e
    # JSON's "\\ud800" decodes to a lone surrogate, "\\u0000" to NUL: no database stores them
    found = unstorable(value)
    if found is not None:
        where = ".".join((*prefix, found.path)) if found.path else ".".join(prefix) or "the body"
        raise HTTPException(400, f"{where}: {found.problem}")
    return value


class _RawJSON:
    """Text already in JSON, for `encode_json` to insert as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


@dataclass
class _Measured(ExecutionResult):
    """A result whose `data` was encoded (`encoded`) to check its size."""

    encoded: str = "null"


def _bounded(result: ExecutionResult, max_bytes: int) -> ExecutionResult:
    """The result as it will be sent, or, past the request's deadline or over
    OPSGRAPH_MAX_RESPONSE_BYTES, one error in its place (and the transaction is rolled
    back, as for any error)."""
    for error in result.errors or ():
        if isinstance(error.original_error, RequestTimeout):
            # the errors that follow a stopped statement are its consequences: one answer
            timeout = error.original_error
            return ExecutionResult(
                data=None, errors=[GraphQLError(timeout.message, original_error=timeout)]
            )
    encoded = json.dumps(result.data, separators=(",", ":"))
    if len(encoded) > max_bytes and len(encoded.encode()) > max_bytes:
        invalid = Invalid(
            "query",
            CommonRule.RESPONSE_TOO_LARGE,
            f"The response would be {len(encoded.encode())} bytes, more than this server "
            f"sends ({max_bytes}, OPSGRAPH_MAX_RESPONSE_BYTES); ask for fewer objects "
            "(a smaller `first`) or fewer fields.",
        )
        return ExecutionResult(
            data=None, errors=[GraphQLError(invalid.message, original_error=invalid)]
        )
    return _Measured(
        data=result.data, errors=result.errors, extensions=result.extensions, encoded=encoded
    )


_WS_CREDENTIALS = "ws_credentials"


def _refusal(refused: DomainError) -> ExecutionResult:
    """A request refused before its document ran: one error, nothing done."""
    return ExecutionResult(
        data=None, errors=[GraphQLError(refused.message, original_error=refused)]
    )


class _NotText(json.JSONDecodeError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "", 0)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _request_id(request: Request | WebSocket) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))
