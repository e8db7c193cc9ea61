"""Databases of a test's own, for tests whose commits other threads or processes must see
(a real server, a worker, concurrent writers): the shared session database only ever sees
savepoints that are rolled back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from domains.common.db import make_engine
from gateway import migrate


@contextmanager
def private_database(
    database_url: str, directory: Path, *, revision: str = "head"
) -> Iterator[str]:
    """A database of the same kind as `database_url`, migrated up to `revision`: a SQLite
    file in `directory`, or a new PostgreSQL database beside it, dropped afterwards. Yields
    its URL."""
    base = make_url(database_url)
    admin = None
    if base.get_backend_name() == "sqlite":
        url = f"sqlite:///{directory / f'private-{uuid.uuid4().hex[:8]}.db'}"
    else:
        name = f"{base.database}_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine, revision)
        finally:
            engine.dispose()
        yield url
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def recreate_pg_database(url: str) -> None:
    """Drop the PostgreSQL database `url` names (if it exists) and create it empty."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()
