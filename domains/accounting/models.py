"""The accounting repository's tables: what sites send, each kind in a table of its own and
replaced by APEL's keys (last write wins, so that sending a message again changes nothing),
and the reject store.

Key columns are never NULL: a dimension a record leaves out is stored as the empty string
(APEL stores the text 'None'), a count as 0, so that the unique keys hold on both databases.
Benchmarks and CPU counts are APEL's DECIMAL(10,3), kept as floats of three decimals."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow

TEXT_MAX = 255
DN_MAX = 512
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Any:
    return Field(default=None, sa_column=Column(BIG_ID, primary_key=True))


def _time(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _big(default: int | None = None) -> Any:
    return Field(default=default, sa_column=Column(BigInteger, nullable=default is None))


def _float(default: float | None = None) -> Any:
    return Field(default=default, sa_column=Column(Float, nullable=default is None))


class Loaded(SQLModel):
    """Who sent a row, in which message, and when it was loaded (last write)."""

    publisher: str = Field(default="", max_length=DN_MAX)  # the signer's DN or the principal
    message_id: str = Field(default="", max_length=TEXT_MAX)  # AMS's empaid, or ours
    # sa_type, not sa_column: a Column object cannot be shared by the tables inheriting it
    loaded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class JobRecord(Loaded, table=True):
    """One grid job (APEL's JobRecords), keyed by (site, local job id, end time); its month is
    its EndTime's in UTC."""

    __tablename__ = "accounting_job"
    __table_args__ = (
        UniqueConstraint("site", "local_job_id", "end_time"),
        Index("ix_accounting_job_month", "site", "end_year", "end_month"),
    )

    id: int | None = _id()
    site: str = Field(max_length=TEXT_MAX)
    local_job_id: str = Field(max_length=TEXT_MAX)
    end_time: dt.datetime = _time(nullable=False)
    start_time: dt.datetime = _time(nullable=False)
    end_year: int
    end_month: int
    submit_host: str = Field(default="", max_length=TEXT_MAX)
    machine_name: str = Field(default="", max_length=TEXT_MAX)
    queue: str = Field(default="", max_length=TEXT_MAX)
    local_user_id: str = Field(default="", max_length=TEXT_MAX)
    global_user_name: str = Field(default="", max_length=TEXT_MAX)
    fqan: str = Field(default="", max_length=TEXT_MAX)
    vo: str = Field(default="", max_length=TEXT_MAX)
    vo_group: str = Field(default="", max_length=TEXT_MAX)
    vo_role: str = Field(default="", max_length=TEXT_MAX)
    wall_duration: int = _big(0)
    cpu_duration: int = _big(0)
    processors: int = 0
    node_count: int = 0
    infrastructure_description: str = Field(default="", max_length=TEXT_MAX)
    infrastructure_type: str = Field(default="", max_length=TEXT_MAX)
    memory_real: int | None = _big()
    memory_virtual: int | None = _big()
    service_level_type: str = Field(default="", max_length=32)
    service_level: float = _float(1.0)


class Summary(Loaded, table=True):
    """A site-sent summary (v0.2, v0.4), keyed as APEL's Summaries table."""

    __tablename__ = "accounting_summary"
    __table_args__ = (
        UniqueConstraint(
            "site",
            "month",
            "year",
            "global_user_name",
            "vo",
            "vo_role",
            "vo_group",
            "submit_host",
            "infrastructure_type",
            "service_level_type",
            "service_level",
            "node_count",
            "processors",
        ),  # fmt: skip
    )

    id: int | None = _id()
    site: str = Field(max_length=TEXT_MAX)
    month: int
    year: int
    global_user_name: str = Field(default="", max_length=TEXT_MAX)
    vo: str = Field(default="", max_length=TEXT_MAX)
    vo_group: str = Field(default="", max_length=TEXT_MAX)
    vo_role: str = Field(default="", max_length=TEXT_MAX)
    submit_host: str = Field(default="", max_length=TEXT_MAX)
    infrastructure_type: str = Field(default="", max_length=TEXT_MAX)
    infrastructure_description: str = Field(default="", max_length=TEXT_MAX)
    service_level_type: str = Field(default="", max_length=32)
    service_level: float = _float(1.0)
    node_count: int = 0
    processors: int = 0
    earliest_end_time: dt.datetime | None = _time()
    latest_end_time: dt.datetime | None = _time()
    wall_duration: int = _big(0)
    cpu_duration: int = _big(0)
    number_of_jobs: int = _big(0)


class NormalisedSummary(Loaded, table=True):
    """A site-sent normalised summary (v0.3, v0.4), keyed as APEL's NormalisedSummaries."""

    __tablename__ = "accounting_normalised_summary"
    __table_args__ = (
        UniqueConstraint(
            "site",
            "month",
            "year",
            "global_user_name",
            "vo",
            "vo_role",
            "vo_group",
            "submit_host",
            "infrastructure",
            "node_count",
            "processors",
            "service_level_type",
        ),  # fmt: skip
    )

    id: int | None = _id()
    site: str = Field(max_length=TEXT_MAX)
    month: int
    year: int
    global_user_name: str = Field(default="", max_length=TEXT_MAX)
    vo: str = Field(default="", max_length=TEXT_MAX)
    vo_group: str = Field(default="", max_length=TEXT_MAX)
    vo_role: str = Field(default="", max_length=TEXT_MAX)
    submit_host: str = Field(default="", max_length=TEXT_MAX)
    infrastructure: str = Field(default="", max_length=TEXT_MAX)
    infrastructure_description: str = Field(default="", max_length=TEXT_MAX)
    service_level_type: str = Field(default="", max_length=32)
    node_count: int = 0
    processors: int = 0
    earliest_end_time: dt.datetime | None = _time()
    latest_end_time: dt.datetime | None = _time()
    wall_duration: int = _big(0)
    cpu_duration: int = _big(0)
    normalised_wall_duration: int = _big(0)
    normalised_cpu_duration: int = _big(0)
    number_of_jobs: int = _big(0)


class SyncRecord(Loaded, table=True):
    """What a site says it holds for a submit host and month (APEL's SyncRecords)."""

    __tablename__ = "accounting_sync"
    __table_args__ = (UniqueConstraint("site", "submit_host", "month", "year"),)

    id: int | None = _id()
    site: str = Field(max_length=TEXT_MAX)
    submit_host: str = Field(default="", max_length=TEXT_MAX)
    month: int
    year: int
    number_of_jobs: int = _big(0)


class CloudRecord(Loaded, table=True):
    """A VM's cumulative usage as of its measurement time: the last received per VM and
    month (APEL's CloudRecords since 1.8.2)."""

    __tablename__ = "accounting_cloud"
    __table_args__ = (
        UniqueConstraint("vm_uuid", "measurement_month", "measurement_year"),
        Index("ix_accounting_cloud_month", "site", "measurement_year", "measurement_month"),
    )

    id: int | None = _id()
    vm_uuid: str = Field(max_length=TEXT_MAX)
    site: str = Field(max_length=TEXT_MAX)
    measurement_time: dt.datetime = _time(nullable=False)
    measurement_month: int
    measurement_year: int
    cloud_compute_service: str = Field(default="", max_length=TEXT_MAX)
    machine_name: str = Field(default="", max_length=TEXT_MAX)
    local_user_id: str = Field(default="", max_length=TEXT_MAX)
    local_group_id: str = Field(default="", max_length=TEXT_MAX)
    global_user_name: str = Field(default="", max_length=TEXT_MAX)
    fqan: str = Field(default="", max_length=TEXT_MAX)
    vo: str = Field(default="", max_length=TEXT_MAX)
    vo_group: str = Field(default="", max_length=TEXT_MAX)
    vo_role: str = Field(default="", max_length=TEXT_MAX)
    status: str = Field(default="", max_length=TEXT_MAX)
    start_time: dt.datetime | None = _time()
    end_time: dt.datetime | None = _time()
    suspend_duration: int | None = _big()
    wall_duration: int | None = _big()
    cpu_duration: int | None = _big()
    cpu_count: float = _float(0.0)
    network_type: str = Field(default="", max_length=TEXT_MAX)
    network_inbound: int | None = _big()
    network_outbound: int | None = _big()
    public_ip_count: int | None = _big()
    memory: int | None = _big()
    disk: int | None = _big()
    benchmark_type: str = Field(default="", max_length=TEXT_MAX)
    benchmark: float = _float(0.0)
    storage_record_id: str = Field(default="", max_length=TEXT_MAX)
    image_id: str = Field(default="", max_length=TEXT_MAX)
    cloud_type: str = Field(default="", max_length=TEXT_MAX)


class CloudSummary(Loaded, table=True):
    """A site-sent cloud summary, keyed as APEL's CloudSummaries."""

    __tablename__ = "accounting_cloud_summary"
    __table_args__ = (
        UniqueConstraint(
            "site",
            "cloud_compute_service",
            "month",
            "year",
            "global_user_name",
            "vo",
            "vo_group",
            "vo_role",
            "status",
            "image_id",
            "cpu_count",
            "benchmark_type",
            "benchmark",
        ),  # fmt: skip
    )

    id: int | None = _id()
    site: str = Field(max_length=TEXT_MAX)
    cloud_compute_service: str = Field(default="", max_length=TEXT_MAX)
    month: int
    year: int
    global_user_name: str = Field(default="", max_length=TEXT_MAX)
    vo: str = Field(default="", max_length=TEXT_MAX)
    vo_group: str = Field(default="", max_length=TEXT_MAX)
    vo_role: str = Field(default="", max_length=TEXT_MAX)
    status: str = Field(default="", max_length=TEXT_MAX)
    cloud_type: str = Field(default="", max_length=TEXT_MAX)
    image_id: str = Field(default="", max_length=TEXT_MAX)
    earliest_start_time: dt.datetime | None = _time()
    latest_start_time: dt.datetime | None = _time()
    wall_duration: int | None = _big()
    cpu_duration: int | None = _big()
    cpu_count: float = _float(0.0)
    network_inbound: int | None = _big()
    network_outbound: int | None = _big()
    memory: int | None = _big()
    disk: int | None = _big()
    benchmark_type: str = Field(default="", max_length=TEXT_MAX)
    benchmark: float = _float(0.0)
    number_of_vms: int = _big(0)


class StorageRecord(Loaded, table=True):
    """A StAR record, keyed by its record id."""

    __tablename__ = "accounting_storage"
    __table_args__ = (
        UniqueConstraint("record_id"),
        Index("ix_accounting_storage_site_end_time", "site", "end_time"),  # summaries' cells
    )

    id: int | None = _id()
    record_id: str = Field(max_length=TEXT_MAX)
    create_time: dt.datetime = _time(nullable=False)
    storage_system: str = Field(max_length=TEXT_MAX)
    site: str = Field(default="", max_length=TEXT_MAX)
    storage_share: str = Field(default="", max_length=TEXT_MAX)
    storage_media: str = Field(default="", max_length=TEXT_MAX)
    storage_class: str = Field(default="", max_length=TEXT_MAX)
    file_count: int | None = _big()
    directory_path: str = Field(default="", max_length=TEXT_MAX)
    local_user: str = Field(default="", max_length=TEXT_MAX)
    local_group: str = Field(default="", max_length=TEXT_MAX)
    user_identity: str = Field(default="", max_length=TEXT_MAX)
    group_name: str = Field(default="", max_length=TEXT_MAX)
    sub_group: str = Field(default="", max_length=TEXT_MAX)
    role: str = Field(default="", max_length=TEXT_MAX)
    group_attributes: list[Any] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    start_time: dt.datetime = _time(nullable=False)
    end_time: dt.datetime = _time(nullable=False)
    resource_capacity_used: int = _big(0)
    logical_capacity_used: int | None = _big()
    resource_capacity_allocated: int | None = _big()


class RejectedMessage(SQLModel, table=True):
    """A message refused whole, kept with its body so that an operator can load it again
    (after fixing the topology, say) or delete it."""

    __tablename__ = "accounting_reject"

    id: int | None = _id()
    received_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    source: str = Field(max_length=TEXT_MAX)  # "topic:<project>/<topic>" or "http:<principal>"
    sender: str = Field(default="", max_length=DN_MAX)  # the signer's DN, "" when unknown
    message_id: str = Field(default="", max_length=TEXT_MAX)
    rule: str = Field(max_length=64)
    field: str = Field(default="", max_length=TEXT_MAX)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    # as received: bytes, so that a body that is no UTF-8 (or holds NUL) is kept as it came
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # came through the signed intake: `body` is the S/MIME message, verified again on reload
    signed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))


