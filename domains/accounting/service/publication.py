"""A site's publication overview (operators' view of what a site sends): when a message
last loaded for it and, per month, the records held — job records, site-sent summaries and
normalised summaries — with the sync comparison (what the site's sync records say it sent
per submit host against the job records held).

Counts per site and month are aggregates, public as the portal's site views are; which
message came last and whose certificate signed it is shown to the site's administrators
and managers, its NGI's managers and platform administrators (`VIEW_PUBLICATION_DETAIL`).

The same reads serve monitoring's APEL-Pub and APEL-Sync probes, handed over at import
(`apel.provide`): monitoring sits below accounting and may not import it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting import models as m
from domains.accounting.rules import Action, UsageScope
from domains.accounting.service.pivot import Month, check_period
from domains.accounting.service.summaries import SyncLine, sync_months
from domains.common.authz import can
from domains.common.identity import Principal
from domains.monitoring.probes import apel
from domains.topology.models import Site


@dataclass(frozen=True, slots=True)
class PublicationMonth:
    month: Month
    job_records: int
    summaries: int  # site-sent summary rows
    normalised_summaries: int  # site-sent normalised summary rows
    sync: tuple[SyncLine, ...]  # per submit host

    @property
    def site_says(self) -> int | None:
        """The jobs the site's sync records say it sent (None: it sent none)."""
        said = [line.site_says for line in self.sync if line.site_says is not None]
        return sum(said) if said else None

    @property
    def in_sync(self) -> bool:
        return all(line.in_sync for line in self.sync)


@dataclass(frozen=True, slots=True)
class LastMessage:
    message_id: str
    publisher: str  # the signer's DN, or the principal of an HTTP post
    kind: str  # the record type


@dataclass(frozen=True, slots=True)
class SitePublication:
    site: str
    last_published: dt.datetime | None  # None: never
    last_message: LastMessage | None  # None: never, or not the caller's to see
    months: tuple[PublicationMonth, ...]


def last_publication(session: Session, site: str) -> dt.datetime | None:
    """When a message last loaded for `site` (None: never)."""
    row = session.get(m.Publication, site)
    return None if row is None else row.loaded_at


def _counts(
    session: Session,
    model: type[m.Summary] | type[m.NormalisedSummary],
    site: str,
    start: Month,
    end: Month,
) -> dict[tuple[int, int], int]:
    """Rows of `model` (site-sent summaries) per (year, month) of the period."""
    index = col(model.year) * 12 + col(model.month) - 1
    rows = session.execute(
        select(col(model.year), col(model.month), func.count())
        .where(col(model.site) == site, index.between(start.index, end.index))
        .group_by(col(model.year), col(model.month))
    )
    return {(y, mo): int(n) for y, mo, n in rows}


def site_publication(
    session: Session, principal: Principal, site: str, start: Month, end: Month
) -> SitePublication | None:
    """The overview of `site` (its short name) from `start` to `end` (both included, every
    month, empty ones too); None for a site the topology does not register; Invalid for a
    period running backwards or over 20 years."""
    check_period(start, end)
    if session.scalar(select(col(Site.id)).where(col(Site.short_name) == site)) is None:
        return None
    sync = sync_months(session, site, (start.year, start.month), (end.year, end.month))
    summaries = _counts(session, m.Summary, site, start, end)
    normalised = _counts(session, m.NormalisedSummary, site, start, end)
    months = []
    for index in range(start.index, end.index + 1):
        key = (index // 12, index % 12 + 1)
        lines = tuple(sync.get(key, ()))
        months.append(
            PublicationMonth(
                month=Month(*key),
                job_records=sum(line.held for line in lines),
                summaries=summaries.get(key, 0),
                normalised_summaries=normalised.get(key, 0),
                sync=lines,
            )
        )
    row = session.get(m.Publication, site)
    detail = row is not None and can(
        session, principal, Action.VIEW_PUBLICATION_DETAIL, UsageScope(site=site)
    )
    return SitePublication(
        site=site,
        last_published=None if row is None else row.loaded_at,
        last_message=LastMessage(row.message_id, row.publisher, row.kind)
        if detail and row is not None
        else None,
        months=tuple(months),
    )


apel.provide(apel.AccountingReads(last_publication=last_publication, sync_months=sync_months))
