"""What a PI read method is: one `Method` entry per method name, collected by the
package's `__init__`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.common.scopes import ScopeDefaults
from domains.topology.service.pi import PiLevel
from gateway.compat.gocdbpi.paging import CURSORS, Paging
from gateway.compat.gocdbpi.params import Params


@dataclass(frozen=True, slots=True)
class Instance:
    """What the instance's configuration gives a method: the default scopes, whether
    personal data is restricted, and the base URL of this server's pages and routes."""

    scope_defaults: ScopeDefaults
    restrict_personal_data: bool
    base_url: str

    def portal_url(self, path: str) -> str:
        """GOCDB_PORTAL_URL: the web app's page of an entity (`/sites/<name>`)."""
        return f"{self.base_url}{path}"


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a method: the caller, the checked parameters, the page asked for (its
    `request()` is what the domain read takes; `meta(root, ids)` writes `<meta>` when the
    call pages) and the instance's configuration."""

    session: Session
    principal: Principal
    params: Params
    page: Paging
    instance: Instance


# (call) -> the whole XML document, from xml.Element.render()
Handler = Callable[[Call], bytes]


@dataclass(frozen=True, slots=True)
class Method:
    """A PI read method. `params`: the parameters it takes (the cursors are added when it
    is `paged`); `level`: its protection level (1-3, decided by domains.topology.service.pi)."""

    name: str
    level: PiLevel
    params: frozenset[str] | None  # None: not checked at all (GOCDB's access_test)
    paged: bool
    handler: Handler

    @property
    def allowed(self) -> frozenset[str] | None:
        if self.params is None:
            return None
        return self.params | CURSORS if self.paged else self.params


def collect(*groups: Iterable[Method]) -> dict[str, Method]:
    """The methods by name; a name given twice is a programming error."""
    found: dict[str, Method] = {}
    for group in groups:
        for method in group:
            if method.name in found:
                raise ValueError(f"PI method {method.name} registered twice")
            found[method.name] = method
    return found
