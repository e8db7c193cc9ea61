"""Walk a connection page by page; checks totalCount and cursor chaining on the way."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient


def walk(
    gql: GraphQLClient,
    list_name: str,
    fields: str,
    *,
    filter_type: str | None = None,
    filter_value: dict[str, Any] | None = None,
    page_size: int = 37,
) -> list[dict[str, Any]]:
    declared = f", $f: {filter_type}" if filter_type else ""
    passed = ", filter: $f" if filter_type else ""
    query = (
        f"query($after: String{declared}) {{ {list_name}(first: {page_size}, after: $after"
        f"{passed}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }}"
    )
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        variables: dict[str, Any] = {"after": after}
        if filter_type:
            variables["f"] = filter_value
        data = gql.data(query, variables)[list_name]
        items.extend(data["nodes"])
        if not data["pageInfo"]["hasNextPage"]:
            assert data["totalCount"] == len(items)
            return items
        after = data["pageInfo"]["endCursor"]
