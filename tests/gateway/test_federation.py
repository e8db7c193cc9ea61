"""OPSGRAPH_FEDERATION=true: the subgraph SDL with its keys (refused like introspection when
that is off), and `_entities` loading what `node(id:)` loads, hiding what it hides. Off by
default: tests/test_drift.py checks schema.graphql is the plain schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import strawberry
import uvicorn
from sqlalchemy import text
from sqlalchemy.orm import Session
from strawberry.asgi import GraphQL

from gateway.persisted import digest_of
from gateway.schema import export_sdl
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, Callers
from tests.identity.helpers import global_id, grant
from tests.server import cli_output, copy_demo, free_port, run_cli, server_env, serving

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


# pinned: a new version of these is tried here first. The composition library checks the
# exported SDL; Apollo Gateway (composing from `_service`) with Apollo Server is the router.
COMPOSITION = ("@theguild/federation-composition@0.27.0", "graphql@16.11.0")
ROUTER = ("@apollo/gateway@2.14.4", "@apollo/server@4.12.2")
ROUTER_SUBJECT = "federation-router@example.org"


@pytest.fixture(scope="module")
def node_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One npm install of the composition library and the router for this module (needs the
    registry, as CI's web build does): the directory the scripts run in."""
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm, "these tests need npm (and its registry) to install the federation packages"
    assert node, "these tests need node to run them"
    directory = tmp_path_factory.mktemp("federation-npm")
    (directory / "package.json").write_text('{"private": true, "type": "module"}\n')
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", *COMPOSITION, *ROUTER],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    for script in ("federation_compose.mjs", "federation_router.mjs"):
        shutil.copyfile(Path(__file__).with_name(script), directory / script)
    return directory


def test_the_subgraph_sdl_composes(node_packages: Path) -> None:
    """The exported subgraph SDL composes into a supergraph with a real composition library;
    an SDL with a key on no field does not, so the check can fail."""
    sdl = export_sdl(federation=True)
    broken = sdl.replace('@key(fields: "shortName"', '@key(fields: "noSuchField"')
    assert broken != sdl
    for name, text_, composes in (("good", sdl, True), ("broken", broken, False)):
        (node_packages / f"{name}.graphql").write_text(text_)
        done = subprocess.run(
            [str(shutil.which("node")), "federation_compose.mjs", f"{name}.graphql"],
            cwd=node_packages,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (done.returncode == 0) is composes, (name, done.stdout, done.stderr[-2000:])


@strawberry.federation.type(name="Site", keys=["shortName"])
class InventorySite:
    """A second subgraph's Site, as another team would write it: it extends opsgraph's Site
    (by its `shortName` key) with `rackCount`."""

    short_name: str

    @strawberry.field
    def rack_count(self, info: strawberry.Info) -> int | None:
        racks: dict[str, int] = info.context["racks"]
        return racks.get(self.short_name)

    @classmethod
    def resolve_reference(cls, **representation: Any) -> InventorySite:
        return cls(short_name=representation["shortName"])


@strawberry.type(name="Query")
class InventoryQuery:
    @strawberry.field
    def racked_sites(self, info: strawberry.Info) -> list[InventorySite]:
        return [InventorySite(short_name=name) for name in info.context["racks"]]


class Inventory(GraphQL[dict[str, Any], None]):
    """The inventory subgraph over HTTP, knowing the racks of its sites."""

    def __init__(self, racks: dict[str, int]) -> None:
        super().__init__(strawberry.federation.Schema(query=InventoryQuery, types=[InventorySite]))
        self.racks = racks

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"racks": self.racks}


