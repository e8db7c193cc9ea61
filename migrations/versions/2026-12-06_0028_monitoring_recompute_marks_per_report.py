"""monitoring: late-result marks per report

A late result marked its day (and the next) for every report; a mark now names the report
whose metric profile and topology cover the result's series, so that only that report's
day is computed again. The table's key becomes (report_uuid, day); a mark left by the old
shape stands for every report, so it is copied once per report.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    # a handful of rows (days awaiting the hourly job): read, re-created, written back
    marks = bind.execute(
        sa.text(
            "SELECT DISTINCT r.uuid, m.day, m.marked_at FROM monitoring_recompute_day AS m "
            "CROSS JOIN monitoring_report AS r"
        )
    ).all()
    op.drop_table("monitoring_recompute_day")
    op.create_table(
        "monitoring_recompute_day",
        sa.Column("report_uuid", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report_uuid", "day", name=op.f("pk_monitoring_recompute_day")),
    )
    if marks:  # as read (no type processing: SQLite's text stays text)
        bind.execute(
            sa.text(
                "INSERT INTO monitoring_recompute_day (report_uuid, day, marked_at) "
                "VALUES (:u, :d, :at)"
            ),
            [{"u": u, "d": d, "at": at} for u, d, at in marks],
        )


def downgrade() -> None:
    bind = op.get_bind()
    marks = bind.execute(
        sa.text("SELECT day, MIN(marked_at) FROM monitoring_recompute_day GROUP BY day")
    ).all()
    op.drop_table("monitoring_recompute_day")
    op.create_table(
        "monitoring_recompute_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_monitoring_recompute_day")),
    )
    if marks:
        bind.execute(
            sa.text("INSERT INTO monitoring_recompute_day (day, marked_at) VALUES (:d, :at)"),
            [{"d": d, "at": at} for d, at in marks],
        )
