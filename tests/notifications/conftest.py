"""Fixtures of the notification channel tests, shared with the downtime ones."""

from tests.downtimes.notify_world import alice, bob, where  # noqa: F401 (fixtures)
from tests.notifications.smtp import smtp  # noqa: F401 (a fixture)
