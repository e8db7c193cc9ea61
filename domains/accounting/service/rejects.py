"""The reject store, for operators: platform administrators only (Action.MANAGE_REJECTS).

They browse the messages refused whole (newest first, without their bodies), read one with
its body, load one again and delete them, by id or by the filter they browse with. Loading
again goes the way the message first came: a signed one through `intake.receive_signed`, so
that its signature is verified and its signer's DN and sites established again, not taken
from the row; an unsigned one through `loading.load_message` as sent by its recorded
publisher, for the sites that publisher may send for now (a posted one's site API
credential's, as `intake.receive_posted` decides). Loaded, the reject is deleted in the same
transaction; refused again, it stays, with the new reason. Both, and every deletion, are
audited (`accounting_reject.reload`, `accounting_reject.delete`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import RejectedMessage
from domains.accounting.rules import AccountingRule as R
from domains.accounting.rules import Action
from domains.accounting.service.intake import POSTED_SOURCE, receive_signed
from domains.accounting.service.loading import Kept, Outcome, Sender, load_message
from domains.accounting.service.senders import sites_for_credential, sites_for_dn
from domains.accounting.smime import CryptoConfig
from domains.common import audit
from domains.common.authz import authorize, can
from domains.common.errors import CommonRule, Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.pagination import PageRequest
from domains.common.query import Record, RecordPage, keyset_page

T_REJECT: Table = RejectedMessage.__table__  # type: ignore[attr-defined]
AUDIT_KIND = "accounting_reject"
# what a list holds of a reject: every column but the body (up to a few MB), and its size
LISTED: tuple[ColumnElement[Any], ...] = (
    *(c for c in T_REJECT.c if c.name != "body"),
    func.length(T_REJECT.c.body).label("size"),
)


@dataclass(frozen=True, slots=True)
class RejectFilter:
    sender: str | None = None  # the signer's DN (or the posting principal), exactly
    rule: str | None = None  # the rule's code, e.g. ACCOUNTING_SIGNER_NOT_VALID
    received_after: datetime | None = None  # inclusive
    received_before: datetime | None = None  # exclusive


def _conditions(found: RejectFilter, at: str = "filter") -> list[ColumnElement[bool]]:
    """The filter's conditions; `at`: where the filter is in the request, for errors."""
    out: list[ColumnElement[bool]] = []
    if found.sender is not None:
        out.append(T_REJECT.c.sender == found.sender)
    if found.rule is not None:
        out.append(T_REJECT.c.rule == found.rule)
    for name, moment in (
        (f"{at}.receivedAfter", found.received_after),
        (f"{at}.receivedBefore", found.received_before),
    ):
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise Invalid(name, R.ACCOUNTING_TIME_WITHOUT_OFFSET)
    if found.received_after is not None:
        out.append(T_REJECT.c.received_at >= found.received_after)
    if found.received_before is not None:
        out.append(T_REJECT.c.received_at < found.received_before)
    return out


def rejects_page(
    session: Session, principal: Principal, *, page: PageRequest, filter: RejectFilter
) -> RecordPage:
    """A page of rejects, newest first, with LISTED's columns."""
    authorize(session, principal, Action.MANAGE_REJECTS)
    stmt = select(*LISTED).where(*_conditions(filter))
    return keyset_page(session, stmt, T_REJECT.c.id, page, descending=True)


def rejects_by_id(
    session: Session, principal: Principal, ids: Sequence[int]
) -> Mapping[int, Record]:
    """Rejects (LISTED's columns) by id; none for whoever may not manage them."""
    if not ids or not can(session, principal, Action.MANAGE_REJECTS):
        return {}
    stmt = select(*LISTED).where(T_REJECT.c.id.in_(sorted(set(ids))))
    return {int(row.id): row for row in session.execute(stmt)}


def reject_bodies(
    session: Session, principal: Principal, ids: Sequence[int]
) -> Mapping[int, bytes]:
    """The bodies of rejects, as received, by id; none for whoever may not manage them."""
    if not ids or not can(session, principal, Action.MANAGE_REJECTS):
        return {}
    stmt = select(T_REJECT.c.id, T_REJECT.c.body).where(T_REJECT.c.id.in_(sorted(set(ids))))
    return {int(i): bytes(body) for i, body in session.execute(stmt)}


def _locked(session: Session, reject_ids: Sequence[int]) -> list[RejectedMessage]:
    """The rejects, in the order given, locked until the transaction ends (PostgreSQL): two
    operators loading or deleting the same one take turns, and the second finds it gone
    (NotFound, for the first one missing)."""
    found = {
        pk(row): row
        for row in session.execute(
            select(RejectedMessage)
            .where(col(RejectedMessage.id).in_(sorted(set(reject_ids))))
            .order_by(col(RejectedMessage.id))
            .with_for_update()
        ).scalars()
    }
    for reject_id in reject_ids:
        if reject_id not in found:
            raise NotFound(f"no accounting reject {reject_id}")
    return [found[reject_id] for reject_id in reject_ids]


