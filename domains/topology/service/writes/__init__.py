"""Topology writes: every change is authorized here, validated, audited, and flushed
(never committed; the caller's unit of work commits).

One module per entity written; `checks` holds what they all share, `owners` what scopes
and properties share. Callers use the names below (`writes.create_site(...)`)."""

from domains.topology.service.writes.endpoints import (
    ENDPOINT_FIELDS,
    add_endpoint,
    delete_endpoint,
    update_endpoint,
)
from domains.topology.service.writes.ngis import create_ngi
from domains.topology.service.writes.properties import remove_property, set_property
from domains.topology.service.writes.reference import (
    create_country,
    create_project,
    create_scope,
    create_service_type,
)
from domains.topology.service.writes.scopes import tag_scopes, untag_scopes
from domains.topology.service.writes.service_groups import create_service_group
from domains.topology.service.writes.services import (
    SERVICE_FIELDS,
    check_production_monitored,
    create_service,
    delete_service,
    update_service,
)
from domains.topology.service.writes.sites import (
    SITE_FIELDS,
    change_certification_status,
    create_site,
    update_site,
)

__all__ = [
    "ENDPOINT_FIELDS",
    "SERVICE_FIELDS",
    "SITE_FIELDS",
    "add_endpoint",
    "change_certification_status",
    "check_production_monitored",
    "create_country",
    "create_ngi",
    "create_project",
    "create_scope",
    "create_service",
    "create_service_group",
    "create_service_type",
    "create_site",
    "delete_endpoint",
    "delete_service",
    "remove_property",
    "set_property",
    "tag_scopes",
    "untag_scopes",
    "update_endpoint",
    "update_service",
    "update_site",
]
