"""The notification channels' input rules, shared by every domain's subscriptions: the
name is the code clients match (`extensions.rule`), the value the rule in words."""

from __future__ import annotations

from domains.common.errors import RuleCode
from domains.notifications.models import WEBHOOK_URL_MAX

HISTORY_MAX = 100  # most notifications of one subscription shown at once


class NotificationRule(RuleCode):
    NOTIFICATION_CHANNEL_REQUIRED = "at least one channel: email, topic or webhookUrl"
    NOTIFICATION_EMAIL_ADDRESS_MISSING = "the user has no e-mail address"
    NOTIFICATION_TOPIC_NOT_PUBLISHABLE = "a topic the subscriber may publish to"
    NOTIFICATION_WEBHOOK_URL_TOO_LONG = f"at most {WEBHOOK_URL_MAX} characters"
    NOTIFICATION_WEBHOOK_URL_NOT_HTTPS = "an https:// URL with a host"
    NOTIFICATION_WEBHOOK_DESTINATION_REFUSED = "a destination the egress policy allows"
    NOTIFICATION_HISTORY_SIZE_OUT_OF_RANGE = f"between 1 and {HISTORY_MAX}"
