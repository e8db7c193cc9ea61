"""Persisted operations (gateway/persisted.py): automatic persisted queries over POST and
GET, the trusted-documents manifest, OPSGRAPH_TRUSTED_DOCUMENTS=only over HTTP and the
WebSocket, and documents shared by replicas through Redis."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from domains.common.errors import Invalid
from gateway import persisted
from gateway.config import Settings
from tests.auth.issuer import GATEWAY_CLIENT
from tests.conftest import AppFactory, Callers, GraphQLClient
from tests.websocket import receive_json

ADMIN = "urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu"
REDIS_URL = os.environ.get("OPSGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TRUSTED = "query Trusted { __typename }"
AD_HOC = "query AdHoc { viewer { subject isAdmin } }"


def _sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def _extension(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": _sha(document)}}


def _post(client: GraphQLClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.client.post("/graphql", json=body, headers=client.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _get(client: GraphQLClient, extensions: dict[str, Any]) -> dict[str, Any]:
    response = client.client.get(
        "/graphql",
        params={"extensions": json.dumps(extensions)},
        headers={"accept": "application/json", **client.headers},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _manifest(tmp_path: Path, *documents: str) -> str:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({f"sha256:{_sha(d)}": d for d in documents}))
    return str(path)


def _error(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer.get("data") is None, answer
    first: dict[str, Any] = answer["errors"][0]
    return first


def test_a_document_registered_with_its_hash_runs_by_hash_over_post_and_get(
    make_client: AppFactory,
) -> None:
    client = make_client()
    document = f"query Registered {{ __typename }} # {uuid.uuid4()}"
    unknown = _error(_post(client, {"extensions": _extension(document)}))
    assert unknown["message"] == "PersistedQueryNotFound"
    assert unknown["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    sent = _post(client, {"query": document, "extensions": _extension(document)})
    assert sent == {"data": {"__typename": "Query"}}
    assert _post(client, {"extensions": _extension(document)}) == sent
    assert _get(client, _extension(document)) == sent


def test_a_hash_that_is_not_the_documents_is_refused_and_registers_nothing(
    make_client: AppFactory,
) -> None:
    client = make_client()
    document = f"query Liar {{ viewer {{ subject }} }} # {uuid.uuid4()}"
    other = f"query Other {{ viewer {{ subject }} }} # {uuid.uuid4()}"
    refused = _error(_post(client, {"query": document, "extensions": _extension(other)}))
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["extensions"]["field"] == persisted.HASH_FIELD
    assert refused["extensions"]["rule"] == "PERSISTED_QUERY_HASH_MISMATCH"
    missing = _error(_post(client, {"extensions": _extension(other)}))
    assert missing["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("extension", "field"),
    [
        ("not an object", "extensions.persistedQuery"),
        ({"version": 2, "sha256Hash": "0" * 64}, "extensions.persistedQuery.version"),
        ({"version": 1, "sha256Hash": "XYZ"}, persisted.HASH_FIELD),
        ({"version": 1}, persisted.HASH_FIELD),
    ],
)
def test_a_malformed_persisted_query_extension_names_its_field(
    make_client: AppFactory, extension: Any, field: str
) -> None:
    refused = _error(_post(make_client(), {"extensions": {"persistedQuery": extension}}))
    assert refused["extensions"]["field"] == field
    assert refused["extensions"]["rule"] == "PERSISTED_QUERY_MALFORMED"


def test_the_manifests_documents_run_by_hash_without_being_registered(
    make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client(
        trusted_documents_manifest=_manifest(tmp_path, TRUSTED), persisted_queries_max=0
    )
    assert _post(client, {"extensions": _extension(TRUSTED)}) == {"data": {"__typename": "Query"}}
    # with registration off (OPSGRAPH_PERSISTED_QUERIES_MAX=0) other hashes stay unknown
    _post(client, {"query": AD_HOC, "extensions": _extension(AD_HOC)})
    missing = _error(_post(client, {"extensions": _extension(AD_HOC)}))
    assert missing["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def _trusted_only(
    make_client: AppFactory, callers: Callers, tmp_path: Path, **settings: Any
) -> GraphQLClient:
    """An app running only the manifest's documents (OPSGRAPH_TRUSTED_DOCUMENTS=only), with
    the callers' OIDC issuer, and `settings` besides."""
    return make_client(
        trusted_documents="only",
        trusted_documents_manifest=_manifest(tmp_path, TRUSTED),
        oidc_issuer=callers.issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        **settings,
    )


