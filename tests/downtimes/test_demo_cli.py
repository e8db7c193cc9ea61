"""`opsgraph seed` and `serve --demo` write the downtimes with the federation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Table, create_engine, func, select

from domains.downtimes.service import T_DOWNTIME, T_DT_SERVICE
from tests.server import run_cli, server_env, serving


def _count(tmp_path: Path, table: Table) -> int:
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def test_demo_seed_writes_downtimes(tmp_path: Path) -> None:
    seeded = run_cli(tmp_path, "seed", "--demo")
    assert seeded.returncode == 0, seeded.stderr
    assert _count(tmp_path, T_DOWNTIME) >= 30


def test_demo_seed_scale_with_downtimes(tmp_path: Path) -> None:
    refused = run_cli(tmp_path, "seed", "--demo", "--downtimes", "5")
    assert refused.returncode == 2
    assert "--downtimes" in refused.stderr
    seeded = run_cli(tmp_path, "seed", "--scale", "20", "--downtimes", "300")
    assert seeded.returncode == 0, seeded.stderr
    assert _count(tmp_path, T_DOWNTIME) == 300
    assert _count(tmp_path, T_DT_SERVICE) >= 300


def test_demo_serve_seeds_downtimes(tmp_path: Path) -> None:
    with serving(server_env(tmp_path), "--demo"):
        assert _count(tmp_path, T_DOWNTIME) >= 30
