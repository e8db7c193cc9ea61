"""ARGO's v2 recomputations over the monitoring domain's recomputation service (the one
GraphQL calls), in argo-web-api's shapes:

- `GET /recomputations[?report=&date=]`: `{"root": [RECOMPUTATION, …]}`, oldest first,
  of one report (by name) and those whose period holds `date` (YYYY-MM-DD);
- `GET /recomputations/{id}`: `{"root": [RECOMPUTATION]}` (404 for an unknown id);
- `POST /recomputations`: ARGO's body (`requester_name`, `requester_email`, `reason`,
  `start_time`, `end_time`, `report`, and the optional `exclude`, `exclude_metrics`,
  `exclude_monitoring_source`, `applied_status_changes`); 201 with its self reference;
- `PUT /recomputations/{id}`: the whole of it again;
- `DELETE /recomputations/{id}`;
- `POST /recomputations/{id}/status` with `{"status": "approved"}` (pending, approved,
  rejected, running or done; another is ARGO's 409 "Conflict"): "Recomputation status
  updated successfully to: approved"; `DELETE /recomputations/{id}/status` resets it to
  pending: "Recomputation status reset to: pending" (the service's workflow:
  `service/recomputation_workflow.py`; only approved, running and done ones apply).

RECOMPUTATION is `{"id", "requester_name", "requester_email", "reason", "start_time",
"end_time", "report", "exclude", "exclude_metrics", "exclude_monitoring_source",
"applied_status_changes", "status", "timestamp", "history"}`; the requester's e-mail is
empty for a caller who may not manage it. Reads are public; writes are the service's
decision (platform administrators, an NGI's operations manager for its sites)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.monitoring.service import recomputation_workflow as workflow
from domains.monitoring.service import recomputations as svc
from domains.monitoring.service import recomputations_argo as argo_json
from gateway.compat.argo import envelope, params
from gateway.compat.argo.routing import Call, Spec, json_object, route

CREATED = "Recomputations successfully created"
UPDATED = "Recomputation updated successfully"
DELETED = "Recomputation Successfully Deleted"
STATUS_UPDATED = "Recomputation status updated successfully to: "
STATUS_RESET = "Recomputation status reset to: "


def _render(session: Session, principal: Principal, rows: list[Any]) -> list[dict[str, Any]]:
    names = svc.report_names(session, (r.report_uuid for r in rows))
    return [
        argo_json.as_argo(
            r,
            names.get(r.report_uuid, r.report_uuid),
            email=svc.may_manage(session, principal, r),
        )
        for r in rows
    ]


async def listing(call: Call) -> Any:
    day = params.history_date(call.query, call.today()) if call.query.get("date") else None
    report = call.query.get("report")

    def work(session: Session, principal: Principal) -> Any:
        return _render(session, principal, svc.recomputations(session, report=report, day=day))

    return {"root": await call.read(work)}


async def one(call: Call) -> Any:
    uuid = call.path("id")

    def work(session: Session, principal: Principal) -> Any:
        row = svc.get_recomputation(session, uuid)
        if row is None:
            raise envelope.not_found()
        return _render(session, principal, [row])

    return {"root": await call.read(work)}


async def create(call: Call) -> Any:
    raw = await call.body()

    def work(session: Session, principal: Principal) -> str:
        spec = argo_json.from_argo(json_object(raw))
        row = svc.create_recomputation(session, principal, spec=spec, at=svc.argo_field)
        return str(row.uuid)

    uuid = await call.write(work)
    link = {"id": uuid, "links": {"self": f"{call.base_url()}/api/v2/recomputations/{uuid}"}}
    return envelope.respond(envelope.success(link, CREATED, 201), 201)


async def update(call: Call) -> Any:
    uuid = call.path("id")
    raw = await call.body()

    def work(session: Session, principal: Principal) -> None:
        spec = argo_json.from_argo(json_object(raw))
        svc.update_recomputation(session, principal, uuid=uuid, spec=spec, at=svc.argo_field)

    await call.write(work)
    return envelope.message_only(UPDATED)


async def delete(call: Call) -> Any:
    uuid = call.path("id")

    def work(session: Session, principal: Principal) -> None:
        svc.delete_recomputation(session, principal, uuid=uuid)

    await call.write(work)
    return envelope.message_only(DELETED)


async def change_status(call: Call) -> Any:
    raw = await call.body()
    uuid = call.path("id")

    def work(session: Session, principal: Principal) -> str:
        status = json_object(raw).get("status")
        if not isinstance(status, str):
            raise envelope.conflict(f"{svc.argo_field('status')}: a string")
        try:
            row = workflow.set_recomputation_status(
                session, principal, uuid=uuid, status=status, at=svc.argo_field
            )
        except Invalid as error:
            raise envelope.conflict(str(error)) from None
        return str(row.status)

    status = await call.write(work)
    return envelope.message_only(f"{STATUS_UPDATED}{status}")


async def reset_status(call: Call) -> Any:
    uuid = call.path("id")

    def work(session: Session, principal: Principal) -> None:
        workflow.set_recomputation_status(
            session, principal, uuid=uuid, status=workflow.PENDING, at=svc.argo_field
        )

    await call.write(work)
    return envelope.message_only(f"{STATUS_RESET}{workflow.PENDING}")


ROUTES: tuple[Spec, ...] = (
    route("/recomputations", listing),
    route("/recomputations", create, ["POST"]),
    route("/recomputations/{id}", one),
    route("/recomputations/{id}", update, ["PUT"]),
    route("/recomputations/{id}", delete, ["DELETE"]),
    route("/recomputations/{id}/status", change_status, ["POST"]),
    route("/recomputations/{id}/status", reset_status, ["DELETE"]),
)
