"""Every operation the front end can send (web/app/src/gql/persisted-documents.json, written
by graphql-codegen at build time: hash -> document) is valid against the served schema and
within the query limits and cost budgets of the hardening issue, for an anonymous caller
(most views are public) and so for every caller."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate

from gateway.config import Settings
from gateway.cost import CostModel, query_cost, shape_errors
from gateway.schema import build_schema

MANIFEST = Path(__file__).resolve().parents[2] / "web/app/src/gql/persisted-documents.json"


def _documents() -> dict[str, str]:
    assert MANIFEST.exists(), "the front end is not built: run scripts/install"
    documents: dict[str, str] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return documents


def test_the_manifest_holds_the_front_ends_operations_by_their_hash() -> None:
    documents = _documents()
    assert len(documents) >= 1
    for digest, text in documents.items():
        assert digest == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("digest", sorted(_documents()) if MANIFEST.exists() else ["missing"])
def test_each_operation_is_valid_and_within_the_anonymous_budget(digest: str) -> None:
    settings = Settings()
    text = _documents()[digest]
    schema = build_schema(settings)._schema
    document = parse(text)
    assert validate(schema, document) == []
    assert (
        shape_errors(document, max_depth=settings.max_query_depth, max_aliases=settings.max_aliases)
        == []
    )
    model = CostModel(
        default_page_size=settings.default_page_size,
        default_list_size=settings.default_list_size,
    )
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        assert operation.name is not None, "every operation of the front end has a name"
        cost = query_cost(schema, document, operation.name.value, {}, model)
        assert cost <= settings.max_query_cost_anonymous, (operation.name.value, cost)
