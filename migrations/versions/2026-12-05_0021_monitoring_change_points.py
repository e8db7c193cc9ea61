"""monitoring change points: the results the A/R reads, kept at ingestion

`monitoring_change_point` holds each series' first result of each UTC day and every result
whose status differs from the one before it in its series (by time, then id);
`availability.day_results` windows over it instead of two days of raw results
(domains.monitoring.service.change_points). Filled here from the stored results in one
statement; the results themselves stay as they are.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 22:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "monitoring_change_point"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("service_type", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("monitoring_host", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            f"ix_{TABLE}_series", ["hostname", "service_type", "metric", "timestamp"], unique=False
        )
        batch_op.create_index(batch_op.f(f"ix_{TABLE}_timestamp"), ["timestamp"], unique=False)
    # the points of the results already stored (the same statement as change_points.rebuild)
    postgres = op.get_bind().dialect.name == "postgresql"
    day_of = "(timestamp AT TIME ZONE 'UTC')::date" if postgres else "date(timestamp)"
    op.execute(
        f"""INSERT INTO {TABLE}
            (timestamp, hostname, service_type, metric, status, monitoring_host)
        SELECT timestamp, hostname, service_type, metric, status, monitoring_host FROM (
            SELECT id, timestamp, hostname, service_type, metric, status, monitoring_host,
                {day_of} AS day_of,
                lag(status) OVER series AS before,
                lag({day_of}) OVER series AS before_day
            FROM monitoring_metric_result
            WINDOW series AS (PARTITION BY hostname, service_type, metric ORDER BY timestamp, id)
        ) AS r
        WHERE before IS NULL OR before <> status OR before_day <> day_of
        ORDER BY timestamp, id"""  # noqa: S608 (constants)
    )


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{TABLE}_timestamp"))
        batch_op.drop_index(f"ix_{TABLE}_series")
    op.drop_table(TABLE)
