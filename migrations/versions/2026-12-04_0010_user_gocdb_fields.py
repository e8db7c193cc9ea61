"""identity: what GOCDB keeps of a person (forename, surname, title, telephone, working
hours, home site), filled by the GOCDB import and rendered by the PI's get_user

home_site_id is topology's site id without a foreign key: identity lies below topology and
references none of its tables (as role.entity_id does).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 15:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("forename", 255),
    ("surname", 255),
    ("title", 64),
    ("telephone", 255),
    ("working_hours_start", 32),
    ("working_hours_end", 32),
)


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        for name, length in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        batch_op.add_column(sa.Column("home_site_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_user_account_home_site_id"), ["home_site_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_home_site_id"))
        batch_op.drop_column("home_site_id")
        for name, _length in reversed(_COLUMNS):
            batch_op.drop_column(name)
