"""`extensions.rule` codes: one enum per domain, unique across them, each listed in README."""

from __future__ import annotations

import re
from pathlib import Path

import gateway.app  # noqa: F401  (imports every domain, so every RuleCode enum is defined)
from domains.common.errors import RuleCode

README = Path(__file__).resolve().parent.parent / "README.md"


def _enums() -> list[type[RuleCode]]:
    found: list[type[RuleCode]] = []
    pending = list(RuleCode.__subclasses__())
    while pending:
        enum = pending.pop()
        found.append(enum)
        pending.extend(enum.__subclasses__())
    return found


def _codes() -> dict[str, type[RuleCode]]:
    codes: dict[str, type[RuleCode]] = {}
    for enum in _enums():
        for member in enum:
            assert member.code not in codes, f"{member.code} is in {codes[member.code]} and {enum}"
            codes[member.code] = enum
    return codes


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Error codes")
    ends = [i for i in (text.find("\n## ", start), text.find("\n### ", start + 1)) if i != -1]
    return text[start : min(ends, default=len(text))]


def test_codes_are_unique_and_shaped_like_codes() -> None:
    codes = _codes()
    assert len(codes) > 10
    for code in codes:
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", code), code


def test_every_code_is_listed_in_readme() -> None:
    listed = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", _readme_section(), re.M))
    codes = set(_codes())
    assert codes - listed == set(), "codes missing from README's Error codes table"
    assert listed - codes == set(), "README lists codes that no longer exist"


def test_a_rule_worded_like_another_is_still_its_own_member() -> None:
    class Twins(RuleCode):
        TWIN_ONE_EMPTY = "must not be empty"
        TWIN_TWO_EMPTY = "must not be empty"

    assert [m.code for m in Twins] == ["TWIN_ONE_EMPTY", "TWIN_TWO_EMPTY"]
    assert Twins.TWIN_TWO_EMPTY.text == "must not be empty"
