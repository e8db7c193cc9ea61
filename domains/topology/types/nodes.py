"""GraphQL types of the topology's entities, each built from a row by `from_row`.
Resolvers only translate: arguments to a service or loader call, rows to types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import strawberry

from domains.common.graphql import (
    Info,
    Node,
    row_constructor,
    viewer_can,
)
from domains.common.query import Record
from domains.common.scopes import ScopeMatch
from domains.identity.models import EntityKind
from domains.topology import loaders, ownership, roles
from domains.topology import service as topology
from domains.topology.models import CertificationStatus, ProductionInfrastructure
from domains.topology.ownership import EntityRef
from domains.topology.types.roles import HeldRoleType

CertificationStatusEnum = strawberry.enum(
    CertificationStatus,
    name="CertificationStatus",
    description="Certification status of a site, as in GOCDB.",
)
ProductionInfrastructureEnum = strawberry.enum(
    ProductionInfrastructure,
    name="ProductionInfrastructure",
    description="Whether a site belongs to the production or the test infrastructure.",
)
ScopeMatchEnum = strawberry.enum(
    ScopeMatch,
    name="ScopeMatch",
    description="How several scopes combine: ANY of them, or ALL of them.",
)


# The entity topology's policy decides each kind of object's actions on: a `viewerCan…`
# field asks the question its mutation's service asks (a service's and an endpoint's actions
# are decided on their site, rules.decide; asking of the site shares the answers).
def _self(kind: str) -> Callable[[Node, Info], EntityRef]:
    return lambda root, _info: EntityRef(kind, root.db_id)


def _site(root: SiteNode, info: Info) -> EntityRef:
    return ownership.site_ref(info.context.session, root.db_id, root.ngi_id)


def _of_service(root: ServiceNode, _info: Info) -> EntityRef:
    return EntityRef("site", root.site_id)


def _of_endpoint(root: EndpointNode, info: Info) -> EntityRef | None:
    # its service's site, from the services the request read already (primed loader)
    service = loaders.service_(info.context).load(root.service_id)
    return None if service is None else EntityRef("site", service.site_id)


_PROPERTIES = ("setProperty", "removeProperty")
_SCOPES = ("tagScopes", "untagScopes")
_DECIDE_ROLES = ("grantRole", "rejectRole", "revokeRole")


def _personal(info: Info, value: str | None, ngi_id: int | None) -> str | None:
    """What the service layer's PersonalData lets this caller read of `value`."""
    return _personal_data(info).of_ngi(value, ngi_id)


def _personal_data(info: Info) -> roles.PersonalData:
    return loaders.personal_data(info.context)


def _held_roles(info: Info, kind: EntityKind, entity_id: int) -> list[HeldRoleType]:
    rows = loaders.roles_over(info.context, kind).load(entity_id)
    return [HeldRoleType.from_row(row) for row in rows]


def _ngi_of_site(info: Info, site_id: int) -> int | None:
    row = loaders.site(info.context).load(site_id)
    return None if row is None else int(row.ngi_id)


# --- small value types --------------------------------------------------------------


@strawberry.type(description="Country of a site.")
class Country:
    code: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    name: str


@strawberry.type(description="Key/value extension property (at most 20 per entity).")
class ExtensionProperty:
    key: str
    value: str

    @classmethod
    def from_row(cls, row: Record) -> ExtensionProperty:
        return cls(key=row.key, value=row.value)


def _properties(info: Info, kind: str, owner_id: int) -> list[ExtensionProperty]:
    rows = loaders.properties_of(info.context, kind).load(owner_id)
    return [ExtensionProperty.from_row(row) for row in rows]


def _scopes(info: Info, kind: str, owner_id: int) -> list[ScopeNode]:
    return [ScopeNode.from_row(row) for row in loaders.scopes_of(info.context, kind).load(owner_id)]


# --- node types -------------------------------------------------------------------------


@strawberry.type(name="Scope", description="A scope tag. Reserved tags are given out by admins.")
class ScopeNode(Node):
    name: str
    description: str
    reserved: bool

    @classmethod
    def from_row(cls, row: Record) -> ScopeNode:
        return _SCOPE(row)