@contextmanager
def _serving_inventory(racks: dict[str, int]) -> Iterator[str]:
    """The inventory subgraph on uvicorn in a thread; its GraphQL URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Inventory(racks), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the inventory subgraph did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _routing(node_packages: Path, opsgraph: str, inventory: str, api_key: str) -> Iterator[str]:
    """Apollo Gateway composing opsgraph and the inventory from their `_service`, sending
    `api_key` to opsgraph as its credential; the router's URL once it answers."""
    port = free_port()
    log = node_packages / f"router-{port}.log"
    with log.open("w") as sink:
        router = subprocess.Popen(
            [
                str(shutil.which("node")),
                "federation_router.mjs",
                f"opsgraph={opsgraph}/graphql",
                f"inventory={inventory}",
            ],
            cwd=node_packages,
            env={**os.environ, "ROUTER_PORT": str(port), "ROUTER_API_KEY": api_key},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        while "router ready" not in log.read_text():
            assert router.poll() is None, f"the router did not start: {log.read_text()}"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        router.terminate()
        router.wait(timeout=10)


def _post(url: str, query: str, **headers: str) -> dict[str, Any]:
    response = httpx.post(url, json={"query": query}, headers=headers, timeout=30)
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    return body


JOINED_FROM_OPSGRAPH = "{ sites(first: 3) { nodes { shortName officialName rackCount } } }"
JOINED_FROM_INVENTORY = "{ rackedSites { shortName rackCount officialName } }"
AD_HOC_ENTITIES = (
    'query { _entities(representations: [{__typename: "Site", shortName: "%s"}]) '
    "{ ... on Site { officialName } } }"
)


def test_a_router_joins_opsgraph_and_a_second_subgraph_in_trusted_mode_too(
    node_packages: Path, demo_database: Path, tmp_path: Path
) -> None:
    """A real router in front of `opsgraph serve` (OPSGRAPH_FEDERATION=true) and an inventory
    subgraph that extends Site: one query reads opsgraph's fields and the inventory's, joined
    by `shortName` both ways. Then with OPSGRAPH_TRUSTED_DOCUMENTS=only: the router's
    credential (OPSGRAPH_FEDERATION_GATEWAY_SUBJECTS) still composes (`_service`) and joins
    through opsgraph's `_entities`, while the same `_entities` document from an ordinary
    caller, and the router's own root-field fetch, are refused as ad-hoc documents."""
    copy_demo(demo_database, tmp_path)
    manifest = tmp_path / "persisted-documents.json"
    trusted_document = "query Trusted { __typename }"
    manifest.write_text(json.dumps({"sha256:" + digest_of(trusted_document): trusted_document}))
    env = server_env(tmp_path, OPSGRAPH_FEDERATION="true")
    router_key = cli_output(env, "admin", "issue-token", "--subject", ROUTER_SUBJECT)
    racks: dict[str, int] = {}  # filled once opsgraph has named its first sites
    official: dict[str, str | None] = {}

    def expected(names: list[str]) -> list[dict[str, Any]]:
        return [
            {"shortName": n, "rackCount": racks[n], "officialName": official.get(n)} for n in names
        ]

    with _serving_inventory(racks) as inventory:
        with serving(env) as base:
            sites = _post(
                f"{base}/graphql", "{ sites(first: 3) { nodes { shortName officialName } } }"
            )
            official.update(
                (s["shortName"], s["officialName"]) for s in sites["data"]["sites"]["nodes"]
            )
            assert len(official) == 3
            racks.update((name, 10 + n) for n, name in enumerate(official))
            racks["NO-SUCH-SITE"] = 99  # known to the inventory only: opsgraph's fields are null
            with _routing(node_packages, base, inventory, router_key) as router:
                from_opsgraph = _post(router, JOINED_FROM_OPSGRAPH)
                assert from_opsgraph == {"data": {"sites": {"nodes": expected(list(official))}}}
                from_inventory = _post(router, JOINED_FROM_INVENTORY)
                assert from_inventory == {"data": {"rackedSites": expected(list(racks))}}

        trusted = server_env(
            tmp_path,
            OPSGRAPH_FEDERATION="true",
            OPSGRAPH_TRUSTED_DOCUMENTS="only",
            OPSGRAPH_TRUSTED_DOCUMENTS_MANIFEST=str(manifest),
            OPSGRAPH_FEDERATION_GATEWAY_SUBJECTS=ROUTER_SUBJECT,
        )
        with (
            serving(trusted) as base,
            _routing(node_packages, base, inventory, router_key) as router,
        ):
            # composed from `_service`, joined through `_entities`: the router's own documents
            assert _post(router, JOINED_FROM_INVENTORY) == {
                "data": {"rackedSites": expected(list(racks))}
            }
            # a root field of opsgraph's, fetched by the router's ad-hoc document: refused
            refused = _post(router, JOINED_FROM_OPSGRAPH)["errors"][0]
            assert "TRUSTED_DOCUMENT_REQUIRED" in json.dumps(refused), refused
            name = next(iter(official))
            as_router = _post(
                f"{base}/graphql", AD_HOC_ENTITIES % name, **{"x-api-key": router_key}
            )
            assert as_router == {"data": {"_entities": [{"officialName": official[name]}]}}
            anonymous = _post(f"{base}/graphql", AD_HOC_ENTITIES % name)
            assert anonymous["errors"][0]["extensions"]["rule"] == "TRUSTED_DOCUMENT_REQUIRED"
