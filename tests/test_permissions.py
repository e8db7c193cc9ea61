"""The guard over every write: each `Mutation` field and each REST write route appears in
an access table that runs an anonymous case and a wrong-role case, both asserting that
nothing was written (tests/refusals.py). A new mutation or route without them fails
here, whoever forgets."""

from __future__ import annotations

import importlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from domains.common.authz import Caller, Permission, permission_of
from gateway.app import create_app
from gateway.config import Settings
from gateway.schema import Mutation
from tests.accounting import test_posting as accounting_posting
from tests.compat import test_ams_write_access as ams_access
from tests.compat import test_argo_write_access as argo_write_access
from tests.compat import test_gocdb_write_refusals as gocdb_write_access
from tests.refusals import mutation_names

# the modules whose tests run the anonymous and wrong-role cases of the mutations named in
# their MUTATIONS; a domain's new access table is added here
ACCESS_TABLES = (
    "tests.topology.test_mutation_access",  # topology's writes
    "tests.identity.test_account_access",  # API tokens, role requests and decisions
    "tests.messaging.test_graphql_access",
    "tests.downtimes.test_access",
    "tests.downtimes.test_subscription_access",
    "tests.monitoring.test_ingest_access",  # metric results, monitoring-host grants
    "tests.monitoring.test_catalogue_graphql",  # the monitoring catalogue's profiles
    "tests.monitoring.test_alerts_access",  # alert rules
    "tests.monitoring.test_recomputations_graphql",  # recomputations
    "tests.accounting.test_rejects_graphql",  # the reject store, accounting sender grants
    "tests.accounting.test_reports",  # WLCG federations and pledges, disciplines
)

# GraphQL's writes are its Mutation fields (above); the login flow's routes only exchange
# credentials for a session and are tested in tests/auth
NOT_REST_WRITES = ("/graphql", "/auth")
READS = frozenset({"GET", "HEAD"})
AMS_SOURCE = Path(__file__).resolve().parent.parent / "gateway" / "compat" / "ams.py"


def _covered() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name in ACCESS_TABLES:
        for mutation in importlib.import_module(name).MUTATIONS:
            found.setdefault(mutation, set()).add(name)
    return found


def test_every_mutation_has_its_access_cases() -> None:
    covered = _covered()
    missing = mutation_names() - covered.keys()
    assert not missing, f"mutations without anonymous and wrong-role cases: {sorted(missing)}"
    assert covered.keys() - mutation_names() == set(), "cases of mutations that do not exist"


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, frozenset[str]]]:
    for route in routes:
        methods = getattr(route, "methods", None)
        nested = getattr(route, "routes", None)
        if methods is None and nested is not None:
            yield from _routes(nested, prefix + getattr(route, "path", ""))
        elif methods is not None:
            yield prefix + route.path, frozenset(methods)


def test_every_rest_write_route_has_its_access_cases() -> None:
    database = Path(tempfile.mkdtemp()) / "routes.db"
    app = create_app(Settings(database_url=f"sqlite:///{database}"))
    writes = {
        (method, path)
        for path, methods in _routes(app.routes)
        if not path.startswith(NOT_REST_WRITES)
        for method in methods - READS
    }
    assert writes, "no REST write route found: the walk over the app's routes is broken"
    tested = (
        {(w.method, w.route) for w in ams_access.WRITES}
        | gocdb_write_access.ROUTES
        | argo_write_access.ROUTES
        | accounting_posting.ROUTES
    )
    assert writes - tested == set(), "REST write routes without access cases"
    assert tested - writes == set(), "access cases of routes that do not exist"


def test_every_ams_verb_that_writes_has_its_access_cases() -> None:
    source = AMS_SOURCE.read_text(encoding="utf-8")
    verbs = set(re.findall(r'method == "POST" and action == "(\w+)"', source))
    verbs |= set(re.findall(r'action == "(\w+)" and (?:request\.)?method == "POST"', source))
    assert {"publish", "pull", "acknowledge"} <= verbs, "the scan of the AMS verbs is broken"
    assert verbs - {ams_access.verb(w) for w in ams_access.WRITES} == set()


def _declarations() -> dict[str, Permission | None]:
    definition = get_object_definition(Mutation, strict=True)
    found: dict[str, Permission | None] = {}
    for field in definition.fields:
        resolver = field.base_resolver
        assert resolver is not None, field.python_name
        found[field.graphql_name or to_camel_case(field.python_name)] = permission_of(
            resolver.wrapped_func
        )
    return found


def test_every_mutation_declares_its_permission() -> None:
    declared = _declarations()
    assert declared.keys() == mutation_names()
    undeclared = sorted(name for name, permission in declared.items() if permission is None)
    assert undeclared == [], "mutations without @requires(...)"


def test_only_mutations_open_to_every_signed_in_caller_lack_a_wrong_role_case() -> None:
    declared = _declarations()
    exempt = {
        mutation
        for name in ACCESS_TABLES
        for mutation in getattr(importlib.import_module(name), "NO_WRONG_CALLER", ())
    }
    assert exempt, "no table names its exemptions: the scan is broken"
    actions = {mutation: getattr(declared[mutation], "action", None) for mutation in exempt}
    # REGISTERED_USER's only wrong caller, a client certificate linked to no user, is refused
    # (nothing written) in tests/compat/test_x509_auth.py
    assert set(actions.values()) <= {Caller.SIGNED_IN, Caller.REGISTERED_USER}, actions
