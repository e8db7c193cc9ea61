"""AMS's `authx509` route (argo-api-authn's, which the AMS library calls when a sender is
configured without a token): the caller's verified client certificate in, an API token for
the AMS routes out.

Whose token: the user the DN is linked to (as X.509 client credentials sign in,
`principal_for_client_dn`), with that user's rights; else, for the host DN of a registered
accounting service (or a DN granted a sender scope: `sites_for_dn`), the DN's own account,
made a publisher of the accounting project and put in the ACL of the accounting
subscription's topic, and nothing more. Each call issues a new token named `authx509` and
keeps only the one before it (`reissue_api_token`): a sender's tokens stay bounded, and a
run that still uses the previous token is not cut off."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domains.accounting.service.senders import sites_for_dn
from domains.common.authz import Caller, authorize
from domains.common.errors import Forbidden, Unauthenticated
from domains.common.identity import PLATFORM, Principal
from domains.common.models import pk
from domains.identity.service import user_by_subject
from domains.identity.service.tokens import reissue_api_token
from domains.messaging import service as messaging
from domains.messaging.errors import AmsNotFound
from domains.messaging.models import ROLE_PUBLISHER

TOKEN_NAME = "authx509"  # noqa: S105 (the tokens' name, not a secret)


class UnknownCertificate(AmsNotFound):
    """argo-api-authn's 404 for a DN bound to nothing, with what would bind it."""

    def __init__(self, dn: str) -> None:
        super().__init__(
            f"Binding was not found: the DN {dn} is linked to no user and is the host DN "
            "of no registered accounting service"
        )


def token_for_certificate(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> str:
    """A new API token for the caller's client certificate (`principal.client_dn`, as
    `principal_for_client_dn` resolved it); the project and subscription are the
    accounting intake's (OPSGRAPH_ACCOUNTING_PROJECT / _SUBSCRIPTION)."""
    authorize(session, principal, Caller.SIGNED_IN)
    dn = principal.client_dn
    if dn is None:
        raise Unauthenticated("a client certificate is needed")
    own_account = principal.user_id is None or principal.subject == dn
    if own_account and sites_for_dn(session, dn):
        _let_publish(session, dn, project=project, subscription=subscription)
        subject = dn
    elif principal.user_id is not None and principal.subject is not None:
        subject = principal.subject
    else:
        raise UnknownCertificate(dn)
    _, secret = reissue_api_token(session, PLATFORM, user_subject=subject, name=TOKEN_NAME)
    return secret


def _let_publish(session: Session, dn: str, *, project: str, subscription: str) -> None:
    """The host's account a publisher of `project`, in the ACL of the topic `subscription`
    reads; written only when missing (a sender asks at every start)."""
    topic = messaging.get_subscription(
        session, PLATFORM, project=project, subscription=subscription
    )
    if topic.topic_id is None:  # the subscription's topic is gone: nothing would consume
        raise AmsNotFound("Topic doesn't exist")
    user = user_by_subject(session, dn, create=True)
    host = Principal(subject=dn, name=dn, user_id=pk(user), client_dn=dn)
    try:
        roles = sorted(messaging.project_roles(session, host, project=project))
    except Forbidden:  # not a member yet
        roles = []
    if ROLE_PUBLISHER not in roles:
        messaging.add_member(
            session, PLATFORM, project=project, subject=dn, roles=[*roles, ROLE_PUBLISHER]
        )
    acl = messaging.acls(session, PLATFORM, project=project, kind="topic", ids=[topic.topic_id])
    users = acl[topic.topic_id]
    if dn not in users:
        messaging.modify_topic_acl(
            session, PLATFORM, project=project, topic=topic.topic, users=[*users, dn]
        )
