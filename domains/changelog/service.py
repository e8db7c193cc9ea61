"""The change log (`changes`) as each caller may read it.

The audit trail spans every domain, so who may read an entry depends on what it is about:

- platform administrators (and the platform itself): every entry;
- anyone authenticated: the entries they made themselves, and those about their own user,
  their own API tokens and their own downtime subscriptions;
- a member of a messaging project: the entries about the project; its topics and
  subscriptions too for a project administrator, else only those whose ACL lists them;
- a holder of a granted role: the entries about what the role reaches — a project role its
  project, the project's NGIs and everything under them; an NGI role the NGI, its sites and
  everything under them; a site role the site, its services, endpoints and downtimes; a
  service group role the group — and the reference data (countries, scopes, service types);
- anonymous callers: nothing. Entries name people (who changed what, who holds which
  role) and carry contact details the API shows only to operators.

Visibility follows the objects as they are now: an entry about an object that was deleted
stays readable by platform administrators and by whoever made it. Entries of any other
kind are for platform administrators only, so a new kind is hidden until a rule is added
here. It is all one SQL condition over audit_entry (a few small look-ups of the caller's
roles and memberships first), so a page costs the same whatever the log holds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, Table, and_, false, or_, select
from sqlalchemy.orm import Session

from domains.common.audit import AuditEntry
from domains.common.authz import Caller, authorize
from domains.common.identity import PLATFORM, Principal
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage, keyset_page
from domains.downtimes.models import Downtime, DowntimeSubscription
from domains.identity.models import ApiToken
from domains.identity.service import granted_roles
from domains.messaging.models import (
    ROLE_PROJECT_ADMIN,
    MsgMember,
    MsgSubscription,
    MsgSubscriptionAcl,
    MsgTopic,
    MsgTopicAcl,
)
from domains.monitoring.service import catalogue
from domains.topology.service import T_ENDPOINT, T_PROJECT_NGI, T_SERVICE, T_SITE

T_AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]
T_TOKEN: Table = ApiToken.__table__  # type: ignore[attr-defined]
T_DT_SUB: Table = DowntimeSubscription.__table__  # type: ignore[attr-defined]
T_DOWNTIME: Table = Downtime.__table__  # type: ignore[attr-defined]
T_MEMBER: Table = MsgMember.__table__  # type: ignore[attr-defined]
T_TOPIC: Table = MsgTopic.__table__  # type: ignore[attr-defined]
T_TOPIC_ACL: Table = MsgTopicAcl.__table__  # type: ignore[attr-defined]
T_SUB: Table = MsgSubscription.__table__  # type: ignore[attr-defined]
T_SUB_ACL: Table = MsgSubscriptionAcl.__table__  # type: ignore[attr-defined]

# registry data that belongs to no site or NGI, maintained by platform administrators: the
# topology's reference lists and the monitoring catalogue (public, as ARGO's profiles are)
REFERENCE_TYPES = ("country", "scope", "service_type", *catalogue.AUDIT_TYPES)


@dataclass(frozen=True, slots=True)
class ChangeFilter:
    entity_type: str | None = None
    entity_id: int | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _about(entity_type: str, ids: Collection[int] | Select[tuple[int]]) -> ColumnElement[bool]:
    return and_(T_AUDIT.c.entity_type == entity_type, T_AUDIT.c.entity_id.in_(ids))


def _own(user_id: int) -> list[ColumnElement[bool]]:
    return [
        and_(T_AUDIT.c.entity_type == "user", T_AUDIT.c.entity_id == user_id),
        _about("api_token", select(T_TOKEN.c.id).where(T_TOKEN.c.user_id == user_id)),
        _about("downtime_subscription", select(T_DT_SUB.c.id).where(T_DT_SUB.c.user_id == user_id)),
    ]


def _topology(session: Session, user_id: int) -> list[ColumnElement[bool]]:
    held: dict[str, set[int]] = {"project": set(), "ngi": set(), "site": set()}
    groups: set[int] = set()
    roles = granted_roles(session, user_id)
    for role in roles:
        kind = role.entity_type.value
        (groups if kind == "service_group" else held[kind]).add(role.entity_id)
    if not roles:
        return []
    projects, ngis = held["project"], held["ngi"]
    ngi_ids = select(T_PROJECT_NGI.c.ngi_id).where(T_PROJECT_NGI.c.project_id.in_(projects))
    site_ids = select(T_SITE.c.id).where(
        or_(
            T_SITE.c.id.in_(held["site"]),
            T_SITE.c.ngi_id.in_(ngis),
            T_SITE.c.ngi_id.in_(ngi_ids),
        )
    )
    return [
        T_AUDIT.c.entity_type.in_(REFERENCE_TYPES),
        _about("project", projects),
        _about("ngi", ngis),
        _about("ngi", ngi_ids),
        _about("service_group", groups),
        _about("site", site_ids),
        _about("service", select(T_SERVICE.c.id).where(T_SERVICE.c.site_id.in_(site_ids))),
        _about(
            "endpoint",
            select(T_ENDPOINT.c.id)
            .join(T_SERVICE, T_SERVICE.c.id == T_ENDPOINT.c.service_id)
            .where(T_SERVICE.c.site_id.in_(site_ids)),
        ),
        _about("downtime", select(T_DOWNTIME.c.id).where(T_DOWNTIME.c.site_id.in_(site_ids))),
    ]


def _messaging(session: Session, user_id: int) -> list[ColumnElement[bool]]:
    members = session.execute(
        select(T_MEMBER.c.project_id, T_MEMBER.c.roles).where(T_MEMBER.c.user_id == user_id)
    ).all()
    if not members:
        return []
    projects = [project_id for project_id, _ in members]
    admin_of = [project_id for project_id, roles in members if ROLE_PROJECT_ADMIN in roles]
    return [
        _about("msg_project", projects),
        _about("msg_topic", select(T_TOPIC.c.id).where(T_TOPIC.c.project_id.in_(admin_of))),
        _about(
            "msg_topic",
            select(T_TOPIC_ACL.c.topic_id)
            .join(T_TOPIC, T_TOPIC.c.id == T_TOPIC_ACL.c.topic_id)
            .where(T_TOPIC_ACL.c.user_id == user_id, T_TOPIC.c.project_id.in_(projects)),
        ),
        _about("msg_subscription", select(T_SUB.c.id).where(T_SUB.c.project_id.in_(admin_of))),
        _about(
            "msg_subscription",
            select(T_SUB_ACL.c.subscription_id)
            .join(T_SUB, T_SUB.c.id == T_SUB_ACL.c.subscription_id)
            .where(T_SUB_ACL.c.user_id == user_id, T_SUB.c.project_id.in_(projects)),
        ),
    ]


def readable_by(session: Session, principal: Principal) -> ColumnElement[bool] | None:
    """The SQL condition on audit_entry for what `principal` may read; None for all."""
    if principal.is_superuser:
        return None
    if principal.is_anonymous or principal.subject is None:
        return false()
    allowed: list[ColumnElement[bool]] = []
    if principal.subject != PLATFORM.subject:  # the platform's own entries are not a user's
        allowed.append(T_AUDIT.c.actor == principal.subject)
    if principal.user_id is not None:
        allowed += _own(principal.user_id)
        allowed += _topology(session, principal.user_id)
        allowed += _messaging(session, principal.user_id)
    return or_(*allowed) if allowed else false()


def list_changes(
    session: Session,
    principal: Principal,
    *,
    filter: ChangeFilter,
    page: PageRequest,
    newest_first: bool = False,
) -> RecordPage:
    """The audit trail, oldest first (or newest first), as far as the caller may read it
    (module docstring). Entries are in the order they were written (their id: the primary
    key's index serves either direction on SQLite and PostgreSQL). Anonymous callers are
    refused: nothing in it is public."""
    authorize(session, principal, Caller.SIGNED_IN)
    stmt = select(*T_AUDIT.c)
    visible = readable_by(session, principal)
    if visible is not None:
        stmt = stmt.where(visible)
    if filter.entity_type is not None:
        stmt = stmt.where(T_AUDIT.c.entity_type == filter.entity_type)
    if filter.entity_id is not None:
        stmt = stmt.where(T_AUDIT.c.entity_id == filter.entity_id)
    if filter.actor is not None:
        stmt = stmt.where(T_AUDIT.c.actor == filter.actor)
    if filter.since is not None:
        stmt = stmt.where(T_AUDIT.c.at >= filter.since)
    if filter.until is not None:
        stmt = stmt.where(T_AUDIT.c.at < filter.until)
    return keyset_page(session, stmt, T_AUDIT.c.id, page, descending=newest_first)
