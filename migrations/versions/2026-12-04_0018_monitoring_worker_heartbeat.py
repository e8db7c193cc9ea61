"""monitoring: the workers' heartbeat (opsgraph measures itself)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_worker_heartbeat",
        sa.Column("worker", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_monitoring_worker_heartbeat")),
    )
    with op.batch_alter_table("monitoring_worker_heartbeat", schema=None) as batch_op:
        batch_op.create_index("ix_monitoring_worker_heartbeat_beat_at", ["beat_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("monitoring_worker_heartbeat", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_worker_heartbeat_beat_at")
    op.drop_table("monitoring_worker_heartbeat")
