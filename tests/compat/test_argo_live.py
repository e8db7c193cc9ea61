"""The ARGO web API on a real `opsgraph serve --demo` process (the one demo server the
session shares): the bytes an ARGO client reads over HTTP."""

from __future__ import annotations

import json

import httpx2 as httpx

from tests.compat.argo import SEED

JSON = {"accept": "application/json"}


def test_argo_routes_over_http(demo_server: str) -> None:
    base = f"{demo_server}/api/v2"
    version = httpx.get(f"{base}/version", headers=JSON, timeout=60)
    assert version.status_code == 200
    assert version.headers["content-type"] == "application/json; charset=utf-8"
    assert version.json()["implementation"] == "opsgraph"

    refused = httpx.get(f"{base}/version", headers={"accept": "application/xml"}, timeout=60)
    assert refused.status_code == 406
    assert refused.json()["status"]["code"] == "406"

    unknown = httpx.get(f"{base}/nothing", headers=JSON, timeout=60)
    assert unknown.status_code == 404
    assert unknown.json()["status"] == {"message": "Not Found", "code": "404"}

    method = httpx.delete(f"{base}/version", headers=JSON, timeout=60)
    assert (method.status_code, method.json()["status"]["code"]) == (405, "405")


def test_the_demo_catalogue_over_http(demo_server: str) -> None:
    """The demo's report and EGI's operations profile, as an ARGO client reads them."""
    base = f"{demo_server}/api/v2"
    ops = json.loads((SEED / "egi_ops.json").read_text(encoding="utf-8"))
    response = httpx.get(f"{base}/operations_profiles/{ops['id']}", headers=JSON, timeout=60)
    assert response.status_code == 200
    assert response.json() == {"status": {"message": "Success", "code": "200"}, "data": [ops]}

    reports = httpx.get(f"{base}/reports?name=Critical", headers=JSON, timeout=60).json()
    [report] = reports["data"]
    assert report["topology_schema"] == {"group": {"type": "NGI", "group": {"type": "SITE"}}}

    refused = httpx.post(f"{base}/reports", headers={**JSON, "x-api-key": "x"}, timeout=60)
    assert refused.status_code == 401
    assert refused.json()["status"]["message"] == "Unauthorized"
