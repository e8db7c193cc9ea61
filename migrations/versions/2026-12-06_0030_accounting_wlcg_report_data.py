"""accounting: WLCG federations, pledges and VO disciplines

The data the accounting portal's reports rank by (domains/accounting/service/reportdata.py):
WLCG federations (tier, country) and their member sites (a site in one at most), each
federation's CPU pledge per year in HEPSPEC06, and a tree of scientific disciplines with the
VOs counted for each. New tables only: nothing to fill.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 08:31:58.604871
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounting_discipline",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["accounting_discipline.id"],
            name=op.f("fk_accounting_discipline_parent_id_accounting_discipline"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_discipline")),
        sa.UniqueConstraint("name", name=op.f("uq_accounting_discipline_name")),
    )
    op.create_table(
        "accounting_wlcg_federation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=255), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_wlcg_federation")),
        sa.UniqueConstraint("name", name=op.f("uq_accounting_wlcg_federation_name")),
    )
    op.create_table(
        "accounting_vo_discipline",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vo", sa.String(length=255), nullable=False),
        sa.Column("discipline_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["discipline_id"],
            ["accounting_discipline.id"],
            name=op.f("fk_accounting_vo_discipline_discipline_id_accounting_discipline"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_vo_discipline")),
        sa.UniqueConstraint("vo", name=op.f("uq_accounting_vo_discipline_vo")),
    )
    with op.batch_alter_table("accounting_vo_discipline", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accounting_vo_discipline_discipline_id"), ["discipline_id"], unique=False
        )

    op.create_table(
        "accounting_wlcg_federation_site",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["accounting_wlcg_federation.id"],
            name=op.f(
                "fk_accounting_wlcg_federation_site_federation_id_accounting_wlcg_federation"
            ),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_wlcg_federation_site")),
        sa.UniqueConstraint("site", name=op.f("uq_accounting_wlcg_federation_site_site")),
    )
    with op.batch_alter_table("accounting_wlcg_federation_site", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accounting_wlcg_federation_site_federation_id"),
            ["federation_id"],
            unique=False,
        )

    op.create_table(
        "accounting_wlcg_pledge",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cpu_hs06", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["accounting_wlcg_federation.id"],
            name=op.f("fk_accounting_wlcg_pledge_federation_id_accounting_wlcg_federation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_wlcg_pledge")),
        sa.UniqueConstraint(
            "federation_id", "year", name=op.f("uq_accounting_wlcg_pledge_federation_id_year")
        ),
    )


def downgrade() -> None:
    op.drop_table("accounting_wlcg_pledge")
    with op.batch_alter_table("accounting_wlcg_federation_site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounting_wlcg_federation_site_federation_id"))

    op.drop_table("accounting_wlcg_federation_site")
    with op.batch_alter_table("accounting_vo_discipline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounting_vo_discipline_discipline_id"))

    op.drop_table("accounting_vo_discipline")
    op.drop_table("accounting_wlcg_federation")
    op.drop_table("accounting_discipline")