@strawberry.type(name="Project", description="A project: the top of the ownership tree (e.g. EGI).")
class ProjectNode(Node):
    primary_key: str | None
    name: str
    description: str

    viewer_can_decide_roles = viewer_can(*_DECIDE_ROLES, on=_self("project"), thing="its roles")

    @classmethod
    def from_row(cls, row: Record) -> ProjectNode:
        return _PROJECT(row)

    @strawberry.field
    def ngis(self, info: Info) -> list[NgiNode]:
        return [NgiNode.from_row(r) for r in loaders.ngis_of_project(info.context).load(self.db_id)]


@strawberry.type(name="NGI", description="An operations centre (National Grid Initiative; ROC).")
class NgiNode(Node):
    primary_key: str | None = strawberry.field(description="Legacy GOCDB key (`<n>G0`).")
    name: str
    description: str
    created_at: datetime
    raw_email: strawberry.Private[str | None]
    raw_rod_email: strawberry.Private[str | None]
    raw_security_email: strawberry.Private[str | None]
    raw_helpdesk_email: strawberry.Private[str | None]

    viewer_can_create_site = viewer_can("createSite", on=_self("ngi"), thing="this NGI")
    viewer_can_edit_scopes = viewer_can(*_SCOPES, on=_self("ngi"), thing="this NGI")
    viewer_can_decide_roles = viewer_can(*_DECIDE_ROLES, on=_self("ngi"), thing="its roles")

    @classmethod
    def from_row(cls, row: Record) -> NgiNode:
        return _NGI(row)

    @strawberry.field(description="Contact e-mail; personal data, hidden from anonymous callers.")
    def email(self, info: Info) -> str | None:
        return _personal(info, self.raw_email, self.db_id)

    @strawberry.field(description="ROD team e-mail; personal data.")
    def rod_email(self, info: Info) -> str | None:
        return _personal(info, self.raw_rod_email, self.db_id)

    @strawberry.field(description="Security contact e-mail; personal data.")
    def security_email(self, info: Info) -> str | None:
        return _personal(info, self.raw_security_email, self.db_id)

    @strawberry.field(description="Helpdesk e-mail; personal data.")
    def helpdesk_email(self, info: Info) -> str | None:
        return _personal(info, self.raw_helpdesk_email, self.db_id)

    @strawberry.field(
        description="Granted roles over this NGI, ordered by id; empty for a caller who may "
        "not read its contacts (the holders are personal data)."
    )
    def roles(self, info: Info) -> list[HeldRoleType]:
        return _held_roles(info, EntityKind.NGI, self.db_id)

    @strawberry.field(description="Sites of this NGI, ordered by id.")
    def sites(self, info: Info) -> list[SiteNode]:
        return [SiteNode.from_row(r) for r in loaders.sites_of_ngi(info.context).load(self.db_id)]

    @strawberry.field
    def scopes(self, info: Info) -> list[ScopeNode]:
        return _scopes(info, "ngi", self.db_id)

    @strawberry.field
    def projects(self, info: Info) -> list[ProjectNode]:
        rows = loaders.projects_of_ngi(info.context).load(self.db_id)
        return [ProjectNode.from_row(r) for r in rows]


