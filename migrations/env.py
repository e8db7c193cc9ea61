"""Alembic environment: runs against the engine handed over by gateway/migrate.py, or the
one OPSGRAPH_DATABASE_URL names when alembic is run by hand."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from migrations.options import compare_options, target_metadata


def run_migrations_online() -> None:
    engine: Engine | None = context.config.attributes.get("engine")
    if engine is None:
        from domains.common.db import make_engine
        from domains.common.settings import CoreSettings

        settings = CoreSettings.from_env()
        engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, **compare_options()
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
