"""downtimes: subscriptions and their notifications

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 06:26:06.722677
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "downtime_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("ngi", sa.String(length=255), nullable=True),
        sa.Column("site", sa.String(length=255), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("service_type", sa.String(length=255), nullable=True),
        sa.Column("vo", sa.String(length=255), nullable=True),
        sa.Column("on_declared", sa.Boolean(), nullable=False),
        sa.Column("on_started", sa.Boolean(), nullable=False),
        sa.Column("on_ended", sa.Boolean(), nullable=False),
        sa.Column("on_changed", sa.Boolean(), nullable=False),
        sa.Column("on_cancelled", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("topic_project", sa.String(length=255), nullable=True),
        sa.Column("topic_name", sa.String(length=255), nullable=True),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_downtime_subscription_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downtime_subscription")),
    )
    with op.batch_alter_table("downtime_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_downtime_subscription_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "downtime_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "EMAIL",
                "WEBHOOK",
                "TOPIC",
                name="downtime_notification_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "SENT",
                "FAILED",
                name="downtime_notification_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["downtime_subscription.id"],
            name=op.f("fk_downtime_notification_subscription_id_downtime_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downtime_notification")),
        sa.UniqueConstraint(
            "subscription_id",
            "event_id",
            "channel",
            name=op.f("uq_downtime_notification_subscription_id_event_id_channel"),
        ),
    )
    with op.batch_alter_table("downtime_notification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_downtime_notification_due", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("downtime_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_downtime_notification_due")

    op.drop_table("downtime_notification")
    with op.batch_alter_table("downtime_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_downtime_subscription_user_id"))

    op.drop_table("downtime_subscription")
