"""Users are created on first sight and can be reached through several linked identities."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domains.common.errors import Conflict, Forbidden, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.identity import service as identity
from domains.identity.models import User, UserIdentity

ISSUER_A = "https://aai.egi.eu/auth/realms/egi"
ISSUER_B = "https://iris-iam.example.org/"


def users(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(User)).scalar_one())


def test_first_sight_creates_one_user(session: Session) -> None:
    before = users(session)
    claims = {"sub": "opaque-sub", "voperson_id": "person@egi.eu", "name": "P", "email": "p@x.org"}
    first = identity.principal_from_claims(session, claims, issuer=ISSUER_A)
    again = identity.principal_from_claims(session, claims, issuer=ISSUER_A)
    assert first.user_id == again.user_id
    assert first.subject == "person@egi.eu"  # voperson_id wins over sub
    assert users(session) == before + 1


def test_a_linked_identity_signs_in_as_the_same_user(session: Session) -> None:
    home = identity.principal_from_claims(session, {"sub": "home@egi.eu"}, issuer=ISSUER_A)
    identity.link_identity(
        session, PLATFORM, user_subject="home@egi.eu", issuer=ISSUER_B, subject="iam-123"
    )
    via_b = identity.principal_from_claims(session, {"sub": "iam-123"}, issuer=ISSUER_B)
    assert via_b.user_id == home.user_id
    assert via_b.subject == "home@egi.eu"
    with pytest.raises(Conflict):
        identity.link_identity(
            session, PLATFORM, user_subject="home@egi.eu", issuer=ISSUER_B, subject="iam-123"
        )
    links = session.execute(
        select(func.count())
        .select_from(UserIdentity)
        .where(
            UserIdentity.user_id == home.user_id  # type: ignore[arg-type]
        )
    ).scalar_one()
    assert links == 2


@pytest.mark.parametrize(
    ("principal", "error"),
    [(ANONYMOUS, Unauthenticated), (Principal(subject="nobody", user_id=1), Forbidden)],
)
def test_only_admins_link_identities(
    session: Session, principal: Principal, error: type[Exception]
) -> None:
    identity.principal_from_claims(session, {"sub": "target@egi.eu"}, issuer=ISSUER_A)
    with pytest.raises(error):
        identity.link_identity(
            session, principal, user_subject="target@egi.eu", issuer=ISSUER_B, subject="x"
        )


def test_a_token_without_subject_is_refused(session: Session) -> None:
    with pytest.raises(Unauthenticated):
        identity.principal_from_claims(session, {"name": "no subject"}, issuer=ISSUER_A)
