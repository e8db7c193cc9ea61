"""GraphQL types of accounting: the portal's views (a pivot table of one metric, grid or
cloud; storage usage by site, VO and month), and for operators the reject store and the
sender grants."""

from __future__ import annotations

import base64
import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry

from domains.accounting.models import RejectedMessage, ScopeKind, SenderGrant
from domains.accounting.service import rejects
from domains.accounting.service.pivot import (
    CloudMetric,
    Dimension,
    LocalJobs,
    Metric,
    Pivot,
    Unit,
    Usage,
    UsageBy,
)
from domains.accounting.service.publication import PublicationMonth, SitePublication
from domains.accounting.service.reportdata import DisciplineRow, Federation, Pledge
from domains.accounting.service.storage import StorageUsage
from domains.accounting.service.summaries import SyncLine
from domains.common.context import RequestContext
from domains.common.graphql import Info, Long, Node
from domains.common.loaders import BatchLoader, loader
from domains.common.query import Record

REJECT_TYPE = "AccountingReject"
GRANT_TYPE = "AccountingSenderGrant"


def _long(value: int | None) -> Long | None:
    return None if value is None else Long(value)


AccountingMetricEnum = strawberry.enum(
    Metric,
    name="AccountingMetric",
    description="NJOBS: jobs; SUMCPU, SUMELAP: CPU and wall time; NORMCPU, NORMELAP: the same "
    "normalised (HS06); ELAP_PROCESSORS, NORMELAP_PROCESSORS: wall time (normalised) × "
    "processors; CPUEFF: NORMCPU / NORMELAP_PROCESSORS in percent.",
)
CloudAccountingMetricEnum = strawberry.enum(
    CloudMetric,
    name="CloudAccountingMetric",
    description="The cloud summaries' metrics: SUM_ELAP_PROCESSORS (wall time × vCPUs), "
    "SUM_ELAP (wall time), VM_NUM (VMs), PROCESSORS (vCPUs × VMs), MEMORY (GB), DISK (GB), "
    "NET_IN, NET_OUT (GB). The portal's `cost` has no source in the cloud records.",
)
AccountingUnitEnum = strawberry.enum(
    Unit, name="AccountingUnit", description="What a duration metric is given in."
)
AccountingDimensionEnum = strawberry.enum(
    Dimension,
    name="AccountingDimension",
    description="What rows or columns are: MONTH (YYYY-MM), YEAR, SITE, NGI, COUNTRY (the "
    "site's, from the topology), VO, SUBMIT_HOST, PROCESSORS, INFRASTRUCTURE (grid, local), "
    "USER (the DN: per-user figures, only with `mine`, or for the managers of the `vo`, `site` "
    "or `ngi` filtered on). Cloud tables: all but SUBMIT_HOST and INFRASTRUCTURE; PROCESSORS "
    "is the VMs' vCPUs.",
)
AccountingLocalJobsEnum = strawberry.enum(
    LocalJobs,
    name="AccountingLocalJobs",
    description="ONLY_INFRA: grid jobs (anything not marked local); LOCAL_AND_INFRA: grid and "
    "local jobs; ONLY_LOCAL: local jobs.",
)


@strawberry.input(description="Which summary rows an accounting table counts.")
class AccountingFilter:
    vo_group: str = strawberry.field(
        default="all",
        description="all, egi (OPSGRAPH_ACCOUNTING_EGI_VOS), lhc (alice, atlas, cms, lhcb), "
        "top10 (the ten VOs with the most normalised CPU in the range; for cloud tables the "
        "most wall time × vCPUs) or custom-<vo>[,<vo>…] (at most 100 VOs).",
    )
    exclude_ops_dteam: bool = strawberry.field(
        default=False, description="Leave out the ops and dteam VOs."
    )
    local_jobs: LocalJobs = strawberry.field(
        default=LocalJobs.ONLY_INFRA,
        description="Cloud usage is all infrastructure: ONLY_LOCAL finds none.",
    )
    site: str | None = strawberry.field(default=None, description="Only this site's rows.")
    ngi: str | None = strawberry.field(default=None, description="Only this NGI's sites.")
    country: str | None = strawberry.field(
        default=None, description="Only the sites of this country (name or code)."
    )
    vo: str | None = strawberry.field(default=None, description="Only this VO's rows.")
    mine: bool = strawberry.field(
        default=False,
        description="Only the usage of the caller's own DNs (their client certificate's, "
        "and those linked to their account); UNAUTHENTICATED for the anonymous caller, "
        "FORBIDDEN for a caller with no DN. A `withheld` DN is nobody's.",
    )


@strawberry.type(description="One cell: a row key's and a column key's value.")
class AccountingCell:
    row: str
    column: str
    value: float | None = strawberry.field(description="Null: undefined (CPUEFF of no time).")
    percent: float | None = strawberry.field(
        description="Percent of the grand total (null for CPUEFF)."
    )


