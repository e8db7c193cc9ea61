"""Issue 16 item 2: "A test changes each kind of entity and checks that no cached answer
survives the change." Every kind the schema serves (each `Node` type, and the other
top-level entities) has a row in KINDS: a query reading it, a change of one of its
entities (the real mutation where there is one, else a service call or SQL, as loaders and
imports write), and what the answer says afterwards. Each row is read twice — a miss, then
a hit, proved by the app's own opsgraph_response_cache_total — changed, and read again: that
read must be computed anew and show the change. A row whose answer is never kept (it reads
the clock without saying when its value changes) says so, and is asserted to be skipped
every time rather than passing unnoticed. test_every_node_type_has_a_kind fails when the
schema gains a Node type without a row."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.accounting.service.loading import Sender, load_message
from gateway.schema import build_schema
from tests.accounting.test_loading import DN, NOW, jobs
from tests.auth.issuer import OIDCIssuer
from tests.conftest import GraphQLClient
from tests.gateway import response_cache as shared
from tests.gateway.response_cache import a_site, as_admin, read, site_id, sql
from tests.identity.helpers import global_id

cached = shared.cached  # the fixture


@dataclass
class World:
    """The administrator's client (answers kept per principal), the session, and a site
    with a service and an endpoint; `made` holds what one row leaves for a later one."""

    admin: GraphQLClient
    session: Session
    site: str
    service_id: int
    endpoint_id: int
    made: dict[str, Any] = field(default_factory=dict)

    def call(self, mutation: str, values: dict[str, Any], returns: str = "__typename") -> Any:
        """Mutation `mutation` with `values` as its input; its payload (`returns`)."""
        kind = mutation[0].upper() + mutation[1:] + "Input"
        document = f"mutation($i: {kind}!) {{ {mutation}(input: $i) {{ {returns} }} }}"
        return self.admin.data(document, {"i": values})[mutation]

    def one(self, statement: str, **params: Any) -> Any:
        return self.session.execute(text(statement), params).scalar_one()

    def gid(self, type_name: str, statement: str, **params: Any) -> str:
        return global_id(type_name, self.one(statement, **params))


Change = Callable[[World], object]


@dataclass(frozen=True)
class Kind:
    type_name: str  # the GraphQL type (the id of the parametrised case)
    group: str  # rows of one group share one app
    query: str
    change: Change
    mark: str  # in the answer after the change, not before (or the reverse: `gone`)
    variables: Callable[[World], dict[str, Any]] = lambda w: {}
    setup: Change | None = None
    gone: bool = False  # the change removes `mark` from the answer
    kept: bool = True  # False: the answer reads the clock unbounded and is never kept


def _node(type_name: str, fields: str) -> str:
    return f"query($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ {fields} }} }} }}"


def _later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


def _declare(w: World, description: str) -> str:
    made = w.call(
        "declareDowntime",
        {
            "serviceIds": [global_id("Service", w.service_id)],
            "severity": "OUTAGE",
            "startsAt": _later(3),
            "endsAt": _later(4),
            "description": description,
        },
        "downtime { id }",
    )
    return str(made["downtime"]["id"])


def _reject(w: World) -> None:
    """An accounting message from a DN that accounts for no site: kept as a reject."""
    outcome = load_message(w.session, jobs(w.site, "1"), Sender(DN, frozenset(), "t"), "k", NOW)
    w.session.commit()
    w.made["reject"] = global_id("AccountingReject", outcome.reject_id)


def _report(w: World) -> None:
    found = w.admin.data("{ monitoringProfiles(filter: {kind: REPORT}) { nodes { name } } }")
    w.made["report"] = found["monitoringProfiles"]["nodes"][0]["name"]


def _profile(w: World) -> None:
    found = w.admin.data(
        "{ monitoringProfiles(filter: {kind: OPERATIONS}) { nodes { profileId document } } }"
    )
    w.made["profile"] = found["monitoringProfiles"]["nodes"][0]


SITE = "query($s: String!) { site(shortName: $s) { %s } }"
MESSAGING = "query($p: String!) { messagingProject(name: $p) { %s { nodes { name } } } }"
PROJECT = "KINDS"
YESTERDAY = (
    (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
)  # the messaging project the messaging rows make

KINDS: list[Kind] = [
    # --- topology -------------------------------------------------------------------------
    Kind(
        "Site",
        "topology",
        SITE % "description",
        lambda w: w.call(
            "updateSite",
            {"id": global_id("Site", site_id(w.session, w.site)), "description": "k-site"},
        ),
        "k-site",
        variables=lambda w: {"s": w.site},
    ),
    Kind(
        "Service",
        "topology",
        "query($id: ID!) { service(id: $id) { description } }",
        lambda w: w.call(
            "updateService", {"id": global_id("Service", w.service_id), "description": "k-svc"}
        ),
        "k-svc",
        variables=lambda w: {"id": global_id("Service", w.service_id)},
    ),
    Kind(
        "Endpoint",
        "topology",
        _node("Endpoint", "description"),
        lambda w: w.call(
            "updateEndpoint", {"id": global_id("Endpoint", w.endpoint_id), "description": "k-ep"}
        ),
        "k-ep",
        variables=lambda w: {"id": global_id("Endpoint", w.endpoint_id)},
    ),
    Kind(
        "NGI",  # no mutation changes an NGI: the GOCDB import writes it
        "topology",
        "query($s: String!) { site(shortName: $s) { ngi { description } } }",
        lambda w: sql(
            w.session,
            "UPDATE ngi SET description = 'k-ngi' WHERE id = "
            "(SELECT ngi_id FROM site WHERE short_name = :s)",
            s=w.site,
        ),
        "k-ngi",
        variables=lambda w: {"s": w.site},
    ),
    Kind(
        "Project",  # no mutation: the GOCDB import
        "topology",
        "{ projects { nodes { name description } } }",
        lambda w: sql(
            w.session,
            "UPDATE project SET description = 'k-project' WHERE id = (SELECT min(id) FROM project)",
        ),
        "k-project",
    ),
    Kind(
        "ServiceType",  # no mutation: the GOCDB import
        "topology",
        _node("ServiceType", "description"),
        lambda w: sql(
            w.session,
            "UPDATE service_type SET description = 'k-type' "
            "WHERE id = (SELECT service_type_id FROM service WHERE id = :v)",
            v=w.service_id,
        ),
        "k-type",
        variables=lambda w: {
            "id": w.gid(
                "ServiceType", "SELECT service_type_id FROM service WHERE id = :v", v=w.service_id
            )
        },
    ),
    Kind(
        "ServiceGroup",
        "topology",
        _node("ServiceGroup", "properties { key value }"),
        lambda w: w.call(
            "setProperty",
            {
                "entityId": w.gid("ServiceGroup", "SELECT min(id) FROM service_group"),
                "key": "k_group",
                "value": "k-group",
            },
        ),
        "k-group",
        variables=lambda w: {"id": w.gid("ServiceGroup", "SELECT min(id) FROM service_group")},
    ),
    Kind(
        "Scope",  # no mutation changes a scope tag itself
        "topology",
        "{ scopes(first: 100) { nodes { name description } } }",
        lambda w: sql(
            w.session,
            "UPDATE scope SET description = 'k-scope' WHERE id = (SELECT min(id) FROM scope)",
        ),
        "k-scope",
    ),
    Kind(
        "SiteApiCredential",
        "topology",
        SITE % "apiCredentials { identifier }",
        lambda w: w.call(
            "addSiteApiCredential",
            {
                "siteId": global_id("Site", site_id(w.session, w.site)),
                "identifier": "/DC=org/CN=k-credential",
                "kind": "X509",
            },
        ),
        "k-credential",
        variables=lambda w: {"s": w.site},
    ),
    Kind(
        "Endpoint (deleted)",  # a row deleted past the ORM
        "topology",
        SITE % "services { endpoints { id } }",
        lambda w: sql(w.session, "DELETE FROM endpoint WHERE id = :e", e=w.endpoint_id),
        "",  # set per world: the endpoint's global id
        variables=lambda w: {"s": w.site},
        gone=True,
    ),
    # --- identity and the audit trail -----------------------------------------------------
    Kind(
        "ApiToken",
        "identity",
        "{ viewer { apiTokens { name } } }",
        lambda w: w.call("createApiToken", {"name": "k-token"}),
        "k-token",
    ),
    Kind(
        "Role",
        "identity",
        "{ viewer { roles { roleType entityName status } } }",
        lambda w: w.call(
            "requestRole",
            {
                "roleType": "Site Administrator",
                "entityId": global_id("Site", site_id(w.session, w.site)),
            },
        ),
        "Site Administrator",
    ),
    Kind(
        "Change",  # every mutation writes one
        "identity",
        "{ changes(order: NEWEST_FIRST, first: 1) { nodes { action changes } } }",
        lambda w: w.call(
            "updateSite",
            {"id": global_id("Site", site_id(w.session, w.site)), "description": "k-change"},
        ),
        "k-change",
    ),
    # --- messaging ------------------------------------------------------------------------
    Kind(
        "MessagingProject",
        "messaging",
        "{ messagingProjects { nodes { name } } }",
        lambda w: w.call("createMessagingProject", {"name": PROJECT}),
        PROJECT,
    ),
    Kind(
        "Topic",
        "messaging",
        MESSAGING % "topics",
        lambda w: w.call("createTopic", {"project": PROJECT, "name": "k-topic"}),
        "k-topic",
        variables=lambda w: {"p": PROJECT},
    ),
    Kind(
        "MessagingSubscription",
        "messaging",
        MESSAGING % "subscriptions",
        lambda w: w.call(
            "createSubscription", {"project": PROJECT, "name": "k-sub", "topic": "k-topic"}
        ),
        "k-sub",
        variables=lambda w: {"p": PROJECT},
    ),
    Kind(
        "Topic (deleted)",
        "messaging",
        MESSAGING % "topics(first: 10)",
        lambda w: w.call("deleteTopic", {"project": PROJECT, "name": "k-topic"}),
        "k-topic",
        variables=lambda w: {"p": PROJECT},
        gone=True,
    ),
    # --- downtimes ------------------------------------------------------------------------
    Kind(
        "Downtime",
        "downtimes",
        _node("Downtime", "description"),
        lambda w: w.call("updateDowntime", {"id": w.made["downtime"], "description": "k-dt"}),
        "k-dt",
        variables=lambda w: {"id": w.made["downtime"]},
        setup=lambda w: w.made.setdefault("downtime", _declare(w, "declared")),
    ),
    Kind(
        "Downtime (declared)",
        "downtimes",
        SITE % "downtimes { description }",
        lambda w: _declare(w, "k-declared"),
        "k-declared",
        variables=lambda w: {"s": w.site},
    ),
    Kind(
        "Downtime (list)",  # unfiltered on time: reads no clock (see test_response_cache_time)
        "downtimes",
        "{ downtimes(first: 100) { nodes { description } } }",
        lambda w: _declare(w, "k-listed"),
        "k-listed",
    ),
    Kind(
        "DowntimeSubscription",
        "downtimes",
        "{ myDowntimeSubscriptions { nodes { name } } }",
        lambda w: w.call(
            "subscribeToDowntimes", {"name": "k-dsub", "events": ["DECLARED"], "email": True}
        ),
        "k-dsub",
    ),
    # --- monitoring -----------------------------------------------------------------------
    Kind(
        "MonitoringHostGrant",
        "monitoring",
        "{ monitoringHostGrants { nodes { identifier } } }",
        lambda w: w.call("grantMonitoringHost", {"kind": "SUBJECT", "identifier": "k-host@egi.eu"}),
        "k-host@egi.eu",
    ),
    Kind(
        "MonitoringProbe",
        "monitoring",
        "{ monitoringProbes { nodes { description } } }",
        lambda w: w.call(
            "updateMonitoringProbe",
            {
                "id": w.gid("MonitoringProbe", "SELECT min(id) FROM monitoring_probe"),
                "description": "k-probe",
            },
        ),
        "k-probe",
    ),
    Kind(
        "MonitoringMetric",
        "monitoring",
        _node("MonitoringMetric", "description"),
        lambda w: w.call(
            "updateMonitoringMetric",
            {
                "id": w.gid("MonitoringMetric", "SELECT min(id) FROM monitoring_metric"),
                "description": "k-metric",
            },
        ),
        "k-metric",
        variables=lambda w: {
            "id": w.gid("MonitoringMetric", "SELECT min(id) FROM monitoring_metric")
        },
    ),
    Kind(
        "MonitoringProfile",
        "monitoring",
        "query($p: String!) { monitoringProfileHistory(kind: OPERATIONS, profileId: $p) "
        "{ nodes { date } } }",
        lambda w: w.call(
            "updateMonitoringProfile",
            {
                "kind": "OPERATIONS",
                "profileId": w.made["profile"]["profileId"],
                "document": {**w.made["profile"]["document"], "date": "2030-01-02"},
            },
        ),
        "2030-01-02",
        variables=lambda w: {"p": w.made["profile"]["profileId"]},
        setup=_profile,
    ),
    Kind(
        "MonitoringProfile (list)",  # valid today: kept until midnight (test_response_cache_time)
        "monitoring",
        "{ monitoringProfiles(filter: {kind: OPERATIONS}) { nodes { date } } }",
        lambda w: w.call(
            "updateMonitoringProfile",
            {
                "kind": "OPERATIONS",
                "profileId": w.made["profile"]["profileId"],
                "document": {**w.made["profile"]["document"], "date": YESTERDAY},
            },
        ),
        YESTERDAY,
    ),
    Kind(
        "MonitoringMetric (list)",  # valid today: kept until midnight (test_response_cache_time)
        "monitoring",
        "{ monitoringMetrics(first: 100) { nodes { description } } }",
        lambda w: w.call(
            "updateMonitoringMetric",
            {
                "id": w.gid("MonitoringMetric", "SELECT min(id) FROM monitoring_metric"),
                "description": "k-listed-metric",
            },
        ),
        "k-listed-metric",
    ),
    Kind(
        "AlertRule",
        "monitoring",
        "{ myAlertRules { nodes { name } } }",
        lambda w: w.call("createAlertRule", {"name": "k-alert", "site": w.site, "email": True}),
        "k-alert",
    ),
    Kind(
        "Recomputation",
        "monitoring",
        "{ recomputations { nodes { reason } } }",
        lambda w: w.call(
            "createRecomputation",
            {
                "report": w.made["report"],
                "requesterName": "K",
                "requesterEmail": "k@example.org",
                "reason": "k-recompute",
                "startTime": "2025-05-10T06:00:00Z",
                "endTime": "2025-05-10T12:00:00Z",
                "exclude": [w.site],
            },
        ),
        "k-recompute",
        setup=_report,
    ),
    # --- accounting -----------------------------------------------------------------------
    Kind(
        "AccountingReject",  # made by the intake (a service call), deleted by the mutation
        "accounting",
        "{ accountingRejects { nodes { id } } }",
        lambda w: w.call("deleteAccountingRejects", {"ids": [w.made["reject"]]}),
        "",  # the reject's id, once made
        setup=_reject,
        gone=True,
    ),
    Kind(
        "AccountingSenderGrant",
        "accounting",
        "{ accountingSenderGrants { nodes { dn } } }",
        lambda w: w.call(
            "grantAccountingSenderScope", {"dn": "/C=UK/O=eScience/CN=k-sender", "site": w.site}
        ),
        "/C=UK/O=eScience/CN=k-sender",
    ),
    Kind(
        "WlcgFederation",
        "accounting",
        "{ wlcgFederations { nodes { name } } }",
        lambda w: w.call(
            "setWlcgFederation", {"name": "K-FED", "country": "FR", "tier": 2, "sites": [w.site]}
        ),
        "K-FED",
    ),
    Kind(
        "AccountingDiscipline",
        "accounting",
        "{ accountingDisciplines { nodes { name } } }",
        lambda w: w.call("setAccountingDiscipline", {"name": "K-Discipline", "vos": []}),
        "K-Discipline",
    ),
]
GROUPS = sorted({k.group for k in KINDS})


def _mark(kind: Kind, w: World) -> str:
    """What shows the change: the row's mark, or the entity a `gone` row removes."""
    if kind.mark:
        return kind.mark
    if kind.type_name == "AccountingReject":
        return str(w.made["reject"])
    return global_id("Endpoint", w.endpoint_id)


