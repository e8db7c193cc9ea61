"""OPSGRAPH_FEDERATION=true: the subgraph SDL with its keys (refused like introspection when
that is off), and `_entities` loading what `node(id:)` loads, hiding what it hides. Off by
default: tests/test_drift.py checks schema.graphql is the plain schema."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from gateway.schema import export_sdl
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, Callers
from tests.identity.helpers import global_id, grant
from tests.server import copy_demo, run_cli, server_env, serving

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  __typename ... on Site { shortName } ... on SiteApiCredential { identifier } } }"""
SERVICE = "{ _service { sdl } }"
DN = "/DC=org/DC=example/O=Example/CN=federated robot"


def test_service_sdl_has_the_keys_and_is_refused_without_introspection(
    make_client: AppFactory,
) -> None:
    sdl = make_client(federation=True).data(SERVICE)["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])' in sdl
    assert (
        'type Site implements Node @key(fields: "id", resolvable: true) '
        '@key(fields: "shortName", resolvable: true) {'
    ) in sdl
    for name in ("NGI", "Service", "Endpoint", "Downtime"):
        assert f'type {name} implements Node @key(fields: "id", resolvable: true) {{' in sdl
    assert "_entities(representations: [_Any!]!): [_Entity]!" in sdl

    closed = make_client(federation=True, introspection=False).error(SERVICE)
    assert closed["extensions"]["code"] == "BAD_USER_INPUT"
    assert "_service" in closed["message"]
    # and without the setting there is no such field
    assert "_service" in make_client().error(SERVICE)["message"]


def test_entities_load_as_node_does_and_hide_what_it_hides(
    make_client: AppFactory, oidc_issuer: OIDCIssuer, session: Session
) -> None:
    client = make_client(
        federation=True,
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
    )
    callers = Callers(client, oidc_issuer)
    site_id, name = session.execute(
        text("SELECT id, short_name FROM site ORDER BY id LIMIT 1")
    ).one()
    editor_subject = "federated.editor@egi.eu"
    grant(session, editor_subject, "Site Administrator", "site", name)
    editor = callers.as_user(editor_subject)
    added = editor.data(
        "mutation($i: AddSiteApiCredentialInput!) { addSiteApiCredential(input: $i) "
        "{ credential { id } } }",
        {"i": {"siteId": global_id("Site", site_id), "identifier": DN, "kind": "X509"}},
    )["addSiteApiCredential"]["credential"]
    representations = [
        {"__typename": "Site", "id": global_id("Site", site_id)},
        {"__typename": "Site", "shortName": name},
        {"__typename": "Site", "shortName": "no-such-site"},
        {"__typename": "SiteApiCredential", "id": added["id"]},
    ]
    site = {"__typename": "Site", "shortName": name}
    seen = editor.data(ENTITIES, {"r": representations})["_entities"]
    assert seen == [site, site, None, {"__typename": "SiteApiCredential", "identifier": DN}]
    # the anonymous caller: node(id:) shows no credential, nor does _entities
    anonymous = callers.anonymous.data(ENTITIES, {"r": representations})["_entities"]
    assert anonymous == [site, site, None, None]
    node = callers.anonymous.data("query($id: ID!) { node(id: $id) { id } }", {"id": added["id"]})
    assert node["node"] is None

    # a representation of the wrong type or without its key: that item's error, named
    body = editor.post(
        ENTITIES,
        {
            "r": [
                {"__typename": "NGI", "id": global_id("Site", site_id)},
                {"__typename": "NGI", "shortName": name},
                {"__typename": "Nope", "id": global_id("Site", site_id)},
                {"__typename": "Site", "id": global_id("Site", site_id)},
            ]
        },
    )
    assert body["data"]["_entities"] == [None, None, None, site]
    rules = {
        (tuple(e["path"]), e["extensions"]["rule"], e["extensions"]["field"])
        for e in body["errors"]
    }
    assert rules == {
        (("_entities", 0), "WRONG_ID_TYPE", "representations[0].id"),
        (("_entities", 1), "ENTITY_KEY_REQUIRED", "representations[1]"),
        (("_entities", 2), "UNKNOWN_OBJECT_TYPE", "representations[2].__typename"),
    }


def test_a_served_subgraph_answers_service_and_entities(
    demo_database: Path, tmp_path: Path
) -> None:
    """A real `opsgraph serve` with OPSGRAPH_FEDERATION=true: `_service` gives what
    `opsgraph export-schema --federation` prints, `_entities` a demo site by its short name."""
    copy_demo(demo_database, tmp_path)
    exported = run_cli(tmp_path, "export-schema", "--federation")
    assert exported.returncode == 0, exported.stderr
    with serving(server_env(tmp_path, OPSGRAPH_FEDERATION="true"), "--demo") as base:

        def post(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            response = httpx.post(
                f"{base}/graphql", json={"query": query, "variables": variables}, timeout=30
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            data: dict[str, Any] = body["data"]
            return data

        assert post(SERVICE)["_service"]["sdl"] + "\n" == exported.stdout
        name = post("{ sites(first: 1) { nodes { shortName } } }")["sites"]["nodes"][0]
        entities = post(ENTITIES, {"r": [{"__typename": "Site", **name}]})["_entities"]
        assert entities == [{"__typename": "Site", **name}]


# pinned: a composition library's new version is tried here first
COMPOSITION = ("@theguild/federation-composition@0.27.0", "graphql@16.11.0")


def test_the_subgraph_sdl_composes(tmp_path: Path) -> None:
    """The exported subgraph SDL composes into a supergraph with a real composition library
    (installed from npm here: needs the registry, as CI's web build does); an SDL with a
    key on no field does not, so the check can fail."""
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm, "this test needs npm (and its registry) to install the composition library"
    assert node, "this test needs node to run the composition library"
    (tmp_path / "package.json").write_text('{"private": true}\n')
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", *COMPOSITION],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    script = tmp_path / "compose.mjs"
    shutil.copyfile(Path(__file__).with_name("federation_compose.mjs"), script)
    sdl = export_sdl(federation=True)
    broken = sdl.replace('@key(fields: "shortName"', '@key(fields: "noSuchField"')
    assert broken != sdl
    for name, text_, composes in (("good", sdl, True), ("broken", broken, False)):
        (tmp_path / f"{name}.graphql").write_text(text_)
        done = subprocess.run(
            [node, str(script), f"{name}.graphql"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (done.returncode == 0) is composes, (name, done.stdout, done.stderr[-2000:])