class Publication(SQLModel, table=True):
    """A site's latest loaded message (the rows' own `loaded_at` is set on insert only, so
    a message sent again would not show): what APEL-Pub and the publication overview read."""

    __tablename__ = "accounting_publication"

    site: str = Field(primary_key=True, max_length=TEXT_MAX)
    loaded_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    message_id: str = Field(default="", max_length=TEXT_MAX)
    publisher: str = Field(default="", max_length=DN_MAX)
    kind: str = Field(default="", max_length=64)  # the record type, e.g. "job"


# --- summaries, derived from the tables above and kept current per (site, month) cell ---


class Derived(SQLModel):
    """Where a summary row came from and when its values last changed (a refresh that finds
    the same values leaves the row, its id and this time alone)."""

    source: str = Field(max_length=32)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class GridSummary(Derived, table=True):
    """APEL's HybridSuperSummaries: job-derived rows, replaced by a site-sent summary with an
    identical key (normalised row by row), replaced in turn by a site-sent normalised summary
    (whose service level is 0, as APEL copies it). Normalised durations in HS06·seconds."""

    __tablename__ = "accounting_grid_summary"
    __table_args__ = (
        UniqueConstraint(
            "site",
            "year",
            "month",
            "global_user_name",
            "vo",
            "vo_group",
            "vo_role",
            "submit_host",
            "infrastructure",
            "service_level_type",
            "service_level",
            "node_count",
            "processors",
        ),  # fmt: skip
        # a caller's own usage (`mine`) by their DNs: without it, a scan of every row
        Index("ix_accounting_grid_summary_user", "global_user_name"),
    )

    id: int | None = _id()
    site: str = Field(max_length=TEXT_MAX)
    year: int
    month: int
    global_user_name: str = Field(default="", max_length=TEXT_MAX)
    vo: str = Field(default="", max_length=TEXT_MAX)
    vo_group: str = Field(default="", max_length=TEXT_MAX)
    vo_role: str = Field(default="", max_length=TEXT_MAX)
    submit_host: str = Field(default="", max_length=TEXT_MAX)
    infrastructure: str = Field(default="", max_length=TEXT_MAX)
    service_level_type: str = Field(default="", max_length=32)
    service_level: float = _float(0.0)
    node_count: int = 0
    processors: int = 0
    infrastructure_description: str = Field(default="", max_length=TEXT_MAX)
    earliest_end_time: dt.datetime | None = _time()
    latest_end_time: dt.datetime | None = _time()
    wall_duration: int = _big(0)
    cpu_duration: int = _big(0)
    normalised_wall_duration: int = _big(0)
    normalised_cpu_duration: int = _big(0)
    number_of_jobs: int = _big(0)


