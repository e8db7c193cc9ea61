"""The demo federation is as rich as the quick start promises."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text

from domains.common import seed_data
from domains.topology.seed import demo


def scalar(connection: Connection, sql: str) -> int:
    return int(connection.execute(text(sql)).scalar_one())


def test_demo_federation_shape(connection: Connection) -> None:
    assert scalar(connection, "SELECT count(*) FROM ngi") >= 3
    assert scalar(connection, "SELECT count(*) FROM site") >= 30
    assert scalar(connection, "SELECT count(DISTINCT country_id) FROM site") >= 8
    statuses = {
        r[0] for r in connection.execute(text("SELECT DISTINCT certification_status FROM site"))
    }
    assert statuses == {"Candidate", "Uncertified", "Certified", "Suspended", "Closed"}
    assert scalar(connection, "SELECT count(*) FROM service") >= 200
    assert scalar(connection, "SELECT count(DISTINCT service_type_id) FROM service") >= 10
    assert scalar(connection, "SELECT count(*) FROM endpoint") >= scalar(
        connection, "SELECT count(*) FROM service"
    )
    scopes = {r[0] for r in connection.execute(text("SELECT name FROM scope"))}
    assert {"EGI", "Local", "FedCloud", "wlcg"} <= scopes
    for table in (
        "site_property",
        "service_property",
        "endpoint_property",
        "service_group_property",
    ):
        assert scalar(connection, f"SELECT count(*) FROM {table}") > 0, table
    types = {
        r[0]
        for r in connection.execute(
            text(
                "SELECT DISTINCT t.name FROM service s "
                "JOIN service_type t ON t.id = s.service_type_id"
            )
        )
    }
    assert {
        "ARC-CE",
        "org.opensciencegrid.htcondorce",
        "webdav",
        "SRM",
        "Top-BDII",
        "gLite-APEL",
    } <= types
    assert types & {"eu.egi.cloud.vm-management.occi", "org.openstack.nova"}


def test_demo_obeys_production_implies_monitored(connection: Connection) -> None:
    violations = scalar(
        connection,
        "SELECT count(*) FROM service s JOIN service_type t ON t.id = s.service_type_id "
        "WHERE s.production AND NOT s.monitored AND NOT t.monitoring_exception "
        "AND t.name NOT IN ('VOMS', 'emi.ARGUS', 'org.squid-cache.Squid')",
    )
    assert violations == 0


def test_every_entity_has_a_legacy_key(connection: Connection) -> None:
    for table in ("site", "service", "ngi", "project", "service_group"):
        assert scalar(connection, f"SELECT count(*) FROM {table} WHERE primary_key IS NULL") == 0, (
            table
        )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        pytest.param(
            lambda raw: raw["ngis"][0]["sites"][0].update(wlcg_nmae="DE-KIT"),
            "demo NGI NGI_DE: sites: demo site FZK-LCG2: unknown keys ['wlcg_nmae']",
            id="misspelt key",
        ),
        pytest.param(
            lambda raw: raw["ngis"][0]["sites"][0].update(ce_type="ARC"),
            "demo.toml: FZK-LCG2: no service type ARC",
            id="unknown service type",
        ),
        pytest.param(
            lambda raw: raw["service_groups"][0].update(members="everything"),
            "demo.toml: EGI_Core_Services: members is one of core, t1_srm, cloud",
            id="unknown group members",
        ),
    ],
)
def test_damaged_demo_data_is_refused_at_load(
    monkeypatch: pytest.MonkeyPatch, damage: Callable[[dict[str, Any]], None], message: str
) -> None:
    def damaged(package: str, name: str) -> dict[str, Any]:
        raw = seed_data.load(package, name)
        damage(raw)
        return raw

    monkeypatch.setattr(demo, "load", damaged)
    demo.demo_federation.cache_clear()
    try:
        with pytest.raises(ValueError, match=re.escape(message)):
            demo.demo_federation()
    finally:
        demo.demo_federation.cache_clear()
