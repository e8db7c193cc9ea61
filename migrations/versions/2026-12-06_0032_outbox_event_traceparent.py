"""outbox: event traceparent

The W3C traceparent of the request (or job) that emitted an event, carried by the relay to
the handler so its span joins the request's trace (domains/common/tracing.py). Nullable:
untraced events, and every event written before, have none.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 12:00:30.808103
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_event") as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_event") as batch_op:
        batch_op.drop_column("traceparent")
