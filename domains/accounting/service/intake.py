"""Messages in. Signed ones, as APEL's SSM receiver takes them: opened and verified
(`smime.open_message`), the signer's DN resolved to the sites it accounts for, then loaded
whole (`loading.load_message`) or kept whole in the reject store.

Who may send: the host DN of a service of an accounting type registered at a site, for that
site's records, and for the scopes granted to it (`senders`). A message refused here or by
the loader is kept as received, signed, whatever the reason: one that cannot be opened
(signer unknown, as SSM's "Not available."), one from a DN that accounts for no site (SSM's
"Signer not in valid DNs list"), one with a bad record. An operator loading it again (once
the topology registers the host, say: `rejects.reload_reject`) sends it through
`receive_signed` once more, so that its signature and signer are verified then, not taken
from the reject's row.

Unsigned ones posted over HTTP (`receive_posted`): the caller is a site API credential that
allows writing at a site with an accounting service (`senders.sites_for_credentials`); anyone
else is refused before anything is read or stored, so only such callers fill the reject
store."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from domains.accounting.models import RejectedMessage
from domains.accounting.rules import AccountingRule as R
from domains.accounting.service.loading import Kept, Outcome, Sender, load_message, refuse
from domains.accounting.service.senders import sites_for_credentials, sites_for_dn
from domains.accounting.smime import CryptoConfig, SignerRevoked, SmimeRefused, open_message
from domains.common.errors import Forbidden, Invalid, Unauthenticated
from domains.common.identity import PLATFORM, Principal
from domains.common.models import pk
from domains.messaging import service as messaging
from domains.messaging.errors import AmsConflict, AmsNotFound, UnknownProject
from domains.topology.service.credentials import note_credential_use

POSTED_SOURCE = "http"
# a sender's own message id (SSM's empaid is a timestamp and a counter): printable ASCII
_MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,128}")


def receive_signed(
    session: Session,
    data: bytes,
    *,
    message_id: str,
    source: str,
    crypto: CryptoConfig,
    now: datetime,
    retry: RejectedMessage | None = None,
) -> Outcome:
    """One signed message into the repository or the reject store, in the caller's
    transaction. `retry`: the reject `data` is loaded again from, updated if refused again."""
    kept = Kept(data, signed=True, row=retry)
    try:
        opened = open_message(data, crypto)
    except SmimeRefused as exc:
        rule = (
            R.ACCOUNTING_SIGNER_REVOKED
            if isinstance(exc, SignerRevoked)
            else R.ACCOUNTING_SIGNATURE_INVALID
        )
        error = Invalid("message", rule, f"message: {rule.text} ({exc.reason})")
        return refuse(session, kept, Sender("", frozenset(), source), message_id, error)
    sender = Sender(opened.signer_dn, sites_for_dn(session, opened.signer_dn), source)
    if not sender.sites:
        words = f"message: {R.ACCOUNTING_SIGNER_NOT_VALID.text} ({opened.signer_dn})"
        error = Invalid("message", R.ACCOUNTING_SIGNER_NOT_VALID, words)
        return refuse(session, kept, sender, message_id, error)
    return load_message(session, opened.content, sender, message_id, now, keep=kept)


def receive_posted(
    session: Session,
    principal: Principal,
    data: bytes,
    *,
    message_id: str | None,
    now: datetime,
) -> tuple[str, Outcome]:
    """One unsigned message posted by a site API credential into the repository or the
    reject store, in the caller's transaction: the message id (the sender's, or a new one)
    and what became of it. Unauthenticated for the anonymous caller, Forbidden for one who
    holds no writing credential at a site with an accounting service, Invalid for a bad
    message id; none of them stores anything."""
    if principal.is_anonymous:
        raise Unauthenticated("accounting messages are posted with a site API credential")
    if message_id is not None and not _MESSAGE_ID.fullmatch(message_id):
        raise Invalid("messageId", R.ACCOUNTING_MESSAGE_ID_INVALID)
    allowed = sites_for_credentials(session, principal)
    if not allowed.sites:
        raise Forbidden(
            "only a site API credential that allows writing, at a site with an accounting "
            "service (gLite-APEL, eu.egi.storage.accounting, eu.egi.cloud.accounting), "
            "posts accounting messages"
        )
    for credential in allowed.credentials:
        note_credential_use(session, pk(credential))
    publisher = allowed.credentials[0].identifier
    sender = Sender(publisher, allowed.sites, POSTED_SOURCE)
    message_id = message_id or f"{POSTED_SOURCE}-{uuid.uuid4()}"
    return message_id, load_message(session, data, sender, message_id, now)


@dataclass(frozen=True, slots=True)
class Batch:
    messages: int
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def rejected(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.reject_id is not None]


def subscription_source(project: str, subscription: str) -> str:
    return f"subscription:{project}/{subscription}"


def consume(
    session: Session,
    *,
    project: str,
    subscription: str,
    crypto: CryptoConfig,
    limit: int,
    now: datetime,
) -> Batch | None:
    """Pull up to `limit` messages of the subscription as an AMS consumer does, load or
    reject each, and acknowledge them, all in the caller's transaction: the acknowledgement
    commits with what the messages loaded, and a crash before the commit leaves them to be
    pulled again. None while the project or subscription does not exist."""
    try:
        received = messaging.pull(
            session, PLATFORM, project=project, subscription=subscription,
            max_messages=limit, now=now,
        )  # fmt: skip
    except (AmsNotFound, UnknownProject, AmsConflict):  # none yet, or a push subscription
        return None
    source = subscription_source(project, subscription)
    outcomes = [
        receive_signed(
            session,
            message.data,
            message_id=str(message.attributes.get("empaid") or f"{source}#{message.offset}"),
            source=source,
            crypto=crypto,
            now=now,
        )
        for message in received
    ]
    if received:
        messaging.acknowledge(
            session, PLATFORM, project=project, subscription=subscription,
            ack_ids=[received[-1].ack_id], now=now,
        )  # fmt: skip
    return Batch(len(received), outcomes)
