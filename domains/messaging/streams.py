"""GraphQL subscriptions (live streams over graphql-transport-ws) of the messaging service.

`subscriptionMessages` is a pull loop: each pull (and each acknowledgement) is a transaction
of its own through `context.transact`; between them nothing holds a connection. When a pull
comes back empty the stream waits for a publish to the topic (`notify`), taking the notify
token BEFORE the pull so that a publish committed between the pull and the wait is not
missed. Publishes through other replicas wake it too on PostgreSQL (LISTEN/NOTIFY, see
notify); the wait is still cut into slices of WAIT_SLICE_SECONDS, after which it pulls
again, as a safety net.

One `next` per batch. With autoAck the batch is acknowledged after it was handed to the
socket; an acknowledgement that fails (too late, or another consumer moved the offset) ends
the stream with its error, and what was not acknowledged comes again on the next pull.
Without autoAck the client acknowledges with the `acknowledge` mutation; the stream waits
for that (or for the ack deadline to pass, when AMS hands the messages out again) before
it pulls again, so it does not resend what is in the client's hands.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from datetime import timedelta

import strawberry
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.graphql import Info
from domains.common.identity import Principal
from domains.common.time import utcnow
from domains.messaging import notify, rules
from domains.messaging import service as msg
from domains.messaging.rows import ReceivedMessage, SubscriptionView
from domains.messaging.rules import MessagingRule
from domains.messaging.types import ReceivedMessageType

WAIT_SLICE_SECONDS = 10.0
ACK_POLL_SECONDS = 1.0


async def _await_acknowledgement(
    info: Info, project: str, subscription: str, last_offset: int
) -> None:
    """Until the client acknowledged up to `last_offset`, or the ack deadline passed."""
    transact = info.context.transact
    assert transact is not None

    def state(session: Session, principal: Principal) -> SubscriptionView:
        return msg.get_subscription(session, principal, project=project, subscription=subscription)

    while True:
        view = await transact(state, write=False)
        if view.offset > last_offset or view.pending_ack_at is None:
            return
        due = view.pending_ack_at + timedelta(seconds=view.ack_deadline + 1)
        left = (due - utcnow()).total_seconds()
        if left <= 0:
            return
        await asyncio.sleep(min(left, ACK_POLL_SECONDS))


async def message_stream(
    info: Info, project: str, subscription: str, max_messages: int, auto_ack: bool
) -> AsyncGenerator[list[ReceivedMessageType], None]:
    transact = info.context.transact
    if transact is None:  # only the WebSocket transport streams (gateway.schema.Schema)
        raise Invalid("subscription", MessagingRule.SUBSCRIPTION_STREAM_NEEDS_WEBSOCKET)
    if not 1 <= max_messages <= rules.MAX_PULL:
        raise Invalid("maxMessages", MessagingRule.SUBSCRIPTION_PULL_SIZE_OUT_OF_RANGE)

    def lookup(session: Session, principal: Principal) -> SubscriptionView:
        return msg.get_subscription(session, principal, project=project, subscription=subscription)

    def pull(session: Session, principal: Principal) -> list[ReceivedMessage]:
        return msg.pull(
            session,
            principal,
            project=project,
            subscription=subscription,
            max_messages=max_messages,
        )

    def acknowledge(ack_id: str) -> Callable[[Session, Principal], None]:
        def run(session: Session, principal: Principal) -> None:
            msg.acknowledge(
                session, principal, project=project, subscription=subscription, ack_ids=[ack_id]
            )

        return run

    # authorizes, like every pull after it
    topic_id = (await transact(lookup, write=False)).topic_id
    while True:
        since = None if topic_id is None else notify.token(topic_id)
        batch = await transact(pull)  # the topic gone: Conflict, which ends the stream
        if not batch:
            assert topic_id is not None
            await notify.wait_for_messages_async(topic_id, WAIT_SLICE_SECONDS, since=since)
            continue
        yield [ReceivedMessageType.from_row(m) for m in batch]
        # resumed: the batch was handed to the socket
        if auto_ack:
            await transact(acknowledge(batch[-1].ack_id))
        else:
            await _await_acknowledgement(info, project, subscription, batch[-1].offset)


@strawberry.type
class MessagingSubscriptionRoot:
    @strawberry.subscription(
        description="Messages of a subscription as they are published, one event per batch "
        "of at most maxMessages. With autoAck each batch is acknowledged once sent; without, "
        "acknowledge with the `acknowledge` mutation within the ack deadline. Who may pull "
        "may subscribe; errors end the stream."
    )
    async def subscription_messages(
        self,
        info: Info,
        project: str,
        subscription: str,
        max_messages: int = 10,
        auto_ack: bool = True,
    ) -> AsyncGenerator[list[ReceivedMessageType], None]:
        stream = message_stream(info, project, subscription, max_messages, auto_ack)
        async with aclosing(stream):
            async for batch in stream:
                yield batch
