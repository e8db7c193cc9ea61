"""topology: site API credentials (GOCDB's APIAuthentication)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_api_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=512), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "X.509",
                "OIDC Subject",
                name="credential_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("allow_write", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unused_flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_site_api_credential_site_id_site"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_site_api_credential_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_api_credential")),
        sa.UniqueConstraint(
            "site_id", "identifier", name=op.f("uq_site_api_credential_site_id_identifier")
        ),
    )
    with op.batch_alter_table("site_api_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_site_api_credential_identifier"), ["identifier"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_site_api_credential_site_id"), ["site_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_site_api_credential_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("site_api_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_api_credential_user_id"))
        batch_op.drop_index(batch_op.f("ix_site_api_credential_site_id"))
        batch_op.drop_index(batch_op.f("ix_site_api_credential_identifier"))
    op.drop_table("site_api_credential")
