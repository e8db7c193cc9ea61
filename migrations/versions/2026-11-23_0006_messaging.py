"""messaging: projects, topics, messages, subscriptions, ACLs, usage

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:01:58.118716
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "msg_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_msg_project_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_project")),
        sa.UniqueConstraint("name", name=op.f("uq_msg_project_name")),
    )
    op.create_table(
        "msg_member",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["msg_project.id"],
            name=op.f("fk_msg_member_project_id_msg_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_msg_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_msg_member")),
    )
    with op.batch_alter_table("msg_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_msg_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "msg_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["msg_project.id"],
            name=op.f("fk_msg_topic_project_id_msg_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_topic")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_msg_topic_project_id_name")),
    )
    op.create_table(
        "msg_usage",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("messages_in", sa.BigInteger(), nullable=False),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("messages_out", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["msg_project.id"],
            name=op.f("fk_msg_usage_project_id_msg_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_msg_usage_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_msg_usage")),
    )
    with op.batch_alter_table("msg_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_msg_usage_user_id"), ["user_id"], unique=False)

    op.create_table(
        "msg_message",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["msg_topic.id"],
            name=op.f("fk_msg_message_topic_id_msg_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "offset", name=op.f("pk_msg_message")),
    )
    with op.batch_alter_table("msg_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_msg_message_topic_published", ["topic_id", "published_at"], unique=False
        )

    op.create_table(
        "msg_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("topic_name", sa.String(length=255), nullable=False),
        sa.Column("ack_deadline", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("pending_ack_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("push_type", sa.String(length=16), nullable=False),
        sa.Column("push_endpoint", sa.String(length=2048), nullable=False),
        sa.Column("push_max_messages", sa.Integer(), nullable=False),
        sa.Column("auth_header_type", sa.String(length=16), nullable=False),
        sa.Column("auth_header_value", sa.String(length=255), nullable=False),
        sa.Column("retry_type", sa.String(length=16), nullable=False),
        sa.Column("retry_period_ms", sa.Integer(), nullable=False),
        sa.Column("verification_hash", sa.String(length=255), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("base64_decode", sa.Boolean(), nullable=False),
        sa.Column("mattermost_url", sa.String(length=2048), nullable=False),
        sa.Column("mattermost_username", sa.String(length=255), nullable=False),
        sa.Column("mattermost_channel", sa.String(length=255), nullable=False),
        sa.Column("push_status", sa.String(length=255), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backoff_ms", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("delivered_count", sa.BigInteger(), nullable=False),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["msg_project.id"],
            name=op.f("fk_msg_subscription_project_id_msg_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["msg_topic.id"],
            name=op.f("fk_msg_subscription_topic_id_msg_topic"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_subscription")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_msg_subscription_project_id_name")),
    )
    with op.batch_alter_table("msg_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_msg_subscription_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_msg_subscription_topic_id"), ["topic_id"], unique=False
        )

    op.create_table(
        "msg_topic_acl",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["msg_topic.id"],
            name=op.f("fk_msg_topic_acl_topic_id_msg_topic"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_msg_topic_acl_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "user_id", name=op.f("pk_msg_topic_acl")),
    )
    with op.batch_alter_table("msg_topic_acl", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_msg_topic_acl_user_id"), ["user_id"], unique=False)

    op.create_table(
        "msg_subscription_acl",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["msg_subscription.id"],
            name=op.f("fk_msg_subscription_acl_subscription_id_msg_subscription"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_msg_subscription_acl_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "user_id", name=op.f("pk_msg_subscription_acl")),
    )
    with op.batch_alter_table("msg_subscription_acl", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_msg_subscription_acl_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("msg_subscription_acl", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_msg_subscription_acl_user_id"))

    op.drop_table("msg_subscription_acl")
    with op.batch_alter_table("msg_topic_acl", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_msg_topic_acl_user_id"))

    op.drop_table("msg_topic_acl")
    with op.batch_alter_table("msg_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_msg_subscription_topic_id"))
        batch_op.drop_index(batch_op.f("ix_msg_subscription_next_attempt_at"))

    op.drop_table("msg_subscription")
    with op.batch_alter_table("msg_message", schema=None) as batch_op:
        batch_op.drop_index("ix_msg_message_topic_published")

    op.drop_table("msg_message")
    with op.batch_alter_table("msg_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_msg_usage_user_id"))

    op.drop_table("msg_usage")
    op.drop_table("msg_topic")
    with op.batch_alter_table("msg_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_msg_member_user_id"))

    op.drop_table("msg_member")
    op.drop_table("msg_project")