@strawberry.type(name="Site", description="A resource centre.")
class SiteNode(Node):
    primary_key: str | None = strawberry.field(description="Legacy GOCDB key (`<n>G0`).")
    short_name: str
    official_name: str | None
    description: str
    certification_status: CertificationStatus
    certification_status_changed_at: datetime | None
    production_infrastructure: ProductionInfrastructure
    country: Country
    timezone: str | None = strawberry.field(description="IANA time zone name.")
    latitude: float | None
    longitude: float | None
    domain: str | None
    home_url: str | None
    giis_url: str | None = strawberry.field(description="Site BDII, an ldap:// URL.")
    notify: bool
    created_at: datetime
    ngi_id: strawberry.Private[int]
    raw_email: strawberry.Private[str | None]
    raw_telephone: strawberry.Private[str | None]
    raw_alarm_email: strawberry.Private[str | None]
    raw_csirt_email: strawberry.Private[str | None]
    raw_csirt_telephone: strawberry.Private[str | None]

    viewer_can_edit = viewer_can("updateSite", on=_site, thing="this site")
    viewer_can_change_certification_status = viewer_can(
        "changeCertificationStatus", on=_site, thing="this site"
    )
    viewer_can_add_service = viewer_can("createService", on=_site, thing="this site")
    viewer_can_edit_properties = viewer_can(*_PROPERTIES, on=_site, thing="this site")
    viewer_can_edit_scopes = viewer_can(*_SCOPES, on=_site, thing="this site")
    viewer_can_decide_roles = viewer_can(*_DECIDE_ROLES, on=_site, thing="its roles")

    @classmethod
    def from_row(cls, row: Record) -> SiteNode:
        return _SITE(row, country=Country(code=row[_COUNTRY_CODE], name=row[_COUNTRY_NAME]))

    @strawberry.field(description="Contact e-mail; personal data, hidden from anonymous callers.")
    def email(self, info: Info) -> str | None:
        return _personal(info, self.raw_email, self.ngi_id)

    @strawberry.field(description="Contact telephone; personal data.")
    def telephone(self, info: Info) -> str | None:
        return _personal(info, self.raw_telephone, self.ngi_id)

    @strawberry.field(
        description="Whether the caller may read this site's contacts and role holders: when "
        "false a null contact is hidden, when true it is not set."
    )
    def contacts_readable(self, info: Info) -> bool:
        return _personal_data(info).may_read_ngi(self.ngi_id)

    @strawberry.field(
        description="Granted roles over this site, ordered by id; empty for a caller who may "
        "not read its contacts (the holders are personal data, see contactsReadable)."
    )
    def roles(self, info: Info) -> list[HeldRoleType]:
        return _held_roles(info, EntityKind.SITE, self.db_id)

    @strawberry.field(description="Alarm e-mail (WLCG Tier-1); personal data.")
    def alarm_email(self, info: Info) -> str | None:
        return _personal(info, self.raw_alarm_email, self.ngi_id)

    @strawberry.field(description="CSIRT e-mail; personal data.")
    def csirt_email(self, info: Info) -> str | None:
        return _personal(info, self.raw_csirt_email, self.ngi_id)

    @strawberry.field(description="CSIRT telephone; personal data.")
    def csirt_telephone(self, info: Info) -> str | None:
        return _personal(info, self.raw_csirt_telephone, self.ngi_id)

    @strawberry.field
    def ngi(self, info: Info) -> NgiNode:
        row = loaders.ngi(info.context).load(self.ngi_id)
        assert row is not None  # a foreign key guarantees it
        return NgiNode.from_row(row)

    @strawberry.field(description="Changes of the certification status, oldest first.")
    def certification_status_history(self, info: Info) -> list[CertificationStatusChange]:
        rows = loaders.certification_history(info.context).load(self.db_id)
        return [CertificationStatusChange.from_row(r) for r in rows]

    @strawberry.field(description="Services hosted by this site, ordered by id.")
    def services(self, info: Info) -> list[ServiceNode]:
        rows = loaders.services_of_site(info.context).load(self.db_id)
        return [ServiceNode.from_row(r) for r in rows]

    @strawberry.field
    def scopes(self, info: Info) -> list[ScopeNode]:
        return _scopes(info, "site", self.db_id)

    @strawberry.field
    def properties(self, info: Info) -> list[ExtensionProperty]:
        return _properties(info, "site", self.db_id)


@strawberry.type(description="One change of a site's certification status.")
class CertificationStatusChange:
    old_status: CertificationStatus
    new_status: CertificationStatus
    changed_at: datetime
    changed_by: str
    reason: str

    @classmethod
    def from_row(cls, row: Record) -> CertificationStatusChange:
        return cls(
            old_status=row.old_status,
            new_status=row.new_status,
            changed_at=row.changed_at,
            changed_by=row.changed_by,
            reason=row.reason,
        )


@strawberry.type(name="ServiceType", description="A kind of service, e.g. ARC-CE or webdav.")
class ServiceTypeNode(Node):
    name: str
    description: str
    monitoring_exception: bool = strawberry.field(
        description="Services of this type may be in production without being monitored."
    )

    @classmethod
    def from_row(cls, row: Record) -> ServiceTypeNode:
        return _SERVICE_TYPE(row)