@strawberry.type(description="A row's or a column's total.")
class AccountingTotal:
    key: str
    value: float | None
    percent: float | None = strawberry.field(
        description="Percent of the grand total (null for CPUEFF)."
    )


@strawberry.interface(
    description="A pivot table of one metric: cells only where rows were found; totals of "
    "CPUEFF are ratios of the sums."
)
class AccountingTable:
    unit: Unit | None = strawberry.field(description="Null for a metric that is no duration.")
    rows: list[str] = strawberry.field(description="The row keys, sorted.")
    columns: list[str] = strawberry.field(description="The column keys, sorted.")
    cells: list[AccountingCell]
    row_totals: list[AccountingTotal]
    column_totals: list[AccountingTotal]
    total: float | None = strawberry.field(description="The grand total (null: no rows).")
    vos: list[str] | None = strawberry.field(description="The VO group's VOs (null: every VO).")

    @staticmethod
    def fields_of(found: Pivot) -> dict[str, Any]:
        query = found.query
        return {
            "unit": query.unit if query.metric.is_duration else None,
            "rows": found.row_keys,
            "columns": found.column_keys,
            "cells": [
                AccountingCell(row=c.row, column=c.column, value=c.value, percent=c.percent)
                for c in found.cells
            ],
            "row_totals": [
                AccountingTotal(key=t.key, value=t.value, percent=t.percent)
                for t in found.row_totals
            ],
            "column_totals": [
                AccountingTotal(key=t.key, value=t.value, percent=t.percent)
                for t in found.column_totals
            ],
            "total": found.total,
            "vos": None if found.vos is None else list(found.vos),
        }


@strawberry.type(description="A pivot table of one metric of the grid jobs' summaries.")
class AccountingPivot(AccountingTable):
    metric: Metric

    @classmethod
    def from_pivot(cls, found: Pivot) -> AccountingPivot:
        assert isinstance(found.query.metric, Metric)
        return cls(metric=found.query.metric, **cls.fields_of(found))


@strawberry.type(description="A pivot table of one metric of the cloud usage summaries.")
class CloudAccountingPivot(AccountingTable):
    metric: CloudMetric

    @classmethod
    def from_pivot(cls, found: Pivot) -> CloudAccountingPivot:
        assert isinstance(found.query.metric, CloudMetric)
        return cls(metric=found.query.metric, **cls.fields_of(found))


@strawberry.type(
    description="A VO's storage at a site in a month: the month's latest StAR snapshot of "
    "each share, summed over the site's storage systems, shares and media."
)
class StorageAccountingRow:
    site: str
    vo: str = strawberry.field(description="StAR's group (empty: none given).")
    month: str = strawberry.field(description="YYYY-MM.")
    end_time: datetime = strawberry.field(description="The latest snapshot's time.")
    resource_capacity_used: Long = strawberry.field(description="Bytes.")
    logical_capacity_used: Long | None = strawberry.field(description="Bytes.")
    resource_capacity_allocated: Long | None = strawberry.field(description="Bytes.")
    file_count: Long | None

    @classmethod
    def of(cls, row: StorageUsage) -> StorageAccountingRow:
        return cls(
            site=row.site,
            vo=row.vo,
            month=str(row.month),
            end_time=row.end_time,
            resource_capacity_used=Long(row.resource_capacity_used),
            logical_capacity_used=_long(row.logical_capacity_used),
            resource_capacity_allocated=_long(row.resource_capacity_allocated),
            file_count=_long(row.file_count),
        )


@strawberry.type(
    name="AccountingSyncLine",
    description="A submit host's month: the jobs the site's sync record says it sent (null: "
    "it sent none for the host) and the job records held.",
)
class AccountingSyncLineType:
    submit_host: str
    site_says: Long | None
    held: Long
    in_sync: bool

    @classmethod
    def of(cls, line: SyncLine) -> AccountingSyncLineType:
        return cls(
            submit_host=line.submit_host,
            site_says=_long(line.site_says),
            held=Long(line.held),
            in_sync=line.in_sync,
        )


@strawberry.type(description="What a site's accounting holds for one month.")
class AccountingPublicationMonth:
    month: str = strawberry.field(description="YYYY-MM.")
    job_records: Long = strawberry.field(description="Individual job records held.")
    summaries: Long = strawberry.field(description="Summary rows the site sent.")
    normalised_summaries: Long = strawberry.field(
        description="Normalised summary rows the site sent."
    )
    site_says: Long | None = strawberry.field(
        description="The jobs its sync records say it sent (null: none sent)."
    )
    in_sync: bool = strawberry.field(description="Every submit host's counts agree.")
    sync: list[AccountingSyncLineType] = strawberry.field(description="Per submit host.")

    @classmethod
    def of(cls, found: PublicationMonth) -> AccountingPublicationMonth:
        return cls(
            month=str(found.month),
            job_records=Long(found.job_records),
            summaries=Long(found.summaries),
            normalised_summaries=Long(found.normalised_summaries),
            site_says=_long(found.site_says),
            in_sync=found.in_sync,
            sync=[AccountingSyncLineType.of(line) for line in found.sync],
        )


