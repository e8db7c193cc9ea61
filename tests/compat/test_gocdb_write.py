"""GOCDB's write API, what it writes: site, service and endpoint extension properties (bulk
and by key; POST, PUT, DELETE), a service's scalar fields and endpoints, an endpoint's
fields; each call one transaction, audited as the credential, its use noted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.compat.gocdb_write import (
    V5,
    WRITER,
    WriteApi,
    error_of,
    properties,
)
from tests.refusals import writes_nothing


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


def _row(session: Session, table: str, row_id: int) -> Any:
    session.expire_all()
    return session.execute(text(f"SELECT * FROM {table} WHERE id = :i"), {"i": row_id}).one()


def _refused(
    api: WriteApi, session: Session, code: int, method: str, path: str, body: Any = None, **kw: Any
) -> str:
    with writes_nothing(session):
        return error_of(api.call(method, path, body, **kw), code)


# --- extension properties ----------------------------------------------------------------

OWNERS = [
    ("Site", "site_property", "site_id", "site_id"),
    ("Service", "service_property", "service_id", "service_id"),
    ("Endpoint", "endpoint_property", "endpoint_id", "endpoint_id"),
]


@pytest.mark.parametrize(("entity", "table", "fk", "attr"), OWNERS, ids=[o[0] for o in OWNERS])
def test_extension_properties_in_bulk(
    write_api: WriteApi, session: Session, entity: str, table: str, fk: str, attr: str
) -> None:
    owner = getattr(write_api, attr)
    path = f"{V5}/{entity}/{owner}/ExtensionProperties"
    start = properties(session, table, fk, owner)
    assert write_api.call("POST", path, {"api.a": "1", "api.b": "two words"}).status_code == 204
    assert properties(session, table, fk, owner) == {**start, "api.a": "1", "api.b": "two words"}
    # POST fails on a key already set, and adds none of the others
    message = _refused(write_api, session, 409, "POST", path, {"api.c": "3", "api.a": "x"})
    assert '"api.a" already exists' in message
    # PUT overwrites and adds
    assert write_api.call("PUT", path, {"api.a": "one", "api.c": 3}).status_code == 204
    assert properties(session, table, fk, owner) == {
        **start,
        "api.a": "one",
        "api.b": "two words",
        "api.c": "3",
    }
    # DELETE of a list: each must exist, a value given must match
    _refused(write_api, session, 404, "DELETE", path, {"api.a": "", "api.zz": ""})
    _refused(write_api, session, 409, "DELETE", path, {"api.a": "wrong"})
    assert write_api.call("DELETE", path, {"api.a": "one", "api.b": ""}).status_code == 204
    assert properties(session, table, fk, owner) == {**start, "api.c": "3"}
    # DELETE without a body: all of them
    assert write_api.call("DELETE", path).status_code == 204
    assert properties(session, table, fk, owner) == {}


@pytest.mark.parametrize(("entity", "table", "fk", "attr"), OWNERS, ids=[o[0] for o in OWNERS])
def test_one_extension_property_by_key(
    write_api: WriteApi, session: Session, entity: str, table: str, fk: str, attr: str
) -> None:
    owner = getattr(write_api, attr)
    path = f"{V5}/{entity}/{owner}/ExtensionProperties/api.key"
    assert write_api.call("POST", path, {"value": "v1"}).status_code == 204
    assert properties(session, table, fk, owner)["api.key"] == "v1"
    _refused(write_api, session, 409, "POST", path, {"value": "v2"})
    assert write_api.call("PUT", path, {"value": "v2"}).status_code == 204
    assert properties(session, table, fk, owner)["api.key"] == "v2"
    _refused(write_api, session, 409, "DELETE", path, {"value": "v1"})
    assert write_api.call("DELETE", path, {"value": "v2"}).status_code == 204
    assert "api.key" not in properties(session, table, fk, owner)
    _refused(write_api, session, 404, "DELETE", path)
    assert write_api.call("PUT", path, {"value": "v3"}).status_code == 204
    assert write_api.call("DELETE", path).status_code == 204
    assert "api.key" not in properties(session, table, fk, owner)


def test_the_property_limit_and_formats(write_api: WriteApi, session: Session) -> None:
    site = write_api.site_id
    path = f"{V5}/Site/{site}/ExtensionProperties"
    assert write_api.call("DELETE", path).status_code == 204
    assert write_api.call("POST", path, {f"k{i}": "v" for i in range(20)}).status_code == 204
    assert "limit of 20" in _refused(write_api, session, 409, "POST", path, {"k20": "v"})
    assert "limit of 20" in _refused(write_api, session, 409, "PUT", f"{path}/k21", {"value": "v"})
    assert write_api.call("PUT", path, {"k0": "w"}).status_code == 204  # overwriting is no more
    assert write_api.call("DELETE", path).status_code == 204
    _refused(write_api, session, 400, "POST", path, {"bad key=": "v"})
    _refused(write_api, session, 400, "POST", path, {"k": " padded "})
    _refused(write_api, session, 400, "POST", path, {"k": "quo'te"})
    _refused(write_api, session, 400, "POST", path, {"k": "v" * 256})
    _refused(write_api, session, 400, "POST", path, {"k" * 256: "v"})
    _refused(write_api, session, 400, "POST", path, {"k": None})
    _refused(write_api, session, 400, "POST", path, {"inner space": "v"})  # ours: no spaces


# --- service fields ----------------------------------------------------------------------

BOOLEANS = ("production", "beta", "monitored", "notify")
SERVICE_VALUES = [
    ("hostname", "host_name", "api-host.example.org", "api-host.example.org"),
    ("description", "description", "Written through the API", "Written through the API"),
    ("production", "production", False, False),
    ("beta", "beta", "true", True),
    ("monitored", "monitored", True, True),
    ("notify", "notify", 1, True),
    ("host_dn", "host_dn", "/DC=org/DC=example/CN=api-host.example.org", None),
    ("host_ip", "ipv4_address", "192.0.2.7", None),
    ("host_ip_v6", "ipv6_address", "2001:db8::7", None),
    ("host_os", "operating_system", "Linux (EL9)", None),
    ("host_arch", "architecture", "x86_64", None),
    ("url", "url", "https://api-host.example.org:8443/path?x=1", None),
    ("email", "email", "ops@example.org", None),
]


@pytest.mark.parametrize(
    ("prop", "column", "value", "_"), SERVICE_VALUES, ids=[v[0] for v in SERVICE_VALUES]
)
def test_put_sets_each_service_field(
    write_api: WriteApi, session: Session, prop: str, column: str, value: Any, _: Any
) -> None:
    path = f"{V5}/Service/{write_api.service_id}/{prop.upper() if prop == 'url' else prop}"
    assert write_api.call("PUT", path, {"value": value}).status_code == 204
    stored = getattr(_row(session, "service", write_api.service_id), column)
    expected = {"true": True, 1: True}.get(value, value) if column in BOOLEANS else value
    assert stored == expected


def test_post_sets_a_service_field_only_while_unset(write_api: WriteApi, session: Session) -> None:
    service = write_api.service_id
    path = f"{V5}/Service/{service}/host_os"
    assert write_api.call("PUT", path, {"value": ""}).status_code == 204  # emptied: unset
    assert _row(session, "service", service).operating_system is None
    assert write_api.call("POST", path, {"value": "Linux"}).status_code == 204
    assert _row(session, "service", service).operating_system == "Linux"
    assert "already been set" in _refused(write_api, session, 409, "POST", path, {"value": "BSD"})
    _refused(
        write_api, session, 409, "POST", f"{V5}/Service/{service}/hostname", {"value": "a.b.org"}
    )
    for boolean in ("production", "beta", "monitored", "notify"):
        message = _refused(
            write_api, session, 405, "POST", f"{V5}/Service/{service}/{boolean}", {"value": True}
        )
        assert "boolean" in message
    # DELETE removes no field: without a body GOCDB asks for a value, with one the method
    _refused(write_api, session, 400, "DELETE", path)
    _refused(write_api, session, 405, "DELETE", path, {"value": "Linux"})


def test_production_services_stay_monitored(write_api: WriteApi, session: Session) -> None:
    service = write_api.service_id
    message = _refused(
        write_api, session, 403, "PUT", f"{V5}/Service/{service}/monitored", {"value": False}
    )
    assert "Monitored" in message or "monitored" in message
    # not in production first, then unmonitored: allowed
    assert (
        write_api.call("PUT", f"{V5}/Service/{service}/production", {"value": "false"}).status_code
        == 204
    )
    assert (
        write_api.call("PUT", f"{V5}/Service/{service}/monitored", {"value": "false"}).status_code
        == 204
    )
    _refused(write_api, session, 403, "PUT", f"{V5}/Service/{service}/production", {"value": True})


def test_service_field_formats(write_api: WriteApi, session: Session) -> None:
    service = write_api.service_id
    for prop, value in [
        ("hostname", "not a host"),
        ("host_ip", "300.1"),
        ("host_dn", "CN=no slash"),
        ("email", "not-an-address"),
        ("description", "semi;colon"),
        ("production", "maybe"),
        ("url", "https://bad url"),
        ("host_os", ["a list"]),
    ]:
        _refused(write_api, session, 400, "PUT", f"{V5}/Service/{service}/{prop}", {"value": value})


# --- a service's endpoints ---------------------------------------------------------------


def _endpoints(session: Session, service_id: int) -> dict[str, Any]:
    session.expire_all()
    rows = session.execute(
        text("SELECT * FROM endpoint WHERE service_id = :s"), {"s": service_id}
    ).all()
    return {row.name: row for row in rows}


def test_service_endpoints(write_api: WriteApi, session: Session) -> None:
    service = write_api.service_id
    path = f"{V5}/Service/{service}/Endpoint"
    type_name, monitored = session.execute(
        text(
            "SELECT t.name, v.monitored FROM service v JOIN service_type t "
            "ON t.id = v.service_type_id WHERE v.id = :s"
        ),
        {"s": service},
    ).one()
    created = {"name": "api-ep", "url": "https://api-ep.example.org/x", "description": "d"}
    assert write_api.call("POST", path, created).status_code == 204
    endpoint = _endpoints(session, service)["api-ep"]
    assert (endpoint.url, endpoint.interface_name, endpoint.monitored) == (
        "https://api-ep.example.org/x",
        type_name,
        monitored,
    )
    assert "unique name" in _refused(write_api, session, 409, "POST", path, created)
    # PUT updates the endpoint of that name, or creates one (which then needs a url)
    update = {
        "name": "api-ep",
        "url": "https://api-ep.example.org/y",
        "interfaceName": "org.x",
        "monitored": False,
        "email": "ep@example.org",
    }
    assert write_api.call("PUT", path, update).status_code == 204
    endpoint = _endpoints(session, service)["api-ep"]
    assert (endpoint.url, endpoint.interface_name, endpoint.monitored, endpoint.email) == (
        "https://api-ep.example.org/y",
        "org.x",
        False,
        "ep@example.org",
    )
    assert write_api.call("PUT", path, {"name": "api-ep", "interfaceName": ""}).status_code == 204
    assert _endpoints(session, service)["api-ep"].interface_name == type_name
    _refused(write_api, session, 400, "PUT", path, {"name": "api-ep2"})
    _refused(write_api, session, 400, "POST", path, {"url": "https://x.example.org"})
    _refused(write_api, session, 400, "POST", path, {"name": "e", "colour": "red"})
    assert (
        write_api.call("PUT", path, {"name": "api-ep2", "url": "https://z.example.org"}).status_code
        == 204
    )
    assert {"api-ep", "api-ep2"} <= _endpoints(session, service).keys()
    # DELETE by id, of this service's endpoints only
    gone = _endpoints(session, service)["api-ep2"].id
    assert write_api.call("DELETE", f"{path}/{gone}").status_code == 204
    assert "api-ep2" not in _endpoints(session, service)
    _refused(write_api, session, 404, "DELETE", f"{path}/{gone}")
    _refused(write_api, session, 400, "DELETE", f"{path}/{write_api.other_endpoint_id}")
    _refused(write_api, session, 400, "DELETE", f"{path}/first")
    _refused(write_api, session, 400, "DELETE", path)
    _refused(write_api, session, 400, "DELETE", f"{path}/{gone}", {"value": "x"})


# --- endpoint fields ---------------------------------------------------------------------

ENDPOINT_VALUES = [
    ("name", "name", "renamed endpoint"),
    ("url", "url", "https://renamed.example.org/e"),
    ("interfacename", "interface_name", "org.example.Interface"),
    ("description", "description", "described"),
    ("email", "email", "ep@example.org"),
    ("monitored", "monitored", False),
]


@pytest.mark.parametrize(
    ("prop", "column", "value"), ENDPOINT_VALUES, ids=[v[0] for v in ENDPOINT_VALUES]
)
def test_put_sets_each_endpoint_field(
    write_api: WriteApi, session: Session, prop: str, column: str, value: Any
) -> None:
    path = f"{V5}/Endpoint/{write_api.endpoint_id}/{prop}"
    assert write_api.call("PUT", path, {"value": value}).status_code == 204
    assert getattr(_row(session, "endpoint", write_api.endpoint_id), column) == value


def test_endpoint_field_rules(write_api: WriteApi, session: Session) -> None:
    endpoint = write_api.endpoint_id
    row = _row(session, "endpoint", endpoint)
    base = f"{V5}/Endpoint/{endpoint}"
    _refused(write_api, session, 405, "POST", f"{base}/monitored", {"value": True})
    _refused(write_api, session, 409, "POST", f"{base}/name", {"value": "another"})
    assert write_api.call("PUT", f"{base}/email", {"value": ""}).status_code == 204
    assert write_api.call("POST", f"{base}/email", {"value": "e@example.org"}).status_code == 204
    _refused(write_api, session, 409, "POST", f"{base}/email", {"value": "f@example.org"})
    # an empty interface name is the service type's
    assert write_api.call("PUT", f"{base}/interfacename", {"value": ""}).status_code == 204
    type_name = session.execute(
        text(
            "SELECT t.name FROM service v JOIN service_type t ON t.id = v.service_type_id "
            "WHERE v.id = :s"
        ),
        {"s": row.service_id},
    ).scalar_one()
    assert _row(session, "endpoint", endpoint).interface_name == type_name
    # names stay unique within the service
    assert (
        write_api.call(
            "POST",
            f"{V5}/Service/{row.service_id}/Endpoint",
            {"name": "twin", "url": "https://twin.example.org"},
        ).status_code
        == 204
    )
    _refused(write_api, session, 409, "PUT", f"{base}/name", {"value": "twin"})
    assert write_api.call("PUT", f"{base}/name", {"value": row.name}).status_code == 204


# --- one transaction, audited as the credential ------------------------------------------


def test_a_write_is_audited_as_the_credential_and_notes_its_use(
    write_api: WriteApi, session: Session
) -> None:
    path = f"{V5}/Site/{write_api.site_id}/ExtensionProperties/api.audited"
    assert write_api.call("PUT", path, {"value": "yes"}).status_code == 204
    session.expire_all()
    entry = session.execute(
        text(
            "SELECT actor, action, entity_type, entity_id FROM audit_entry ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert tuple(entry) == (WRITER, "site.set_property", "site", write_api.site_id)
    used = session.execute(
        text("SELECT last_used_at FROM site_api_credential WHERE identifier = :i"), {"i": WRITER}
    ).scalar_one()
    assert used is not None
