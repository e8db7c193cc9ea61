"""Per-request batch loaders over the messaging service's reads (ACLs, a topic's
subscriptions, topics by name, offsets), keyed per project, so a page of topics or
subscriptions costs the same number of statements whatever its size."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from domains.common.graphql import Info
from domains.common.loaders import BatchLoader
from domains.messaging import service as msg
from domains.messaging.rows import Offsets, SubscriptionView, TopicView


def _loader(
    info: Info, name: str, project: str, fetch: Callable[[Sequence[Any]], Mapping[Any, Any]]
) -> BatchLoader[Any, Any]:
    return info.context.loaders.get(
        ("messaging", name, project), lambda: BatchLoader(fetch, lambda: None)
    )


def topic_acl_loader(info: Info, project: str) -> BatchLoader[int, list[str]]:
    ctx = info.context
    return _loader(
        info,
        "topic_acl",
        project,
        lambda ids: msg.acls(ctx.session, ctx.principal, project=project, kind="topic", ids=ids),
    )


def sub_acl_loader(info: Info, project: str) -> BatchLoader[int, list[str]]:
    ctx = info.context
    return _loader(
        info,
        "subscription_acl",
        project,
        lambda ids: msg.acls(
            ctx.session, ctx.principal, project=project, kind="subscription", ids=ids
        ),
    )


def topic_subs_loader(info: Info, project: str) -> BatchLoader[int, list[SubscriptionView]]:
    ctx = info.context

    def fetch(ids: Sequence[int]) -> Mapping[int, list[SubscriptionView]]:
        found = msg.subscriptions_of_topics(
            ctx.session, ctx.principal, project=project, topic_ids=ids
        )
        hint_subscriptions(info, project, [s for subs in found.values() for s in subs])
        return found

    return _loader(info, "topic_subscriptions", project, fetch)


def hint_topics(info: Info, project: str, topics: Sequence[TopicView]) -> None:
    ids = [t.id for t in topics]
    topic_acl_loader(info, project).hint(ids)
    topic_subs_loader(info, project).hint(ids)


def hint_subscriptions(info: Info, project: str, subs: Sequence[SubscriptionView]) -> None:
    sub_acl_loader(info, project).hint([s.id for s in subs])
    offsets_loader(info, project).hint([s.name for s in subs])
    topic_loader(info, project).hint([s.topic for s in subs if s.topic_id is not None])


def topic_loader(info: Info, project: str) -> BatchLoader[str, TopicView | None]:
    ctx = info.context
    return _loader(
        info,
        "topic_by_name",
        project,
        lambda names: msg.topics_by_name(ctx.session, ctx.principal, project=project, names=names),
    )


def offsets_loader(info: Info, project: str) -> BatchLoader[str, Offsets | None]:
    ctx = info.context
    return _loader(
        info,
        "offsets",
        project,
        lambda names: msg.offsets_of(
            ctx.session, ctx.principal, project=project, subscriptions=names
        ),
    )
