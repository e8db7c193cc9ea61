"""Notification channels, shared by every domain that tells users about its events:
e-mail to the subscriber's address, a message in the subscriber's own messaging topic, a
POST to a webhook; their delivery rows, leases, retries with backoff, and states.

The channels know nothing of what is notified. A domain that uses them (downtimes today;
monitoring's alerts and accounting's reports next) supplies:

1. Its subscription table, with its own filters beside the channel columns of
   `models.SUBSCRIPTION_COLUMNS` (`user_id`, `email`, `topic_project`, `topic_name`,
   `webhook_url`), and its delivery table with `models.DELIVERY_COLUMNS`, UNIQUE on
   (subscription_id, event_id, channel), its `channel` and `status` columns of
   `models.Channel` and `models.NotificationStatus` (and an Alembic migration for them).
   `domains/downtimes/models.py` is the example to follow.
2. A `channels.Rendering`: how one of its events reads as an e-mail, a webhook body and a
   topic message.
3. One `channels.Channels(about=..., subscriptions=..., notifications=..., rendering=...,
   deliver_job=...)`, built at import; it checks the tables' columns.
4. Its matching (which subscriptions want an event) in an outbox handler that calls
   `CHANNELS.notify(session, event, matching)`; a periodic job named `deliver_job` in
   workers/ that calls `workers.notifications.deliver_due(factory, CHANNELS, config)`; a
   periodic job that calls `CHANNELS.prune(factory)`.
5. In its service, `checks.channel_values(...)` to check the channels a subscription asks
   for, and `CHANNELS.recent(...)` to show subscribers their notifications.

domains/downtimes/notifications.py does all five for downtimes, in about a hundred lines.
"""
