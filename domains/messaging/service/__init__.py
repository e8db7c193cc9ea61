"""The messaging service: AMS semantics over SQL (argo-messaging's rules, see the reference
notes §1). Every function is `(session, principal, *, ...)`, authorizes first
(`authorize(session, principal, Action.X, row)`, the policy in `rules.py`), flushes and
never commits. Who may call what (AMS roles; platform admins act as service_admin):

| call                                              | action (who)                           |
|---------------------------------------------------|----------------------------------------|
| create/update/delete project                      | Caller.PLATFORM_ADMIN                  |
| get project, list projects                        | READ_PROJECT (members; list: the       |
|                                                   | caller's projects)                     |
| members, topic/subscription create/delete/ACLs,   | MANAGE_PROJECT (project_admin)         |
| push config, verification, topic's subscriptions, |                                        |
| project metrics                                   |                                        |
| list/get topic, publish, topic metrics            | PUBLISH (project_admin; publisher in   |
|                                                   | the topic's ACL)                       |
| list/get subscription, acknowledge, offsets,      | CONSUME (project_admin; consumer in    |
| timeToOffset, modifyOffset, modifyAckDeadline,    | the subscription's ACL)                |
| subscription metrics                              |                                        |
| pull                                              | PULL (CONSUME; from a push             |
|                                                   | subscription the platform only)        |

Lists are keyset pages (`rows.KeysetPage`: ids ascending, `first`/`after`); the AMS
routes translate them to AMS page tokens (gateway/compat/ams.py).

The functions live in one module per seam (projects, topics, publishing, subscriptions,
push_config, consuming, metrics, batches, retention; what they share in _common); callers
import this package, not the modules.
"""

from domains.messaging.service._common import (
    SUBSCRIPTION_ACL,
    T_MEMBER,
    T_MESSAGE,
    T_PROJECT,
    T_SUB,
    T_SUB_ACL,
    T_TOPIC,
    T_TOPIC_ACL,
    T_USAGE,
    T_USER,
    TOPIC_ACL,
    settings_of,
)
from domains.messaging.service.batches import (
    acls,
    get_project_by_id,
    get_subscription_by_id,
    get_topic_by_id,
    offsets_of,
    project_roles,
    reads_push_secrets,
    subscriptions_of_topics,
    target_row,
    topics_by_name,
)
from domains.messaging.service.consuming import (
    NO_TOPIC,
    acknowledge,
    modify_offset,
    offsets,
    pull,
    read_messages,
    read_payloads,
    time_to_offset,
)
from domains.messaging.service.metrics import (
    project_metrics,
    subscription_metrics,
    topic_metrics,
    user_usage,
)
from domains.messaging.service.projects import (
    add_member,
    create_project,
    delete_project,
    get_project,
    list_members,
    list_projects,
    remove_member,
    update_project,
    user_profile,
)
from domains.messaging.service.publishing import publish
from domains.messaging.service.push_config import (
    Fetch,
    modify_push_config,
    push_verification_url,
    verify_push_endpoint,
)
from domains.messaging.service.retention import purge_expired_messages
from domains.messaging.service.subscriptions import (
    create_subscription,
    delete_subscription,
    get_subscription,
    get_subscription_acl,
    list_subscriptions,
    modify_ack_deadline,
    modify_subscription_acl,
)
from domains.messaging.service.topics import (
    create_topic,
    delete_topic,
    get_topic,
    get_topic_acl,
    list_topics,
    modify_topic_acl,
    topic_subscriptions,
)

__all__ = [
    "Fetch",
    "NO_TOPIC",
    "SUBSCRIPTION_ACL",
    "TOPIC_ACL",
    "T_MEMBER",
    "T_MESSAGE",
    "T_PROJECT",
    "T_SUB",
    "T_SUB_ACL",
    "T_TOPIC",
    "T_TOPIC_ACL",
    "T_USAGE",
    "T_USER",
    "acknowledge",
    "acls",
    "add_member",
    "create_project",
    "create_subscription",
    "create_topic",
    "delete_project",
    "delete_subscription",
    "delete_topic",
    "get_project",
    "get_project_by_id",
    "get_subscription",
    "get_subscription_acl",
    "get_subscription_by_id",
    "get_topic",
    "get_topic_acl",
    "get_topic_by_id",
    "list_members",
    "list_projects",
    "list_subscriptions",
    "list_topics",
    "modify_ack_deadline",
    "modify_offset",
    "modify_push_config",
    "modify_subscription_acl",
    "modify_topic_acl",
    "offsets",
    "offsets_of",
    "project_metrics",
    "project_roles",
    "reads_push_secrets",
    "publish",
    "pull",
    "purge_expired_messages",
    "push_verification_url",
    "read_messages",
    "read_payloads",
    "remove_member",
    "settings_of",
    "subscription_metrics",
    "subscriptions_of_topics",
    "target_row",
    "time_to_offset",
    "topic_metrics",
    "topic_subscriptions",
    "topics_by_name",
    "update_project",
    "user_profile",
    "user_usage",
    "verify_push_endpoint",
]
