"""Draining a source batch by batch, each batch one transaction: the shape of the jobs that
read messages from a topic or a subscription (monitoring's results, accounting's records)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import unit_of_work


class Batch(Protocol):
    @property
    def messages(self) -> int:
        """How many messages the batch read."""
        ...


B = TypeVar("B", bound=Batch)


def drain(
    factory: sessionmaker[Session],
    take: Callable[[Session], B | None],
    *,
    max_batches: int,
    report: Callable[[B], None],
) -> int:
    """Takes batches until one is empty (or `max_batches` were taken, so that a periodic job
    gives way to the others), each committed before the next; `report` sees each committed
    batch. How many messages were read."""
    read = 0
    for _ in range(max_batches):
        with unit_of_work(factory) as session:
            batch = take(session)
        if batch is None or batch.messages == 0:
            break
        read += batch.messages
        report(batch)
    return read
