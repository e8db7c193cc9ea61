"""Tables of the topology registry, modelled on GOCDB's entities."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow

MAX_PROPERTIES_PER_ENTITY = 20
MAX_PROPERTY_LENGTH = 255


class CertificationStatus(enum.StrEnum):
    CANDIDATE = "Candidate"
    UNCERTIFIED = "Uncertified"
    CERTIFIED = "Certified"
    SUSPENDED = "Suspended"
    CLOSED = "Closed"


class ProductionInfrastructure(enum.StrEnum):
    PRODUCTION = "Production"
    TEST = "Test"


class CredentialKind(enum.StrEnum):
    """What a site API credential's identifier is (GOCDB's APIAuthentication types)."""

    X509 = "X.509"
    OIDC_SUBJECT = "OIDC Subject"


MAX_CREDENTIAL_IDENTIFIER_LENGTH = 512


def _fk(target: str, *, ondelete: str = "CASCADE", index: bool = True) -> Column[int]:
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=False, index=index)


def _created() -> Column[datetime]:
    return Column(UTCDateTime(), nullable=False, default=utcnow)


class Project(SQLModel, table=True):
    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    primary_key: str | None = Field(default=None, max_length=32, unique=True)
    name: str = Field(max_length=255, unique=True)
    description: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())


class Ngi(SQLModel, table=True):
    """A National Grid Initiative / operations centre ("ROC" in GOCDB's API)."""

    __tablename__ = "ngi"

    id: int | None = Field(default=None, primary_key=True)
    primary_key: str | None = Field(default=None, max_length=32, unique=True)
    name: str = Field(max_length=255, unique=True)
    description: str = Field(default="", max_length=2000)
    email: str | None = Field(default=None, max_length=255)
    rod_email: str | None = Field(default=None, max_length=255)
    security_email: str | None = Field(default=None, max_length=255)
    helpdesk_email: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())


class ProjectNgi(SQLModel, table=True):
    __tablename__ = "project_ngi"

    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    )
    ngi_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("ngi.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class Country(SQLModel, table=True):
    __tablename__ = "country"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=2, unique=True)
    name: str = Field(max_length=255, unique=True)


class Site(SQLModel, table=True):
    """A resource centre."""

    __tablename__ = "site"

    id: int | None = Field(default=None, primary_key=True)
    primary_key: str | None = Field(default=None, max_length=32, unique=True)
    short_name: str = Field(max_length=255, unique=True)
    official_name: str | None = Field(default=None, max_length=255)
    description: str = Field(default="", max_length=2000)
    certification_status: CertificationStatus = Field(
        sa_column=enum_column(CertificationStatus, "certification_status")
    )
    certification_status_changed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    production_infrastructure: ProductionInfrastructure = Field(
        sa_column=enum_column(ProductionInfrastructure, "production_infrastructure")
    )
    ngi_id: int = Field(sa_column=_fk("ngi.id", ondelete="RESTRICT"))
    country_id: int = Field(sa_column=_fk("country.id", ondelete="RESTRICT"))
    timezone: str | None = Field(default=None, max_length=64)
    latitude: float | None = None
    longitude: float | None = None
    domain: str | None = Field(default=None, max_length=255)
    home_url: str | None = Field(default=None, max_length=512)
    email: str | None = Field(default=None, max_length=512)
    telephone: str | None = Field(default=None, max_length=255)
    alarm_email: str | None = Field(default=None, max_length=512)
    csirt_email: str | None = Field(default=None, max_length=512)
    csirt_telephone: str | None = Field(default=None, max_length=255)
    giis_url: str | None = Field(default=None, max_length=512)
    notify: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())


class ServiceType(SQLModel, table=True):
    __tablename__ = "service_type"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True)
    description: str = Field(default="", max_length=2000)
    monitoring_exception: bool = False


class Service(SQLModel, table=True):
    """A service endpoint: one service type on one host, hosted by a site."""

    __tablename__ = "service"

    id: int | None = Field(default=None, primary_key=True)
    primary_key: str | None = Field(default=None, max_length=32, unique=True)
    site_id: int = Field(sa_column=_fk("site.id"))
    service_type_id: int = Field(sa_column=_fk("service_type.id", ondelete="RESTRICT"))
    host_name: str = Field(max_length=255, index=True)
    url: str | None = Field(default=None, max_length=1024)
    production: bool = True
    monitored: bool = True
    beta: bool = False
    notify: bool = False
    host_dn: str | None = Field(default=None, max_length=512)
    ipv4_address: str | None = Field(default=None, max_length=64)
    ipv6_address: str | None = Field(default=None, max_length=64)
    operating_system: str | None = Field(default=None, max_length=255)
    architecture: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=512)
    description: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())


class Endpoint(SQLModel, table=True):
    """An endpoint location of a service; its name is unique within the service."""

    __tablename__ = "endpoint"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(sa_column=_fk("service.id"))
    name: str = Field(max_length=255)
    url: str | None = Field(default=None, max_length=1024)
    interface_name: str = Field(max_length=255)
    monitored: bool = False
    description: str = Field(default="", max_length=2000)
    email: str | None = Field(default=None, max_length=512)


