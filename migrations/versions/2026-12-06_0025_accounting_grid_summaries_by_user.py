"""accounting: grid summaries by user

An index of `accounting_grid_summary` on the DN (`global_user_name`): a caller's own usage
(`mine`, the portal's /accounting/user/ views) selects rows by DN, which the unique key
(led by the site) cannot serve; PostgreSQL scanned the whole table for it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 02:31:32.471082
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounting_grid_summary", schema=None) as batch_op:
        batch_op.create_index("ix_accounting_grid_summary_user", ["global_user_name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("accounting_grid_summary", schema=None) as batch_op:
        batch_op.drop_index("ix_accounting_grid_summary_user")
