"""Who calls the ARGO routes: the `x-api-key` header carries one of opsgraph's own API
tokens (the ones `createApiToken` and `opsgraph messaging issue-token` issue, as the AMS
routes take them), mapped to its user's principal by the gateway's authenticator; a bearer
token or a client certificate works too. ARGO reads the key from the header only, so no
`?key=` here (a secret in a URL ends up in logs).

Reads are public (EGI's results are): no key is the anonymous caller. A key that is not
valid is ARGO's 401, never downgraded to anonymous. A write without any credential is
ARGO's 401 before anything else is looked at; who may write is the service's decision
(platform administrators), its refusal ARGO's 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request

from domains.common.db import unit_of_work
from domains.common.identity import Principal
from gateway import deadlines
from gateway.auth.authenticator import Credentials
from gateway.compat.argo.envelope import unauthorized
from gateway.rest import RestApi

T = TypeVar("T")
Work = Callable[[Session, Principal], T]


def _presented(credentials: Credentials) -> bool:
    return (
        credentials.api_key is not None
        or credentials.claims is not None
        or credentials.client_dn is not None
    )


class Callers(RestApi):
    async def credentials(self, request: Request, *, write: bool) -> Credentials:
        """What the caller presented; ARGO's 401 for refused credentials (an empty key, a
        bad bearer token) and, for a write, for none at all."""
        credentials = await self.authenticator.credentials(request)
        if credentials.refused is not None:
            raise unauthorized()
        if write and not _presented(credentials):
            raise unauthorized()
        return credentials

    async def run(self, credentials: Credentials, work: Work[Any], *, write: bool) -> Any:
        """`work(session, principal)` in one transaction off the event loop: a reader's for
        a GET, a writer's otherwise. An API token that is not valid raises Unauthenticated
        (the caller's handler answers ARGO's 401)."""

        def run() -> Any:
            with unit_of_work(self.session_factory, write=write) as session:
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
