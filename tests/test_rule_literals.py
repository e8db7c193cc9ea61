"""No input rule is written as words where a code belongs: every `Invalid(...)` that can
reach an API client names a `RuleCode` member, not a string (README, "Error codes")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# settings are read at start-up: their errors go to the operator's terminal, never to a
# client, and name the variable and the rule in words
SETTINGS_MODULES = frozenset(
    {
        "domains/common/settings.py",
        "gateway/config.py",
        "domains/common/egress.py",
        "workers/broker.py",  # the broker URL, a setting
        "domains/common/outbox.py",  # an event kind is the code's own, never a client's
    }
)
ERRORS = frozenset({"Invalid", "AmsInvalid"})


def _calls() -> list[tuple[str, int, ast.expr]]:
    found = []
    for folder in ("domains", "gateway", "workers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in SETTINGS_MODULES:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or len(node.args) < 2:
                    continue
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called in ERRORS:
                    found.append((name, node.lineno, node.args[1]))
    return found


def test_rules_are_codes_not_words() -> None:
    calls = _calls()
    assert len(calls) > 50, "the scan found too few Invalid(...) calls: it is broken"
    words = [
        f"{name}:{line}"
        for name, line, rule in calls
        if isinstance(rule, ast.Constant | ast.JoinedStr | ast.BinOp)
    ]
    assert words == [], "Invalid(...) with a rule in words; give it a RuleCode member"
