"""`opsgraph import gocdb --dir`: a saved set of GOCDB PI answers (tests/compat/data/gocdb,
written for these tests in GOCDB's format) loaded into an empty database on both
backends, keeping GOCDB's ids and primary keys; a second run changes nothing; a run that
fails leaves whole batches and a re-run completes it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import SQLModel

from domains.common.db import make_engine, make_session_factory
from domains.common.identity import PLATFORM
from domains.common.imports import Outcome
from domains.topology.models import Site
from domains.topology.service import writes
from gateway.cli import main
from gateway.gocdb_import import DirectorySource, Options, Result, run_import
from tests.databases import private_database

DATA = Path(__file__).parent / "data" / "gocdb" / "federation"


@pytest.fixture
def empty_db(database_url: str, tmp_path: Path) -> Iterator[str]:
    with private_database(database_url, tmp_path) as url:
        yield url


@pytest.fixture
def db(empty_db: str) -> Iterator[Engine]:
    engine = make_engine(empty_db)
    yield engine
    engine.dispose()


def _factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def run(engine: Engine, directory: Path = DATA, **options: Any) -> Result:
    return run_import(_factory(engine), DirectorySource(directory), options=Options(**options))


def fingerprint(
    engine: Engine, *, without: tuple[str, ...] = ()
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the columns `without`), in a stable order: equal iff
    nothing was written."""
    with engine.connect() as conn:
        return {
            table.name: sorted(
                tuple(str(v) for v in row)
                for row in conn.execute(
                    select(*(c for c in table.columns if c.name not in without))
                )
            )
            for table in SQLModel.metadata.sorted_tables
        }


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_a_saved_federation_is_imported_keeping_gocdb_ids_and_keys(db: Engine) -> None:
    result = run(db)
    assert result.failure is None
    counts = result.tally.counts
    assert counts["site"][Outcome.CREATED] == 3
    assert counts["service"][Outcome.CREATED] == 3
    assert counts["endpoint"][Outcome.CREATED] == 3
    assert counts["downtime"][Outcome.CREATED] == 3
    assert counts["user"][Outcome.CREATED] == 2
    assert ("user", "user 13G0", "neither a CERTDN nor an EGICHECKIN identifier") in (
        result.tally.skipped
    )
    assert any(kind == "role" and "GONE-SITE" in why for kind, _e, why in result.tally.skipped)
    with db.connect() as conn:
        sites = conn.execute(
            text("SELECT id, primary_key, short_name, notify FROM site ORDER BY id")
        ).all()
        assert [tuple(s) for s in sites] == [
            (101, "101G0", "AQ-ALPHA", True),
            (102, "4711G0", "AQ-BETA", False),
            (205, "205G0", "BZ-GAMMA", False),
        ]
        assert conn.execute(text("SELECT description FROM site WHERE id = 102")).scalar_one() == (
            "Storage & archive"
        )
        props = conn.execute(
            text("SELECT id, key, value FROM site_property WHERE site_id = 101 ORDER BY id")
        ).all()
        assert [tuple(p) for p in props] == [(301, "tier", "2"), (302, "hepspec_total", "12000")]
        services = conn.execute(
            text("SELECT id, primary_key, site_id, production, beta FROM service ORDER BY id")
        ).all()
        assert [tuple(s) for s in services] == [
            (1001, "1001G0", 101, True, False),
            (1002, "1002G0", 102, False, True),
            (1003, "1003G0", 205, True, False),
        ]
        # an endpoint without an interface name takes its service's type, as in GOCDB
        assert conn.execute(
            text("SELECT interface_name FROM endpoint WHERE id = 33")
        ).scalar_one() == ("ARC-CE")
        downtimes = conn.execute(
            text("SELECT id, primary_key, classification, severity FROM downtime ORDER BY id")
        ).all()
        assert [tuple(d) for d in downtimes] == [
            (900, "900G0", "SCHEDULED", "OUTAGE"),
            (901, "88812G0", "UNSCHEDULED", "WARNING"),
            # declared an hour ahead and SCHEDULED in GOCDB: kept, no 24-hour rule applied
            (902, "902G0", "SCHEDULED", "OUTAGE"),
        ]
        group = conn.execute(
            text("SELECT service_id FROM service_group_member WHERE service_group_id = 41")
        ).scalar_one()
        assert group == 1002
        # the NGIs belong to the one project; scopes by name
        assert conn.execute(text("SELECT count(*) FROM project_ngi")).scalar_one() == 2
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM site_scope JOIN scope ON scope.id = scope_id "
                    "WHERE site_id = 101 AND scope.name IN ('EGI', 'wlcg')"
                )
            ).scalar_one()
            == 2
        )
        user = conn.execute(
            text(
                "SELECT subject, name, forename, title, home_site_id FROM user_account "
                "WHERE id = 11"
            )
        ).one()
        assert tuple(user) == ("0123456789abcdef@egi.eu", "Anna Rossi", "Anna", "Dr", 101)
        assert (
            conn.execute(
                text("SELECT subject FROM user_identity WHERE user_id = 12 AND issuer = 'X.509'")
            ).scalar_one()
            == "/DC=org/DC=example/O=AQ/CN=Bruno Keller"
        )
        roles = conn.execute(
            text("SELECT role_type, entity_type, entity_id, status FROM role ORDER BY id")
        ).all()
        assert {tuple(r) for r in roles} == {
            ("Site Administrator", "site", 101, "GRANTED"),
            ("Service Group Administrator", "service_group", 41, "GRANTED"),
            ("NGI Operations Manager", "ngi", 3, "GRANTED"),
            ("COD Staff", "project", 1, "GRANTED"),
        }
        history = conn.execute(
            text("SELECT id, old_status, new_status FROM certification_status_log ORDER BY id")
        ).all()
        assert [tuple(h) for h in history] == [
            (70, "Candidate", "Uncertified"),
            (71, "Uncertified", "Certified"),
        ]
        # personal data is audited as set, not its value
        changes = conn.execute(
            text("SELECT changes FROM audit_entry WHERE action = 'user.import' AND entity_id = 11")
        ).scalar_one()
        assert "anna.rossi" not in str(changes)
        # the import announces nothing: no outbox events
        assert conn.execute(text("SELECT count(*) FROM outbox_event")).scalar_one() == 0


