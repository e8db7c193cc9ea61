"""Who may call a PI method, as the route asks it: the private interface wants a
credential (GOCDB's web server refuses a caller without a certificate there: 403); the
method's protection level is decided by topology's service (domains.topology.service.pi),
and its refusal is GOCDB's text."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.topology.service.pi import PiLevel, pi_refusal
from gateway.compat.gocdbpi.params import PiError

PRIVATE_REFUSED = (
    "The private interface needs a client credential: an X.509 certificate, an OIDC "
    "token or an API token."
)


class PrivateRefused(Exception):
    """An anonymous caller on the private interface."""


def check_access(
    session: Session,
    principal: Principal,
    level: PiLevel,
    *,
    private: bool,
    restrict_personal_data: bool,
) -> None:
    """PrivateRefused or PiError (GOCDB's refusal) unless `principal` may call a method of
    protection `level` on this interface."""
    if private and principal.is_anonymous:
        raise PrivateRefused
    refusal = pi_refusal(session, principal, level, restrict_personal_data=restrict_personal_data)
    if refusal is not None:
        raise PiError(refusal)
