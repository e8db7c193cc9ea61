"""monitoring recomputations

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_recomputation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("report_uuid", sa.String(length=36), nullable=False),
        sa.Column("requester_name", sa.String(length=255), nullable=False),
        sa.Column("requester_email", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("span_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("span_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exclude", sa.JSON(), nullable=False),
        sa.Column("exclude_metrics", sa.JSON(), nullable=False),
        sa.Column("exclude_monitoring_source", sa.JSON(), nullable=False),
        sa.Column("applied_status_changes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_recomputation")),
        sa.UniqueConstraint("uuid", name=op.f("uq_monitoring_recomputation_uuid")),
    )
    op.create_index(
        "ix_monitoring_recomputation_span",
        "monitoring_recomputation",
        ["report_uuid", "span_start", "span_end"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_monitoring_recomputation_span", table_name="monitoring_recomputation")
    op.drop_table("monitoring_recomputation")
