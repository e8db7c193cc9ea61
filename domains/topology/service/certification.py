"""Certification history as GOCDB's programmatic interface reads it: the log of status
changes (`get_cert_status_changes`, personal data: who changed it) and each production
site's current status with the date it entered it (`get_cert_status_date`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage, keyset_page, like
from domains.topology.service.people import authorize_personal_data
from domains.topology.service.reads import T_SITE, T_STATUS_LOG

CHANGE_COLUMNS = ("id", "site", "old_status", "new_status", "changed_by", "changed_at", "reason")


def list_certification_changes(
    session: Session,
    principal: Principal,
    *,
    site_like: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    page: PageRequest,
    restrict_personal_data: bool = True,
) -> RecordPage:
    """A page of certification status changes, ordered by id (oldest first), of sites whose
    short name is LIKE `site_like`, made after `after` and before `before`. Who made each
    change is personal data: callers at PI level 3 only."""
    authorize_personal_data(session, principal, restrict_personal_data=restrict_personal_data)
    stmt = select(
        T_STATUS_LOG.c.id,
        T_SITE.c.short_name.label("site"),
        T_STATUS_LOG.c.old_status,
        T_STATUS_LOG.c.new_status,
        T_STATUS_LOG.c.changed_by,
        T_STATUS_LOG.c.changed_at,
        T_STATUS_LOG.c.reason,
    ).join(T_SITE, T_SITE.c.id == T_STATUS_LOG.c.site_id)
    if site_like is not None:
        stmt = stmt.where(like(T_SITE.c.short_name, site_like))
    if after is not None:
        stmt = stmt.where(T_STATUS_LOG.c.changed_at > after)
    if before is not None:
        stmt = stmt.where(T_STATUS_LOG.c.changed_at < before)
    return keyset_page(session, stmt, T_STATUS_LOG.c.id, page)


__all__ = ["CHANGE_COLUMNS", "list_certification_changes"]
