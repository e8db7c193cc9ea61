"""The ARGO Messaging Service v1 REST API over the messaging service functions, for the
clients written against AMS (argo-ams-library, the Nagios publisher, APEL SSM).

Wire rules kept from AMS: paths under /v1 with actions as a `:verb` suffix on the resource,
the `x-api-key` header (or `?key=`), bodies parsed whatever their Content-Type, numbers as
strings where AMS sends strings, names with a leading slash, 200 with an empty body for
modify/delete calls, and `{"error": {"code", "message", "status"}}` on failure.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domains.accounting.service import hosttokens
from domains.common.context import HttpGet
from domains.common.db import unit_of_work
from domains.common.deadline import RequestTimeout
from domains.common.egress import EgressPolicy
from domains.common.errors import DomainError
from domains.common.identity import Principal
from domains.common.text import check_storable, unstorable
from domains.common.time import utcnow
from domains.messaging import formats, notify, rules
from domains.messaging import service as messaging
from domains.messaging.errors import AmsInvalid, ams_error_body
from domains.messaging.rows import KeysetPage, SubscriptionView, TopicView
from gateway import deadlines, jsonlimits
from gateway.auth.authenticator import Authenticator, Credentials
from gateway.config import Settings
from gateway.http import http_getter

JSON_TYPE = "application/json; charset=utf-8"
MAX_PAGE_SIZE = 2**31 - 1
Work = Callable[[Session, Principal], Any]
V = TypeVar("V", TopicView, SubscriptionView)


class AmsHttpError(Exception):
    """A failure found before any service function runs (the request itself is bad)."""

    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.body = {"error": {"code": code, "message": message, "status": status}}
        self.code = code
        self.status = status

    def saying(self, detail: str) -> AmsHttpError:
        """The same error, its message followed by what exactly is wrong."""
        return AmsHttpError(self.code, self.status, f"{self.body['error']['message']}: {detail}")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=JSON_TYPE)


EMPTY = object()  # a call whose success AMS answers with an empty body


def _render(result: Any) -> Response:
    if result is EMPTY:
        return Response(b"", status_code=200, media_type=JSON_TYPE)
    return _json(result)


async def _body(request: Request, *, bad: AmsHttpError | None = None) -> dict[str, Any]:
    """The JSON object sent, whatever the Content-Type (the library sends none); an empty
    body is an empty object, as for AMS's PUT of a topic."""
    raw = await request.body()
    if not raw.strip():
        return {}
    refused = bad or AmsHttpError(400, "BAD_REQUEST", "Invalid Request Body")
    try:
        value = jsonlimits.loads(raw, max_depth=jsonlimits.MAX_DEPTH)
    except jsonlimits.TooDeep as deep:
        raise AmsHttpError(400, "INVALID_ARGUMENT", f"Invalid Request Body: {deep}") from None
    except UnicodeDecodeError as exc:
        raise refused.saying("the body is not valid UTF-8") from exc
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise refused
    found = unstorable(value)
    if found is not None:  # JSON's "\ud800" or "\u0000": no database stores it
        raise refused.saying(f"{found.path}: {found.problem}")
    return value


def _split(raw: str) -> tuple[str, str]:
    """`name:action` -> (name, action); AMS puts actions after a colon."""
    name, _, action = raw.partition(":")
    return name, action


