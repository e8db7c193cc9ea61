"""Who is calling. Authentication happens in the gateway; domains only see a Principal."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as the service layer sees it.

    `subject` is None for the anonymous caller. `is_platform` marks opsgraph itself
    (CLI bootstrap, seeding, workers acting on the platform's behalf).
    """

    subject: str | None = None
    name: str | None = None
    email: str | None = None
    is_platform: bool = False
    vos: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.subject is None and not self.is_platform


ANONYMOUS = Principal()
PLATFORM = Principal(subject="opsgraph", name="opsgraph platform", is_platform=True)