def test_downtime_dates_and_links_are_gocdbs(db: Engine) -> None:
    assert run(db).failure is None
    with _factory(db)() as session:
        from domains.downtimes.models import Downtime, DowntimeEndpoint, DowntimeService

        past = session.get(Downtime, 900)
        assert past is not None
        assert past.declared_at == datetime.fromtimestamp(1740300000, UTC)
        assert past.starts_at == datetime.fromtimestamp(1740560400, UTC)
        assert past.started_notified
        assert past.ended_notified
        future = session.get(Downtime, 902)
        assert future is not None
        assert not future.started_notified
        links = session.execute(select(DowntimeService)).scalars().all()
        assert {(link.downtime_id, link.service_id, link.all_endpoints) for link in links} == {
            (900, 1001, False),  # one endpoint of two
            (901, 1002, True),
            (902, 1003, True),  # its only endpoint: the whole service
        }
        endpoints = session.execute(select(DowntimeEndpoint)).scalars().all()
        assert [(e.downtime_id, e.endpoint_id) for e in endpoints] == [(900, 31)]


def test_a_second_run_changes_nothing(db: Engine) -> None:
    assert run(db).failure is None
    before = fingerprint(db)
    again = run(db)
    assert again.failure is None
    assert again.tally.total(Outcome.CREATED) == 0
    assert again.tally.total(Outcome.UPDATED) == 0
    assert again.tally.total(Outcome.UNCHANGED) > 20
    # nothing written, the change log included
    assert fingerprint(db) == before


def test_a_change_in_gocdb_updates_in_place(db: Engine, tmp_path: Path) -> None:
    assert run(db).failure is None
    changed = tmp_path / "changed"
    shutil.copytree(DATA, changed)
    page = changed / "get_site.2.xml"
    page.write_text(page.read_text().replace("Cloud site", "Cloud site, renamed"))
    services = changed / "get_service.xml"
    services.write_text(services.read_text().replace("<VALUE>atlas</VALUE>", "<VALUE>cms</VALUE>"))
    audit_before = scalar(db, "SELECT count(*) FROM audit_entry")
    result = run(db, changed)
    assert result.failure is None
    assert result.tally.counts["site"][Outcome.UPDATED] == 1
    assert result.tally.counts["service"][Outcome.UPDATED] == 1
    assert scalar(db, "SELECT description FROM site WHERE id = 205") == "Cloud site, renamed"
    assert scalar(db, "SELECT value FROM service_property WHERE id = 501") == "cms"
    assert scalar(db, "SELECT count(*) FROM audit_entry") == audit_before + 2
    assert scalar(db, "SELECT count(*) FROM site") == 3


