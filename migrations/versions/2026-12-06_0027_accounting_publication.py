"""accounting: each site's latest publication

`accounting_publication`: per site, when a message last loaded for it, its message id, its
sender and its record type, written by the loader with every message (the rows' own
`loaded_at` is set on insert only, so a message sent again does not move it). Read by the
publication overview and the APEL-Pub probe. Filled here from the loaded rows' latest
`loaded_at` per site (message id, sender and type unknown for those).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 05:07:15.681419
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOADED = (
    "accounting_job",
    "accounting_summary",
    "accounting_normalised_summary",
    "accounting_sync",
    "accounting_cloud",
    "accounting_cloud_summary",
    "accounting_storage",
)


def upgrade() -> None:
    op.create_table(
        "accounting_publication",
        sa.Column("site", sa.String(length=255), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("publisher", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_accounting_publication")),
    )
    columns = ("site", "loaded_at", "message_id", "publisher", "kind")
    loaded = sa.union_all(*(_latest(name) for name in LOADED)).subquery("loaded")
    blank = sa.literal("")
    rows = (
        sa.select(loaded.c.site, sa.func.max(loaded.c.loaded_at), blank, blank, blank)
        .where(loaded.c.site != "")
        .group_by(loaded.c.site)
    )
    target = sa.table("accounting_publication", *(sa.column(c) for c in columns))
    op.execute(target.insert().from_select(list(columns), rows))


def _latest(name: str) -> sa.Select[tuple[str, object]]:
    """The latest `loaded_at` per site of one table of loaded rows."""
    table = sa.table(name, sa.column("site"), sa.column("loaded_at"))
    return sa.select(table.c.site, sa.func.max(table.c.loaded_at).label("loaded_at")).group_by(
        table.c.site
    )


def downgrade() -> None:
    op.drop_table("accounting_publication")
