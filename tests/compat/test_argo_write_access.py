"""Every ARGO write route (POST, PUT, DELETE of profiles, weights and reports; the
recomputations' in their own module): without a
key it is ARGO's 401, with the key of a user who is no platform administrator ARGO's 403,
and neither writes anything. tests/test_permissions.py reads ROUTES."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy.orm import Session

from gateway.compat.argo.profiles import RESOURCES
from tests.compat.argo import USER, Argo, make_keys, seed_document
from tests.compat.test_argo_recomputations import WRITES as RECOMPUTATION_WRITES
from tests.conftest import AppFactory
from tests.refusals import writes_nothing


class Write(NamedTuple):
    method: str
    path: str
    route: str


def _writes() -> list[Write]:
    found = []
    for resource in RESOURCES:
        base = f"/{resource.path}"
        found.append(Write("POST", base, f"/api/v2{base}"))
        for method in ("PUT", "DELETE"):
            found.append(Write(method, f"{base}/some-id", f"/api/v2{base}/{{id}}"))
    return found


WRITES = _writes()
# the recomputations' writes are refused in tests/compat/test_argo_recomputations.py
ROUTES = {(w.method, w.route) for w in WRITES} | RECOMPUTATION_WRITES
BODY = seed_document("egi_ops.json", name="argo-access")


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


@pytest.fixture
def argo(make_client: AppFactory, session: Session) -> Argo:
    return Argo(make_client().client, make_keys(session))


@pytest.mark.parametrize("resource", [r.path for r in RESOURCES])
def test_anonymous_is_401_and_another_user_403_writing_nothing(
    argo: Argo, session: Session, resource: str
) -> None:
    """Each of the resource's writes (one test per resource: the app and the keys are
    built once for its three routes)."""
    with writes_nothing(session):
        for write in (w for w in WRITES if w.path.split("/")[1] == resource):
            body = None if write.method == "DELETE" else BODY
            anonymous = argo.call(write.method, write.path, body, who=None)
            assert anonymous.status_code == 401, (write, anonymous.text)
            assert anonymous.json()["status"]["code"] == "401"
            user = argo.call(write.method, write.path, body, who=USER)
            assert user.status_code == 403, (write, user.text)
            assert user.json()["status"]["message"] == "Access to the resource is Forbidden"
