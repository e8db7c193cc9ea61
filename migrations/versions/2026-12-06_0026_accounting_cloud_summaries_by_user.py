"""accounting: cloud usage summaries by user

An index of `accounting_cloud_usage_summary` on the DN (`global_user_name`), as 0025's of
the grid summaries: a caller's own cloud usage (`mine`, the portal's /accounting/user/cloud/
views) selects rows by DN, which the unique key (led by the site) cannot serve; PostgreSQL
scanned the whole table for it (a parallel seq scan of 300,000 rows; a bitmap index scan
with the index).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 02:40:26.098876
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounting_cloud_usage_summary", schema=None) as batch_op:
        batch_op.create_index(
            "ix_accounting_cloud_usage_summary_user", ["global_user_name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("accounting_cloud_usage_summary", schema=None) as batch_op:
        batch_op.drop_index("ix_accounting_cloud_usage_summary_user")
