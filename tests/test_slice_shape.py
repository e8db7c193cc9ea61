"""The house rules of docs/architecture.md that a file listing can check: every domain is
made of the slice shape's modules (plus the ones named here, each with what it holds), and
no module in domains/ grows past ~600 lines."""

from __future__ import annotations

from pathlib import Path

DOMAINS = Path(__file__).resolve().parent.parent / "domains"
MAX_LINES = 600

SLICE = frozenset(
    {"models", "rules", "service", "loaders", "types", "queries", "mutations", "streams", "seed"}
)
# modules beyond the slice shape, by domain: what each holds
BESIDE: dict[str, dict[str, str]] = {
    "accounting": {
        "formats": "APEL's key/value messages, CAR and StAR XML, read into checked records",
        "smime": "S/MIME signed (and encrypted) messages opened with openssl, as SSM does",
    },
    "downtimes": {
        "events": "the kinds of downtime events and their payloads",
        "feeds": "the public feeds (iCal, RSS, CSV, JSON)",
        "formats": "rendering of downtimes for feeds and notifications",
        "notification_subscriptions": "GraphQL of downtime notification subscriptions",
        "notifications": "downtime notification subscriptions on the shared channels",
    },
    "messaging": {
        "errors": "AMS-shaped errors",
        "formats": "AMS JSON shapes",
        "notify": "in-process wake-ups of waiting pulls",
        "push": "push delivery",
        "rows": "what the service returns",
    },
    "monitoring": {
        "avro": "ARGO's metric_data Avro schema, decode and encode",
        "engine": "pure A/R computation: operations, aggregation, timelines, integration",
        "probes": "probe execution: Nagios output, built-in probes, plugin runner, targets",
        "profiles": "ARGO's profile and report JSON to and from catalogue rows",
    },
    "notifications": {
        "channels": "delivery rows, leases, backoff and state of e-mail, topic and webhook",
        "checks": "the channels a subscription asks for, checked",
    },
    "topology": {
        "filters": "site, service and property filters",
        "ownership": "the ownership tree (project > NGI > site > service)",
        "roles": "the role workflow and its GraphQL",
    },
}


# shared machinery that other domains' services call, with no API of its own
NO_SERVICE = frozenset({"notifications"})  # its `channels` is what the domains call


def _modules(domain: Path) -> set[str]:
    return {
        p.stem if p.is_file() else p.name
        for p in domain.iterdir()
        if p.name != "__init__.py"
        and not p.name.startswith((".", "__pycache__"))
        and (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
    }


def test_every_domain_has_the_slice_shape() -> None:
    domains = [p for p in DOMAINS.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert len(domains) >= 6
    for domain in domains:
        if domain.name == "common":
            continue  # the shared machinery below every domain
        extra = _modules(domain) - SLICE - BESIDE.get(domain.name, {}).keys()
        assert extra == set(), f"{domain.name}: modules outside the slice shape: {extra}"
        if domain.name not in NO_SERVICE:
            assert "service" in _modules(domain), f"{domain.name} has no service"


def test_no_module_in_domains_is_over_600_lines() -> None:
    sizes = {
        path.relative_to(DOMAINS).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in DOMAINS.rglob("*.py")
    }
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
