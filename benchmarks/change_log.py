"""The change log as each caller reads it: what the visibility condition costs.

    python -m benchmarks.change_log [--entries 200000] [--database sqlite|postgresql|URL]
        [--runs 7]

Seeds the demo federation, adds `--entries` synthetic audit entries (a quarter each about
sites, services, downtime subscriptions and push subscriptions, spread over the sites),
grants an NGI Operations Manager and a Site Administrator role, runs ANALYZE (as
autovacuum would soon after a bulk load), then prints median and p95 over `--runs` runs of
`list_changes` (first page of 50 oldest first, the same newest first, then its totalCount)
for a platform administrator, the NGI manager, the site administrator and a user with no
role.

`--database postgresql` uses postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_changes,
dropped and created again; a URL names another database (a PostgreSQL one is recreated).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from domains.changelog.service import ChangeFilter, list_changes
from domains.common.audit import AuditEntry
from domains.common.db import make_engine
from domains.common.identity import PLATFORM, Principal
from domains.common.pagination import PageRequest
from domains.common.time import utcnow
from domains.identity import service as identity
from domains.identity.models import EntityKind
from domains.topology import ownership, roles
from domains.topology.seed import seed_demo
from gateway import migrate
from tests.databases import recreate_pg_database

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_changes"
KINDS = ("site", "service", "downtime_subscription", "msg_subscription")


def database_url(choice: str, directory: Path) -> str:
    url = {"sqlite": f"sqlite:///{directory / 'changes.db'}", "postgresql": PG_URL}.get(
        choice, choice
    )
    if make_url(url).get_backend_name() == "postgresql":
        recreate_pg_database(url)
    return url


def seed(session: Session, entries: int) -> dict[str, Principal]:
    seed_demo(session)
    sites = list(session.execute(text("SELECT id FROM site ORDER BY id")).scalars())
    now = utcnow()
    for start in range(0, entries, 10_000):
        session.execute(
            insert(AuditEntry.__table__),  # type: ignore[attr-defined]
            [
                {
                    "at": now,
                    "actor": "someone@egi.eu",
                    "action": "x.update",
                    "entity_type": KINDS[i % len(KINDS)],
                    "entity_id": sites[i % len(sites)],
                    "entity_name": "x",
                    "changes": {"description": ["a", "b"]},
                }
                for i in range(start, min(entries, start + 10_000))
            ],
        )
    ngi = session.execute(text("SELECT name FROM ngi ORDER BY id LIMIT 1")).scalar_one()
    site = session.execute(text("SELECT short_name FROM site ORDER BY id LIMIT 1")).scalar_one()
    callers = {"platform administrator": Principal(subject="root@egi.eu", is_admin=True)}
    for label, subject, role, kind, name in (
        ("NGI manager", "ngi@egi.eu", "NGI Operations Manager", EntityKind.NGI, ngi),
        ("site administrator", "site@egi.eu", "Site Administrator", EntityKind.SITE, site),
    ):
        entity_id = ownership.id_of(session, kind.value, name)
        assert entity_id is not None
        granted = roles.grant_role_directly(
            session, PLATFORM, subject=subject, role_type=role, kind=kind, entity_id=entity_id
        )
        callers[label] = Principal(subject=subject, user_id=granted.user_id)
    user = identity.ensure_user(session, issuer="bench", subject="nobody@egi.eu")
    callers["no role"] = Principal(subject="nobody@egi.eu", user_id=user.id)
    return callers


def timed(fn: Callable[[], int], runs: int) -> tuple[list[float], int]:
    rows = fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url(args.database, Path(tmp)))
        migrate.upgrade(engine)
        with Session(engine) as session:
            callers = seed(session, args.entries)
            session.commit()
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        with Session(engine) as session:
            total = session.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
            print(f"{engine.dialect.name}: {total} audit entries")
            for label, principal in callers.items():

                def page(who: Principal = principal, newest: bool = False) -> int:
                    found = list_changes(
                        session,
                        who,
                        filter=ChangeFilter(),
                        page=PageRequest.build(50, None, default=50, maximum=100),
                        newest_first=newest,
                    )
                    return len(found.items)

                def newest(who: Principal = principal) -> int:
                    return page(who, newest=True)

                def count(who: Principal = principal) -> int:
                    found = list_changes(
                        session,
                        who,
                        filter=ChangeFilter(),
                        page=PageRequest.build(0, None, default=50, maximum=100),
                    )
                    return found.total_count

                for what, fn in (("first 50", page), ("newest 50", newest), ("totalCount", count)):
                    samples, rows = timed(fn, args.runs)
                    print(
                        f"  {label:<24} {what:<10} median {statistics.median(samples):8.1f} ms"
                        f"   max {max(samples):8.1f} ms   ({rows} rows)"
                    )
        engine.dispose()


if __name__ == "__main__":
    main()