class CloudUsageSummary(Derived, table=True):
    """What each month of cloud use holds: the VMs' usage accrued in it (the difference to
    each VM's previous measurement), replaced by a site-sent cloud summary with the same key."""

    __tablename__ = "accounting_cloud_usage_summary"
    __table_args__ = (
        UniqueConstraint(
            "site",
            "year",
            "month",
            "cloud_compute_service",
            "global_user_name",
            "vo",
            "vo_group",
            "vo_role",
            "status",
            "image_id",
            "cpu_count",
            "benchmark_type",
            "benchmark",
        ),  # fmt: skip
        # a caller's own cloud usage (`mine`, /accounting/user/cloud/) by their DNs: as the
        # grid summaries' index; without it, a scan of every row (EXPLAIN on PostgreSQL)
        Index("ix_accounting_cloud_usage_summary_user", "global_user_name"),
    )

    id: int | None = _id()
    site: str = Field(max_length=TEXT_MAX)
    year: int
    month: int
    cloud_compute_service: str = Field(default="", max_length=TEXT_MAX)
    global_user_name: str = Field(default="", max_length=TEXT_MAX)
    vo: str = Field(default="", max_length=TEXT_MAX)
    vo_group: str = Field(default="", max_length=TEXT_MAX)
    vo_role: str = Field(default="", max_length=TEXT_MAX)
    status: str = Field(default="", max_length=TEXT_MAX)
    image_id: str = Field(default="", max_length=TEXT_MAX)
    cpu_count: float = _float(0.0)
    benchmark_type: str = Field(default="", max_length=TEXT_MAX)
    benchmark: float = _float(0.0)
    cloud_type: str = Field(default="", max_length=TEXT_MAX)
    earliest_start_time: dt.datetime | None = _time()
    latest_start_time: dt.datetime | None = _time()
    wall_duration: int | None = _big()
    cpu_duration: int | None = _big()
    network_inbound: int | None = _big()
    network_outbound: int | None = _big()
    memory: int | None = _big()
    disk: int | None = _big()
    number_of_vms: int = _big(0)


