"""Two `opsgraph serve` replicas on one PostgreSQL database: a result published through one
(`publishMetricResults`) arrives on a `statusChanges` subscription opened on the other, over
a real socket, with its site and NGI; one filtered out does not."""

from __future__ import annotations

from pathlib import Path

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import ANONYMOUS
from domains.monitoring.service import changes
from tests.conftest import _ensure_pg_database, pg_test_url
from tests.databases import private_database
from tests.monitoring.live_status import RECEIVE_SECONDS, change_of, prepare, publish, subscribe
from tests.server import serving


def test_a_result_published_on_one_replica_reaches_a_subscriber_of_the_other(
    tmp_path: Path,
) -> None:
    base_url = pg_test_url()
    _ensure_pg_database(base_url)
    with private_database(base_url, tmp_path) as url:
        env, token, endpoint = prepare(url, tmp_path)
        engine = make_engine(url)
        with unit_of_work(make_session_factory(engine)) as session:
            after = changes.last_change_id(session, ANONYMOUS)
        engine.dispose()
        host, stype, metric = endpoint
        with (
            serving(env) as one,
            serving(env) as two,
            subscribe(
                two, {"f": {"hostname": [host], "status": ["CRITICAL"]}, "after": after}
            ) as socket,
        ):
            publish(one, token, endpoint, "OK")  # the first status: filtered out
            publish(one, token, endpoint, "CRITICAL")
            change = change_of(socket.recv(timeout=RECEIVE_SECONDS))
            assert (change["hostname"], change["serviceType"], change["metric"]) == endpoint
            assert change["status"] == "CRITICAL"
            assert change["site"]
            assert change["ngi"]
            assert int(change["id"]) > after
