"""Readers and writers (domains/common/db.py) on a SQLite file: only a writer's transaction takes
the write lock, and it takes it when it begins; a slow read never holds up a writer; the
writers of one process take turns in the order they came; a reader is refused any write.

Before: `opsgraph serve` began every transaction with BEGIN IMMEDIATE, reads included, so
a read held the write lock for as long as it ran and writers waited (and failed after 5 s)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, Integer, String, delete, func, insert, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from domains.common.db import (
    WRITE_INTENT,
    ReadOnlySession,
    WriteGate,
    make_engine,
    make_session_factory,
    set_write_intent,
    unit_of_work,
)
from domains.common.errors import Invalid
from gateway.config import Settings


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


@dataclass
class Db:
    path: Path
    engine: Engine
    factory: sessionmaker[Session]

    def count(self) -> int:
        with unit_of_work(self.factory, write=False) as session:
            return session.execute(select(func.count()).select_from(Item)).scalar_one()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    path = tmp_path / "intent.db"
    engine = make_engine(f"sqlite:///{path}", busy_timeout_ms=30_000)
    Base.metadata.create_all(engine)
    yield Db(path, engine, make_session_factory(engine))
    engine.dispose()


def _write_lock_is_free(path: Path) -> bool:
    """Whether another process could begin a write now (without waiting)."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
    finally:
        probe.close()
    return True


def test_a_reader_takes_no_write_lock_and_a_writer_takes_it_when_it_begins(db: Db) -> None:
    with unit_of_work(db.factory, write=False) as reader:
        reader.execute(select(func.count()).select_from(Item))
        assert _write_lock_is_free(db.path)
    with unit_of_work(db.factory, write=True) as writer:
        writer.execute(select(func.count()).select_from(Item))  # reads only, so far
        assert not _write_lock_is_free(db.path)
    assert _write_lock_is_free(db.path)  # released with the commit


def test_a_slow_read_does_not_block_a_writer(db: Db) -> None:
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            with unit_of_work(db.factory, write=True) as session:
                session.add(Item(name="written while a read was open"))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with unit_of_work(db.factory, write=False) as reader:
        before = reader.execute(select(func.count()).select_from(Item)).scalar_one()
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=60)  # generous: the writer must not wait for this reader at all
        assert not writer.is_alive(), "the writer waited for the open read"
        assert outcome == [None]
        # the reader goes on in its own snapshot
        assert reader.execute(select(func.count()).select_from(Item)).scalar_one() == before
    assert db.count() == before + 1


def test_writers_of_one_process_take_turns_in_the_order_they_came() -> None:
    gate = WriteGate()
    gate.acquire(timeout=5)
    served: list[int] = []
    threads = []
    for i in range(6):

        def take(i: int = i) -> None:
            gate.acquire(timeout=60)
            served.append(i)
            gate.release()

        thread = threading.Thread(target=take)
        thread.start()
        threads.append(thread)
        while gate.waiting < i + 1:  # thread i is in the queue before thread i+1 starts
            threading.Event().wait(0.001)
    gate.release()
    for thread in threads:
        thread.join(timeout=60)
    assert served == list(range(6))


def test_a_writer_waits_for_its_turn_only_as_long_as_the_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'short.db'}", busy_timeout_ms=200)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with unit_of_work(factory, write=True) as session:
            session.execute(text("SELECT 1"))
            holding.set()
            done.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(60)
        with (
            pytest.raises(TimeoutError, match="waited 0.2 s for the SQLite write lock"),
            unit_of_work(factory, write=True) as session,
        ):
            session.execute(text("SELECT 1"))
    finally:
        done.set()
        holder.join(timeout=60)
        engine.dispose()


def test_a_second_writer_in_a_thread_that_holds_one_is_refused_not_left_waiting(db: Db) -> None:
    with unit_of_work(db.factory, write=True) as outer:
        outer.execute(text("SELECT 1"))
        with (
            pytest.raises(RuntimeError, match="second SQLite write transaction"),
            unit_of_work(db.factory, write=True) as inner,
        ):
            inner.execute(text("SELECT 1"))
        with unit_of_work(db.factory, write=False) as reader:  # reading meanwhile is fine
            reader.execute(text("SELECT 1"))


def test_a_reader_is_refused_any_write_and_nothing_is_written(db: Db) -> None:
    with unit_of_work(db.factory, write=True) as session:
        session.add(Item(id=1, name="kept"))

    def add(s: Session) -> None:
        s.add(Item(name="new"))

    def change(s: Session) -> None:
        item = s.get(Item, 1)
        assert item is not None
        item.name = "changed"

    def remove(s: Session) -> None:
        s.delete(s.get(Item, 1))

    for attempt in (add, change, remove):
        with db.factory() as reader:
            set_write_intent(reader, False)
            attempt(reader)
            with pytest.raises(ReadOnlySession):
                reader.flush()
    for statement in (
        insert(Item).values(name="core"),
        update(Item).values(name="core"),
        delete(Item),
    ):
        with db.factory() as reader:
            set_write_intent(reader, False)
            with pytest.raises(ReadOnlySession):
                reader.execute(statement)
    with unit_of_work(db.factory, write=False) as reader:
        assert [(i.id, i.name) for i in reader.scalars(select(Item))] == [(1, "kept")]


def test_sessions_nobody_declared_read_and_write_as_before(db: Db) -> None:
    with db.factory() as session:
        assert WRITE_INTENT not in session.info
        session.add(Item(name="undeclared"))
        session.commit()
    assert db.count() == 1


def test_the_intent_is_set_before_the_first_statement(db: Db) -> None:
    with db.factory() as session:
        session.execute(text("SELECT 1"))
        with pytest.raises(RuntimeError, match="before its first statement"):
            set_write_intent(session, True)


def test_a_factory_for_background_work_makes_writers(db: Db) -> None:
    workers = make_session_factory(db.engine, write=True)
    with workers() as session:
        assert session.info[WRITE_INTENT] is True
        session.execute(text("SELECT 1"))
        assert not _write_lock_is_free(db.path)
        session.rollback()
    with workers.begin() as session:
        session.add(Item(name="from a job"))
    assert db.count() == 1


def test_the_busy_timeout_is_a_setting(tmp_path: Path) -> None:
    assert Settings.from_env({}).sqlite_busy_timeout_ms == 60_000
    settings = Settings.from_env({"OPSGRAPH_SQLITE_BUSY_TIMEOUT_MS": "90000"})
    assert settings.sqlite_busy_timeout_ms == 90_000
    with pytest.raises(Invalid) as refused:
        Settings.from_env({"OPSGRAPH_SQLITE_BUSY_TIMEOUT_MS": "-1"})
    assert refused.value.field == "OPSGRAPH_SQLITE_BUSY_TIMEOUT_MS"
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}", busy_timeout_ms=90_000)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 90_000
    finally:
        engine.dispose()