class StorageSummary(Derived, table=True):
    """A storage share's use in a month: the StAR records at the latest end time of the
    month for that key, summed (records of one end time are parts of one snapshot)."""

    __tablename__ = "accounting_storage_summary"
    __table_args__ = (
        UniqueConstraint(
            "site",
            "year",
            "month",
            "storage_system",
            "storage_share",
            "storage_media",
            "group_name",
        ),  # fmt: skip
    )

    id: int | None = _id()
    site: str = Field(max_length=TEXT_MAX)
    year: int
    month: int
    storage_system: str = Field(max_length=TEXT_MAX)
    storage_share: str = Field(default="", max_length=TEXT_MAX)
    storage_media: str = Field(default="", max_length=TEXT_MAX)
    group_name: str = Field(default="", max_length=TEXT_MAX)
    end_time: dt.datetime = _time(nullable=False)
    records: int = 0
    resource_capacity_used: int = _big(0)
    logical_capacity_used: int | None = _big()
    resource_capacity_allocated: int | None = _big()
    file_count: int | None = _big()


class ScopeKind(enum.StrEnum):
    SITE = "SITE"
    NGI = "NGI"


class SenderGrant(SQLModel, table=True):
    """A wider scope for an accounting host: the DN may send records of this site, or of
    every site of this NGI (a regional accounting server), beside its own site's."""

    __tablename__ = "accounting_sender_grant"
    __table_args__ = (UniqueConstraint("dn", "scope_kind", "scope_name"),)

    id: int | None = _id()
    dn: str = Field(max_length=DN_MAX, index=True)
    scope_kind: ScopeKind = Field(
        sa_column=enum_column(ScopeKind, "accounting_scope_kind", length=8)
    )
    scope_name: str = Field(max_length=TEXT_MAX)
    note: str = Field(default="", max_length=TEXT_MAX)
    granted_by: str = Field(max_length=TEXT_MAX)
    granted_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


