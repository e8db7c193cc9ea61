"""downtimes: downtimes, their services and endpoints

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 06:22:59.920160
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "downtime",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("primary_key", sa.String(length=32), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "OUTAGE",
                "WARNING",
                name="downtime_severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "classification",
            sa.Enum(
                "SCHEDULED",
                "UNSCHEDULED",
                name="downtime_classification",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.String(length=255), nullable=False),
        sa.Column("started_notified", sa.Boolean(), nullable=False),
        sa.Column("ended_notified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_downtime_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downtime")),
        sa.UniqueConstraint("primary_key", name=op.f("uq_downtime_primary_key")),
    )
    with op.batch_alter_table("downtime", schema=None) as batch_op:
        batch_op.create_index(
            "ix_downtime_end_pending", ["ended_notified", "ends_at"], unique=False
        )
        batch_op.create_index("ix_downtime_ends_at", ["ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_downtime_site_id"), ["site_id"], unique=False)
        batch_op.create_index(
            "ix_downtime_start_pending", ["started_notified", "starts_at"], unique=False
        )
        batch_op.create_index("ix_downtime_window", ["starts_at", "ends_at"], unique=False)

    op.create_table(
        "downtime_service",
        sa.Column("downtime_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("all_endpoints", sa.Boolean(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["downtime_id"],
            ["downtime.id"],
            name=op.f("fk_downtime_service_downtime_id_downtime"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_downtime_service_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("downtime_id", "service_id", name=op.f("pk_downtime_service")),
    )
    with op.batch_alter_table("downtime_service", schema=None) as batch_op:
        batch_op.create_index(
            "ix_downtime_service_service", ["service_id", "downtime_id"], unique=False
        )

    op.create_table(
        "downtime_endpoint",
        sa.Column("downtime_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["downtime_id"],
            ["downtime.id"],
            name=op.f("fk_downtime_endpoint_downtime_id_downtime"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoint.id"],
            name=op.f("fk_downtime_endpoint_endpoint_id_endpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("downtime_id", "endpoint_id", name=op.f("pk_downtime_endpoint")),
    )
    with op.batch_alter_table("downtime_endpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_downtime_endpoint_endpoint_id"), ["endpoint_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("downtime_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_downtime_endpoint_endpoint_id"))

    op.drop_table("downtime_endpoint")
    with op.batch_alter_table("downtime_service", schema=None) as batch_op:
        batch_op.drop_index("ix_downtime_service_service")

    op.drop_table("downtime_service")
    with op.batch_alter_table("downtime", schema=None) as batch_op:
        batch_op.drop_index("ix_downtime_window")
        batch_op.drop_index("ix_downtime_start_pending")
        batch_op.drop_index(batch_op.f("ix_downtime_site_id"))
        batch_op.drop_index("ix_downtime_ends_at")
        batch_op.drop_index("ix_downtime_end_pending")

    op.drop_table("downtime")
