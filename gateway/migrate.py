"""Alembic, driven from code: upgrade, current/head revisions, the drift check, and new
revisions (`opsgraph db revision`)."""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations
from domains.common.db import make_engine, writer_engine

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


@functools.cache
def head_revision() -> str | None:
    """The newest revision in migrations/ (fixed for a process's life: read once)."""
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


# Files are named `<date>_<revision>_<slug>.py`, revisions numbered 0001, 0002, ...
FILE_TEMPLATE = "%(year)d-%(month).2d-%(day).2d_%(rev)s_%(slug)s"


def next_revision_id(directory: Path = MIGRATIONS_DIR) -> str:
    """The number after the highest revision in `directory`, four digits."""
    script = ScriptDirectory.from_config(_directory_config(directory))
    numbers = [int(r.revision) for r in script.walk_revisions() if re.fullmatch(r"\d+", r.revision)]
    return f"{max(numbers, default=0) + 1:04d}"


def _directory_config(directory: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(directory))
    # ConfigParser interpolation: "%%" stands for "%"
    config.set_main_option("file_template", FILE_TEMPLATE.replace("%", "%%"))
    return config


def new_revision(
    message: str, *, autogenerate: bool = True, directory: Path = MIGRATIONS_DIR
) -> Path:
    """Write the next migration into `directory` and return its path. With `autogenerate`,
    its operations are what the models hold beyond head, compared on an empty SQLite
    database upgraded to head (review them, and run the tests on PostgreSQL too)."""
    if not message.strip():
        raise ValueError("a revision needs a message (-m)")
    config = _directory_config(directory)
    rev_id = next_revision_id(directory)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/revision.db")
        try:
            if autogenerate:
                upgrade_config = _directory_config(directory)
                upgrade_config.attributes["engine"] = writer_engine(engine)
                command.upgrade(upgrade_config, "head")
            config.attributes["engine"] = engine
            script = command.revision(config, message, autogenerate=autogenerate, rev_id=rev_id)
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):  # one head, one script: always so here
        raise RuntimeError("alembic wrote no single revision")
    return Path(script.path)
