"""The GOCDB PI on a real `opsgraph serve --demo` process: the bytes a GOCDB client reads
over HTTP (declaration, content type, GOCDB's refusals)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx2 as httpx

from domains.topology.service.pi import NO_IDENTIFIER


def test_site_and_roc_lists_over_http(demo_server: str) -> None:
    base = demo_server
    response = httpx.get(f"{base}/gocdbpi/public/?method=get_site_list&scope=", timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<results>\n')
    sites = ET.fromstring(response.content)
    assert "FZK-LCG2" in [site.get("NAME") for site in sites]

    rocs = httpx.get(f"{base}/gocdbpi/public/?method=get_roc_list&roc=NGI_DE", timeout=60)
    assert [roc.get("ROC_NAME") for roc in ET.fromstring(rocs.content)] == ["NGI_DE"]

    refused = httpx.get(f"{base}/gocdbpi/public/?method=get_site", timeout=60)
    assert (refused.status_code, refused.text) == (200, NO_IDENTIFIER)
    private = httpx.get(f"{base}/gocdbpi/private/?method=get_site_list", timeout=60)
    assert private.status_code == 403
    unknown = httpx.get(f"{base}/gocdbpi/public/?method=get_nothing", timeout=60)
    assert unknown.text == "Unable to find method: get_nothing"
