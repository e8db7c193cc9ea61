"""schema.graphql equals the exported schema; migrations equal the models on both databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

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
