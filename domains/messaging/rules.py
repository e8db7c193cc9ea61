"""Rules of the messaging domain: who may do what (`Action` and its policy, which reads
the caller's roles and the ACLs), names, roles, ack ids, times, push configurations, page
tokens. Apart from the policy no database access; every failure is an AMS-flavoured
domain error."""

from __future__ import annotations

import base64
import binascii
import enum
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from domains.common.authz import policy
from domains.common.egress import scheme_refusal
from domains.common.errors import RuleCode
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.pagination import parse_key
from domains.messaging.errors import AmsInvalid
from domains.messaging.models import (
    PROJECT_ROLES,
    ROLE_CONSUMER,
    ROLE_PROJECT_ADMIN,
    ROLE_PUBLISHER,
    MsgMember,
    MsgProject,
    MsgSubscription,
    MsgSubscriptionAcl,
    MsgTopic,
    MsgTopicAcl,
)

# --- rule codes --------------------------------------------------------------------------


class MessagingRule(RuleCode):
    """The messaging domain's input rules (`extensions.rule` over GraphQL). The AMS REST
    routes keep answering with AMS's own message for each (the `message` an AmsInvalid
    carries); the code is GraphQL's."""

    MESSAGING_PROJECT_NAME_INVALID = "letters, digits, '_' and '-' only, at most 255"
    MESSAGING_PROJECT_UNKNOWN = "the name of an existing messaging project"
    MESSAGING_ROLES_INVALID = "a non-empty subset of project_admin, publisher, consumer"
    MESSAGING_ACL_USERS_INVALID = "a list of user names"
    MESSAGING_TIME_NOT_ZULU = "YYYY-MM-DDThh:mm:ss.sssZ"
    MESSAGING_TIME_WITHOUT_OFFSET = "a time with a UTC offset"
    MESSAGING_PAGE_TOKEN_INVALID = "a token from a previous page"  # noqa: S105 (a rule)
    TOPIC_NAME_INVALID = "letters, digits, '_' and '-' only, at most 255"
    MESSAGE_LIST_EMPTY = "a non-empty list"
    MESSAGE_NOT_OBJECT = "an object"
    MESSAGE_DATA_NOT_BASE64 = "a base64 string"
    MESSAGE_ATTRIBUTES_INVALID = "a map of strings to strings"
    MESSAGE_TOO_LARGE = "at most the server's maximum message size"
    SUBSCRIPTION_NAME_INVALID = "letters, digits, '_' and '-' only, at most 255"
    SUBSCRIPTION_TOPIC_INVALID = "projects/{project}/topics/{topic}"
    SUBSCRIPTION_ACK_DEADLINE_OUT_OF_RANGE = "an integer between 0 and 600"
    SUBSCRIPTION_ACK_IDS_EMPTY = "a non-empty list of ack ids"
    SUBSCRIPTION_ACK_ID_MALFORMED = "of the form projects/P/subscriptions/S:<offset>, for this one"
    SUBSCRIPTION_ACK_TOO_LATE = "acknowledge within the ack deadline of the pull"
    SUBSCRIPTION_OFFSET_OUT_OF_BOUNDS = "between the oldest retained offset and the next one"
    SUBSCRIPTION_PULL_SIZE_OUT_OF_RANGE = "between 1 and 10000"
    SUBSCRIPTION_STREAM_NEEDS_WEBSOCKET = "over graphql-transport-ws only"
    SUBSCRIPTION_PUSH_CONFIG_NOT_OBJECT = "an object"
    SUBSCRIPTION_PUSH_FIELD_NOT_STRING = "a string"
    SUBSCRIPTION_PUSH_FIELD_OUT_OF_RANGE = "an integer from 0 to 2147483647"
    SUBSCRIPTION_PUSH_FIELD_NOT_BOOLEAN = "a boolean"
    SUBSCRIPTION_PUSH_TYPE_UNKNOWN = "http_endpoint or mattermost"
    SUBSCRIPTION_PUSH_ENDPOINT_NOT_HTTPS = "an https:// URL"
    SUBSCRIPTION_PUSH_DESTINATION_REFUSED = "a destination the egress policy allows"
    SUBSCRIPTION_MATTERMOST_URL_MISSING = "required"
    SUBSCRIPTION_RETRY_POLICY_UNKNOWN = "linear or slowstart"
    SUBSCRIPTION_AUTH_HEADER_TYPE_UNKNOWN = "autogen or disabled"


