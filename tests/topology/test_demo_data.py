"""The demo federation is as rich as the quick start promises."""

from __future__ import annotations

from sqlalchemy import Connection, text


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