class AmsApi:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        authenticator: Authenticator,
        *,
        egress: EgressPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.authenticator = authenticator
        self.egress = egress or EgressPolicy.from_settings(settings)
        self.http_get = http_getter(self.egress)

    async def _run(self, request: Request, work: Work) -> Any:
        """`work(session, principal)` in one transaction, off the event loop: a reader's
        for a GET, a writer's for the other methods (a pull too: it moves the lease)."""
        credentials = await self.authenticator.credentials(request, allow_query_key=True)
        write = request.method != "GET"

        def run() -> Any:
            with unit_of_work(self.session_factory, write=write) as session:
                # each transaction is bounded (a pull's wait between two is not)
                deadlines.limit(session, deadlines.start(self.settings.request_timeout))
                principal = (
                    self.authenticator.principal(session, credentials)
                    if write
                    else self.authenticator.principal_for_reading(
                        session, self.session_factory, credentials
                    )
                )
                return work(session, principal)

        return await anyio.to_thread.run_sync(run)

    def route(
        self, handler: Callable[[Request], Awaitable[Any]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                check_storable((*request.path_params.items(), *request.query_params.multi_items()))
                return _render(await handler(request))
            except AmsHttpError as error:
                return _json(error.body, error.code)
            except RequestTimeout as error:  # OPSGRAPH_REQUEST_TIMEOUT; rolled back
                return _json(
                    {"error": {"code": 503, "message": error.message, "status": "UNAVAILABLE"}}, 503
                )
            except DomainError as error:
                code, body = ams_error_body(error)
                return _json(body, code)

        return endpoint

    # --- service -----------------------------------------------------------------------

    async def status(self, request: Request) -> Any:
        return {"status": "ok"}

    async def version(self, request: Request) -> Any:
        from importlib.metadata import version

        return {"release": version("opsgraph"), "implementation": "opsgraph"}

    async def profile(self, request: Request) -> Any:
        def work(session: Session, principal: Principal) -> Any:
            return messaging.user_profile(session, principal)

        return formats.user_json(await self._run(request, work))

    async def authx509(self, request: Request) -> Any:
        """argo-api-authn's `GET /v1/service-types/ams/hosts/{host}:authx509`: a token for
        the verified client certificate (domains/accounting/service/hosttokens.py). Any
        host name is this server's; errors as argo-api-authn gives them."""
        host, action = _split(request.path_params["host"])
        if action.lower() != "authx509" or not host:
            raise AmsHttpError(404, "NOT FOUND", "API call not found")
        if request.path_params["service_type"] != "ams":
            raise AmsHttpError(404, "NOT FOUND", "ServiceType was not found")
        dn = self.authenticator.client_dn(request)  # Unauthenticated: forged or a proxy
        if dn is None:
            raise AmsHttpError(400, "BAD REQUEST", "No certificate provided")
        settings = self.settings

        def run() -> str:
            with unit_of_work(self.session_factory, write=True) as session:
                deadlines.limit(session, deadlines.start(settings.request_timeout))
                principal = self.authenticator.principal(session, Credentials(client_dn=dn))
                return hosttokens.token_for_certificate(
                    session,
                    principal,
                    project=settings.accounting_project,
                    subscription=settings.accounting_subscription,
                )

        return {"token": await anyio.to_thread.run_sync(run)}

    # --- projects ----------------------------------------------------------------------

    async def projects(self, request: Request) -> Any:
        page = await self._run(request, lambda s, p: messaging.list_projects(s, p))
        return {"projects": [formats.project_json(v) for v in page.items]}

    async def project(self, request: Request) -> Any:
        name, action = _split(request.path_params["project"])
        method = request.method
        if action == "metrics" and method == "GET":
            metrics = await self._run(
                request, lambda s, p: messaging.project_metrics(s, p, project=name)
            )
            return formats.project_metrics_json(metrics, utcnow())
        if action:
            raise AmsHttpError(404, "NOT_FOUND", "API call not found")
        if method == "GET":
            view = await self._run(request, lambda s, p: messaging.get_project(s, p, project=name))
            return formats.project_json(view)
        if method == "DELETE":
            await self._run(request, lambda s, p: messaging.delete_project(s, p, project=name))
            return EMPTY
        body = await _body(request)
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise AmsHttpError(400, "INVALID_ARGUMENT", "Invalid project description")
        if method == "POST":
            view = await self._run(
                request,
                lambda s, p: messaging.create_project(
                    s, p, name=name, description=description or ""
                ),
            )
            return formats.project_json(view)
        new_name = body.get("name")
        view = await self._run(
            request,
            lambda s, p: messaging.update_project(
                s,
                p,
                project=name,
                description=description,
                new_name=new_name if isinstance(new_name, str) else None,
            ),
        )
        return formats.project_json(view)

    async def members(self, request: Request) -> Any:
        project = request.path_params["project"]
        views = await self._run(request, lambda s, p: messaging.list_members(s, p, project=project))
        return {"users": [formats.member_json(project, v) for v in views]}

    async def member(self, request: Request) -> Any:
        project = request.path_params["project"]
        user, action = _split(request.path_params["user"])
        if request.method == "GET" and not action:
            views = await self._run(
                request, lambda s, p: messaging.list_members(s, p, project=project)
            )
            for view in views:
                if view.subject == user:
                    return formats.member_json(project, view)
            raise AmsHttpError(404, "NOT_FOUND", "User doesn't exist")
        if action == "remove" and request.method == "POST":
            await self._run(
                request,
                lambda s, p: messaging.remove_member(s, p, project=project, subject=user),
            )
            return EMPTY
        if action in ("add", "") and request.method in ("POST", "PUT"):
            roles = _member_roles(await _body(request), project)
            view = await self._run(
                request,
                lambda s, p: messaging.add_member(s, p, project=project, subject=user, roles=roles),
            )
            return formats.member_json(project, view)
        raise AmsHttpError(404, "NOT_FOUND", "API call not found")

    # --- topics ------------------------------------------------------------------------

    async def topics(self, request: Request) -> Any:
        project = request.path_params["project"]
        size, first, token = _paging(request)

        def work(session: Session, principal: Principal) -> KeysetPage[TopicView]:
            def read(after: int | None) -> KeysetPage[TopicView]:
                return messaging.list_topics(
                    session, principal, project=project, first=first, after=after
                )

            return _read_page(read, token)

        page = await self._run(request, work)
        return formats.topics_page_json(_ams_page(page, size))

    async def topic(self, request: Request) -> Any:
        project = request.path_params["project"]
        topic, action = _split(request.path_params["topic"])
        method = request.method
        kw = {"project": project, "topic": topic}
        if not action:
            if method == "PUT":
                await _body(request)  # empty, or a schema this server does not support
                view = await self._run(request, lambda s, p: messaging.create_topic(s, p, **kw))
                return formats.topic_json(view)
            if method == "GET":
                view = await self._run(request, lambda s, p: messaging.get_topic(s, p, **kw))
                return formats.topic_json(view)
            if method == "DELETE":
                await self._run(request, lambda s, p: messaging.delete_topic(s, p, **kw))
                return EMPTY
        elif action == "publish" and method == "POST":
            bad = AmsHttpError(400, "INVALID_ARGUMENT", "Invalid Message Arguments")
            body = await _body(request, bad=bad)
            messages = body.get("messages")
            if not isinstance(messages, list):
                raise bad
            limit = self.settings.max_message_bytes
            ids = await self._run(
                request,
                lambda s, p: messaging.publish(
                    s, p, messages=messages, max_message_bytes=limit, **kw
                ),
            )
            return formats.publish_json(ids)
        elif action == "acl" and method == "GET":
            users = await self._run(request, lambda s, p: messaging.get_topic_acl(s, p, **kw))
            return {"authorized_users": users}
        elif action == "modifyAcl" and method == "POST":
            users = _acl_users(await _body(request))
            await self._run(
                request, lambda s, p: messaging.modify_topic_acl(s, p, users=users, **kw)
            )
            return EMPTY
        elif action == "metrics" and method == "GET":
            metrics = await self._run(request, lambda s, p: messaging.topic_metrics(s, p, **kw))
            return formats.topic_metrics_json(metrics, utcnow())
        raise AmsHttpError(404, "NOT_FOUND", "API call not found")

    async def topic_subscriptions(self, request: Request) -> Any:
        project = request.path_params["project"]
        topic = request.path_params["topic"]
        names = await self._run(
            request,
            lambda s, p: messaging.topic_subscriptions(s, p, project=project, topic=topic),
        )
        return {"subscriptions": names}

    # --- subscriptions -----------------------------------------------------------------

    async def subscriptions(self, request: Request) -> Any:
        project = request.path_params["project"]
        size, first, token = _paging(request)

        def work(session: Session, principal: Principal) -> KeysetPage[SubscriptionView]:
            def read(after: int | None) -> KeysetPage[SubscriptionView]:
                return messaging.list_subscriptions(
                    session, principal, project=project, first=first, after=after
                )

            return _read_page(read, token)

        page = await self._run(request, work)
        return formats.subscriptions_page_json(_ams_page(page, size))

    async def subscription(self, request: Request) -> Any:
        project = request.path_params["project"]
        sub, action = _split(request.path_params["subscription"])
        method = request.method
        kw = {"project": project, "subscription": sub}
        egress = self.egress
        if not action:
            if method == "PUT":
                body = await _body(request)
                topic = body.get("topic")
                if not isinstance(topic, str):
                    raise AmsHttpError(400, "INVALID_ARGUMENT", "Invalid Topic Name")
                deadline = _int_or_none(body.get("ackDeadlineSeconds"), "ackDeadlineSeconds")
                push = body.get("pushConfig")
                view = await self._run(
                    request,
                    lambda s, p: messaging.create_subscription(
                        s,
                        p,
                        topic=topic,
                        ack_deadline=deadline,
                        push_config=push if isinstance(push, dict) else None,
                        egress=egress,
                        **kw,
                    ),
                )
                return formats.subscription_json(view)
            if method == "GET":
                view = await self._run(request, lambda s, p: messaging.get_subscription(s, p, **kw))
                return formats.subscription_json(view)
            if method == "DELETE":
                await self._run(request, lambda s, p: messaging.delete_subscription(s, p, **kw))
                return EMPTY
        elif method == "POST" and action == "pull":
            return await self._pull(request, kw)
        elif method == "POST" and action == "acknowledge":
            ack_ids = (await _body(request)).get("ackIds")
            if not isinstance(ack_ids, list) or not ack_ids:
                raise AmsHttpError(400, "INVALID_ARGUMENT", "Invalid ack parameter")
            await self._run(
                request, lambda s, p: messaging.acknowledge(s, p, ack_ids=ack_ids, **kw)
            )
            return {}
        elif method == "POST" and action == "modifyAckDeadline":
            body = await _body(request)
            deadline = _int_or_none(body.get("ackDeadlineSeconds"), "ackDeadlineSeconds")
            if deadline is None:
                raise AmsHttpError(400, "INVALID_ARGUMENT", "Invalid ackDeadlineSeconds")
            await self._run(
                request,
                lambda s, p: messaging.modify_ack_deadline(s, p, ack_deadline=deadline, **kw),
            )
            return EMPTY
        elif method == "POST" and action == "modifyPushConfig":
            push = (await _body(request)).get("pushConfig")
            if push is not None and not isinstance(push, dict):
                raise AmsHttpError(400, "INVALID_ARGUMENT", "Invalid push configuration")
            await self._run(
                request,
                lambda s, p: messaging.modify_push_config(
                    s, p, push_config=push or None, egress=egress, **kw
                ),
            )
            return EMPTY
        elif method == "POST" and action == "verifyPushEndpoint":
            # the GET happens between two transactions: a slow endpoint holds no lock
            url = await self._run(request, lambda s, p: messaging.push_verification_url(s, p, **kw))
            answer = await anyio.to_thread.run_sync(lambda: _get_or_error(self.http_get, url))

            def replay(asked: str) -> tuple[int, str]:
                if asked != url:  # the endpoint changed meanwhile: fetch the new one
                    return self.http_get(asked)
                if isinstance(answer, Exception):
                    raise answer
                return answer

            view = await self._run(
                request, lambda s, p: messaging.verify_push_endpoint(s, p, fetch=replay, **kw)
            )
            return formats.subscription_json(view)
        elif method == "GET" and action == "offsets":
            offsets = await self._run(request, lambda s, p: messaging.offsets(s, p, **kw))
            return formats.offsets_json(offsets)
        elif method == "GET" and action == "timeToOffset":
            moment = request.query_params.get("time", "")
            offset = await self._run(
                request, lambda s, p: messaging.time_to_offset(s, p, time=moment, **kw)
            )
            return {"offset": offset}
        elif method == "POST" and action == "modifyOffset":
            offset = _int_or_none((await _body(request)).get("offset"), "offset")
            if offset is None:
                raise AmsHttpError(400, "INVALID_ARGUMENT", "Invalid offset")
            await self._run(
                request, lambda s, p: messaging.modify_offset(s, p, offset=offset, **kw)
            )
            return EMPTY
        elif method == "GET" and action == "acl":
            users = await self._run(
                request, lambda s, p: messaging.get_subscription_acl(s, p, **kw)
            )
            return {"authorized_users": users}
        elif method == "POST" and action == "modifyAcl":
            users = _acl_users(await _body(request))
            await self._run(
                request,
                lambda s, p: messaging.modify_subscription_acl(s, p, users=users, **kw),
            )
            return EMPTY
        elif method == "GET" and action == "metrics":
            metrics = await self._run(
                request, lambda s, p: messaging.subscription_metrics(s, p, **kw)
            )
            return formats.subscription_metrics_json(metrics, utcnow())
        raise AmsHttpError(404, "NOT_FOUND", "API call not found")

    async def _pull(self, request: Request, kw: dict[str, str]) -> Any:
        """AMS's options are strings: maxMessages (unparsable -> 1) and returnImmediately
        (only "false" turns it off). With nothing to deliver and returnImmediately off, wait
        up to OPSGRAPH_PULL_WAIT_MS for a publish, outside any transaction."""
        body = await _body(request)
        try:
            wanted = int(str(body.get("maxMessages", "1")))
        except ValueError:
            wanted = 1
        wanted = max(wanted, 1)
        wait = str(body.get("returnImmediately", "true")).lower() == "false"

        project, sub = kw["project"], kw["subscription"]

        def pull(session: Session, principal: Principal) -> list[Any]:
            return messaging.pull(
                session, principal, project=project, subscription=sub, max_messages=wanted
            )

        def topic_then_pull(session: Session, principal: Principal) -> tuple[Any, int | None, int]:
            # the wake-up token is taken before this pull, so a publish that commits after
            # it cannot be missed by the wait below
            view = messaging.get_subscription(session, principal, project=project, subscription=sub)
            since = notify.token(view.topic_id) if view.topic_id is not None else 0
            return pull(session, principal), view.topic_id, since

        messages = await self._run(request, pull)
        if not messages and wait and self.settings.pull_wait_ms:
            messages, topic_id, since = await self._run(request, topic_then_pull)
            seconds = self.settings.pull_wait_ms / 1000
            if (
                not messages
                and topic_id is not None
                and await notify.wait_for_messages_async(topic_id, seconds, since=since)
            ):
                messages = await self._run(request, pull)
        return formats.pull_json(messages)

    def routes(self) -> list[Route]:
        r = self.route
        base = "/v1/projects/{project}"
        return [
            Route("/v1/status", r(self.status), methods=["GET"]),
            Route("/v1/version", r(self.version), methods=["GET"]),
            Route("/v1/users/profile", r(self.profile), methods=["GET"]),
            Route(
                "/v1/service-types/{service_type}/hosts/{host}",
                r(self.authx509),
                methods=["GET"],
            ),
            Route("/v1/projects", r(self.projects), methods=["GET"]),
            Route(base, r(self.project), methods=["GET", "POST", "PUT", "DELETE"]),
            Route(f"{base}/members", r(self.members), methods=["GET"]),
            Route(f"{base}/members/{{user}}", r(self.member), methods=["GET", "POST", "PUT"]),
            Route(f"{base}/topics", r(self.topics), methods=["GET"]),
            Route(
                f"{base}/topics/{{topic}}/subscriptions",
                r(self.topic_subscriptions),
                methods=["GET"],
            ),
            Route(
                f"{base}/topics/{{topic}}", r(self.topic), methods=["GET", "PUT", "POST", "DELETE"]
            ),
            Route(f"{base}/subscriptions", r(self.subscriptions), methods=["GET"]),
            Route(
                f"{base}/subscriptions/{{subscription}}",
                r(self.subscription),
                methods=["GET", "PUT", "POST", "DELETE"],
            ),
        ]


def _paging(request: Request) -> tuple[int, int | None, str | None]:
    """AMS's pageSize and pageToken: (pageSize, how many to read, the token).

    AMS's token is the (base64) id of the next page's first item and pageSize 0 means
    everything; the service pages by `after` an id. So the token of id n asks for the
    ids after n - 1 (`_read_page`), and one item more than pageSize is read: it is the
    next page's first, whose id is the next token (`_ams_page`), exactly as AMS gives it."""
    raw = request.query_params.get("pageSize", "0") or "0"
    # AMS's page size is a 32-bit integer; 0 means all
    invalid = AmsHttpError(
        400, "INVALID_ARGUMENT", f"Invalid page size: an integer from 0 to {MAX_PAGE_SIZE}"
    )
    try:
        size = int(raw)
    except ValueError as exc:
        raise invalid from exc
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise invalid
    return size, (size + 1 if size else None), request.query_params.get("pageToken") or None


def _read_page(read: Callable[[int | None], KeysetPage[V]], token: str | None) -> KeysetPage[V]:
    """`read(after)` with the token's `after`. A token that is not one is bad input, said
    after what the service says first: who may not list is told so (the listing without
    the token authorizes), as when the service decoded tokens."""
    try:
        start = rules.decode_page_token(token)
    except AmsInvalid:
        read(None)
        raise
    return read(None if start is None else start - 1)


def _ams_page(page: KeysetPage[V], size: int) -> formats.AmsPage[V]:
    """The AMS page of a keyset page read with `_paging`'s request."""
    items = list(page.items)
    token = ""
    if size and len(items) > size:
        token = rules.encode_page_token(items[size].id)
        items = items[:size]
    return formats.AmsPage(items, token, page.total_count)


def _int_or_none(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise AmsHttpError(400, "INVALID_ARGUMENT", f"Invalid {field}")
    try:
        return int(value)
    except ValueError as exc:
        raise AmsHttpError(400, "INVALID_ARGUMENT", f"Invalid {field}") from exc


def _member_roles(body: dict[str, Any], project: str) -> list[str]:
    """`{"roles": [...]}` (`:add`), or the user object's entry for this project (AMS's
    create-member body: `{"projects": [{"project": P, "roles": [...]}]}`)."""
    roles = body.get("roles")
    if roles is None:
        for entry in body.get("projects") or ():
            if isinstance(entry, dict) and entry.get("project", project) == project:
                roles = entry.get("roles")
                break
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AmsHttpError(400, "INVALID_ARGUMENT", "invalid role(s)")
    return roles


def _acl_users(body: dict[str, Any]) -> list[str]:
    users = body.get("authorized_users")
    if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
        raise AmsHttpError(400, "INVALID_ARGUMENT", "Invalid ACL Arguments")
    return users


def _get_or_error(get: HttpGet, url: str) -> tuple[int, str] | Exception:
    """The verification GET; a failure is kept, to be raised where the service expects it."""
    try:
        return get(url)
    except Exception as exc:  # whatever the HTTP client raises: the service says unverified
        return exc