def test_every_node_type_has_a_kind() -> None:
    """A Node type added to the schema needs a row in KINDS (coverage must not rot)."""
    schema = build_schema()._schema
    nodes = {t.name for t in schema.get_possible_types(schema.get_type("Node"))}  # type: ignore[arg-type]
    assert nodes - {k.type_name for k in KINDS} == set()


def _stale(kind: Kind, w: World) -> str | None:
    """Read, read again (a hit), change, read again (computed anew, showing the change):
    what went wrong, or None."""
    if kind.setup is not None:
        kind.setup(w)
    variables = kind.variables(w)
    before, first = read(w.admin, kind.query, variables)
    again, second = read(w.admin, kind.query, variables)
    expected = ("miss", "hit") if kind.kept else ("skip", "skip")
    if (first, second) != expected or again != before:
        return f"read twice: {first}, {second} (expected {expected})"
    mark = _mark(kind, w)
    if (mark in json.dumps(before)) is not kind.gone:
        return f"{mark!r} {'not ' if kind.gone else ''}in the answer before the change"
    kind.change(w)
    after, third = read(w.admin, kind.query, variables)
    if third != expected[0] or (mark in json.dumps(after)) is kind.gone:
        return f"after the change: {third}, {after}"
    return None


@pytest.mark.parametrize("group", GROUPS)
def test_no_cached_answer_survives_a_change_of_any_kind(
    cached: GraphQLClient, oidc_issuer: OIDCIssuer, session: Session, group: str
) -> None:
    site, service_id, endpoint_id = a_site(session)
    w = World(as_admin(cached, oidc_issuer), session, site, service_id, endpoint_id)
    w.admin.data("{ viewer { subject } }")  # first sight writes the user row
    problems = {k.type_name: _stale(k, w) for k in KINDS if k.group == group}
    assert {kind: p for kind, p in problems.items() if p} == {}
