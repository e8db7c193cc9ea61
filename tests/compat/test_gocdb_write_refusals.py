"""GOCDB's write API, what it refuses, with GOCDB's codes and error object, writing
nothing: methods, paths, bodies, properties it does not write, unknown ids, and callers
without a writing credential of the target's site."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.errors import RateLimited, Unauthenticated
from domains.common.identity import ANONYMOUS
from domains.topology.service.writes import api
from gateway.compat.gocdbpi import write
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.compat.gocdb_write import (
    NOBODY,
    OUTSIDER,
    READER,
    V5,
    WRITER,
    WriteApi,
    error_of,
)
from tests.conftest import AppFactory
from tests.refusals import writes_nothing


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


def _refused(
    api: WriteApi, session: Session, code: int, method: str, path: str, body: Any = None, **kw: Any
) -> str:
    with writes_nothing(session):
        return error_of(api.call(method, path, body, **kw), code)


def test_get_and_other_methods_are_405(write_api: WriteApi, session: Session) -> None:
    path = f"{V5}/Site/{write_api.site_id}/ExtensionProperties"
    assert "GET" in _refused(write_api, session, 405, "GET", path)
    assert "PATCH" in _refused(write_api, session, 405, "PATCH", path, {"a": "b"})


@pytest.mark.parametrize(
    "path",
    [
        "/gocdbpi/v4/Site/1/ExtensionProperties",  # only v5
        "/gocdbpi/v5/Site/1",  # too few elements
        "/gocdbpi/v5/Site/1/ExtensionProperties/a/b",  # too many
        "/gocdbpi/v5/Site/one/ExtensionProperties",  # not an integer
        "/gocdbpi/v5/Site/1.5/ExtensionProperties",
    ],
)
def test_malformed_paths_are_400(write_api: WriteApi, session: Session, path: str) -> None:
    _refused(write_api, session, 400, "PUT", path, {"a": "b"})


@pytest.mark.parametrize("path", ["/gocdbpi/x", "/gocdbpi/public/x", "/gocdbpi/Site/1/a/b"])
def test_paths_without_a_version_are_not_the_write_apis(
    write_api: WriteApi, session: Session, path: str
) -> None:
    """GOCDB's write API lives under /gocdbpi/v<n>/; anything else under /gocdbpi is the
    server's 404, for every method (the web app's fallback never answers there either)."""
    with writes_nothing(session):
        for method in ("GET", "POST", "PUT", "DELETE"):
            response = write_api.call(method, path, {"a": "b"})
            assert (response.status_code, response.text) == (404, "Not Found")


def test_the_version_is_case_insensitive_and_trailing_slashes_ignored(
    write_api: WriteApi,
) -> None:
    path = f"/gocdbpi/V5/site/{write_api.site_id}/extensionproperties/"
    assert write_api.call("PUT", path, {"api.case": "x"}).status_code == 204


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"a": {"nested": {"too": "deep"}}}',
        b'["a", "list"]',
        b'"a string"',
        b"\xff\xfe",
        b'{"a": "nul\\u0000"}',
    ],
)
def test_bad_bodies_are_400(write_api: WriteApi, session: Session, raw: bytes) -> None:
    path = f"{V5}/Site/{write_api.site_id}/ExtensionProperties"
    _refused(write_api, session, 400, "PUT", path, raw=raw)


@pytest.mark.parametrize(
    "body",
    [
        None,  # POST and PUT need a value
        {"value": None},
        {"value": "a.b.org", "other": 1},
        {"val": "a.b.org"},
    ],
)
def test_a_single_value_is_value_alone(write_api: WriteApi, session: Session, body: Any) -> None:
    _refused(write_api, session, 400, "PUT", f"{V5}/Service/{write_api.service_id}/hostname", body)


def test_a_key_only_for_extension_properties(write_api: WriteApi, session: Session) -> None:
    path = f"{V5}/Service/{write_api.service_id}/hostname/key"
    _refused(write_api, session, 400, "PUT", path, {"value": "a.b.org"})


def test_a_body_too_large_is_413(write_api: WriteApi, session: Session) -> None:
    path = f"{V5}/Site/{write_api.site_id}/ExtensionProperties"
    _refused(write_api, session, 413, "PUT", path, raw=b'{"k": "' + b"v" * 5_000_000 + b'"}')


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("Site/{site}/name", {"value": "x"}, 400),  # a field GOCDB's schema does not have
        ("Site/{site}/short_name", {"value": "X"}, 501),  # a field the API does not write
        ("Site/{site}/Endpoint", {"value": "x"}, 400),
        ("Service/{service}/scopes", {"value": "x"}, 400),
        ("Endpoint/{endpoint}/endpointid", {"value": "1"}, 501),
        ("NGI/1/name", {"value": "x"}, 501),  # an entity the API does not write
        ("Downtime/1/severity", {"value": "OUTAGE"}, 501),
        ("Project/1/ExtensionProperties", {"k": "v"}, 400),
        ("ServiceGroup/1/ExtensionProperties", {"k": "v"}, 501),
        ("Nothing/1/name", {"value": "x"}, 400),
    ],
)
def test_what_the_api_does_not_write(
    write_api: WriteApi, session: Session, path: str, body: Any, code: int
) -> None:
    full = (
        V5
        + "/"
        + path.format(
            site=write_api.site_id, service=write_api.service_id, endpoint=write_api.endpoint_id
        )
    )
    _refused(write_api, session, code, "PUT", full, body)


@pytest.mark.parametrize("entity", ["Site", "Service", "Endpoint"])
def test_an_unknown_id_is_404(write_api: WriteApi, session: Session, entity: str) -> None:
    message = _refused(
        write_api, session, 404, "PUT", f"{V5}/{entity}/999999/ExtensionProperties", {"k": "v"}
    )
    assert "could not be found" in message


TARGETS = ["Site/{site}", "Service/{service}", "Endpoint/{endpoint}"]
# the REST write routes these access cases cover (tests/test_permissions.py)
ROUTE = "/gocdbpi/{rest:path}"
METHODS = ("POST", "PUT", "DELETE")
ROUTES = frozenset((method, ROUTE) for method in METHODS)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    ("who", "words"),
    [
        (None, "authenticated"),  # anonymous
        (NOBODY, "not authorised"),  # registered nowhere
        (READER, "not authorised"),  # registered, without allowAPIWrite
        (OUTSIDER, "not authorised"),  # allowed to write, at another site
    ],
)
def test_without_a_writing_credential_of_the_site_is_403(
    write_api: WriteApi, session: Session, target: str, who: str | None, words: str, method: str
) -> None:
    path = (
        V5
        + "/"
        + target.format(
            site=write_api.site_id, service=write_api.service_id, endpoint=write_api.endpoint_id
        )
    )
    message = _refused(
        write_api, session, 403, method, f"{path}/ExtensionProperties", {"k": "v"}, who=who
    )
    assert words in message
    if who is not None:
        assert write_api.site_name in message
        assert who in message


def test_a_refused_token_is_403(write_api: WriteApi, session: Session) -> None:
    with writes_nothing(session):
        response = write_api.client.request(
            "PUT",
            f"{V5}/Site/{write_api.site_id}/ExtensionProperties",
            content=b'{"k": "v"}',
            headers={"authorization": "Bearer not-a-token"},
        )
        error_of(response, 403)


def test_a_platform_admin_needs_a_credential_too(write_api: WriteApi, session: Session) -> None:
    admin = write_api.issuer.issue_access_token(
        {
            "sub": "admin@egi.eu",
            "voperson_id": "admin@egi.eu",
            "eduperson_entitlement": ["urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu"],
        }
    )
    write_api.tokens["admin@egi.eu"] = admin
    _refused(
        write_api,
        session,
        403,
        "PUT",
        f"{V5}/Site/{write_api.site_id}/ExtensionProperties",
        {"k": "v"},
        who="admin@egi.eu",
    )


def test_an_endpoint_body_names_endpoint_fields(write_api: WriteApi, session: Session) -> None:
    path = f"{V5}/Service/{write_api.service_id}/Endpoint"
    _refused(
        write_api, session, 400, "POST", path, {"name": "e", "url": "https://e.org", "service": "x"}
    )
    _refused(write_api, session, 400, "DELETE", path, {"name": "e"})  # DELETE takes the id
    _refused(write_api, session, 400, "PUT", path, {"name": "e", "monitored": 2.5})


def test_a_write_past_the_request_timeout_is_503(
    make_client: AppFactory, oidc_issuer: OIDCIssuer, write_api: WriteApi, session: Session
) -> None:
    slow = make_client(
        request_timeout=1e-9,
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
    ).client
    with writes_nothing(session):
        response = slow.request(
            "PUT",
            f"{V5}/Site/{write_api.site_id}/ExtensionProperties",
            content=b'{"k": "v"}',
            headers={"authorization": f"Bearer {write_api.token(WRITER)}"},
        )
        error_of(response, 503)


def test_an_unexpected_refusal_is_500() -> None:
    error = write.refusal(RateLimited("slow down"))
    assert (error.code, error.body()["Error"]["Code"]) == (500, 500)
    assert "Internal error" in error.message


def test_the_service_layer_refuses_the_anonymous_caller_itself(session: Session) -> None:
    site_id = session.execute(text("SELECT min(id) FROM site")).scalar_one()
    with pytest.raises(Unauthenticated):
        api.api_target(session, ANONYMOUS, "site", site_id)


def test_without_restricted_personal_data_any_credential_of_the_site_writes(
    make_client: AppFactory, oidc_issuer: OIDCIssuer, write_api: WriteApi, session: Session
) -> None:
    """GOCDB's legacy rule (restrict_personal_data off): a registered credential writes
    whatever its allowAPIWrite; an unregistered caller still may not."""
    legacy = make_client(
        restrict_personal_data=False,
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
    ).client
    path = f"{V5}/Site/{write_api.site_id}/ExtensionProperties/api.legacy"

    def put(who: str) -> int:
        headers = {"authorization": f"Bearer {write_api.token(who)}"}
        response = legacy.request("PUT", path, content=b'{"value": "v"}', headers=headers)
        return response.status_code

    with writes_nothing(session):
        assert put(NOBODY) == 403
    assert put(READER) == 204
