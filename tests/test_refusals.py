"""The check every refusal test relies on (tests/refusals.py `writes_nothing`) sees a write,
and only a write: what a block changed fails it, what it changed and undid does not."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.topology.models import Site
from tests.refusals import writes_nothing


def _site(session: Session) -> Site:
    return session.execute(select(Site).order_by(col(Site.id)).limit(1)).scalar_one()


def _change(session: Session, site: Site) -> None:
    with writes_nothing(session, "the block"):
        site.description = "changed"
        session.flush()


def test_a_changed_row_fails_the_check_and_reading_does_not(session: Session) -> None:
    with writes_nothing(session):
        session.execute(select(Site)).all()
    with pytest.raises(AssertionError, match="the block wrote something"):
        _change(session, _site(session))


def test_a_write_undone_or_to_the_same_values_passes(session: Session) -> None:
    site = _site(session)
    with writes_nothing(session):
        session.execute(
            text("UPDATE site SET description = description WHERE id = :id"), {"id": site.id}
        )
        nested = session.begin_nested()
        site.description = "changed, then undone"
        session.flush()
        nested.rollback()
