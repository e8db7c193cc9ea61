"""The rows the messaging service functions return: plain, immutable values that outlive the
session, carrying what both the AMS REST routes and GraphQL need."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from domains.messaging.rules import PushSettings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProjectView:
    id: int
    name: str
    description: str
    created_at: datetime
    modified_at: datetime
    created_by: str | None  # the creator's subject (AMS user name)


@dataclass(frozen=True, slots=True)
class ProjectRoles:
    """A user's roles in one messaging project."""

    project: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProfileView:
    subject: str
    email: str | None
    projects: tuple[ProjectRoles, ...]
    service_roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MemberView:
    subject: str
    user_id: int
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopicView:
    id: int
    project: str
    name: str
    created_at: datetime
    next_offset: int
    message_count: int
    bytes_in: int
    published_at: datetime | None

    @property
    def full_name(self) -> str:
        """AMS's name, with the leading slash the library needs."""
        return f"/projects/{self.project}/topics/{self.name}"


@dataclass(frozen=True, slots=True)
class PushDelivery:
    """Where the push worker stands with a push subscription."""

    status: str = ""
    last_error: str | None = None
    consecutive_failures: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    delivered_count: int = 0
    backoff_ms: int = 0  # slowstart's current delay


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    project: str
    name: str
    topic_id: int | None  # what a long-polling pull waits on (notify); None: topic deleted
    topic: str  # the topic's name in the same project (kept after the topic is deleted)
    ack_deadline: int
    offset: int
    next_offset: int
    pending_ack_at: datetime | None
    created_at: datetime
    push: PushSettings
    push_status: str
    message_count: int
    bytes_out: int
    delivery: PushDelivery = field(default_factory=PushDelivery)

    @property
    def full_name(self) -> str:
        return f"/projects/{self.project}/subscriptions/{self.name}"

    @property
    def full_topic(self) -> str:
        return f"/projects/{self.project}/topics/{self.topic}"


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    ack_id: str  # projects/P/subscriptions/S:<offset> (no leading slash, as AMS sends it)
    offset: int
    data: bytes
    attributes: Mapping[str, str]
    publish_time: datetime
    size: int

    @property
    def message_id(self) -> str:
        return str(self.offset)


@dataclass(frozen=True, slots=True)
class Offsets:
    max: int
    min: int
    current: int


@dataclass(frozen=True, slots=True)
class KeysetPage(Generic[T]):
    """One page of a list in ascending id order (domains/common/pagination's keyset
    paging): the items after a key, whether more follow, and the size of the whole list.
    GraphQL makes a connection of it; the AMS routes translate it to AMS page tokens."""

    items: list[T]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


@dataclass(frozen=True, slots=True)
class Usage:
    messages_in: int = 0
    bytes_in: int = 0
    messages_out: int = 0
    bytes_out: int = 0


@dataclass(frozen=True, slots=True)
class TopicMetrics:
    topic: str
    subscriptions: int
    messages: int
    bytes: int
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubscriptionMetrics:
    subscription: str
    messages: int
    bytes: int
    delivered: int


@dataclass(frozen=True, slots=True)
class ProjectMetrics:
    project: str
    topics: int
    subscriptions: int
    usage: Usage
    per_user: Mapping[str, Usage] = field(default_factory=dict)
