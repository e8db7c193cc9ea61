"""What every test of a refused write shares: the database's whole state (to assert that a
refused call wrote nothing), a mutation's document built from the schema, the check that a
caller is refused with a given code, and the check that bad input is refused naming its
field and rule code, both with nothing written.

tests/test_permissions.py checks that every `Mutation` field and every REST write route
appears in one of the access tables listed there, each of which runs an anonymous case and
a wrong-role case through `assert_refused`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLNamedType,
    build_schema,
    get_named_type,
    is_leaf_type,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from domains.common.models import metadata
from gateway.schema import export_sdl
from tests.conftest import GraphQLClient


def fingerprint(session: Session) -> dict[str, list[str]]:
    """Every row of every table, as text: 'nothing was written' means this did not change
    (an update, which leaves the row counts alone, included). Read with the driver's own
    types, unconverted: a fifth of the time the ORM's rows take over the demo data."""
    session.expire_all()
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    return {
        table.name: sorted(
            map(repr, connection.exec_driver_sql(f"SELECT * FROM {quote(table.name)}"))
        )
        for table in metadata.sorted_tables
    }


def rows_written(connection: Connection) -> int:
    """How many rows the statements on this connection have inserted, updated or deleted
    (SQLite: since it opened; PostgreSQL: in its transaction, savepoints undone included).
    One cheap query: unchanged means nothing was written."""
    if connection.dialect.name == "sqlite":
        return int(connection.exec_driver_sql("SELECT total_changes()").scalar_one())
    return int(
        connection.exec_driver_sql(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_xact_user_tables"
        ).scalar_one()
    )


@contextmanager
def writes_nothing(session: Session, what: str = "the call") -> Iterator[None]:
    """Asserts that the block leaves every row of every table as it was. The count of rows
    written decides when it did not move; when it did (a write undone, an update to the
    same values), the rows after the block are compared with the rows before it, which
    rolling back to a savepoint taken before the block restores."""
    connection = session.connection()
    point = connection.begin_nested()
    before = rows_written(connection)
    yield
    if rows_written(connection) == before:
        point.commit()
        return
    after = fingerprint(session)
    point.rollback()
    assert fingerprint(session) == after, f"{what} wrote something"


@cache
def _mutation_fields() -> dict[str, GraphQLField]:
    mutation = build_schema(export_sdl()).mutation_type
    assert mutation is not None
    return dict(mutation.fields)


def mutation_names() -> frozenset[str]:
    return frozenset(_mutation_fields())


def mutation_document(name: str) -> str:
    """`mutation($a: A!, ...) { name(a: $a, ...) { __typename } }` for the field `name`."""
    field = _mutation_fields()[name]
    definitions = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    returned: GraphQLNamedType = get_named_type(field.type)
    selection = "" if is_leaf_type(returned) else " { __typename }"
    head = f"mutation({definitions})" if definitions else "mutation"
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call}{selection} }}"


def mutation_variables(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """`values` as the field's arguments: given as they are when they name its arguments,
    else as its one `input:` argument (so a case outlives a move of its arguments into an
    input object)."""
    arguments = set(_mutation_fields()[name].args)
    if set(values) <= arguments:
        return values
    assert arguments == {"input"}, f"{name} takes {sorted(arguments)}, not {sorted(values)}"
    return {"input": values}


def assert_refused(
    client: GraphQLClient, session: Session, name: str, values: dict[str, Any], code: str
) -> None:
    """Calling mutation `name` with `values` fails with `code` at the field, and writes
    nothing at all."""
    with writes_nothing(session, f"{name}, refused,"):
        body = client.post(mutation_document(name), mutation_variables(name, values))
    assert body.get("errors"), f"{name}: expected {code}, got {body}"
    error = body["errors"][0]
    assert error["extensions"]["code"] == code, error
    assert error.get("path") == [name], error
    assert body["data"] is None, body


def assert_invalid(
    client: GraphQLClient,
    session: Session,
    query: str,
    variables: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    """`query` fails with BAD_USER_INPUT naming `field` and the rule code `rule`, and
    writes nothing at all."""
    with writes_nothing(session, "the refused input"):
        error = client.error(query, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field, error
    assert error["extensions"]["rule"] == rule, error
