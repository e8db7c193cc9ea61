"""schema.graphql equals the exported schema; migrations equal the models on both databases."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine

from domains.common.db import make_engine, writer_engine
from gateway import migrate
from gateway.cli import schema_drift
from gateway.schema import export_sdl


def test_committed_schema_matches_the_code(repo_root: Path) -> None:
    assert (repo_root / "schema.graphql").read_text() == export_sdl()


def test_schema_drift_is_detected(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text(export_sdl().replace("shortName: String!", "shortName: String"))
    diff = schema_drift(stale)
    assert any(line.startswith("+") and "shortName: String!" in line for line in diff)


def test_migrations_match_the_models(engine: Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert migrate.model_drift(engine) == []


def test_export_schema_as_a_module(repo_root: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "export-schema"],
        capture_output=True,
        text=True,
        check=True,
        cwd=repo_root,
    )
    assert out.stdout == export_sdl()


def _copy_of_migrations(tmp_path: Path, *, without: tuple[str, ...] = ()) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(
        migrate.MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__", *without)
    )
    return directory


def test_db_revision_writes_the_next_migration_empty_when_the_models_equal_head(
    tmp_path: Path,
) -> None:
    directory = _copy_of_migrations(tmp_path)
    head = migrate.head_revision()
    assert head is not None
    path = migrate.new_revision("Add nothing yet", directory=directory)
    assert path.parent == directory / "versions"
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d_{int(head) + 1:04d}_add_nothing_yet\.py", path.name)
    text = path.read_text()
    assert f"down_revision: str | None = {head!r}" in text
    assert "op." not in text  # nothing to generate


def test_db_revision_generates_what_the_models_hold_beyond_head(tmp_path: Path) -> None:
    # without the migrations after 0007, head lacks the downtime subscription tables (and
    # whatever came later: the generated migration holds that too)
    later = tuple(
        f"*_{m.group(1)}_*"
        for p in migrate.MIGRATIONS_DIR.rglob("*.py")
        if (m := re.search(r"_(\d{4})_", p.name)) and int(m.group(1)) > 7
    )
    directory = _copy_of_migrations(tmp_path, without=later)
    path = migrate.new_revision("downtime subscriptions", directory=directory)
    assert path.name.endswith("_0008_downtime_subscriptions.py")
    text = path.read_text()
    assert "down_revision: str | None = '0007'" in text
    assert "op.create_table('downtime_subscription'" in text
    # the generated file applies: the copy's head now equals the models
    engine = make_engine(f"sqlite:///{tmp_path / 'check.db'}")
    try:
        config = migrate.alembic_config(writer_engine(engine))
        config.set_main_option("script_location", str(directory))
        command.upgrade(config, "head")
        assert migrate.model_drift(engine) == []
    finally:
        engine.dispose()


def test_db_revision_needs_a_message(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a message"):
        migrate.new_revision("  ", directory=_copy_of_migrations(tmp_path))
