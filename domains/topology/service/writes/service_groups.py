"""Service groups: services of any sites gathered under one name; platform admins create them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from domains.common.authz import Caller, authorize
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.models import pk
from domains.topology.models import Service, ServiceGroup, ServiceGroupMember
from domains.topology.rules import TopologyRule
from domains.topology.service.writes.checks import (
    audit_created,
    check_description,
    check_legacy_key,
    check_text_fields,
    check_unique,
    require_each,
    set_legacy_key,
)


def create_service_group(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    monitored: bool = False,
    email: str | None = None,
    service_ids: Sequence[int] = (),
    primary_key: str | None = None,
) -> ServiceGroup:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise Invalid("name", TopologyRule.SERVICE_GROUP_NAME_CHARACTERS)
    check_description("description", description, 2000)
    check_text_fields(email=email)
    check_unique(session, ServiceGroup.name, name, "name")
    check_legacy_key(session, ServiceGroup, primary_key)
    require_each(session, Service, service_ids, "serviceIds", "service")
    group = ServiceGroup(name=name, description=description, monitored=monitored, email=email)
    session.add(group)
    session.flush()
    set_legacy_key(session, group, primary_key)
    for service_id in service_ids:
        session.add(ServiceGroupMember(service_group_id=pk(group), service_id=service_id))
    session.flush()
    audit_created(session, principal, "service_group", group, ())
    return group