@strawberry.type(name="Service", description="A service endpoint: a service type on a host.")
class ServiceNode(Node):
    primary_key: str | None = strawberry.field(description="Legacy GOCDB key (`<n>G0`).")
    host_name: str
    service_type: str = strawberry.field(description="Name of the service type.")
    url: str | None
    production: bool
    monitored: bool
    beta: bool
    notify: bool
    host_dn: str | None
    ipv4_address: str | None
    ipv6_address: str | None
    operating_system: str | None
    architecture: str | None
    description: str
    created_at: datetime
    site_id: strawberry.Private[int]
    service_type_id: strawberry.Private[int]
    raw_email: strawberry.Private[str | None]

    viewer_can_edit = viewer_can("updateService", on=_of_service, thing="this service")
    viewer_can_delete = viewer_can("deleteService", on=_of_service, thing="this service")
    viewer_can_add_endpoint = viewer_can("addEndpoint", on=_of_service, thing="this service")
    viewer_can_edit_properties = viewer_can(*_PROPERTIES, on=_of_service, thing="it")
    viewer_can_edit_scopes = viewer_can(*_SCOPES, on=_of_service, thing="this service")

    @classmethod
    def from_row(cls, row: Record) -> ServiceNode:
        return _SERVICE(row)

    @strawberry.field(description="Contact e-mail; personal data, hidden from anonymous callers.")
    def email(self, info: Info) -> str | None:
        return _personal(info, self.raw_email, _ngi_of_site(info, self.site_id))

    @strawberry.field(description="The service type as an object.")
    def type(self, info: Info) -> ServiceTypeNode:
        row = loaders.service_type(info.context).load(self.service_type_id)
        assert row is not None
        return ServiceTypeNode.from_row(row)

    @strawberry.field
    def site(self, info: Info) -> SiteNode:
        row = loaders.site(info.context).load(self.site_id)
        assert row is not None
        return SiteNode.from_row(row)

    @strawberry.field(description="Endpoints of this service, ordered by id.")
    def endpoints(self, info: Info) -> list[EndpointNode]:
        rows = loaders.endpoints_of_service(info.context).load(self.db_id)
        return [EndpointNode.from_row(r) for r in rows]

    @strawberry.field
    def scopes(self, info: Info) -> list[ScopeNode]:
        return _scopes(info, "service", self.db_id)

    @strawberry.field
    def properties(self, info: Info) -> list[ExtensionProperty]:
        return _properties(info, "service", self.db_id)


@strawberry.type(name="Endpoint", description="An endpoint location of a service.")
class EndpointNode(Node):
    name: str = strawberry.field(description="Unique within its service.")
    url: str | None
    interface_name: str
    monitored: bool
    description: str
    service_id: strawberry.Private[int]
    raw_email: strawberry.Private[str | None]

    viewer_can_edit = viewer_can("updateEndpoint", on=_of_endpoint, thing="this endpoint")
    viewer_can_delete = viewer_can("deleteEndpoint", on=_of_endpoint, thing="this endpoint")
    viewer_can_edit_properties = viewer_can(*_PROPERTIES, on=_of_endpoint, thing="it")

    @classmethod
    def from_row(cls, row: Record) -> EndpointNode:
        return _ENDPOINT(row)

    @strawberry.field(description="Contact e-mail; personal data, hidden from anonymous callers.")
    def email(self, info: Info) -> str | None:
        service = loaders.service_(info.context).load(self.service_id)
        ngi_id = None if service is None else _ngi_of_site(info, service.site_id)
        return _personal(info, self.raw_email, ngi_id)

    @strawberry.field
    def service(self, info: Info) -> ServiceNode:
        row = loaders.service_(info.context).load(self.service_id)
        assert row is not None
        return ServiceNode.from_row(row)

    @strawberry.field
    def properties(self, info: Info) -> list[ExtensionProperty]:
        return _properties(info, "endpoint", self.db_id)


