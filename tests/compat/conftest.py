"""Fixtures of the compatibility tests: GOCDB's write API (tests/compat/gocdb_write.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.compat.gocdb_write import OUTSIDER, READER, WRITER, WriteApi, register
from tests.conftest import AppFactory


@pytest.fixture
def write_api(make_client: AppFactory, oidc_issuer: OIDCIssuer, session: Session) -> WriteApi:
    client = make_client(
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        admin_entitlements=("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",),
    ).client
    service_id, site_id, site_name = session.execute(
        text(
            "SELECT v.id, s.id, s.short_name FROM service v JOIN site s ON s.id = v.site_id "
            "JOIN service_type t ON t.id = v.service_type_id "
            "WHERE v.production AND v.monitored AND NOT t.monitoring_exception "
            "AND t.name NOT IN ('VOMS', 'emi.ARGUS', 'org.squid-cache.Squid') "
            "AND EXISTS (SELECT 1 FROM endpoint e WHERE e.service_id = v.id) "
            "ORDER BY v.id LIMIT 1"
        )
    ).one()
    endpoint_id = session.execute(
        text("SELECT min(id) FROM endpoint WHERE service_id = :v"), {"v": service_id}
    ).scalar_one()
    other_endpoint_id = session.execute(
        text("SELECT min(id) FROM endpoint WHERE service_id != :v"), {"v": service_id}
    ).scalar_one()
    other_site_id = session.execute(
        text("SELECT min(id) FROM site WHERE id != :s"), {"s": site_id}
    ).scalar_one()
    register(session, site_id, WRITER, allow_write=True)
    register(session, site_id, READER, allow_write=False)
    register(session, other_site_id, OUTSIDER, allow_write=True)
    session.commit()
    return WriteApi(
        client,
        oidc_issuer,
        site_id,
        site_name,
        other_site_id,
        service_id,
        endpoint_id,
        other_endpoint_id,
    )
