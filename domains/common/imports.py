"""Loading rows from another registry (the GOCDB import) as they are: each row keeps the
id it had there, is created if new, updated in place if it differs and left alone if not,
with an audit entry for what was written. The domains' import functions build on these."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from domains.common import audit
from domains.common.errors import DomainError
from domains.common.identity import Principal


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


class ImportRefused(DomainError):
    """A row that cannot be loaded as given (it names something unknown, or clashes with
    what is there): its whole batch is left unwritten. `entity` says which row."""

    def __init__(self, entity: str, message: str) -> None:
        super().__init__(f"{entity}: {message}")
        self.entity = entity


@dataclass
class Tally:
    """What a load did, per entity type: counts of each outcome, and why rows were skipped."""

    counts: dict[str, dict[Outcome, int]] = field(default_factory=dict)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, entity, why)

    def add(self, kind: str, outcome: Outcome, n: int = 1) -> None:
        per = self.counts.setdefault(kind, dict.fromkeys(Outcome, 0))
        per[outcome] += n

    def skip(self, kind: str, entity: str, why: str) -> None:
        self.add(kind, Outcome.SKIPPED)
        self.skipped.append((kind, entity, why))

    def merge(self, other: Tally) -> None:
        for kind, per in other.counts.items():
            for outcome, n in per.items():
                if n:
                    self.add(kind, outcome, n)
        self.skipped.extend(other.skipped)

    def total(self, outcome: Outcome) -> int:
        return sum(per[outcome] for per in self.counts.values())


def check_distinct(ids: Iterable[int], kind: str) -> None:
    """Refuse a batch naming one id twice (the second row would overwrite the first)."""
    seen: set[int] = set()
    for ident in ids:
        if ident in seen:
            raise ImportRefused(f"{kind} {ident}", "given twice")
        seen.add(ident)


def check_lengths(model: type[SQLModel], values: Mapping[str, Any], entity: str) -> None:
    """Refuse a value longer than its column holds (PostgreSQL would refuse the whole
    statement without saying which row)."""
    columns = model.__table__.c  # type: ignore[attr-defined]
    for name, value in values.items():
        length = getattr(columns[name].type, "length", None)
        if isinstance(value, str) and length is not None and len(value) > length:
            raise ImportRefused(entity, f"{name} is longer than {length} characters")


def upsert_row(
    session: Session,
    model: type[SQLModel],
    values: Mapping[str, Any],
    *,
    entity: str,
    on_create: Mapping[str, Any] | None = None,
) -> tuple[Any, bool, dict[str, list[Any]]]:
    """The row of `model` with these values, found by its id (`values["id"]`): created
    (with `on_create` too) if missing, its differing columns set if not. Returns (row,
    created, {column: [before, after]}); nothing is audited here (`finish` does)."""
    check_lengths(model, values, entity)
    row = session.get(model, values["id"])
    if row is None:
        row = model(**{**values, **(on_create or {})})
        session.add(row)
        session.flush()
        return row, True, audit.diff({}, values)
    changes = audit.diff({name: getattr(row, name) for name in values}, values)
    for name in changes:
        setattr(row, name, values[name])
    if changes:
        session.flush()
    return row, False, changes


def finish(
    session: Session,
    principal: Principal,
    kind: str,
    row: Any,
    *,
    created: bool,
    changes: Mapping[str, list[Any]],
    tally: Tally,
    private: frozenset[str] = frozenset(),
    name: str | None = None,
) -> Outcome:
    """Count and audit (`<kind>.import`) what happened to one imported entity: `changes`
    holds everything written for it (columns, scopes, properties). The values of `private`
    fields (personal data) are shown only as set or unset."""
    if not created and not changes:
        tally.add(kind, Outcome.UNCHANGED)
        return Outcome.UNCHANGED
    shown = {
        name: [None if v is None else "set" for v in pair] if name in private else list(pair)
        for name, pair in changes.items()
    }
    audit.record(
        session,
        principal,
        action=f"{kind}.import",
        entity_type=kind,
        entity_id=row.id,
        entity_name=audit.entity_label(row) if name is None else name,
        changes=shown,
    )
    outcome = Outcome.CREATED if created else Outcome.UPDATED
    tally.add(kind, outcome)
    return outcome


def prefetch(session: Session, model: type[SQLModel], ids: Iterable[int]) -> None:
    """Load the rows of these ids in one statement, so that `upsert_row` finds them in the
    session instead of asking once per row."""
    wanted = sorted(set(ids))
    if wanted:
        session.execute(select(model).where(model.id.in_(wanted))).all()  # type: ignore[attr-defined]


def sync_links(
    session: Session,
    model: type[SQLModel],
    owner: Mapping[str, Any],
    column: str,
    wanted: Iterable[Any],
) -> tuple[list[Any], list[Any]]:
    """Make the link rows of one owner (`owner`: {owner column: id}) to exactly `wanted`
    values of `column`; returns (added, removed), both sorted."""
    ((owner_col, owner_id),) = owner.items()
    current = set(
        session.execute(
            select(getattr(model, column)).where(getattr(model, owner_col) == owner_id)
        ).scalars()
    )
    want = set(wanted)
    added, removed = sorted(want - current), sorted(current - want)
    for value in added:
        session.add(model(**{owner_col: owner_id, column: value}))
    for value in removed:
        session.execute(
            model.__table__.delete().where(  # type: ignore[attr-defined]
                getattr(model, owner_col) == owner_id, getattr(model, column) == value
            )
        )
    if added or removed:
        session.flush()
    return added, removed


def advance_id_sequences(session: Session, *models: type[SQLModel]) -> None:
    """After rows were written with explicit ids: on PostgreSQL, move each table's id
    sequence past the highest id (never back), so that the next row created here gets a
    fresh one. SQLite needs nothing (an INTEGER PRIMARY KEY takes max(id) + 1)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        highest = session.execute(select(func.max(model.id))).scalar_one()  # type: ignore[attr-defined]
        if highest is None:
            continue
        session.execute(
            text(
                "SELECT setval(CAST(s.seq AS regclass), GREATEST(:highest, "
                "COALESCE(pg_sequence_last_value(CAST(s.seq AS regclass)), 0))) "
                "FROM (SELECT pg_get_serial_sequence(:table, 'id') AS seq) AS s"
            ),
            {"table": model.__tablename__, "highest": highest},
        )
