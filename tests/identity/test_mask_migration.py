"""Migration 0009 masks the secrets that entries written before it hold in clear."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, bindparam, text

from domains.common.db import make_engine
from gateway import migrate
from tests.databases import private_database

WEBHOOK = "https://hooks.example.org/services/T0/B0/webhook-secret"
MATTERMOST = "https://chat.example.org:8065/hooks/mattermost-secret"
OLD_ENTRIES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "downtime_subscription",
        "downtime_subscription.create",
        {"name": [None, "mine"], "webhook_url": [None, WEBHOOK]},
    ),
    (
        "downtime_subscription",
        "downtime_subscription.update",
        {"webhook_url": [WEBHOOK, "https://other.example.org/new-secret"]},
    ),
    (
        "msg_subscription",
        "msg_subscription.push_config",
        {
            "mattermost_url": ["", MATTERMOST],
            "push_type": ["http_endpoint", "mattermost"],
            # what the code before wrote for these two: already masked, stays so
            "verification_hash": ["***", "***"],
            "auth_header_value": ["***", "***"],
        },
    ),
    ("site", "site.update", {"description": ["a", "b"]}),
]
MASKED = [
    {"name": [None, "mine"], "webhook_url": [None, "https://hooks.example.org/***"]},
    {"webhook_url": ["https://hooks.example.org/***", "https://other.example.org/***"]},
    {
        "mattermost_url": ["", "https://chat.example.org:8065/***"],
        "push_type": ["http_endpoint", "mattermost"],
        "verification_hash": ["***", "***"],
        "auth_header_value": ["***", "***"],
    },
    {"description": ["a", "b"]},
]


def test_stored_secrets_are_masked_by_the_upgrade(database_url: str, tmp_path: Path) -> None:
    with private_database(database_url, tmp_path, revision="0008") as url:
        engine = make_engine(url)
        try:
            insert = text(
                "INSERT INTO audit_entry (at, actor, action, entity_type, entity_id, "
                "entity_name, changes) VALUES (:at, 'someone@egi.eu', :action, :kind, 1, "
                "'x', :changes)"
            ).bindparams(bindparam("changes", type_=JSON))
            with engine.begin() as conn:
                for kind, action, changes in OLD_ENTRIES:
                    conn.execute(
                        insert,
                        {
                            "at": "2026-12-01 10:00:00+00:00",
                            "action": action,
                            "kind": kind,
                            "changes": changes,
                        },
                    )
            migrate.upgrade(engine)
            assert migrate.current_revision(engine) == migrate.head_revision()
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT changes FROM audit_entry ORDER BY id")).scalars()
                found = [json.loads(v) if isinstance(v, str) else v for v in stored]
            assert found == MASKED
            assert "secret" not in str(found)
        finally:
            engine.dispose()