def test_a_site_created_after_an_import_gets_a_new_id(db: Engine) -> None:
    assert run(db).failure is None
    with _factory(db).begin() as session:
        site = writes.create_site(session, PLATFORM, short_name="AQ-NEW", ngi_id=3, country_id=1)
        assert site.id is not None
        assert site.id > 205
        assert site.primary_key == f"{site.id}G0"
    with _factory(db)() as session:
        assert session.execute(select(Site.id).where(Site.short_name == "AQ-NEW")).scalar_one()  # type: ignore[call-overload]


def test_a_run_that_fails_midway_leaves_whole_batches_and_a_rerun_completes_it(
    db: Engine, empty_db: str, tmp_path: Path, database_url: str
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(DATA, broken)
    good_page = (broken / "get_site.2.xml").read_text()
    (broken / "get_site.2.xml").write_text(good_page.replace("</SITE>", "</SITE"))
    result = run(db, broken, batch_size=1)
    assert result.failure is not None
    assert "get_site.2.xml" in result.failure
    assert "not well-formed" in result.failure
    # the first page's batches are there, nothing after the bad page
    assert scalar(db, "SELECT count(*) FROM site") == 2
    assert scalar(db, "SELECT count(*) FROM service") == 0
    (broken / "get_site.2.xml").write_text(good_page)
    assert run(db, broken).failure is None
    # the same as one clean run into an empty database (but for the change log's times)
    with private_database(database_url, tmp_path) as clean_url:
        clean = make_engine(clean_url)
        try:
            assert run(clean).failure is None
            times = ("created_at", "requested_at", "decided_at", "at")
            assert _counted(fingerprint(db, without=times)) == _counted(
                fingerprint(clean, without=times)
            )
        finally:
            clean.dispose()


def _counted(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    """The change log by its count (its ids differ: the failed run's batches are in it)."""
    return {name: len(rows) if name == "audit_entry" else rows for name, rows in tables.items()}


def _edit(tmp_path: Path, name: str, old: str, new: str) -> Path:
    directory = tmp_path / "edited"
    if not directory.exists():
        shutil.copytree(DATA, directory)
    path = directory / name
    content = path.read_text()
    assert old in content
    path.write_text(content.replace(old, new))
    return directory


def test_a_service_of_an_unknown_site_refuses_its_whole_batch(db: Engine, tmp_path: Path) -> None:
    directory = _edit(
        tmp_path, "get_service.xml", "<SITENAME>AQ-BETA</SITENAME>", "<SITENAME>NOWHERE</SITENAME>"
    )
    result = run(db, directory)
    assert result.failure == (
        "get_service.xml: service 1002G0 (dav.beta.aq.example.org): unknown site 'NOWHERE'"
    )
    # the services before it in the same batch were not written either
    assert scalar(db, "SELECT count(*) FROM service") == 0
    assert scalar(db, "SELECT count(*) FROM endpoint") == 0
    assert scalar(db, "SELECT count(*) FROM site") == 3


def test_a_downtime_of_an_unknown_service_is_refused(db: Engine, tmp_path: Path) -> None:
    directory = _edit(
        tmp_path,
        "get_downtime_nested_services.xml",
        "<PRIMARY_KEY>1003G0</PRIMARY_KEY>",
        "<PRIMARY_KEY>7777G0</PRIMARY_KEY>",
    )
    result = run(db, directory)
    assert (
        result.failure == "get_downtime_nested_services.xml: downtime 902G0: unknown service 7777G0"
    )
    assert scalar(db, "SELECT count(*) FROM downtime") == 0
    assert scalar(db, "SELECT count(*) FROM service") == 3


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "get_site.1.xml",
            "<CERTIFICATION_STATUS>Certified",
            "<CERTIFICATION_STATUS>Great",
            "site AQ-ALPHA: unknown certification status 'Great'",
        ),
        (
            "get_site.1.xml",
            "<LATITUDE>42.35",
            "<LATITUDE>north",
            "site AQ-ALPHA: LATITUDE 'north' is not a number",
        ),
        (
            "get_site.1.xml",
            "<ROC>NGI_AQ</ROC>",
            "<ROC>NGI_XX</ROC>",
            "site AQ-ALPHA: unknown NGI 'NGI_XX'",
        ),
        (
            "get_service.xml",
            "<BETA>N</BETA>",
            "<BETA>maybe</BETA>",
            "service 1001G0 (ce.alpha.aq.example.org): BETA is 'maybe', not Y or N",
        ),
        (
            "get_service.xml",
            'PRIMARY_KEY="1002G0"',
            'PRIMARY_KEY="abc"',
            "primary key 'abc' is not of the form <n>G0",
        ),
        (
            "get_downtime_nested_services.xml",
            "<START_DATE>1740560400",
            "<START_DATE>soon",
            "downtime 900G0: START_DATE 'soon' is not a whole number",
        ),
        (
            "get_downtime_nested_services.xml",
            "<END_DATE>1740582000",
            "<END_DATE>1740000000",
            "downtime 900G0: ends before it starts",
        ),
        (
            "get_downtime_nested_services.xml",
            'CLASSIFICATION="SCHEDULED"',
            'CLASSIFICATION="X"',
            "downtime 900G0: unknown classification 'X'",
        ),
        (
            "get_service_group.xml",
            'SERVICE_ENDPOINT PRIMARY_KEY="1002G0"',
            'SERVICE_ENDPOINT PRIMARY_KEY="9999G0"',
            "service group AQ_STORAGE: unknown service 9999G0",
        ),
        (
            "get_ngi.xml",
            "<OBJECT_ID>7</OBJECT_ID>",
            "<OBJECT_ID>3</OBJECT_ID>",
            "ngi 3: given twice",
        ),
        ("get_ngi.xml", "<results>", "<!DOCTYPE results><results>", "a DTD"),
        (
            "get_ngi.xml",
            "<results>",
            "<results><error>Unknown parameter</error>",
            "the PI answered an error: Unknown parameter",
        ),
        ("get_service_types.xml", "<results>\n", "<answer>\n", "<answer> where"),
    ],
)
def test_bad_data_is_reported_with_its_entity_and_nothing_of_its_batch_is_written(
    db: Engine, tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    if new.startswith("<answer>"):
        directory = _edit(tmp_path, name, "</results>", "</answer>")
        _edit(tmp_path, name, old, new)
    else:
        directory = _edit(tmp_path, name, old, new)
    result = run(db, directory)
    assert result.failure is not None
    assert message in result.failure
    table = {
        "get_site.1.xml": "site",
        "get_service.xml": "service",
        "get_downtime_nested_services.xml": "downtime",
        "get_service_group.xml": "service_group",
        "get_ngi.xml": "ngi",
        "get_service_types.xml": "service_type",
    }[name]
    assert scalar(db, f"SELECT count(*) FROM {table}") == 0


def test_a_user_holding_another_users_id_is_refused(db: Engine) -> None:
    with _factory(db).begin() as session:
        session.execute(
            text(
                "INSERT INTO user_account (id, subject, is_admin, created_at) "
                "VALUES (11, 'someone.else@egi.eu', false, '2025-01-01')"
            )
        )
    result = run(db)
    assert result.failure is not None
    assert "user 11G0: id 11 is held by user 'someone.else@egi.eu'" in result.failure
    assert scalar(db, "SELECT subject FROM user_account WHERE id = 11") == "someone.else@egi.eu"


def test_a_missing_method_is_skipped_and_said(db: Engine, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(DATA, partial)
    (partial / "get_user.xml").unlink()
    result = run(db, partial)
    assert result.failure is None
    assert ("users", "get_user", f"no get_user.xml in {partial}") in result.tally.skipped
    assert scalar(db, "SELECT count(*) FROM user_account") == 0


def test_the_command(
    empty_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATABASE_URL", empty_db)
    assert main(["import", "gocdb", "--dir", str(DATA)]) == 0
    out = capsys.readouterr()
    assert "GOCDB import" in out.out
    assert "downtime" in out.out
    assert "skipped user: user 13G0" in out.out
    assert "sites" in out.err  # the progress bars
    assert main(["import", "gocdb", "--dir", str(DATA), "--batch-size", "2"]) == 0
    directory = _edit(tmp_path, "get_service.xml", "<SITENAME>AQ-BETA", "<SITENAME>NOWHERE")
    assert main(["import", "gocdb", "--dir", str(directory)]) == 1
    assert "stopped: get_service.xml: service 1002G0" in capsys.readouterr().out
    assert main(["import", "gocdb", "--dir", str(tmp_path / "nothing")]) == 2
    assert main(["import", "gocdb", "--dir", str(DATA), "--cert", "c.pem"]) == 2
    assert main(["import", "gocdb", "--dir", str(DATA), "--batch-size", "0"]) == 2
    assert main(["import", "gocdb", "--dir", str(DATA), "--only", "get_nothing"]) == 2
    capsys.readouterr()
    assert (
        main(["import", "gocdb", "--dir", str(DATA), "--only", "get_downtime_nested_services"]) == 0
    )
    assert "downtime" in capsys.readouterr().out
