"""What the tests of GOCDB's write API share: an app trusting the test OIDC issuer, a
site with services and endpoints, and callers registered as the site's API credentials
(or not), each with a token."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.identity.models import User
from domains.topology.models import CredentialKind
from domains.topology.service.credentials import add_site_credential
from tests.auth.issuer import OIDCIssuer

V5 = "/gocdbpi/v5"
WRITER = "writer@egi.eu"  # registered at the site, allowed to write
READER = "reader@egi.eu"  # registered at the site, not allowed to write
OUTSIDER = "outsider@egi.eu"  # registered, allowed to write, at another site
NOBODY = "nobody@egi.eu"  # registered nowhere


@dataclass
class WriteApi:
    client: Any  # starlette's TestClient
    issuer: OIDCIssuer
    site_id: int
    site_name: str
    other_site_id: int
    service_id: int  # a production, monitored service of the site, with endpoints
    endpoint_id: int  # an endpoint of that service
    other_endpoint_id: int  # an endpoint of another service
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, subject: str) -> str:
        if subject not in self.tokens:
            self.tokens[subject] = self.issuer.issue_access_token(
                {"sub": subject, "voperson_id": subject, "name": subject, "email": subject}
            )
        return self.tokens[subject]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        who: str | None = WRITER,
        raw: bytes | None = None,
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.token(who)}"} if who else {}
        content = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        response: httpx.Response = self.client.request(
            method, path, content=content, headers=headers
        )
        return response


def error_of(response: httpx.Response, code: int) -> str:
    """The message of GOCDB's error object, once the response is that error."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["Error"]
    assert error["Code"] == code
    assert error["API-Documentation"].startswith("https://")
    message: str = error["Message"]
    return message


def properties(session: Session, table: str, fk: str, owner_id: int) -> dict[str, str]:
    session.expire_all()
    rows = session.execute(
        text(f"SELECT key, value FROM {table} WHERE {fk} = :o"),
        {"o": owner_id},
    ).all()
    return {row.key: row.value for row in rows}


def _user_id(session: Session) -> int:
    """A user to own the credentials (the demo federation has none)."""
    owner = session.execute(select(User).where(col(User.subject) == "owner@egi.eu")).scalar()
    if owner is None:
        owner = User(subject="owner@egi.eu", name="Owner", email="owner@egi.eu")
        session.add(owner)
        session.flush()
    return pk(owner)


def register(
    session: Session, site_id: int, identifier: str, *, allow_write: bool, x509: bool = False
) -> None:
    add_site_credential(
        session,
        PLATFORM,
        site_id=site_id,
        identifier=identifier,
        kind=CredentialKind.X509 if x509 else CredentialKind.OIDC_SUBJECT,
        allow_write=allow_write,
        owner_id=_user_id(session),
    )
