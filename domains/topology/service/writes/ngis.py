"""NGIs, the national grid initiatives that sites belong to; only platform admins create them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from domains.common.authz import Caller, authorize
from domains.common.identity import Principal
from domains.common.models import pk
from domains.topology.models import Ngi, Project, ProjectNgi
from domains.topology.service.writes.checks import (
    audit_created,
    check_description,
    check_legacy_key,
    check_tag_name,
    check_text_fields,
    check_unique,
    require_each,
    set_legacy_key,
)


def create_ngi(
    session: Session,
    principal: Principal,
    *,
    name: str,
    project_ids: Sequence[int] = (),
    description: str = "",
    email: str | None = None,
    rod_email: str | None = None,
    security_email: str | None = None,
    helpdesk_email: str | None = None,
    primary_key: str | None = None,
) -> Ngi:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_tag_name("name", name)
    check_description("description", description, 2000)
    check_text_fields(
        email=email,
        rod_email=rod_email,
        security_email=security_email,
        helpdesk_email=helpdesk_email,
    )
    check_unique(session, Ngi.name, name, "name")
    check_legacy_key(session, Ngi, primary_key)
    require_each(session, Project, project_ids, "projectIds", "project")
    ngi = Ngi(
        name=name,
        description=description,
        email=email,
        rod_email=rod_email,
        security_email=security_email,
        helpdesk_email=helpdesk_email,
    )
    session.add(ngi)
    session.flush()
    set_legacy_key(session, ngi, primary_key)
    for project_id in project_ids:
        session.add(ProjectNgi(project_id=project_id, ngi_id=pk(ngi)))
    session.flush()
    audit_created(session, principal, "ngi", ngi, ())
    return ngi