@strawberry.type(description="The latest message loaded for a site.")
class AccountingLastMessage:
    message_id: str = strawberry.field(description="AMS's message id (empaid), or ours.")
    publisher: str = strawberry.field(
        description="The signer's DN (OpenSSL slash form), or the principal of an HTTP post."
    )
    kind: str = strawberry.field(description="The record type, e.g. job, summary, sync.")


@strawberry.type(
    description="A site's accounting publication: when a message last loaded for it and "
    "the records held per month."
)
class AccountingPublication:
    site: str
    last_published: datetime | None = strawberry.field(
        description="When a message last loaded for the site (null: never)."
    )
    last_message: AccountingLastMessage | None = strawberry.field(
        description="That message (the site's administrators and managers, its NGI's "
        "managers and platform administrators; null for others)."
    )
    months: list[AccountingPublicationMonth]

    @classmethod
    def of(cls, found: SitePublication) -> AccountingPublication:
        last = found.last_message
        return cls(
            site=found.site,
            last_published=found.last_published,
            last_message=None
            if last is None
            else AccountingLastMessage(
                message_id=last.message_id, publisher=last.publisher, kind=last.kind
            ),
            months=[AccountingPublicationMonth.of(month) for month in found.months],
        )


AccountingUsageByEnum = strawberry.enum(
    UsageBy,
    name="AccountingUsageBy",
    description="What a site's or an NGI's usage is broken down by: MONTH (YYYY-MM), YEAR, "
    "VO, SITE (an NGI's sites).",
)


@strawberry.type(
    description="A site's or an NGI's usage of one metric over a period (public: aggregates "
    "of the grid summaries)."
)
class AccountingUsage:
    metric: Metric
    unit: Unit | None = strawberry.field(description="Null for NJOBS and CPUEFF.")
    total: float | None = strawberry.field(description="Null: no rows (or CPUEFF of no time).")
    by: UsageBy | None = strawberry.field(description="The breakdown asked for.")
    parts: list[AccountingTotal] = strawberry.field(
        description="By `by`, sorted (empty without it); percentages of `total`."
    )

    @classmethod
    def of(cls, found: Usage, metric: Metric, unit: Unit, by: UsageBy | None) -> AccountingUsage:
        return cls(
            metric=metric,
            unit=unit if metric.is_duration else None,
            total=found.total,
            by=by,
            parts=[
                AccountingTotal(key=t.key, value=t.value, percent=t.percent) for t in found.parts
            ],
        )


# --- the reject store and the sender grants (operators) -----------------------------------

AccountingScopeKindEnum = strawberry.enum(
    ScopeKind,
    name="AccountingScopeKind",
    description="SITE: one more site; NGI: every site of an NGI (a regional accounting server).",
)


@strawberry.enum(name="AccountingBodyEncoding", description="How a message body is given.")
class BodyEncoding(enum.Enum):
    TEXT = "TEXT"
    BASE64 = "BASE64"


@strawberry.type(description="A message body as received: as text when it is UTF-8, else base64.")
class AccountingRejectBody:
    encoding: BodyEncoding
    content: str

    @classmethod
    def of(cls, data: bytes) -> AccountingRejectBody:
        try:
            return cls(encoding=BodyEncoding.TEXT, content=data.decode("utf-8"))
        except UnicodeDecodeError:
            return cls(encoding=BodyEncoding.BASE64, content=base64.b64encode(data).decode())


def _no_body() -> bytes | None:
    return None


def reject_bodies(ctx: RequestContext) -> BatchLoader[int, bytes | None]:
    """The request's loader of reject bodies: a page's bodies in one statement."""
    return loader(
        ctx,
        ("accounting", "reject_body"),
        lambda ids: rejects.reject_bodies(ctx.session, ctx.principal, ids),
        _no_body,
    )


