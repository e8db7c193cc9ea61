"""The query shapes `benchmarks/peer.py` times against PostGraphile are valid against
opsgraph's schema and answer what they claim to ask (PostGraphile itself is not started here)."""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from benchmarks.peer import FILTER_NGIS, SHAPES, count_objects
from domains.topology.seed import seed_scale
from tests.conftest import GraphQLClient


def test_the_benchmark_shapes_answer_on_opsgraph(gql: GraphQLClient, session: Session) -> None:
    seed_scale(session, 60)
    session.flush()
    ngis = list(session.execute(text("SELECT name FROM ngi ORDER BY id")).scalars())
    answers = {
        name: gql.data(shape.opsgraph, shape.variables(ngis)) for name, shape in SHAPES.items()
    }

    sites = [edge["node"] for edge in answers["reference"]["sites"]["edges"]]
    total = session.execute(text("SELECT count(*) FROM site")).scalar_one()
    assert len(sites) == min(100, total)  # whatever else the test database holds, too
    assert all(site["ngi"]["name"] and site["services"] for site in sites)
    assert any(service["endpoints"] for site in sites for service in site["services"])

    # the filter as the PostGraphile document spells it, in SQL
    expected = session.execute(
        text(
            "SELECT s.short_name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "WHERE n.name IN :ngis AND s.certification_status = 'Certified' AND EXISTS ("
            "SELECT 1 FROM site_scope l JOIN scope c ON c.id = l.scope_id "
            "WHERE l.site_id = s.id AND c.name = 'EGI') ORDER BY s.id"
        ).bindparams(bindparam("ngis", list(ngis[:FILTER_NGIS]), expanding=True)),
    ).scalars()
    filtered = answers["filtered"]["sites"]
    assert [e["node"]["shortName"] for e in filtered["edges"]] == list(expected)
    assert filtered["totalCount"] == len(filtered["edges"]) > 0
    assert {e["node"]["certificationStatus"] for e in filtered["edges"]} == {"CERTIFIED"}

    deep = [edge["node"] for edge in answers["deep"]["ngis"]["edges"]]
    assert [n["name"] for n in deep] == ngis[:10]
    endpoints = [e for n in deep for s in n["sites"] for v in s["services"] for e in v["endpoints"]]
    assert endpoints
    assert all("properties" in e for e in endpoints)
    # the objects counted: every site, NGI, service and endpoint of the reference answer
    services = [v for s in sites for v in s["services"]]
    assert count_objects(answers["reference"]) == 2 * len(sites) + len(services) + sum(
        len(v["endpoints"]) for v in services
    )
