"""Alembic, driven from code: upgrade, current/head revisions, and the drift check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations
from domains.common.db import writer_engine

MIGRATIONS_DIR = Path(migrations.__file__).parent


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    # a writer's transaction: one that reads the revision, then changes the schema, must not
    # find its snapshot stale (SQLite), e.g. behind a running server's writes
    command.upgrade(alembic_config(writer_engine(engine)), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def model_drift(engine: Engine) -> list[Any]:
    """Differences between the migrated database and the models; empty when they agree."""
    from migrations.options import compare_options, target_metadata

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=compare_options())
        return list(compare_metadata(context, target_metadata))
