"""What a run shows: a progress bar per PI method while it runs (on standard error, only
on a terminal), then a summary of what was created, updated, left unchanged and skipped,
per entity type, with the reasons for what was skipped, and what stopped the run."""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from domains.common.imports import Outcome
from gateway.gocdb_import.runner import Result, Step


class BarProgress:
    """runner.Progress as rich's bars: the rows loaded so far, per method."""

    def __init__(self, stream: IO[str]) -> None:
        self.bars = Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> BarProgress:
        self.bars.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.bars.stop()

    def start(self, step: Step) -> None:
        self.tasks[step.name] = self.bars.add_task(step.name, total=None)

    def advance(self, step: Step, rows: int) -> None:
        self.bars.advance(self.tasks[step.name], rows)

    def finish(self, step: Step) -> None:
        task = self.tasks[step.name]
        done = self.bars.tasks[task].completed
        self.bars.update(task, total=done or 1, completed=done or 1)


def print_summary(result: Result, stream: IO[str]) -> None:
    console = Console(file=stream, width=120)
    table = Table(title="GOCDB import")
    table.add_column("entity")
    for outcome in Outcome:
        table.add_column(outcome.value, justify="right")
    for kind, counts in sorted(result.tally.counts.items()):
        table.add_row(kind, *(str(counts[o]) for o in Outcome))
    console.print(table)
    for kind, entity, why in result.tally.skipped:
        console.print(f"skipped {kind}: {entity}: {why}", highlight=False)
    if result.failure:
        console.print(
            f"stopped: {result.failure}\n(what was loaded before stays; run again once it "
            "is fixed: the import completes what is there)",
            highlight=False,
        )
