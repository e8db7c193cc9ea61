"""What a subscriber sees of their notifications (`DowntimeSubscription.notifications`),
only their own, in one statement for every listed subscription; and the pruning of old
delivered ones, which never touches a pending one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from domains.common.time import utcnow
from domains.downtimes import notifications as notes
from domains.notifications.channels import NOTIFICATION_RETENTION
from tests.conftest import Callers, StatementCounter
from tests.downtimes.notify_world import declare, handle_all, spec, subscriber, target
from tests.identity.helpers import global_id

MINE = """
query($first: Int!) { myDowntimeSubscriptions { nodes { name notifications(first: $first) {
  kind channel status attempts lastError downtimeId sentAt
} } } }
"""


def test_a_subscriber_sees_their_notifications_newest_first(
    callers: Callers, session: Session, statements: StatementCounter
) -> None:
    where = target(session)
    alice = subscriber(session, "alice.history@egi.eu")
    bob = subscriber(session, "bob.history@egi.eu")
    for name in ("first", "second", "third"):
        notes.subscribe(session, alice, spec=spec(name=name, site=where.site))
    notes.subscribe(session, bob, spec=spec(name="bob's", site=where.site))
    made = [declare(session, where.services) for _ in range(3)]
    handle_all(session)
    session.commit()
    statements.reset()
    data = callers.as_user("alice.history@egi.eu").data(MINE, {"first": 2})
    listed = data["myDowntimeSubscriptions"]["nodes"]
    assert [s["name"] for s in listed] == ["first", "second", "third"]
    for sub in listed:
        # three declarations, e-mail only: the newest two
        assert [n["downtimeId"] for n in sub["notifications"]] == [
            global_id("Downtime", d.id) for d in reversed(made[1:])
        ]
        assert {(n["kind"], n["channel"], n["status"]) for n in sub["notifications"]} == {
            ("DECLARED", "EMAIL", "PENDING")
        }
    notification_reads = [s for s in statements.statements if "downtime_notification" in s]
    assert len(notification_reads) == 1, notification_reads
    # bob's subscription is not alice's: asking for it by id gives nothing
    bob_id = session.execute(
        text("SELECT id FROM downtime_subscription WHERE name = 'bob''s'")
    ).scalar_one()
    assert notes.CHANNELS.recent(session, alice, subscription_ids=[bob_id], limit=5) == {}
    error = callers.as_user("alice.history@egi.eu").error(MINE, {"first": 0})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "first"


def test_old_delivered_notifications_are_pruned_pending_ones_kept(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    where = target(session)
    alice = subscriber(session, "alice.prune@egi.eu")
    notes.subscribe(session, alice, spec=spec(site=where.site))
    for _ in range(3):
        declare(session, where.services)
    handle_all(session)
    ids = list(session.execute(text("SELECT id FROM downtime_notification ORDER BY id")).scalars())
    old = utcnow() - NOTIFICATION_RETENTION - timedelta(days=1)
    # the first two are old: one delivered, one still pending; the third is recent, sent
    for notification_id, status, created in (
        (ids[0], "SENT", old),
        (ids[1], "PENDING", old),
        (ids[2], "SENT", utcnow()),
    ):
        session.execute(
            text("UPDATE downtime_notification SET status = :s, created_at = :c WHERE id = :i"),
            {"s": status, "c": created, "i": notification_id},
        )
    session.commit()
    assert notes.prune_notifications(session_factory) == 1
    left = list(session.execute(text("SELECT id FROM downtime_notification ORDER BY id")).scalars())
    assert left == ids[1:]
    assert notes.prune_notifications(session_factory) == 0
