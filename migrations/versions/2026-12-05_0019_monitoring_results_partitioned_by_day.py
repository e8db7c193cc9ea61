"""monitoring results partitioned by day on PostgreSQL

The metric results become a table partitioned by range of `timestamp`, with a DEFAULT
partition that takes every row no day partition covers (nothing accepted is lost); the
day partitions are created ahead and dropped past retention by the monitoring.retention
job (domains.monitoring.service.partitions). The columns, indexes and the id sequence stay
what the model declares; the primary key becomes (id, timestamp), as PostgreSQL requires
of a partitioned table's keys. SQLite keeps its plain table.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 00:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "monitoring_metric_result"
COLUMNS = (
    "id, timestamp, hostname, service_type, metric, status, summary, message, perfdata, "
    "monitoring_host, tags, source, ingested_at"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_unpartitioned")
    op.execute(f"ALTER INDEX pk_{TABLE} RENAME TO pk_{TABLE}_unpartitioned")
    op.execute(f"ALTER INDEX ix_{TABLE}_series RENAME TO ix_{TABLE}_series_unpartitioned")
    op.execute(f"ALTER INDEX ix_{TABLE}_timestamp RENAME TO ix_{TABLE}_timestamp_unpartitioned")
    op.execute(
        f"""CREATE TABLE {TABLE} (
            id BIGINT NOT NULL DEFAULT nextval('{TABLE}_id_seq'::regclass),
            timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
            hostname VARCHAR(255) NOT NULL,
            service_type VARCHAR(255) NOT NULL,
            metric VARCHAR(255) NOT NULL,
            status VARCHAR(16) NOT NULL,
            summary TEXT,
            message TEXT,
            perfdata TEXT,
            monitoring_host VARCHAR(255),
            tags JSON NOT NULL,
            source VARCHAR(255) NOT NULL,
            ingested_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_{TABLE} PRIMARY KEY (id, timestamp)
        ) PARTITION BY RANGE (timestamp)"""
    )
    op.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    op.execute(
        f"CREATE INDEX ix_{TABLE}_series ON {TABLE} (hostname, service_type, metric, timestamp)"
    )
    op.execute(f"CREATE INDEX ix_{TABLE}_timestamp ON {TABLE} (timestamp)")
    op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}_unpartitioned")  # noqa: S608
    op.execute(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    op.execute(f"DROP TABLE {TABLE}_unpartitioned")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_partitioned")
    op.execute(f"ALTER INDEX pk_{TABLE} RENAME TO pk_{TABLE}_partitioned")
    op.execute(f"ALTER INDEX ix_{TABLE}_series RENAME TO ix_{TABLE}_series_partitioned")
    op.execute(f"ALTER INDEX ix_{TABLE}_timestamp RENAME TO ix_{TABLE}_timestamp_partitioned")
    op.execute(
        f"""CREATE TABLE {TABLE} (
            LIKE {TABLE}_partitioned INCLUDING DEFAULTS,
            CONSTRAINT pk_{TABLE} PRIMARY KEY (id)
        )"""
    )
    op.execute(
        f"CREATE INDEX ix_{TABLE}_series ON {TABLE} (hostname, service_type, metric, timestamp)"
    )
    op.execute(f"CREATE INDEX ix_{TABLE}_timestamp ON {TABLE} (timestamp)")
    op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}_partitioned")  # noqa: S608
    op.execute(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    op.execute(f"DROP TABLE {TABLE}_partitioned")