@strawberry.type(name="ServiceGroup", description="A named set of services from any sites.")
class ServiceGroupNode(Node):
    primary_key: str | None
    name: str
    description: str
    monitored: bool
    created_at: datetime
    raw_email: strawberry.Private[str | None]

    viewer_can_edit_properties = viewer_can(*_PROPERTIES, on=_self("service_group"), thing="it")
    viewer_can_edit_scopes = viewer_can(*_SCOPES, on=_self("service_group"), thing="it")
    viewer_can_decide_roles = viewer_can(
        *_DECIDE_ROLES, on=_self("service_group"), thing="its roles"
    )

    @classmethod
    def from_row(cls, row: Record) -> ServiceGroupNode:
        return _GROUP(row)

    @strawberry.field(description="Contact e-mail; personal data, hidden from anonymous callers.")
    def email(self, info: Info) -> str | None:
        return _personal_data(info).of_service_group(self.raw_email)

    @strawberry.field
    def services(self, info: Info) -> list[ServiceNode]:
        rows = loaders.services_of_group(info.context).load(self.db_id)
        return [ServiceNode.from_row(r) for r in rows]

    @strawberry.field
    def scopes(self, info: Info) -> list[ScopeNode]:
        return _scopes(info, "service_group", self.db_id)

    @strawberry.field
    def properties(self, info: Info) -> list[ExtensionProperty]:
        return _properties(info, "service_group", self.db_id)


# --- rows to objects, by position (much cheaper than attribute lookups on rows) --------

_SCOPE = row_constructor(
    ScopeNode,
    topology.SCOPE_COLUMNS,
    {"db_id": "id", "name": "name", "description": "description", "reserved": "reserved"},
)
_PROJECT = row_constructor(
    ProjectNode,
    topology.PROJECT_COLUMNS,
    {"db_id": "id", "primary_key": "primary_key", "name": "name", "description": "description"},
)
_NGI = row_constructor(
    NgiNode,
    topology.NGI_COLUMNS,
    {
        "db_id": "id",
        "primary_key": "primary_key",
        "name": "name",
        "description": "description",
        "created_at": "created_at",
        "raw_email": "email",
        "raw_rod_email": "rod_email",
        "raw_security_email": "security_email",
        "raw_helpdesk_email": "helpdesk_email",
    },
)
_SITE = row_constructor(
    SiteNode,
    topology.SITE_COLUMNS,
    {
        "db_id": "id",
        "primary_key": "primary_key",
        "short_name": "short_name",
        "official_name": "official_name",
        "description": "description",
        "certification_status": "certification_status",
        "certification_status_changed_at": "certification_status_changed_at",
        "production_infrastructure": "production_infrastructure",
        "timezone": "timezone",
        "latitude": "latitude",
        "longitude": "longitude",
        "domain": "domain",
        "home_url": "home_url",
        "giis_url": "giis_url",
        "notify": "notify",
        "created_at": "created_at",
        "ngi_id": "ngi_id",
        "raw_email": "email",
        "raw_telephone": "telephone",
        "raw_alarm_email": "alarm_email",
        "raw_csirt_email": "csirt_email",
        "raw_csirt_telephone": "csirt_telephone",
    },
)
_COUNTRY_CODE = topology.SITE_COLUMNS.index("country_code")
_COUNTRY_NAME = topology.SITE_COLUMNS.index("country_name")
_SERVICE_TYPE = row_constructor(
    ServiceTypeNode,
    topology.SERVICE_TYPE_COLUMNS,
    {
        "db_id": "id",
        "name": "name",
        "description": "description",
        "monitoring_exception": "monitoring_exception",
    },
)
_SERVICE = row_constructor(
    ServiceNode,
    topology.SERVICE_COLUMNS,
    {
        "db_id": "id",
        "primary_key": "primary_key",
        "host_name": "host_name",
        "service_type": "service_type_name",
        "url": "url",
        "production": "production",
        "monitored": "monitored",
        "beta": "beta",
        "notify": "notify",
        "host_dn": "host_dn",
        "ipv4_address": "ipv4_address",
        "ipv6_address": "ipv6_address",
        "operating_system": "operating_system",
        "architecture": "architecture",
        "description": "description",
        "created_at": "created_at",
        "site_id": "site_id",
        "service_type_id": "service_type_id",
        "raw_email": "email",
    },
)
_ENDPOINT = row_constructor(
    EndpointNode,
    topology.ENDPOINT_COLUMNS,
    {
        "db_id": "id",
        "name": "name",
        "url": "url",
        "interface_name": "interface_name",
        "monitored": "monitored",
        "description": "description",
        "service_id": "service_id",
        "raw_email": "email",
    },
)
_GROUP = row_constructor(
    ServiceGroupNode,
    topology.GROUP_COLUMNS,
    {
        "db_id": "id",
        "primary_key": "primary_key",
        "name": "name",
        "description": "description",
        "monitored": "monitored",
        "created_at": "created_at",
        "raw_email": "email",
    },
)