_NAME_RULES = {
    "Project": MessagingRule.MESSAGING_PROJECT_NAME_INVALID,
    "Topic": MessagingRule.TOPIC_NAME_INVALID,
    "Subscription": MessagingRule.SUBSCRIPTION_NAME_INVALID,
}


# --- who may do what ---------------------------------------------------------------------


class Action(enum.StrEnum):
    """What a caller does in a messaging project (AMS's roles; platform administrators,
    AMS's service_admin, may do everything). Creating, renaming and deleting projects is
    `Caller.PLATFORM_ADMIN`'s.

    The entity is the project (`MsgProject`): the caller needs one of the action's roles
    there. PUBLISH on a topic (`MsgTopic`) and CONSUME/PULL on a subscription
    (`MsgSubscription`) need the role and, unless the caller administers the project, a
    place in the topic's or subscription's ACL. Services check the project first, then
    look the topic or subscription up, then check it: an unknown project is NotFound
    before anything is Forbidden, a missing role is Forbidden before an unknown topic is
    NotFound, as in AMS."""

    READ_PROJECT = "READ_PROJECT"  # any member
    MANAGE_PROJECT = "MANAGE_PROJECT"  # members, topics, subscriptions, ACLs, push, metrics
    PUBLISH = "PUBLISH"  # read topics, publish
    CONSUME = "CONSUME"  # read subscriptions, acknowledge, offsets, ack deadlines
    PULL = "PULL"  # CONSUME, from a pull subscription: push ones are the push worker's
    READ_USAGE = "READ_USAGE"  # entity: the subject whose usage counters are read


_ROLES: dict[Action, tuple[str, ...]] = {
    Action.READ_PROJECT: PROJECT_ROLES,
    Action.MANAGE_PROJECT: (ROLE_PROJECT_ADMIN,),
    Action.PUBLISH: (ROLE_PROJECT_ADMIN, ROLE_PUBLISHER),
    Action.CONSUME: (ROLE_PROJECT_ADMIN, ROLE_CONSUMER),
    Action.PULL: (ROLE_PROJECT_ADMIN, ROLE_CONSUMER),
}

T_TOPIC_ACL: Table = MsgTopicAcl.__table__  # type: ignore[attr-defined]
T_SUB_ACL: Table = MsgSubscriptionAcl.__table__  # type: ignore[attr-defined]


def member_roles(session: Session, principal: Principal, project_id: int) -> frozenset[str]:
    """The caller's roles in a project (none for a non-member). A service that loaded the
    member row with the project (`service._common.project_for`) saves the statement: the
    row is in the session's identity map."""
    if principal.user_id is None:
        return frozenset()
    member = session.get(MsgMember, (project_id, principal.user_id))
    return frozenset(member.roles) if member is not None else frozenset()