@strawberry.type(
    name=REJECT_TYPE,
    description="A message refused whole, kept for operators to load again or delete "
    "(platform administrators).",
)
class AccountingRejectNode(Node):
    received_at: datetime
    source: str = strawberry.field(
        description="Where it came from: `subscription:<project>/<subscription>` for the signed "
        "intake."
    )
    sender: str = strawberry.field(
        description="The signer's DN (OpenSSL slash form) or the posting principal; empty "
        "when unknown (a signature not verified)."
    )
    message_id: str = strawberry.field(description="The sender's message id (AMS's empaid).")
    rule: str = strawberry.field(description="The rule's code (README, Error codes).")
    field: str = strawberry.field(description="What the rule names, e.g. record[3].EndTime.")
    reason: str
    signed: bool = strawberry.field(
        description="Came signed: the body is the S/MIME message, verified again on reload."
    )
    size: int = strawberry.field(description="The body's size in bytes.")

    @strawberry.field(description="The message as received (when signed, the S/MIME message).")
    def body(self, info: Info) -> AccountingRejectBody | None:
        data = reject_bodies(info.context).load(self.db_id)
        return None if data is None else AccountingRejectBody.of(data)

    @classmethod
    def from_row(cls, row: RejectedMessage | Record) -> AccountingRejectNode:
        assert row.id is not None
        size = len(row.body) if isinstance(row, RejectedMessage) else int(row.size)
        return cls(
            db_id=int(row.id),
            received_at=row.received_at,
            source=row.source,
            sender=row.sender,
            message_id=row.message_id,
            rule=row.rule,
            field=row.field,
            reason=row.reason,
            signed=bool(row.signed),
            size=size,
        )


def reject_nodes(
    info: Info, rows: Sequence[RejectedMessage | Record]
) -> list[AccountingRejectNode]:
    """Nodes of rejects, their bodies' loader told which are coming (one statement for all)."""
    reject_bodies(info.context).hint(int(row.id) for row in rows if row.id is not None)
    return [AccountingRejectNode.from_row(row) for row in rows]


@strawberry.input(description="Which rejects a list holds: those matching everything given.")
class AccountingRejectFilter:
    sender: str | None = strawberry.field(
        default=None, description="The sender (a DN in OpenSSL slash form), exactly."
    )
    rule: str | None = strawberry.field(
        default=None, description="The rule's code, e.g. ACCOUNTING_SIGNER_NOT_VALID."
    )
    received_after: datetime | None = strawberry.field(
        default=None, description="Received at this time or later (with a UTC offset)."
    )
    received_before: datetime | None = strawberry.field(
        default=None, description="Received before this time (with a UTC offset)."
    )

    def to_filter(self) -> rejects.RejectFilter:
        return rejects.RejectFilter(
            sender=self.sender,
            rule=self.rule,
            received_after=self.received_after,
            received_before=self.received_before,
        )


@strawberry.type(
    name=GRANT_TYPE,
    description="A wider scope for an accounting host: its DN may send records of a site, or "
    "of every site of an NGI, beside its own site's.",
)
class AccountingSenderGrantNode(Node):
    dn: str = strawberry.field(description="The host certificate's DN, OpenSSL slash form.")
    scope_kind: ScopeKind
    scope_name: str = strawberry.field(description="The site's short name or the NGI's name.")
    note: str
    granted_by: str
    granted_at: datetime

    @classmethod
    def from_row(cls, row: SenderGrant | Record) -> AccountingSenderGrantNode:
        assert row.id is not None
        return cls(
            db_id=int(row.id),
            dn=row.dn,
            scope_kind=ScopeKind(row.scope_kind),
            scope_name=row.scope_name,
            note=row.note,
            granted_by=row.granted_by,
            granted_at=row.granted_at,
        )


@strawberry.type(description="A federation's CPU pledge for a calendar year.")
class WlcgPledge:
    year: int
    cpu_hs06: float = strawberry.field(description="Pledged CPU power, HEPSPEC06.")

    @classmethod
    def from_row(cls, row: Pledge) -> WlcgPledge:
        return cls(year=row.year, cpu_hs06=row.cpu_hs06)


@strawberry.type(
    description="A WLCG federation (tier 1 or 2): its sites' usage is ranked against its "
    "pledges in the portal's reports (/accounting/wlcg/report/...)."
)
class WlcgFederation:
    name: str
    country: str = strawberry.field(description="The topology country's name.")
    tier: int
    sites: list[str] = strawberry.field(description="The member sites' short names.")
    pledges: list[WlcgPledge] = strawberry.field(description="By year.")

    @classmethod
    def from_row(cls, row: Federation) -> WlcgFederation:
        return cls(
            name=row.name,
            country=row.country,
            tier=row.tier,
            sites=list(row.sites),
            pledges=[WlcgPledge.from_row(p) for p in row.pledges],
        )


@strawberry.type(
    description="A scientific discipline and the VOs whose usage counts for it (the "
    "portal's disciplines report)."
)
class AccountingDiscipline:
    name: str
    parent: str | None = strawberry.field(description="The discipline above; null at the top.")
    vos: list[str] = strawberry.field(
        description="The VOs mapped to it (those of the disciplines below it not included)."
    )

    @classmethod
    def from_row(cls, row: DisciplineRow) -> AccountingDiscipline:
        return cls(name=row.name, parent=row.parent, vos=list(row.vos))
