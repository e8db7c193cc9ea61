"""No module of the application imports another module's private name (`_user_by_subject`):
what two modules share gets a public name in its owner. The import directions themselves
are import-linter's ([tool.importlinter], scripts/check)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGES = ("gateway", "workers", "migrations", "domains")


def private_imports(path: Path, module: str) -> list[str]:
    """`module.py:line: from X import _name` for each private name imported from another
    module of the application."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if node.module.split(".")[0] not in PACKAGES or node.module == module:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(f"{path}:{node.lineno}: from {node.module} import {alias.name}")
    return found


def test_no_module_imports_a_private_name_of_another(repo_root: Path) -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((repo_root / package).rglob("*.py")):
            relative = path.relative_to(repo_root).with_suffix("")
            found += private_imports(path, ".".join(relative.parts))
    assert found == []


def test_a_private_import_is_found(tmp_path: Path) -> None:
    source = tmp_path / "notifications.py"
    source.write_text(
        "from domains.identity.service import _user_by_subject, require_superuser\n"
        "from domains.common import models as _common\n"
    )
    assert private_imports(source, "domains.downtimes.notifications") == [
        f"{source}:1: from domains.identity.service import _user_by_subject"
    ]
