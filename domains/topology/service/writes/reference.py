"""The federation's reference data, which only platform admins write: projects, countries,
scopes and service types."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from domains.common.authz import Caller, authorize
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.text import check_text
from domains.topology.models import Country, Project, Scope, ServiceType
from domains.topology.rules import TopologyRule
from domains.topology.service.writes.checks import (
    audit_created,
    check_description,
    check_legacy_key,
    check_tag_name,
    check_unique,
    set_legacy_key,
)

_Named = TypeVar("_Named", Scope, ServiceType)


def create_project(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    primary_key: str | None = None,
) -> Project:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_tag_name("name", name)
    check_description("description", description, 2000)
    check_unique(session, Project.name, name, "name")
    check_legacy_key(session, Project, primary_key)
    project = Project(name=name, description=description)
    session.add(project)
    session.flush()
    set_legacy_key(session, project, primary_key)
    audit_created(session, principal, "project", project, ())
    return project


def create_country(session: Session, principal: Principal, *, code: str, name: str) -> Country:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise Invalid("code", TopologyRule.COUNTRY_CODE_MALFORMED)
    if not name or len(name) > 255:
        raise Invalid("name", TopologyRule.COUNTRY_NAME_LENGTH)
    check_text("name", name)
    check_unique(session, Country.code, code, "code")
    check_unique(session, Country.name, name, "name")
    country = Country(code=code, name=name)
    session.add(country)
    session.flush()
    audit_created(session, principal, "country", country, ())
    return country


def _create_named(
    session: Session,
    principal: Principal,
    model: type[_Named],
    kind: str,
    *,
    name: str,
    description: str,
    **fields: Any,
) -> _Named:
    """A tag-like entry (a scope, a service type): a unique name, a description and `fields`."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_tag_name("name", name)
    check_description("description", description, 2000)
    check_unique(session, model.name, name, "name")
    entry = model(name=name, description=description, **fields)
    session.add(entry)
    session.flush()
    audit_created(session, principal, kind, entry, ())
    return entry


def create_scope(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    reserved: bool = False,
) -> Scope:
    return _create_named(
        session, principal, Scope, "scope", name=name, description=description, reserved=reserved
    )


def create_service_type(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    monitoring_exception: bool = False,
) -> ServiceType:
    return _create_named(
        session,
        principal,
        ServiceType,
        "service_type",
        name=name,
        description=description,
        monitoring_exception=monitoring_exception,
    )
