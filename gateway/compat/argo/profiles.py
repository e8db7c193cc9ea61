"""ARGO's v2 catalogue routes: metric, operations, aggregation and thresholds profiles,
weights and reports, over the monitoring catalogue's service functions (the ones GraphQL
calls), rendered by `domains.monitoring.profiles` in ARGO's JSON.

Per resource R (`metric_profiles`, …, `reports`):
- `GET /R[?name=&date=]`: every one's version valid on `date` (today when absent), sorted as
  ARGO sorts them (by id);
- `GET /R/{id}[?date=]`: that one's version valid on `date` (404 if none);
- `POST /R[?date=]`: a new one, its first version dated `date`; 201 with ARGO's self
  reference `{"id", "links": {"self"}}`;
- `PUT /R/{id}[?date=]`: a new version dated `date` (or that date's version replaced);
- `DELETE /R/{id}`: it and its whole history.
Writes are for platform administrators (the service decides); ARGO's messages are kept
word for word, including their inconsistent capitals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from domains.common.errors import DomainError, Invalid
from domains.common.identity import Principal
from domains.monitoring import profiles as argo_json
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import catalogue
from gateway.compat.argo import envelope, params
from gateway.compat.argo.auth import Work
from gateway.compat.argo.envelope import ArgoError
from gateway.compat.argo.routing import Call, Spec, json_object, route


@dataclass(frozen=True, slots=True)
class Resource:
    """One of ARGO's catalogue resources: its path, the catalogue kind, and ARGO's words."""

    path: str
    kind: str
    created: str
    updated: str
    deleted: str
    update_refers: bool  # ARGO's update answer carries the self reference
    dated: bool = True  # reports have no `date` in ARGO, and no `?date=` history


RESOURCES = (
    Resource(
        "metric_profiles",
        argo_json.ProfileKind.METRIC,
        "Metric Profile successfully created",
        "Metric Profile successfully updated",
        "Metric Profile Successfully Deleted",
        update_refers=True,
    ),
    Resource(
        "operations_profiles",
        argo_json.ProfileKind.OPERATIONS,
        "Operations Profile successfully created",
        "Operations Profile successfully updated",
        "Operations Profile Successfully Deleted",
        update_refers=False,
    ),
    Resource(
        "aggregation_profiles",
        argo_json.ProfileKind.AGGREGATION,
        "Aggregation Profile successfully created",
        "Aggregation Profile successfully updated",
        "Aggregation Profile Successfully Deleted",
        update_refers=True,
    ),
    Resource(
        "thresholds_profiles",
        argo_json.ProfileKind.THRESHOLDS,
        "Thresholds Profile successfully created",
        "Thresholds Profile successfully updated",
        "Thresholds Profile Successfully Deleted",
        update_refers=False,
    ),
    Resource(
        "weights",
        argo_json.ProfileKind.WEIGHTS,
        "Weight resource successfully created",
        "Weight resource successfully updated",
        "Weight resource Successfully Deleted",
        update_refers=True,
    ),
    Resource(
        "reports",
        argo_json.REPORT,
        "Successfully Created Report",
        "Report was successfully updated",
        "Report was successfully deleted",
        update_refers=False,
        dated=False,
    ),
)


AT = "body"  # the JSON path the service's errors name the body's fields under


def _self_reference(call: Call, resource: Resource, uuid: str) -> dict[str, Any]:
    return {"id": uuid, "links": {"self": f"{call.base_url()}/api/v2/{resource.path}/{uuid}"}}


def _dated(call: Call, resource: Resource, document: dict[str, Any]) -> dict[str, Any]:
    """The body with the version's date: the body's own `date`, else `?date=`, else today
    (ARGO reads `?date=` first and lets the body's `date` override it)."""
    if not resource.dated:
        return document
    day = params.history_date(call.query, call.today())
    return {**document, "date": document.get("date", day.isoformat())}


def _refusal(error: DomainError) -> ArgoError:
    """A name another one has, or a profile a report uses: ARGO's 409; the rest as usual."""
    if isinstance(error, Invalid) and error.rule in CONFLICTS:
        return envelope.conflict(error.message)
    return envelope.from_domain_error(error)


CONFLICTS = (MonitoringRule.MONITORING_PROFILE_NAME_TAKEN, MonitoringRule.MONITORING_PROFILE_IN_USE)


async def _write(call: Call, work: Work[Any]) -> Any:
    try:
        return await call.write(work)
    except DomainError as error:
        raise _refusal(error) from None


def _handlers(resource: Resource) -> list[Spec]:
    kind = resource.kind

    async def listing(call: Call) -> Any:
        day = params.history_date(call.query, call.today())
        name = call.query.get("name")

        def work(session: Session, _principal: Principal) -> Any:
            rows = catalogue.versions_on(session, kind, day)
            chosen = [row for row in rows if name is None or row.name == name]
            return [catalogue.as_argo(kind, row) for row in sorted(chosen, key=_by_id)]

        return envelope.success(await call.read(work))

    async def one(call: Call) -> Any:
        day = params.history_date(call.query, call.today())
        uuid = call.path("id")

        def work(session: Session, _principal: Principal) -> Any:
            row = catalogue.version_on(session, kind, uuid, day)
            if row is None:
                raise envelope.not_found()
            return [catalogue.as_argo(kind, row)]

        return envelope.success(await call.read(work))

    async def create(call: Call) -> Any:
        raw = await call.body()

        def work(session: Session, principal: Principal) -> str:
            document = _dated(call, resource, json_object(raw))
            row = catalogue.create_profile(session, principal, kind, document, at=AT)
            uuid: str = row.uuid
            return uuid

        uuid = await _write(call, work)
        body = envelope.success(_self_reference(call, resource, uuid), resource.created, 201)
        return envelope.respond(body, 201)

    async def update(call: Call) -> Any:
        uuid = call.path("id")
        raw = await call.body()

        def work(session: Session, principal: Principal) -> None:
            document = _dated(call, resource, json_object(raw))
            catalogue.update_profile(session, principal, kind, uuid, document, at=AT)

        await _write(call, work)
        if resource.update_refers:
            return envelope.success(_self_reference(call, resource, uuid), resource.updated)
        return envelope.message_only(resource.updated)

    async def delete(call: Call) -> Any:
        uuid = call.path("id")

        def work(session: Session, principal: Principal) -> None:
            catalogue.delete_profile(session, principal, kind, uuid)

        await _write(call, work)
        return envelope.message_only(resource.deleted)

    base = f"/{resource.path}"
    return [
        route(base, listing),
        route(base, create, ["POST"]),
        route(f"{base}/{{id}}", one),
        route(f"{base}/{{id}}", update, ["PUT"]),
        route(f"{base}/{{id}}", delete, ["DELETE"]),
    ]


def _by_id(row: Any) -> str:
    uuid: str = row.uuid
    return uuid


ROUTES: tuple[Spec, ...] = tuple(spec for r in RESOURCES for spec in _handlers(r))