# --- WLCG's federations and pledges, the VOs' scientific disciplines (the portal's reports) --


class WlcgFederation(SQLModel, table=True):
    """A WLCG federation (REBUS's): a tier 1 or 2 of sites, in a country (a topology country's
    name); a site belongs to one federation at most."""

    __tablename__ = "accounting_wlcg_federation"

    id: int | None = _id()
    name: str = Field(max_length=64, unique=True)
    country: str = Field(max_length=TEXT_MAX)
    tier: int


class WlcgFederationSite(SQLModel, table=True):
    __tablename__ = "accounting_wlcg_federation_site"

    id: int | None = _id()
    federation_id: int = Field(foreign_key="accounting_wlcg_federation.id", index=True)
    site: str = Field(max_length=TEXT_MAX, unique=True)  # the topology site's short name


class WlcgPledge(SQLModel, table=True):
    """A federation's CPU pledge for a calendar year, in HEPSPEC06."""

    __tablename__ = "accounting_wlcg_pledge"
    __table_args__ = (UniqueConstraint("federation_id", "year"),)

    id: int | None = _id()
    federation_id: int = Field(foreign_key="accounting_wlcg_federation.id")
    year: int
    cpu_hs06: float = _float(0.0)


class Discipline(SQLModel, table=True):
    """A scientific discipline, under a parent discipline or at the top of the tree."""

    __tablename__ = "accounting_discipline"

    id: int | None = _id()
    name: str = Field(max_length=128, unique=True)
    parent_id: int | None = Field(default=None, foreign_key="accounting_discipline.id")


class VoDiscipline(SQLModel, table=True):
    """The discipline a VO's usage counts for (one per VO)."""

    __tablename__ = "accounting_vo_discipline"

    id: int | None = _id()
    vo: str = Field(max_length=TEXT_MAX, unique=True)
    discipline_id: int = Field(foreign_key="accounting_discipline.id", index=True)
