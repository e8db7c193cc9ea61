"""accounting: signed rejects

A reject records whether it came through the signed intake (its body is then the S/MIME
message, verified again when an operator loads it again). Rows from before are the signed
intake's when their source is an AMS subscription, the only path that wrote them.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 02:04:57.475464
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounting_reject", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed", sa.Boolean(), nullable=True))
    reject = sa.table("accounting_reject", sa.column("signed", sa.Boolean()), sa.column("source"))
    op.execute(reject.update().values(signed=reject.c.source.like("subscription:%")))
    with op.batch_alter_table("accounting_reject", schema=None) as batch_op:
        batch_op.alter_column("signed", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("accounting_reject", schema=None) as batch_op:
        batch_op.drop_column("signed")
