"""Who sees a project's push secrets, as the service decides (reads_push_secrets): its
administrators and platform administrators, nobody else, and nobody for a project that
does not exist."""

from __future__ import annotations

from domains.common.identity import ANONYMOUS
from domains.messaging import service as msg
from tests.messaging.conftest import World


def test_only_administrators_read_push_secrets(world: World) -> None:
    s = world.session
    readers = {
        who
        for who, caller in world.callers.items()
        if msg.reads_push_secrets(s, caller, project="ARGO")
    }
    assert readers == {"owner", "admin"}
    assert not msg.reads_push_secrets(s, world.other_admin, project="ARGO")
    assert not msg.reads_push_secrets(s, world.admin, project="NOWHERE")
    assert not msg.reads_push_secrets(s, ANONYMOUS, project="ARGO")
