"""monitoring: downtime moment cursor

Up to when the downtimes' moments (starts, ends of effect, edits) were recorded for the
`statusChanges` streams (domains/monitoring/service/downtime_moments.py): one row, moved in
the transaction that records them.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 08:44:25.468308
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_downtime_moment_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("moments_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edits_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_monitoring_downtime_moment_cursor")),
    )


def downgrade() -> None:
    op.drop_table("monitoring_downtime_moment_cursor")
