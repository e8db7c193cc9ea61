"""Who is calling. Authentication happens in the gateway; domains only see a Principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domains.common.entitlements import VoMembership


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as the service layer sees it.

    `subject` is None for the anonymous caller (`voperson_id`, else `sub`, otherwise).
    `is_platform` marks opsgraph itself (CLI bootstrap, seeding, workers acting on the
    platform's behalf); `is_admin` a platform administrator (GOCDB_ADMIN). Roles over
    projects, NGIs, sites and service groups are read from the database when a rule needs
    them, so a role granted in the same transaction counts at once. `client_dn` is set
    when a verified client certificate came with the request: a DN linked to a user gives
    that user's principal, an unlinked one a principal whose `subject` is the DN and whose
    `user_id` is None (GOCDB's API credentials are such DNs).
    """

    subject: str | None = None
    name: str | None = None
    email: str | None = None
    is_platform: bool = False
    is_admin: bool = False
    user_id: int | None = None
    assurance: tuple[str, ...] = ()
    vos: tuple[VoMembership, ...] = ()
    # The verified X.509 subject DN (OpenSSL slash form) the caller presented, directly or
    # through a trusted TLS-terminating proxy; None without a client certificate.
    client_dn: str | None = None
    # The identifier of the site API credential (GOCDB's X.509 DN or OIDC subject) that
    # authorized a write through GOCDB's write API; set by topology's service once the
    # credential is checked, for the audit entry to name. None everywhere else.
    api_credential: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.subject is None and not self.is_platform

    @property
    def is_superuser(self) -> bool:
        """The platform itself or a platform administrator: every action is allowed."""
        return self.is_platform or self.is_admin


ANONYMOUS = Principal()
PLATFORM = Principal(subject="opsgraph", name="opsgraph platform", is_platform=True)
