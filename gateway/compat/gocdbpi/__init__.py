"""GOCDB's programmatic interface (PI) read methods over topology's (and the other
domains') service functions: `/gocdbpi/public/?method=NAME&...` and
`/gocdbpi/private/?method=NAME&...` (the private one refuses anonymous callers, as GOCDB's
needs a client certificate), answering GOCDB's XML; and GOCDB's REST write API,
`/gocdbpi/v5/…` (`write`).

A call goes: unknown method -> GOCDB's `Unable to find method: NAME`; the interface and
the method's protection level (access.py, decided in domains.topology.service.pi) ->
GOCDB's refusal; the parameters
(params.check: unknown names, forbidden characters) and, for a paged method, its cursors
(paging.from_params) -> GOCDB's `<error>`; then the method's handler, in one read-only
transaction. GOCDB answers its refusals and errors with HTTP 200 and a line of text; so
does this.

To add a method:
1. in the module of its area (`sites.py`, `ngis.py`, `services.py`, `groups.py`,
   `users.py`, `certification.py`, `downtimes.py`), write `handler(call: Call) -> bytes`:
   read through domain service functions (filters from `call.params`: `.get(name)`,
   `.scopes()`, `.extensions()`; `call.page.request()` as the page; instance defaults in
   `call.instance`), build the answer with `xml.results()` / `Element.add`, `.add_if`,
   `.set`, call `call.page.meta(root, ids)` if it pages, and `return root.render()`;
2. add `Method(name, PiLevel.X, frozenset({...params}), paged=..., handler=...)` to that
   module's `METHODS` tuple;
3. a new module: one line in `METHODS` below.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from domains.common.db import unit_of_work
from domains.common.deadline import RequestTimeout
from domains.common.errors import DomainError, Unauthenticated
from domains.common.text import check_storable
from domains.topology.service import pi
from domains.topology.service.pi import PiLevel
from gateway import deadlines
from gateway.auth.authenticator import Authenticator
from gateway.compat.gocdbpi import (
    certification,
    downtimes,
    groups,
    ngis,
    services,
    sites,
    users,
)
from gateway.compat.gocdbpi.access import PRIVATE_REFUSED, PrivateRefused, check_access
from gateway.compat.gocdbpi.paging import Paging, from_params
from gateway.compat.gocdbpi.params import PiError, check, error
from gateway.compat.gocdbpi.registry import Call, Instance, Method, collect
from gateway.compat.gocdbpi.write import WriteApi
from gateway.config import Settings

METHODS: dict[str, Method] = collect(
    sites.METHODS,
    ngis.METHODS,
    services.METHODS,
    groups.METHODS,
    users.METHODS,
    certification.METHODS,
    downtimes.METHODS,
)

XML_TYPE = "application/xml"  # GOCDB's header, for its errors too


def _answer(body: bytes | str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=XML_TYPE)


class GocdbPi:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        authenticator: Authenticator,
        methods: dict[str, Method] | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.authenticator = authenticator
        self.methods = METHODS if methods is None else methods

    def routes(self) -> list[BaseRoute]:
        """The read methods' routes, then the write API's (`write`), which take every
        other path under /gocdbpi."""
        public = self._endpoint(private=False)
        private = self._endpoint(private=True)
        writes = WriteApi(self.settings, self.session_factory, self.authenticator)
        return [
            Route("/gocdbpi/public/", public, methods=["GET"]),
            Route("/gocdbpi/public", public, methods=["GET"]),
            Route("/gocdbpi/private/", private, methods=["GET"]),
            Route("/gocdbpi/private", private, methods=["GET"]),
            *writes.routes(),
        ]

    def _endpoint(self, *, private: bool) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return _answer(await self._call(request, private=private))
            except PiError as refused:
                return _answer(refused.body)
            except PrivateRefused:
                return _answer(PRIVATE_REFUSED, 403)
            except Unauthenticated as refused:  # credentials sent but not valid
                return _answer(refused.message, 401)
            except RequestTimeout as error_:  # OPSGRAPH_REQUEST_TIMEOUT; rolled back
                return _answer(error_.message, 503)
            except DomainError as error_:  # bad input the domain found: never a 500
                return _answer(error(error_.message).body)

        return endpoint

    async def _call(self, request: Request, *, private: bool) -> bytes:
        query = request.query_params.multi_items()
        check_storable(query)
        name = request.query_params.get("method") or ""
        method = self.methods.get(name)
        if method is None:
            raise PiError(f"Unable to find method: {name}")
        credentials = await self.authenticator.credentials(request)
        instance = Instance(
            scope_defaults=self.settings.scope_defaults,
            restrict_personal_data=self.settings.restrict_personal_data,
            base_url=self.settings.public_url or f"{request.url.scheme}://{request.url.netloc}",
        )
        link_url = f"{instance.base_url}{request.url.path}"

        def run() -> tuple[bytes, list[int]]:
            with unit_of_work(self.session_factory, write=False) as session:
                deadlines.limit(session, deadlines.start(self.settings.request_timeout))
                principal = self.authenticator.principal_for_reading(
                    session, self.session_factory, credentials
                )
                check_access(
                    session,
                    principal,
                    method.level,
                    private=private,
                    restrict_personal_data=self.settings.restrict_personal_data,
                )
                params = check(query, method.allowed)
                page = (
                    from_params(params, url=link_url, query=query, raw_query=request.url.query)
                    if method.paged
                    else Paging()
                )
                answer = method.handler(Call(session, principal, params, page, instance))
                used = (
                    pi.used_credentials(session, principal)
                    if method.level is PiLevel.PERSONAL_DATA and not principal.is_anonymous
                    else []
                )
                return answer, used

        def note_use(used: list[int]) -> None:
            with unit_of_work(self.session_factory, write=True) as session:
                pi.note_credentials_used(session, used)

        answer, used = await anyio.to_thread.run_sync(run)
        if used:  # as GOCDB, a level 3 call is a use of the caller's site API credentials
            await anyio.to_thread.run_sync(note_use, used)
        return answer