def in_acl(session: Session, table: Table, key: str, entity_id: int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    found = session.execute(
        select(table.c.user_id).where(table.c[key] == entity_id, table.c.user_id == user_id)
    ).first()
    return found is not None


@policy(Action)
def decide(session: Session, principal: Principal, action: Action, entity: object) -> str | None:
    """Why the (authenticated, non-superuser) caller may not; None when they may."""
    if action is Action.READ_USAGE:
        return None if entity == principal.subject else "you may only read your own usage"
    allowed = _ROLES[action]
    if isinstance(entity, MsgProject):
        roles = member_roles(session, principal, pk(entity))
        if roles & set(allowed):
            return None
        return f"not allowed: needs one of {', '.join(allowed)} in project {entity.name}"
    if isinstance(entity, MsgTopic | MsgSubscription):
        roles = member_roles(session, principal, entity.project_id)
        kind = "topic" if isinstance(entity, MsgTopic) else "subscription"
        if not roles & set(allowed):
            return f"not allowed: needs one of {', '.join(allowed)} in the {kind}'s project"
        if action is Action.PULL and isinstance(entity, MsgSubscription) and entity.push_type:
            return "only the push worker may pull from a push subscription"
        if ROLE_PROJECT_ADMIN in roles:  # project admins need no place in an ACL
            return None
        if isinstance(entity, MsgTopic):
            table, key, listed = T_TOPIC_ACL, "topic_id", action is Action.PUBLISH
        else:
            table, key, listed = T_SUB_ACL, "subscription_id", action is not Action.PUBLISH
        if listed and in_acl(session, table, key, pk(entity), principal.user_id):
            return None
        return f"not allowed: you are not in the ACL of {kind} {entity.name}"
    raise TypeError(f"{action} is not decided on {type(entity).__name__}")


NAME = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_NAME_LENGTH = 255

DEFAULT_ACK_DEADLINE = 10
MAX_ACK_DEADLINE = 600

PUSH_HTTP = "http_endpoint"
PUSH_MATTERMOST = "mattermost"
AUTH_AUTOGEN = "autogen"
AUTH_DISABLED = "disabled"
RETRY_LINEAR = "linear"
RETRY_SLOWSTART = "slowstart"
DEFAULT_RETRY_PERIOD_MS = 3000
SLOWSTART_INITIAL_BACKOFF_MS = 1000
VERIFICATION_PATH = "/ams_verification_hash"

DEFAULT_PULL = 1
MAX_PULL = 10_000
DEFAULT_MAX_MESSAGE_BYTES = 1_500_000  # Kafka's limit in AMS since AM-372


def check_name(kind: str, name: object) -> str:
    """`kind` is "Project", "Topic" or "Subscription": AMS says "Invalid Topic name"."""
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or not NAME.match(name):
        raise AmsInvalid(kind.lower(), _NAME_RULES[kind], f"Invalid {kind} name")
    return name


def check_roles(roles: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(roles))
    unknown = [r for r in wanted if r not in PROJECT_ROLES]
    if not wanted or unknown:
        raise AmsInvalid(
            "roles",
            MessagingRule.MESSAGING_ROLES_INVALID,
            "Invalid user roles" if not unknown else f"Invalid role(s): {', '.join(unknown)}",
        )
    return [r for r in PROJECT_ROLES if r in wanted]


def check_ack_deadline(value: int | None, *, field: str = "ackDeadlineSeconds") -> int:
    """0 or absent means the default of 10 s (AMS `subscriptions.Create`); else 1..600."""
    if value is None:
        return DEFAULT_ACK_DEADLINE
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ACK_DEADLINE:
        raise AmsInvalid(
            field,
            MessagingRule.SUBSCRIPTION_ACK_DEADLINE_OUT_OF_RANGE,
            f"Invalid {field}(needs value between 0 and {MAX_ACK_DEADLINE}) Arguments",
        )
    return value or DEFAULT_ACK_DEADLINE


def parse_topic_ref(ref: str) -> tuple[str, str]:
    """'projects/P/topics/T', with or without a leading slash -> (P, T)."""
    parts = ref.lstrip("/").split("/") if isinstance(ref, str) else []
    if len(parts) != 4 or parts[0] != "projects" or parts[2] != "topics":
        raise AmsInvalid("topic", MessagingRule.SUBSCRIPTION_TOPIC_INVALID, "Invalid Topic name")
    check_name("Topic", parts[3])
    return parts[1], parts[3]


_OFFSET = re.compile(r"^[0-9]{1,18}$")


def ack_prefix(project: str, subscription: str) -> str:
    return f"projects/{project}/subscriptions/{subscription}:"


def parse_ack_ids(project: str, subscription: str, ack_ids: object) -> int:
    """The highest offset among the ack ids; each must be `projects/P/subscriptions/S:<int>`
    for this very subscription (AMS `validation.ValidAckID`)."""
    if not isinstance(ack_ids, list | tuple) or not ack_ids:
        raise AmsInvalid("ackIds", MessagingRule.SUBSCRIPTION_ACK_IDS_EMPTY, "Invalid ack id")
    prefix = ack_prefix(project, subscription)
    highest = -1
    for i, ack_id in enumerate(ack_ids):
        tail = ack_id[len(prefix) :] if isinstance(ack_id, str) else ""
        if not isinstance(ack_id, str) or not ack_id.startswith(prefix) or not _OFFSET.match(tail):
            raise AmsInvalid(
                f"ackIds[{i}]", MessagingRule.SUBSCRIPTION_ACK_ID_MALFORMED, "Invalid ack id"
            )
        highest = max(highest, int(tail))
    return highest


_ZULU = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")


def parse_zulu(value: object, *, field: str = "time") -> datetime:
    """AMS's `2019-09-02T13:39:11.000Z`; also the space form the library sends for whole
    seconds (`2019-09-02 13:39:11.000Z`) and 0-9 fractional digits."""
    match = _ZULU.match(value) if isinstance(value, str) else None
    if match is None:
        raise AmsInvalid(
            field, MessagingRule.MESSAGING_TIME_NOT_ZULU, "Time is not in valid Zulu format."
        )
    day, clock, fraction = match.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)
    except ValueError as exc:
        raise AmsInvalid(
            field, MessagingRule.MESSAGING_TIME_NOT_ZULU, "Time is not in valid Zulu format."
        ) from exc
    return parsed.replace(microsecond=micro)


