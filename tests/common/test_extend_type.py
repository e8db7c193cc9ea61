"""extend_type (domains/common/graphql.py): a higher domain's fields on a lower domain's
type, added where the schema is assembled."""

from __future__ import annotations

import pytest
import strawberry

from domains.common.graphql import extend_type


@strawberry.type
class Lower:  # extended by the first test only
    name: str


def _shout(root: strawberry.Parent[Lower]) -> str:
    return root.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def lower(self) -> Lower:
        return Lower(name="site")


def test_the_added_field_resolves_on_the_lower_type() -> None:
    extend_type(Lower, {"shouted_name": strawberry.field(resolver=_shout)})
    schema = strawberry.Schema(query=Query)
    assert "shoutedName: String!" in str(schema)
    result = schema.execute_sync("{ lower { name shoutedName } }")
    assert result.errors is None
    assert result.data == {"lower": {"name": "site", "shoutedName": "SITE"}}


def test_a_name_the_type_has_is_refused() -> None:
    @strawberry.type
    class Other:
        name: str

    with pytest.raises(TypeError, match="already has a field 'name'"):
        extend_type(Other, {"name": strawberry.field(resolver=_shout)})


def test_a_field_without_a_resolver_is_refused() -> None:
    @strawberry.type
    class Other:
        name: str

    with pytest.raises(TypeError, match="a strawberry.field with a resolver"):
        extend_type(Other, {"plain": strawberry.field(description="no resolver")})