def test_trusted_only_runs_the_manifest_for_everyone_and_ad_hoc_documents_for_admins(
    make_client: AppFactory, callers: Callers, tmp_path: Path
) -> None:
    app = _trusted_only(make_client, callers, tmp_path, admin_entitlements=(ADMIN,))
    user = GraphQLClient(app.client, headers=callers.as_user("user@egi.eu").headers)
    admin = GraphQLClient(
        app.client, headers=callers.as_user("admin@egi.eu", entitlements=(ADMIN,)).headers
    )
    for caller in (app, user):
        for body in (
            {"query": AD_HOC},
            {"query": AD_HOC, "extensions": _extension(AD_HOC)},  # no registering either
        ):
            refused = _error(_post(caller, body))
            assert refused["extensions"]["rule"] == "TRUSTED_DOCUMENT_REQUIRED"
            assert refused["extensions"]["field"] == "query"
        # the manifest's document by hash, or as its exact text
        assert _post(caller, {"extensions": _extension(TRUSTED)}) == {
            "data": {"__typename": "Query"}
        }
        assert "errors" not in _post(caller, {"query": TRUSTED})
    ran = _post(admin, {"query": AD_HOC})
    assert ran["data"]["viewer"] == {"subject": "admin@egi.eu", "isAdmin": True}


def test_trusted_only_runs_a_federation_routers_entity_fetches_for_its_subject_only(
    make_client: AppFactory, callers: Callers, tmp_path: Path
) -> None:
    """OPSGRAPH_FEDERATION_GATEWAY_SUBJECTS: the router's subject runs ad-hoc documents whose
    root fields are `_entities` or `_service`; nothing else, and nobody else."""
    app = _trusted_only(
        make_client,
        callers,
        tmp_path,
        federation=True,
        federation_gateway_subjects=("router@egi.eu",),
    )
    router = GraphQLClient(app.client, headers=callers.as_user("router@egi.eu").headers)
    user = GraphQLClient(app.client, headers=callers.as_user("user@egi.eu").headers)
    entities = (
        "query($r: [_Any!]!) { __typename _entities(representations: $r) "
        "{ ... on Site { shortName } } }"
    )
    representations = {"r": [{"__typename": "Site", "shortName": "no-such-site"}]}
    fetched = _post(router, {"query": entities, "variables": representations})
    assert fetched == {"data": {"__typename": "Query", "_entities": [None]}}
    assert "sdl" in _post(router, {"query": "{ _service { sdl } }"})["data"]["_service"]
    for caller, document in (
        (user, entities),  # the same fetch from anyone else
        (app, entities),
        (router, AD_HOC),  # any other root field
        (router, "{ _entities(representations: []) { __typename } viewer { subject } }"),
        (
            router,
            "{ ...Root } fragment Root on Query { _entities(representations: []) { __typename } }",
        ),
        (router, "query { _service { sdl } } query Other { viewer { subject } }"),
        (router, "{ _entities("),  # not even a document
    ):
        refused = _error(_post(caller, {"query": document, "variables": representations}))
        assert refused["extensions"]["rule"] == "TRUSTED_DOCUMENT_REQUIRED", document


def test_trusted_only_applies_to_the_websockets_subscribe_messages(
    make_client: AppFactory, tmp_path: Path
) -> None:
    subscription = "subscription AdHoc { statusChanges { __typename } }"
    client = make_client(
        trusted_documents="only", trusted_documents_manifest=_manifest(tmp_path, TRUSTED)
    )
    with client.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert receive_json(ws)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
        refused = receive_json(ws)
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["rule"] == "TRUSTED_DOCUMENT_REQUIRED"
        # a trusted document by hash passes the check (and, a query, is then refused over
        # the socket by the transport's own rule, which is what shows it got that far)
        # graphql-ws sends "" as the query beside a hash
        ws.send_json(
            {
                "id": "2",
                "type": "subscribe",
                "payload": {"query": "", "extensions": _extension(TRUSTED)},
            }
        )
        passed = receive_json(ws)
        assert passed["type"] == "error"
        assert "not allowed" in passed["payload"][0]["message"]


def test_documents_registered_on_one_replica_run_by_hash_on_another_through_redis(
    make_client: AppFactory,
) -> None:
    first = make_client(cache_url=REDIS_URL)
    second = make_client(cache_url=REDIS_URL)
    document = f"query Shared {{ __typename }} # {uuid.uuid4()}"
    assert "errors" not in _post(first, {"query": document, "extensions": _extension(document)})
    assert _post(second, {"extensions": _extension(document)}) == {"data": {"__typename": "Query"}}


def test_the_settings_refuse_a_trusted_mode_without_a_usable_manifest(tmp_path: Path) -> None:
    with pytest.raises(Invalid) as missing:
        persisted.from_settings(
            Settings(trusted_documents="only", app_dir=str(tmp_path / "no-app"))
        )
    assert missing.value.field == "OPSGRAPH_TRUSTED_DOCUMENTS_MANIFEST"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({f"sha256:{_sha(TRUSTED)}": AD_HOC}))
    with pytest.raises(Invalid, match="not the SHA-256"):
        persisted.from_settings(Settings(trusted_documents_manifest=str(forged)))
    with pytest.raises(Invalid) as mode:
        Settings.from_env({"OPSGRAPH_TRUSTED_DOCUMENTS": "sometimes"})
    assert mode.value.field == "OPSGRAPH_TRUSTED_DOCUMENTS"