def decode_data(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise AmsInvalid(field, MessagingRule.MESSAGE_DATA_NOT_BASE64, "Invalid Message Arguments")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AmsInvalid(
            field, MessagingRule.MESSAGE_DATA_NOT_BASE64, "Invalid Message Arguments"
        ) from exc


def check_attributes(value: object, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise AmsInvalid(
            field, MessagingRule.MESSAGE_ATTRIBUTES_INVALID, "Invalid Message Arguments"
        )
    return dict(value)


def message_size(data: bytes, attributes: Mapping[str, str]) -> int:
    """What a message weighs: its payload plus its attributes' keys and values (UTF-8)."""
    return len(data) + sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())


# --- push configuration ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushSettings:
    """The push columns of a subscription; `PushSettings()` is a pull subscription."""

    push_type: str = ""
    push_endpoint: str = ""
    push_max_messages: int = 0
    auth_header_type: str = ""
    auth_header_value: str = ""
    retry_type: str = ""
    retry_period_ms: int = 0
    verification_hash: str = ""
    verified: bool = False
    base64_decode: bool = False
    mattermost_url: str = ""
    mattermost_username: str = ""
    mattermost_channel: str = ""

    @property
    def is_push(self) -> bool:
        return bool(self.push_type)


PULL = PushSettings()
PUSH_FIELDS = tuple(PushSettings.__dataclass_fields__)


def new_token() -> str:
    """A verification hash or an autogenerated authorization header value."""
    return secrets.token_hex(20)


def _blank(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_blank(v) for v in value.values())
    return not value


def _str(raw: Mapping[str, Any], key: str, field: str) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AmsInvalid(
            field, MessagingRule.SUBSCRIPTION_PUSH_FIELD_NOT_STRING, f"Invalid {field} Arguments"
        )
    return value


def _int(raw: Mapping[str, Any], key: str, field: str) -> int:
    value = raw.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        raise AmsInvalid(
            field, MessagingRule.SUBSCRIPTION_PUSH_FIELD_OUT_OF_RANGE, f"Invalid {field} Arguments"
        )
    return value


def _obj(raw: Mapping[str, Any], key: str, field: str) -> Mapping[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise AmsInvalid(
            field, MessagingRule.SUBSCRIPTION_PUSH_CONFIG_NOT_OBJECT, f"Invalid {field} Arguments"
        )
    return value


def check_push_endpoint(
    url: str, *, allow_insecure: bool, field: str = "pushConfig.pushEndpoint"
) -> str:
    """The URL's form: https:// with a host; plain http:// only to a loopback host and only
    with `allow_insecure` (OPSGRAPH_ALLOW_INSECURE_PUSH). Where it leads is the egress
    policy's to judge (domains.common.egress), in the service."""
    parts = urlsplit(url)
    if scheme_refusal(parts.scheme, parts.hostname or "", allow_loopback=allow_insecure):
        raise AmsInvalid(
            field,
            MessagingRule.SUBSCRIPTION_PUSH_ENDPOINT_NOT_HTTPS,
            "Push endpoint should be addressed by a valid https url",
        )
    return url


def verification_url(endpoint: str) -> str:
    """Where the endpoint's owner proves ownership: {scheme}://{host}/ams_verification_hash."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}{VERIFICATION_PATH}"


def parse_push_config(
    raw: Mapping[str, Any] | None,
    existing: PushSettings = PULL,
    *,
    allow_insecure: bool = False,
) -> PushSettings:
    """An AMS `pushConfig` object (camelCase, as on the wire) -> the push columns.

    Follows AMS's SubCreate/SubModPush: `{}` (or all-blank) makes a pull subscription; a
    `pushEndpoint` without `type` means http_endpoint (the library never sends `type`);
    maxMessages defaults to 1 (or stays as it was); retry linear with period 3000 ms unless
    given (slowstart keeps no period); authorization header autogen unless disabled (an
    unchanged autogen header keeps its value); a new endpoint gets a new verification hash
    and must be verified again; mattermost is verified at once."""
    if raw is None or _blank(raw):
        return PULL
    if not isinstance(raw, Mapping):
        raise AmsInvalid(
            "pushConfig",
            MessagingRule.SUBSCRIPTION_PUSH_CONFIG_NOT_OBJECT,
            "Invalid pushConfig Arguments",
        )
    endpoint = _str(raw, "pushEndpoint", "pushConfig.pushEndpoint")
    push_type = _str(raw, "type", "pushConfig.type") or (PUSH_HTTP if endpoint else "")

    retry = _obj(raw, "retryPolicy", "pushConfig.retryPolicy")
    retry_type = _str(retry, "type", "pushConfig.retryPolicy.type") or RETRY_LINEAR
    period = _int(retry, "period", "pushConfig.retryPolicy.period")
    if retry_type not in (RETRY_LINEAR, RETRY_SLOWSTART):
        raise AmsInvalid(
            "pushConfig.retryPolicy.type",
            MessagingRule.SUBSCRIPTION_RETRY_POLICY_UNKNOWN,
            "Retry policy can only be of 'linear' or 'slowstart' type",
        )
    period = 0 if retry_type == RETRY_SLOWSTART else (period or DEFAULT_RETRY_PERIOD_MS)
    base64_decode = raw.get("base64Decode", False)
    if not isinstance(base64_decode, bool):
        raise AmsInvalid(
            "pushConfig.base64Decode",
            MessagingRule.SUBSCRIPTION_PUSH_FIELD_NOT_BOOLEAN,
            "Invalid pushConfig.base64Decode Arguments",
        )

    if push_type == PUSH_HTTP:
        check_push_endpoint(endpoint, allow_insecure=allow_insecure)
        same_endpoint = existing.push_type == PUSH_HTTP and existing.push_endpoint == endpoint
        max_messages = _int(raw, "maxMessages", "pushConfig.maxMessages")
        if max_messages == 0:
            max_messages = existing.push_max_messages if existing.is_push else 0
            max_messages = max_messages or 1
        header = _obj(raw, "authorizationHeader", "pushConfig.authorizationHeader")
        auth_type = _str(header, "type", "pushConfig.authorizationHeader.type")
        if auth_type and auth_type not in (AUTH_AUTOGEN, AUTH_DISABLED):
            raise AmsInvalid(
                "pushConfig.authorizationHeader.type",
                MessagingRule.SUBSCRIPTION_AUTH_HEADER_TYPE_UNKNOWN,
                "Authorization header type can only be of 'autogen' or 'disabled' type",
            )
        if not auth_type:
            # unchanged: keep what there was (value included); a new push sub: autogen
            auth_type = existing.auth_header_type if existing.is_push else AUTH_AUTOGEN
            auth_type = auth_type or AUTH_DISABLED
            keep_value = auth_type == AUTH_AUTOGEN and existing.auth_header_type == AUTH_AUTOGEN
        else:
            keep_value = False
        if auth_type == AUTH_AUTOGEN:
            auth_value = existing.auth_header_value if keep_value else new_token()
        else:
            auth_value = ""
        return PushSettings(
            push_type=PUSH_HTTP,
            push_endpoint=endpoint,
            push_max_messages=max_messages,
            auth_header_type=auth_type,
            auth_header_value=auth_value,
            retry_type=retry_type,
            retry_period_ms=period,
            verification_hash=existing.verification_hash if same_endpoint else new_token(),
            verified=existing.verified if same_endpoint else False,
            base64_decode=base64_decode,
        )
    if push_type == PUSH_MATTERMOST:
        url = _str(raw, "mattermostUrl", "pushConfig.mattermostUrl")
        if not url:
            raise AmsInvalid(
                "pushConfig.mattermostUrl",
                MessagingRule.SUBSCRIPTION_MATTERMOST_URL_MISSING,
                "Field mattermostUrl cannot be empty",
            )
        check_push_endpoint(url, allow_insecure=allow_insecure, field="pushConfig.mattermostUrl")
        return PushSettings(
            push_type=PUSH_MATTERMOST,
            push_max_messages=1,
            retry_type=retry_type,
            retry_period_ms=period,
            verified=True,
            base64_decode=base64_decode,
            mattermost_url=url,
            mattermost_username=_str(raw, "mattermostUsername", "pushConfig.mattermostUsername"),
            mattermost_channel=_str(raw, "mattermostChannel", "pushConfig.mattermostChannel"),
        )
    raise AmsInvalid(
        "pushConfig.type",
        MessagingRule.SUBSCRIPTION_PUSH_TYPE_UNKNOWN,
        "Push configuration type can only be of 'http_endpoint' or 'mattermost'",
    )


def initial_backoff_ms(settings: PushSettings) -> int:
    if not settings.is_push:
        return 0
    if settings.retry_type == RETRY_SLOWSTART:
        return SLOWSTART_INITIAL_BACKOFF_MS
    return settings.retry_period_ms


# --- AMS page tokens -----------------------------------------------------------------


def encode_page_token(next_id: int) -> str:
    return base64.b64encode(str(next_id).encode()).decode()


def decode_page_token(token: str | None) -> int | None:
    if not token:
        return None
    try:
        text = base64.b64decode(token, validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise AmsInvalid(
            "pageToken", MessagingRule.MESSAGING_PAGE_TOKEN_INVALID, "Invalid page token"
        ) from exc
    key = parse_key(text)
    if key is None:
        raise AmsInvalid(
            "pageToken", MessagingRule.MESSAGING_PAGE_TOKEN_INVALID, "Invalid page token"
        )
    return key
