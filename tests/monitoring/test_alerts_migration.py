"""Migration 0029 (alerts per endpoint) over rows of before, both backends: rules get the
default report, per-metric states go (each endpoint starts afresh at its next change), fired
alerts lose their metric with their key kept unique (of twins that only the metric told
apart, the first stays); and back down to 0028."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from sqlalchemy import Connection, create_engine, text

from gateway import migrate
from tests.databases import private_database

AT = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _before(conn: Connection) -> None:
    run = conn.execute
    run(
        text(
            "INSERT INTO user_account (id, subject, is_admin, created_at) "
            "VALUES (1, 'owner', false, :at)"
        ),
        {"at": AT},
    )
    run(
        text(
            "INSERT INTO monitoring_alert_rule (id, user_id, name, site, on_critical, "
            "on_recovery, flap_window_minutes, email, enabled, created_at, from_change_id) "
            "VALUES (1, 1, 'r', 'SITE', true, true, 60, true, true, :at, 0)"
        ),
        {"at": AT},
    )
    for n, metric in enumerate(("m1", "m2"), start=1):
        run(
            text(
                "INSERT INTO monitoring_alert_state (id, rule_id, hostname, service_type, "
                "metric, status, since, notified, failures_fired, reminders, recent_changes, "
                "flapping, suppressed) VALUES (:id, 1, 'h', 't', :m, 'CRITICAL', :at, true, "
                "false, 0, '[]', false, 0)"
            ),
            {"id": n, "m": metric, "at": AT},
        )
    fired = [
        (1, "m1", "critical:7"),
        (2, "m1", "flapping-stopped:2026-12-01T10:00:00+00:00"),
        (3, "m2", "flapping-stopped:2026-12-01T10:00:00+00:00"),
    ]
    for id_, metric, transition in fired:
        run(
            text(
                "INSERT INTO monitoring_alert_fired (id, rule_id, hostname, service_type, "
                "metric, transition, kind, status, fired_at, event_id) VALUES (:id, 1, 'h', "
                "'t', :m, :t, 'CRITICAL', 'CRITICAL', :at, 0)"
            ),
            {"id": id_, "m": metric, "t": transition, "at": AT},
        )


def test_migration_0029_keeps_rules_and_fired_alerts(database_url: str, tmp_path: Path) -> None:
    with private_database(database_url, tmp_path, revision="0028") as url:
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                _before(conn)
            migrate.upgrade(engine)
            assert migrate.model_drift(engine) == []
            with engine.connect() as conn:
                rule = conn.execute(
                    text("SELECT report, baseline_at, enabled FROM monitoring_alert_rule")
                ).one()
                assert tuple(rule) == ("Critical", None, True)
                states = conn.execute(text("SELECT COUNT(*) FROM monitoring_alert_state"))
                assert states.scalar_one() == 0
                fired = conn.execute(text("SELECT id FROM monitoring_alert_fired ORDER BY id"))
                assert list(fired.scalars()) == [1, 2]
            command.downgrade(migrate.alembic_config(engine), "0028")
            with engine.connect() as conn:
                fired = conn.execute(text("SELECT COUNT(*) FROM monitoring_alert_fired"))
                assert fired.scalar_one() == 2
        finally:
            engine.dispose()
