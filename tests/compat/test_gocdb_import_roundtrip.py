"""The round trip (issue 13, item 7): the demo federation exported through opsgraph's own
PI by a real `opsgraph serve`, imported from it into an empty database, and exported again
by a second server on that database: the same XML, byte for byte.

Only the PI methods that exist take part (the registry says which), and an import step
only when what it refers to can be imported too (downtimes and service groups need
get_service): as more methods land, the round trip covers them without a change here."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest

from domains.common.db import make_engine, make_session_factory
from gateway.compat.gocdbpi import METHODS
from gateway.gocdb_import import STEPS, HttpSource, run_import
from gateway.gocdb_import.runner import Step
from tests.compat.test_gocdb_import import fingerprint
from tests.server import cli_output, opsgraph_env, serving

PUBLIC_URL = "https://opsgraph.example.org"
NEEDS = {
    "get_service_group": "get_service",
    "get_downtime_nested_services": "get_service",
    "get_user": "get_site",
}
# what is compared: (method, parameters, the import step its content comes from), each
# where the method exists and that step ran
EXPORTS: tuple[tuple[str, dict[str, str], str], ...] = (
    ("get_roc_list", {}, "get_ngi"),
    ("get_ngi", {"scope": ""}, "get_ngi"),
    ("get_site_list", {"scope": ""}, "get_site"),
    ("get_site", {"scope": ""}, "get_site"),
    ("get_site_count_per_country", {"scope": ""}, "get_site"),
    ("get_service_types", {}, "get_service_types"),
    ("get_service", {"scope": ""}, "get_service"),
    ("get_service_group", {"scope": ""}, "get_service_group"),
    # not get_downtime: its per-service END_DATE shows a service ended early (opsgraph's
    # partial ending), which the nested answer the import reads does not carry
    ("get_downtime_nested_services", {"scope": ""}, "get_downtime_nested_services"),
    ("get_user", {}, "get_user"),
    ("get_cert_status_changes", {}, "get_cert_status_changes"),
)


def _steps() -> list[Step]:
    return [s for s in STEPS if s.method in METHODS and NEEDS.get(s.method, s.method) in METHODS]


def _admin_key(env: dict[str, str]) -> str:
    cli_output(env, "admin", "make-admin", "--subject", "roundtrip.admin@example.org")
    return cli_output(env, "admin", "issue-token", "--subject", "roundtrip.admin@example.org")


def _export(base: str, key: str, imported: set[str]) -> dict[str, bytes]:
    out = {}
    for method, params, step in EXPORTS:
        if method not in METHODS or step not in imported:
            continue
        area = "private" if METHODS[method].level > 1 else "public"
        response = httpx.get(
            f"{base}/gocdbpi/{area}/",
            params={"method": method, **params},
            headers={"x-api-key": key},
            timeout=120,
        )
        assert response.status_code == 200, (method, response.text)
        out[method] = response.content
    return out


def test_the_demo_federation_round_trips_through_the_pi(tmp_path: Path) -> None:
    steps = _steps()
    if not any(s.method == "get_site" for s in steps):  # pragma: no cover
        pytest.skip("the PI has no get_site yet")
    first = opsgraph_env(
        f"sqlite:///{tmp_path / 'first.db'}",
        OPSGRAPH_SHUTDOWN_TIMEOUT="2",
        OPSGRAPH_PUBLIC_URL=PUBLIC_URL,
    )
    cli_output(first, "seed", "--demo")
    first_key = _admin_key(first)
    second_url = f"sqlite:///{tmp_path / 'second.db'}"
    second = opsgraph_env(second_url, OPSGRAPH_SHUTDOWN_TIMEOUT="2", OPSGRAPH_PUBLIC_URL=PUBLIC_URL)
    cli_output(second, "migrate")
    with serving(first) as base:
        imported = {s.method for s in steps}
        exported = _export(base, first_key, imported)
        engine = make_engine(second_url)
        source = HttpSource(f"{base}/gocdbpi", headers={"x-api-key": first_key})
        try:
            result = run_import(make_session_factory(engine), source, steps=steps)
            assert result.failure is None, result.failure
            # and a second import from the running server writes nothing
            before = fingerprint(engine)
            assert run_import(make_session_factory(engine), source, steps=steps).failure is None
            assert fingerprint(engine) == before
        finally:
            source.__exit__(None, None, None)
            engine.dispose()
    second_key = _admin_key(second)
    with serving(second) as base:
        again = _export(base, second_key, imported)
    assert set(again) == set(exported)
    assert len(exported) >= 4
    for method in exported:
        assert again[method] == exported[method], method


def test_the_command_reads_a_real_serve_with_a_client_certificate(tmp_path: Path) -> None:
    """`opsgraph import gocdb --url … --cert … --key … --ca-certs …` as an operator runs it,
    against `opsgraph serve --demo` over HTTPS asking for client certificates: the DN of
    the certificate is linked to a platform administrator, so the protected methods answer.
    `--only` reads the methods that have landed in opsgraph's PI and whose references
    do too."""
    from tests.compat.tls import make_pki

    pki = make_pki(tmp_path / "pki")
    served = opsgraph_env(
        f"sqlite:///{tmp_path / 'served.db'}",
        OPSGRAPH_SHUTDOWN_TIMEOUT="2",
        OPSGRAPH_PUBLIC_URL=PUBLIC_URL,
    )
    cli_output(served, "seed", "--demo")
    cli_output(served, "admin", "make-admin", "--subject", "importer@example.org")
    cli_output(
        served,
        "admin",
        "link-identity",
        "--subject",
        "importer@example.org",
        "--x509",
        pki.valid.dn,
    )
    target = opsgraph_env(f"sqlite:///{tmp_path / 'target.db'}", OPSGRAPH_PUBLIC_URL=PUBLIC_URL)
    tls = (
        "--ssl-certfile",
        str(pki.server.cert_file),
        "--ssl-keyfile",
        str(pki.server.key_file),
        "--ssl-ca-certs",
        str(pki.ca_file),
    )
    only = ",".join(s.method for s in _steps())
    with serving(served, scheme="https", verify=pki.client_context(), extra=tls) as base:
        args = (
            "import",
            "gocdb",
            "--url",
            f"{base}/gocdbpi",
            "--cert",
            str(pki.valid.cert_file),
            "--key",
            str(pki.valid.key_file),
            "--ca-certs",
            str(pki.ca_file),
            "--only",
            only,
        )
        summary = cli_output(target, *args)
        assert "GOCDB import" in summary
        assert "stopped" not in summary
        again = cli_output(target, *args)
    engine = make_engine(str(target["OPSGRAPH_DATABASE_URL"]))
    try:
        with engine.connect() as conn:
            from sqlalchemy import text

            assert conn.execute(text("SELECT count(*) FROM site")).scalar_one() > 5
    finally:
        engine.dispose()
    # the second run: every row unchanged
    for line in again.splitlines():
        cells = [c.strip() for c in line.split("│") if c.strip()]
        if len(cells) == 5 and cells[1].isdigit():
            assert cells[1:3] == ["0", "0"], line
