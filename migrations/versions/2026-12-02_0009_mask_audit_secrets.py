"""audit: mask the secrets already stored in the change log

Webhook URLs, Mattermost URLs, push Authorization header values and verification hashes
were written in clear into audit_entry.changes before audit.record masked them. This masks
them in place, with the same function (idempotent: a masked value stays as it is), in
batches. Data only; the downgrade cannot bring the secrets back and leaves them masked.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domains.common.audit import mask_changes

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the only entries that ever held a secret key (downtime webhooks, push configurations)
ENTITY_TYPES = ("downtime_subscription", "msg_subscription")
BATCH = 500

audit_entry = sa.table(
    "audit_entry",
    sa.column("id", sa.Integer()),
    sa.column("entity_type", sa.String()),
    sa.column("changes", sa.JSON()),
)


def upgrade() -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(audit_entry.c.id, audit_entry.c.changes)
            .where(audit_entry.c.entity_type.in_(ENTITY_TYPES), audit_entry.c.id > last)
            .order_by(audit_entry.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for entry_id, changes in rows:
            masked = mask_changes(changes or {})
            if masked != changes:
                connection.execute(
                    sa.update(audit_entry)
                    .where(audit_entry.c.id == entry_id)
                    .values(changes=masked)
                )
        last = rows[-1][0]


def downgrade() -> None:
    pass  # what was masked stays masked