class ServiceGroup(SQLModel, table=True):
    __tablename__ = "service_group"

    id: int | None = Field(default=None, primary_key=True)
    primary_key: str | None = Field(default=None, max_length=32, unique=True)
    name: str = Field(max_length=255, unique=True)
    description: str = Field(default="", max_length=2000)
    monitored: bool = False
    email: str | None = Field(default=None, max_length=512)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())


class ServiceGroupMember(SQLModel, table=True):
    __tablename__ = "service_group_member"

    service_group_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("service_group.id", ondelete="CASCADE"), primary_key=True
        )
    )
    service_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class Scope(SQLModel, table=True):
    """A scope tag; reserved ones are handed out by admins only."""

    __tablename__ = "scope"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True)
    description: str = Field(default="", max_length=2000)
    reserved: bool = False


def _scope_link(owner: str) -> tuple[Column[int], Column[int]]:
    return (
        Column(Integer, ForeignKey(f"{owner}.id", ondelete="CASCADE"), primary_key=True),
        Column(Integer, ForeignKey("scope.id", ondelete="CASCADE"), primary_key=True, index=True),
    )


class NgiScope(SQLModel, table=True):
    __tablename__ = "ngi_scope"
    ngi_id: int = Field(sa_column=_scope_link("ngi")[0])
    scope_id: int = Field(sa_column=_scope_link("ngi")[1])


class SiteScope(SQLModel, table=True):
    __tablename__ = "site_scope"
    site_id: int = Field(sa_column=_scope_link("site")[0])
    scope_id: int = Field(sa_column=_scope_link("site")[1])


class ServiceScope(SQLModel, table=True):
    __tablename__ = "service_scope"
    service_id: int = Field(sa_column=_scope_link("service")[0])
    scope_id: int = Field(sa_column=_scope_link("service")[1])


class ServiceGroupScope(SQLModel, table=True):
    __tablename__ = "service_group_scope"
    service_group_id: int = Field(sa_column=_scope_link("service_group")[0])
    scope_id: int = Field(sa_column=_scope_link("service_group")[1])


def _property_args(owner: str) -> tuple[UniqueConstraint]:
    return (UniqueConstraint(f"{owner}_id", "key"),)


class SiteProperty(SQLModel, table=True):
    """Key/value extension property of a site (at most 20 per site)."""

    __tablename__ = "site_property"
    __table_args__ = _property_args("site")
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=_fk("site.id"))
    key: str = Field(max_length=MAX_PROPERTY_LENGTH)
    value: str = Field(max_length=MAX_PROPERTY_LENGTH)


class ServiceProperty(SQLModel, table=True):
    __tablename__ = "service_property"
    __table_args__ = _property_args("service")
    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(sa_column=_fk("service.id"))
    key: str = Field(max_length=MAX_PROPERTY_LENGTH)
    value: str = Field(max_length=MAX_PROPERTY_LENGTH)


class EndpointProperty(SQLModel, table=True):
    __tablename__ = "endpoint_property"
    __table_args__ = _property_args("endpoint")
    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(sa_column=_fk("endpoint.id"))
    key: str = Field(max_length=MAX_PROPERTY_LENGTH)
    value: str = Field(max_length=MAX_PROPERTY_LENGTH)


class ServiceGroupProperty(SQLModel, table=True):
    __tablename__ = "service_group_property"
    __table_args__ = _property_args("service_group")
    id: int | None = Field(default=None, primary_key=True)
    service_group_id: int = Field(sa_column=_fk("service_group.id"))
    key: str = Field(max_length=MAX_PROPERTY_LENGTH)
    value: str = Field(max_length=MAX_PROPERTY_LENGTH)


class CertificationStatusLog(SQLModel, table=True):
    """One change of a site's certification status, with its mandatory reason."""

    __tablename__ = "certification_status_log"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=_fk("site.id"))
    old_status: CertificationStatus = Field(
        sa_column=enum_column(CertificationStatus, "old_certification_status")
    )
    new_status: CertificationStatus = Field(
        sa_column=enum_column(CertificationStatus, "new_certification_status")
    )
    changed_by: str = Field(max_length=255)
    changed_at: datetime = Field(default_factory=utcnow, sa_column=_created())
    reason: str = Field(max_length=300)


class SiteApiCredential(SQLModel, table=True):
    """An identifier (an X.509 DN or an OIDC subject) that may use GOCDB's programmatic
    interface for one site: reads at protection level 3, and writes through the v5 write API
    when allow_write is set. Owned by the user who registered (or last edited or renewed)
    it, after GOCDB's APIAuthentication."""

    __tablename__ = "site_api_credential"
    __table_args__ = (UniqueConstraint("site_id", "identifier"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=_fk("site.id"))
    identifier: str = Field(max_length=MAX_CREDENTIAL_IDENTIFIER_LENGTH, index=True)
    kind: CredentialKind = Field(sa_column=enum_column(CredentialKind, "credential_kind"))
    allow_write: bool = False
    user_id: int = Field(sa_column=_fk("user_account.id"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    last_renewed_at: datetime = Field(default_factory=utcnow, sa_column=_created())
    unused_flagged_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
