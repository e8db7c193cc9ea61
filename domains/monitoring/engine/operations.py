"""ARGO operations profiles: the states, the `defaults` and the truth tables, looked up cell by
cell (reference §3.1). Nothing here knows an order of the states: a report loads a profile and
every combination is that profile's cell. Two rules come from ARGO's code, not the profile:

- a row (a, b, x) also answers (b, a) when the profile has no row for (b, a) (ARGO looks up
  [a][b], then [b][a]; `OperationsManager`, `Timeline.aggregate`);
- EXCLUDED (metrics excluded by a recomputation) is one more state after the profile's,
  and EXCLUDED op X = X (`Timeline.aggregate`).

Statuses inside the engine are ints: the index of the state in `states`, EXCLUDED being
`len(states)`. `cells(op)` is the table of ints that the timeline code looks up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

EXCLUDED = "EXCLUDED"
Cells = tuple[tuple[int, ...], ...]


class ProfileError(ValueError):
    """A profile document ARGO's engine could not run: `path` is the JSON path of the field
    at fault (e.g. `operations[1].truth_table[3].x`, `$` for the whole document)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Defaults:
    """The statuses that stand for a downtime, a metric without data and an unknown period."""

    down: str
    missing: str
    unknown: str


def json_object(value: object, path: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ProfileError(path, "must be an object")
    return value


def json_list(value: object, path: str) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        raise ProfileError(path, "must be a list")
    if not value:
        raise ProfileError(path, "must not be empty")
    return value


def json_text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(path, "must be a non-empty string")
    return value


@dataclass(frozen=True)
class OperationsTable:
    """An operations profile ready to run: `apply` for one cell by name, `cells` for the
    timeline code's int lookups."""

    name: str
    states: tuple[str, ...]
    defaults: Defaults
    _cells: Mapping[str, Cells] = field(repr=False)
    _index: Mapping[str, int] = field(repr=False, compare=False)

    @classmethod
    def from_argo(cls, doc: Mapping[str, object]) -> OperationsTable:
        """Parse ARGO's operations profile JSON (`available_states`, `defaults{down,missing,
        unknown}`, `operations[{name, truth_table[{a,b,x}]}]`; other keys such as `id`,
        `date` are ignored). Raises ProfileError naming the path of the first fault."""
        root = json_object(doc, "$")
        name = root.get("name", "")
        if not isinstance(name, str):
            raise ProfileError("name", "must be a string")
        raw_states = json_list(root.get("available_states"), "available_states")
        states: list[str] = []
        for i, raw in enumerate(raw_states):
            state = json_text(raw, f"available_states[{i}]")
            if state == EXCLUDED:
                raise ProfileError(f"available_states[{i}]", f"{EXCLUDED} is reserved")
            if state in states:
                raise ProfileError(f"available_states[{i}]", f"{state} is listed twice")
            states.append(state)
        for needed in ("OK", "WARNING"):
            if needed not in states:
                raise ProfileError(
                    "available_states", f"must include {needed} (availability counts it as up)"
                )
        index = {state: i for i, state in enumerate(states)}

        def known(value: object, path: str) -> int:
            text = json_text(value, path)
            if text not in index:
                raise ProfileError(path, f"{text} is not one of available_states")
            return index[text]

        raw_defaults = json_object(root.get("defaults"), "defaults")
        picked = {
            key: states[known(raw_defaults.get(key), f"defaults.{key}")]
            for key in ("down", "missing", "unknown")
        }
        defaults = Defaults(picked["down"], picked["missing"], picked["unknown"])

        n = len(states)
        tables: dict[str, Cells] = {}
        for i, raw_op in enumerate(json_list(root.get("operations"), "operations")):
            op = json_object(raw_op, f"operations[{i}]")
            op_name = json_text(op.get("name"), f"operations[{i}].name")
            if op_name in tables:
                raise ProfileError(f"operations[{i}].name", f"{op_name} is defined twice")
            grid = [[-1] * n for _ in range(n)]
            rows = json_list(op.get("truth_table"), f"operations[{i}].truth_table")
            for j, raw_row in enumerate(rows):
                path = f"operations[{i}].truth_table[{j}]"
                row = json_object(raw_row, path)
                a = known(row.get("a"), f"{path}.a")
                b = known(row.get("b"), f"{path}.b")
                grid[a][b] = known(row.get("x"), f"{path}.x")
            # (a, b) answers (b, a) where the profile has no row of its own for (b, a)
            for a in range(n):
                for b in range(n):
                    if grid[a][b] == -1:
                        grid[a][b] = grid[b][a]
                    if grid[a][b] == -1:
                        raise ProfileError(
                            f"operations[{i}].truth_table",
                            f"no row for ({states[a]}, {states[b]}) nor ({states[b]}, {states[a]})",
                        )
            # EXCLUDED op X = X, and EXCLUDED op EXCLUDED = EXCLUDED
            extended = [[*row, a] for a, row in enumerate(grid)]
            extended.append([*range(n), n])
            tables[op_name] = tuple(tuple(row) for row in extended)
        return cls(name, tuple(states), defaults, tables, index)

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(self._cells)

    @property
    def excluded(self) -> int:
        """The int of EXCLUDED, one past the profile's states."""
        return len(self.states)

    def index(self, state: str) -> int:
        """The int of a state (EXCLUDED included); KeyError for a state the profile lacks."""
        if state == EXCLUDED:
            return len(self.states)
        return self._index[state]

    def name_of(self, status: int) -> str:
        return EXCLUDED if status == len(self.states) else self.states[status]

    def cells(self, operation: str) -> Cells:
        """The operation's table of ints, [a][b] -> x; KeyError for an unknown operation."""
        return self._cells[operation]

    def apply(self, operation: str, a: str, b: str) -> str:
        """a `operation` b, as the loaded truth table says."""
        return self.name_of(self._cells[operation][self.index(a)][self.index(b)])
