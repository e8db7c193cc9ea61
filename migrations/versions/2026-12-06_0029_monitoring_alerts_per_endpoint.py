"""monitoring alerts per endpoint

Alert rules follow service endpoints, whose status their report combines from the metrics,
instead of each metric alone. Existing rows:

- rules get the report the `status` fields default to (Critical);
- their states per metric go: statuses cannot be combined here without the report's truth
  tables, so each endpoint starts afresh at its next change, from the status it had just
  before (nothing is told again; a problem told per metric gets no recovery notice);
- fired alerts lose their metric: their transitions named change ids (unique across
  metrics) or, for a flapping that stopped, a time two metrics may share; of such twins
  the first is kept, so that the key (rule, endpoint, transition) stays unique.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 08:31:52.403530
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM monitoring_alert_state"))
    op.execute(
        sa.text(
            "DELETE FROM monitoring_alert_fired WHERE id NOT IN (SELECT MIN(id) FROM "
            "monitoring_alert_fired GROUP BY rule_id, hostname, service_type, transition)"
        )
    )
    with op.batch_alter_table("monitoring_alert_fired", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_monitoring_alert_fired_rule_id_hostname_service_type_metric_transition"),
            type_="unique",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_monitoring_alert_fired_rule_id_hostname_service_type_transition"),
            ["rule_id", "hostname", "service_type", "transition"],
        )
        batch_op.drop_column("metric")

    with op.batch_alter_table("monitoring_alert_rule", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("report", sa.String(length=255), nullable=False, server_default="Critical")
        )
        batch_op.add_column(sa.Column("baseline_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("monitoring_alert_rule", schema=None) as batch_op:
        batch_op.alter_column("report", existing_type=sa.String(length=255), server_default=None)

    with op.batch_alter_table("monitoring_alert_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing", sa.JSON(), nullable=False))
        batch_op.drop_constraint(
            batch_op.f("uq_monitoring_alert_state_rule_id_hostname_service_type_metric"),
            type_="unique",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_monitoring_alert_state_rule_id_hostname_service_type"),
            ["rule_id", "hostname", "service_type"],
        )
        batch_op.drop_column("metric")


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM monitoring_alert_state"))
    with op.batch_alter_table("monitoring_alert_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("metric", sa.VARCHAR(length=255), nullable=False))
        batch_op.drop_constraint(
            batch_op.f("uq_monitoring_alert_state_rule_id_hostname_service_type"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_monitoring_alert_state_rule_id_hostname_service_type_metric"),
            ["rule_id", "hostname", "service_type", "metric"],
        )
        batch_op.drop_column("failing")

    with op.batch_alter_table("monitoring_alert_rule", schema=None) as batch_op:
        batch_op.drop_column("baseline_at")
        batch_op.drop_column("report")

    with op.batch_alter_table("monitoring_alert_fired", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("metric", sa.VARCHAR(length=255), nullable=False, server_default="")
        )
        batch_op.drop_constraint(
            batch_op.f("uq_monitoring_alert_fired_rule_id_hostname_service_type_transition"),
            type_="unique",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_monitoring_alert_fired_rule_id_hostname_service_type_metric_transition"),
            ["rule_id", "hostname", "service_type", "metric", "transition"],
        )
