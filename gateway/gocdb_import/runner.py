"""The import's run: the PI methods in the order their rows depend on each other, each
page parsed whole, its rows loaded in batches of one transaction each (whole or absent),
as the platform. The first page or batch that cannot be loaded stops the run (what came
before it stays); a second run updates in place, so it completes the first."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import unit_of_work
from domains.common.identity import PLATFORM
from domains.common.imports import ImportRefused, Outcome, Tally
from domains.downtimes.service.imports import import_downtimes
from domains.identity.models import EntityKind
from domains.identity.service.imports import RoleRow, UserRow, import_users
from domains.topology.service.writes.imports import (
    import_certification_changes,
    import_ngis,
    import_projects,
    import_service_types,
    import_sites,
    only_project_name,
    owned_entity_ids,
)
from domains.topology.service.writes.imports_services import (
    import_service_groups,
    import_services,
)
from gateway.gocdb_import import xmlrows
from gateway.gocdb_import.sources import Missing, Source
from gateway.gocdb_import.xmlrows import BadDocument, GocdbUser

BATCH_SIZE = 100
ALL_SCOPES = {"scope": ""}  # GOCDB: an empty scope is every scope (absent: the default one)

Loader = Callable[[Session, Sequence[Any], Tally, "Options"], None]


@dataclass(frozen=True)
class Options:
    checkin_issuer: str | None = None
    batch_size: int = BATCH_SIZE


@dataclass(frozen=True)
class Step:
    name: str  # what the summary and the progress bar call it
    method: str
    tag: str  # the element of one entity in the method's answer
    parse: Callable[[Any], Any]
    load: Loader
    paged: bool = True
    params: dict[str, str] = field(default_factory=dict)


class Progress(Protocol):
    def start(self, step: Step) -> None: ...
    def advance(self, step: Step, rows: int) -> None: ...
    def finish(self, step: Step) -> None: ...


@dataclass
class Result:
    tally: Tally = field(default_factory=Tally)
    failure: str | None = None  # what stopped the run, naming the entity or the page


def _projects(session: Session, rows: Sequence[Any], tally: Tally, _o: Options) -> None:
    import_projects(session, PLATFORM, rows, tally)


def _ngis(session: Session, rows: Sequence[Any], tally: Tally, _o: Options) -> None:
    import_ngis(session, PLATFORM, rows, tally, project=only_project_name(session))


def _service_types(session: Session, rows: Sequence[Any], tally: Tally, _o: Options) -> None:
    import_service_types(session, PLATFORM, rows, tally)


def _sites(session: Session, rows: Sequence[Any], tally: Tally, _o: Options) -> None:
    import_sites(session, PLATFORM, rows, tally)


def _services(session: Session, rows: Sequence[Any], tally: Tally, _o: Options) -> None:
    import_services(session, PLATFORM, rows, tally)


def _groups(session: Session, rows: Sequence[Any], tally: Tally, _o: Options) -> None:
    import_service_groups(session, PLATFORM, rows, tally)


def _certification(session: Session, rows: Sequence[Any], tally: Tally, _o: Options) -> None:
    import_certification_changes(session, PLATFORM, rows, tally)


def _downtimes(session: Session, rows: Sequence[Any], tally: Tally, _o: Options) -> None:
    import_downtimes(session, PLATFORM, rows, tally)


_ROLE_KINDS = {
    "project": EntityKind.PROJECT,
    "ngi": EntityKind.NGI,
    "site": EntityKind.SITE,
    "servicegroup": EntityKind.SERVICE_GROUP,
}


def _users(session: Session, rows: Sequence[GocdbUser], tally: Tally, options: Options) -> None:
    """Users name topology's entities (home site, roles' entities) that identity knows only
    by id: they are resolved here, between the two domains."""
    wanted: dict[str, set[str]] = {kind: set() for kind in _ROLE_KINDS}
    for user in rows:
        if user.home_site:
            wanted["site"].add(user.home_site)
        for _type, kind, name in user.roles:
            wanted.setdefault(kind, set()).add(name)
    ids = owned_entity_ids(session, wanted)
    loaded = []
    for user in rows:
        label = f"user {user.values['id']}G0"
        if not user.dn and not user.checkin:
            tally.skip("user", label, "neither a CERTDN nor an EGICHECKIN identifier")
            continue
        roles = []
        for role_type, kind, name in user.roles:
            entity_id = ids.get(kind, {}).get(name)
            if entity_id is None:
                tally.skip("role", f"{role_type} of {label}", f"unknown {kind} {name!r}")
                continue
            roles.append(RoleRow(role_type, _ROLE_KINDS[kind], entity_id))
        home = None if user.home_site is None else ids["site"].get(user.home_site)
        if user.home_site and home is None:
            tally.skip("home_site", label, f"unknown site {user.home_site!r}")
        loaded.append(
            UserRow(
                values={**user.values, "home_site_id": home},
                dn=user.dn,
                checkin=user.checkin,
                roles=tuple(roles),
            )
        )
    import_users(session, PLATFORM, loaded, tally, checkin_issuer=options.checkin_issuer)


STEPS = (
    Step("projects", "get_project_contacts", "Project", xmlrows.projects, _projects),
    Step("NGIs", "get_ngi", "NGI", xmlrows.ngis, _ngis, paged=False, params=ALL_SCOPES),
    Step(
        "service types",
        "get_service_types",
        "SERVICE_TYPE",
        xmlrows.service_types,
        _service_types,
        paged=False,
    ),
    Step("sites", "get_site", "SITE", xmlrows.sites, _sites, params=ALL_SCOPES),
    Step(
        "services",
        "get_service",
        "SERVICE_ENDPOINT",
        xmlrows.services,
        _services,
        params=ALL_SCOPES,
    ),
    Step(
        "service groups",
        "get_service_group",
        "SERVICE_GROUP",
        xmlrows.service_groups,
        _groups,
        params=ALL_SCOPES,
    ),
    Step("users", "get_user", "EGEE_USER", xmlrows.users, _users),
    Step(
        "certification changes",
        "get_cert_status_changes",
        "result",
        xmlrows.certification_changes,
        _certification,
    ),
    Step(
        "downtimes",
        "get_downtime_nested_services",
        "DOWNTIME",
        xmlrows.downtimes,
        _downtimes,
        params=ALL_SCOPES,
    ),
)


def _batches(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def run_import(
    factory: sessionmaker[Session],
    source: Source,
    *,
    options: Options = Options(),
    progress: Progress | None = None,
    steps: Sequence[Step] = STEPS,
) -> Result:
    result = Result()
    for step in steps:
        if progress:
            progress.start(step)
        try:
            for answer in source.pages(step.method, step.tag, params=step.params, paged=step.paged):
                try:
                    rows = [step.parse(el) for el in answer.page.elements]
                except ImportRefused as exc:
                    result.failure = f"{answer.origin}: {exc.message}"
                    return result
                for batch in _batches(rows, options.batch_size):
                    tally = Tally()
                    try:
                        with unit_of_work(factory) as session:
                            step.load(session, batch, tally, options)
                    except ImportRefused as exc:
                        # the batch's transaction was rolled back: none of it was written
                        result.failure = f"{answer.origin}: {exc.message}"
                        return result
                    result.tally.merge(tally)
                    if progress:
                        progress.advance(step, len(batch))
        except Missing as exc:
            result.tally.skipped.append((step.name, step.method, str(exc)))
        except BadDocument as exc:
            result.failure = str(exc)
            return result
        finally:
            if progress:
                progress.finish(step)
    return result


__all__ = ["BATCH_SIZE", "STEPS", "Options", "Outcome", "Progress", "Result", "Step", "run_import"]