def _unsigned_sites(session: Session, row: RejectedMessage) -> frozenset[str]:
    """The sites an unsigned reject's recorded sender may send records for now: a posted
    one's site API credential's, else its DN's. An empty sender (none recorded) has none,
    whichever hosts lack a DN."""
    if not row.sender:
        return frozenset()
    if row.source == POSTED_SOURCE:
        return sites_for_credential(session, row.sender)
    return sites_for_dn(session, row.sender)


@dataclass(frozen=True, slots=True)
class Reloaded:
    """What loading a reject again gave: the records loaded, or the reject refused again
    (`reject`, with its new reason; None when it loaded and is gone)."""

    outcome: Outcome
    reject: RejectedMessage | None


def reload_reject(
    session: Session,
    principal: Principal,
    *,
    reject_id: int,
    crypto: CryptoConfig,
    now: datetime,
) -> Reloaded:
    """Load a reject again, the way it first came; in the caller's transaction."""
    authorize(session, principal, Action.MANAGE_REJECTS)
    [row] = _locked(session, [reject_id])
    before = {"rule": row.rule, "sender": row.sender}
    if row.signed:
        outcome = receive_signed(
            session,
            row.body,
            message_id=row.message_id,
            source=row.source,
            crypto=crypto,
            now=now,
            retry=row,
        )
    else:
        sites = _unsigned_sites(session, row)
        sender = Sender(row.sender, sites, row.source)
        keep = Kept(row.body, signed=False, row=row)
        outcome = load_message(session, row.body, sender, row.message_id, now, keep=keep)
    loaded = outcome.reject_id is None
    after = (
        {"rule": None, "records": outcome.records}
        if loaded
        else {"rule": row.rule, "sender": row.sender}
    )
    audit.record(
        session,
        principal,
        action=f"{AUDIT_KIND}.reload",
        entity_type=AUDIT_KIND,
        entity_id=reject_id,
        entity_name=row.message_id,
        changes=audit.diff(before, after),
    )
    if loaded:
        session.delete(row)
        session.flush()
    return Reloaded(outcome, None if loaded else row)


def delete_rejects(
    session: Session, principal: Principal, *, reject_ids: Sequence[int], limit: int
) -> list[int]:
    """Delete rejects, all or none (NotFound for the first one missing), at most `limit`
    (the page size's cap) at once; the ids deleted, in the order given."""
    authorize(session, principal, Action.MANAGE_REJECTS)
    wanted = list(dict.fromkeys(reject_ids))
    if len(wanted) > limit:
        words = f"ids: {len(wanted)} is over the cap of {limit}"
        raise Invalid("ids", CommonRule.PAGE_SIZE_OVER_CAP, words)
    rows = _locked(session, wanted)
    _audit_deletions(session, principal, rows)
    for row in rows:
        session.delete(row)
    session.flush()
    return wanted


def _audit_deletions(session: Session, principal: Principal, rows: Sequence[Any]) -> None:
    """One `accounting_reject.delete` entry per reject (a row with id, message_id, rule and
    sender), whichever way it was chosen."""
    for row in rows:
        audit.record(
            session,
            principal,
            action=f"{AUDIT_KIND}.delete",
            entity_type=AUDIT_KIND,
            entity_id=int(row.id),
            entity_name=row.message_id,
            changes={"rule": [row.rule, None], "sender": [row.sender, None]},
        )


def delete_matching_rejects(
    session: Session, principal: Principal, *, filter: RejectFilter, at: str = "input.filter"
) -> int:
    """Delete every reject the filter matches (as `accountingRejects` lists them), in the
    caller's transaction, each audited; how many. A filter with no criterion is refused
    (deleting the whole store takes at least a time bound); the rejects are locked
    (PostgreSQL) and read without their bodies."""
    authorize(session, principal, Action.MANAGE_REJECTS)
    conditions = _conditions(filter, at)
    if not conditions:
        raise Invalid(at, R.ACCOUNTING_REJECT_FILTER_EMPTY)
    found = session.execute(
        select(T_REJECT.c.id, T_REJECT.c.message_id, T_REJECT.c.rule, T_REJECT.c.sender)
        .where(*conditions)
        .order_by(T_REJECT.c.id)
        .with_for_update()
    ).all()
    _audit_deletions(session, principal, found)
    ids = [int(row.id) for row in found]
    for start in range(0, len(ids), 1000):
        session.execute(delete(T_REJECT).where(T_REJECT.c.id.in_(ids[start : start + 1000])))
    return len(ids)
