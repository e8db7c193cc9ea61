"""The pre-commit configuration runs what scripts/check runs, neither more nor less: a check
added to one and forgotten in the other fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _check_commands() -> list[str]:
    lines = (ROOT / "scripts" / "check").read_text().splitlines()
    return [
        line.strip()
        for line in lines
        if line.strip()
        and not line.lstrip().startswith("#")
        and not line.startswith(("set ", "cd "))
    ]


def _hook_entries() -> list[str]:
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    return [m.group(1).strip() for m in re.finditer(r"^\s+entry:\s*(.+)$", config, re.MULTILINE)]


def test_pre_commit_runs_the_checks_of_scripts_check() -> None:
    commands = _check_commands()
    assert len(commands) >= 6  # the parsing found scripts/check's commands
    assert sorted(_hook_entries()) == sorted(commands)
