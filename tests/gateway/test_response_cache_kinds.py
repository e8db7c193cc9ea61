"""Issue 16 item 2: "A test changes each kind of entity and checks that no cached answer
survives the change." Every kind the schema serves (each `Node` type, and the other
top-level entities) has a row in KINDS: a query reading it, a change of one of its
entities (the real mutation where there is one, else a service call or SQL, as loaders and
imports write), and what the answer says afterwards; public rows are read anonymously (the
entry every anonymous caller shares, looked up before any transaction), the others by an
administrator (an entry of one principal). Each row is read twice — a miss, then
a hit, proved by the app's own opsgraph_response_cache_total — changed, and read again: that
read must be computed anew and show the change. A row whose answer is never kept (it reads
the clock without saying when its value changes) says so, and is asserted to be skipped
every time rather than passing unnoticed. test_every_node_type_and_query_field_has_a_kind
fails when the schema gains a Node type or a Query field without a row."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from graphql import FieldNode, GraphQLInterfaceType, OperationDefinitionNode, parse
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.accounting.service.loading import Sender, load_message
from domains.monitoring.models import ArLevel, DailyAvailability
from gateway.schema import build_schema
from tests.accounting.test_cloud_views import vms
from tests.accounting.test_loading import DN, NOW, jobs
from tests.accounting.test_summaries import star
from tests.auth.issuer import OIDCIssuer
from tests.conftest import GraphQLClient
from tests.gateway import response_cache as shared
from tests.gateway.response_cache import a_site, as_admin, read, site_id, sql
from tests.identity.helpers import global_id
from tests.monitoring.ingest_world import METRIC, add_endpoint

cached = shared.cached  # the fixture


@dataclass
class World:
    """The administrator's client (answers kept per principal), the session, and a site
    with a service and an endpoint; `made` holds what one row leaves for a later one."""

    admin: GraphQLClient
    anonymous: GraphQLClient
    issuer: OIDCIssuer
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
    change: Change | None  # None: a read of the clock, never kept (asserted), nothing to change
    # in the answer after the change, not before (the reverse for a `gone` row)
    mark: str | Callable[[World], str]
    variables: Callable[[World], dict[str, Any]] = lambda w: {}
    setup: Change | None = None
    gone: bool = False  # the change removes `mark` from the answer
    kept: bool = True  # False: the answer reads the clock unbounded and is never kept
    public: bool = False  # read anonymously (the entry shared by every anonymous caller)


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


def _site(w: World) -> str:
    return global_id("Site", site_id(w.session, w.site))


def _monitored(w: World) -> None:
    """The metric METRIC in the catalogue, and the administrator a monitoring host."""
    w.made["endpoint"] = add_endpoint(w.session)
    w.session.commit()
    w.call("grantMonitoringHost", {"kind": "SUBJECT", "identifier": "cache.admin@egi.eu"})


def _result(w: World, status: str, metric: str = METRIC) -> dict[str, Any]:
    host, service_type = w.made["endpoint"]
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "service": service_type,
        "hostname": host,
        "metric": metric,
        "status": status,
    }


def _expected(w: World) -> None:
    """A metric the report expects of the endpoint."""
    _report(w)
    found = w.admin.data(
        "query($r: String!, $h: String!, $t: String!) "
        "{ endpointStatus(report: $r, hostname: $h, serviceType: $t) { metrics { metric } } }",
        {"r": w.made["report"], "h": w.made["endpoint"][0], "t": w.made["endpoint"][1]},
    )
    w.made["expected"] = found["endpointStatus"]["metrics"][0]["metric"]


def _jobs(w: World) -> None:
    """A job record of the site loaded by the intake, from a sender accounting for it."""
    w.made["jobs"] = w.made.get("jobs", 0) + 1
    sender = Sender(DN, frozenset({w.site}), "t")
    load_message(w.session, jobs(w.site, f"k{w.made['jobs']}"), sender, f"k{w.made['jobs']}", NOW)
    w.session.commit()


def _acknowledge(w: World) -> None:
    """Pull the subscription's message, and acknowledge it."""
    pulled = w.call(
        "pull", {"project": PROJECT, "subscription": "k-sub"}, "receivedMessages { ackId }"
    )
    ack_ids = [m["ackId"] for m in pulled["receivedMessages"]]
    w.call("acknowledge", {"project": PROJECT, "subscription": "k-sub", "ackIds": ack_ids})


def _availability(w: World) -> None:
    uuid = w.one("SELECT uuid FROM monitoring_report WHERE name = :n", n=w.made["report"])
    w.session.add(
        DailyAvailability(
            report_uuid=uuid,
            day=date(2025, 5, 10),
            level=ArLevel.SITE,
            name=w.site,
            availability=12.5,
            reliability=12.5,
        )
    )
    w.session.commit()


def _load(w: World, body: str) -> None:
    """An accounting message of the site loaded by the intake, from a sender for it."""
    w.made["loaded"] = w.made.get("loaded", 0) + 1
    sender = Sender(DN, frozenset({w.site}), "t")
    outcome = load_message(w.session, body.encode(), sender, f"k-load-{w.made['loaded']}", NOW)
    assert outcome.reject_id is None, outcome.reason
    w.session.commit()


def _subscribed(w: World) -> None:
    """A second topic with a subscription and one message waiting in it."""
    w.call("createTopic", {"project": PROJECT, "name": "k-other"})
    w.call("createSubscription", {"project": PROJECT, "name": "k-other-sub", "topic": "k-other"})
    w.call("publish", {"project": PROJECT, "topic": "k-other", "messages": [{"data": "aGk="}]})


def _applied(w: World) -> None:
    """Another user's pending request for a role over the site."""
    token = w.issuer.issue_access_token({"sub": "k-applicant@egi.eu", "name": "K Applicant"})
    applicant = GraphQLClient(w.admin.client, headers={"authorization": f"Bearer {token}"})
    made = applicant.data(
        "mutation($i: RequestRoleInput!) { requestRole(input: $i) { role { id } } }",
        {"i": {"roleType": "Site Administrator", "entityId": _site(w)}},
    )
    w.made["applied"] = made["requestRole"]["role"]["id"]


def _reject(w: World) -> None:
    """An accounting message from a DN that accounts for no site: kept as a reject."""
    made = f"k-reject-{len(w.made.get('rejects', ()))}"
    w.made["rejects"] = [*w.made.get("rejects", ()), made]
    outcome = load_message(w.session, jobs(w.site, "1"), Sender(DN, frozenset(), "t"), made, NOW)
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
TOPIC = "query($p: String!, $t: String!) { topic(project: $p, name: $t) { messageCount } }"
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
        public=True,
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
        public=True,
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
        public=True,
    ),
    Kind(
        "NGI",  # no mutation changes an NGI: the GOCDB import writes it
        "topology",
        "query($n: String!) { ngi(name: $n) { description } }",
        lambda w: sql(
            w.session,
            "UPDATE ngi SET description = 'k-ngi' WHERE id = "
            "(SELECT ngi_id FROM site WHERE short_name = :s)",
            s=w.site,
        ),
        "k-ngi",
        variables=lambda w: {
            "n": w.one(
                "SELECT n.name FROM ngi n JOIN site s ON s.ngi_id = n.id WHERE s.short_name = :s",
                s=w.site,
            )
        },
        public=True,
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
        public=True,
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
        public=True,
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
        public=True,
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
        "Site (property)",
        "topology",
        SITE % "properties { key value }",
        lambda w: w.call(
            "setProperty",
            {"entityId": _site(w), "key": "k_site_property", "value": "k-site-property"},
        ),
        "k-site-property",
        variables=lambda w: {"s": w.site},
    ),
    Kind(
        "Site (scope tagged)",
        "topology",
        SITE % "scopes { name }",
        lambda w: w.call("tagScopes", {"entityId": _site(w), "scopes": [w.made["scope"]]}),
        lambda w: str(w.made["scope"]),
        variables=lambda w: {"s": w.site},
        setup=lambda w: w.made.update(
            scope=w.one(
                "SELECT min(name) FROM scope WHERE id NOT IN "
                "(SELECT scope_id FROM site_scope WHERE site_id = :s)",
                s=site_id(w.session, w.site),
            )
        ),
        public=True,
    ),
    Kind(
        "Site (certification)",
        "topology",
        SITE % "certificationStatusHistory { reason }",
        lambda w: w.call(
            "changeCertificationStatus",
            {"siteId": _site(w), "status": "SUSPENDED", "reason": "k-suspended"},
        ),
        "k-suspended",
        variables=lambda w: {"s": w.site},
        public=True,
    ),
    Kind(
        "Service (created)",
        "topology",
        SITE % "services { hostName }",
        lambda w: w.call(
            "createService",
            {"siteId": _site(w), "serviceType": w.made["type"], "hostName": "k.example.org"},
        ),
        "k.example.org",
        variables=lambda w: {"s": w.site},
        setup=lambda w: w.made.update(
            type=w.one(
                "SELECT t.name FROM service_type t JOIN service v ON v.service_type_id = t.id "
                "WHERE v.id = :v",
                v=w.service_id,
            )
        ),
        public=True,
    ),
    Kind(
        "Endpoint (property)",
        "topology",
        _node("Endpoint", "properties { key value }"),
        lambda w: w.call(
            "setProperty",
            {
                "entityId": global_id("Endpoint", w.endpoint_id),
                "key": "k_ep_property",
                "value": "k-ep-property",
            },
        ),
        "k-ep-property",
        variables=lambda w: {"id": global_id("Endpoint", w.endpoint_id)},
    ),
    Kind(
        "Site (list)",
        "topology",
        "{ sites(first: 100) { nodes { officialName } } }",
        lambda w: w.call("updateSite", {"id": _site(w), "officialName": "k-official"}),
        "k-official",
        public=True,
    ),
    Kind(
        "NGI (list)",  # no mutation: the GOCDB import
        "topology",
        "{ ngis(first: 100) { nodes { email } } }",
        lambda w: sql(
            w.session,
            "UPDATE ngi SET email = 'k-ngi@example.org' WHERE id = (SELECT min(id) FROM ngi)",
        ),
        "k-ngi@example.org",
    ),
    Kind(
        "Service (list)",
        "topology",
        "{ services(first: 100) { nodes { url } } }",
        lambda w: w.call(
            "updateService",
            {"id": global_id("Service", w.service_id), "url": "https://k-list.example.org"},
        ),
        "https://k-list.example.org",
        public=True,
    ),
    Kind(
        "ServiceType (list)",  # no mutation: the GOCDB import
        "topology",
        "{ serviceTypes(first: 100) { nodes { description } } }",
        lambda w: sql(
            w.session,
            "UPDATE service_type SET description = 'k-type-list' "
            "WHERE id = (SELECT min(id) FROM service_type)",
        ),
        "k-type-list",
        public=True,
    ),
    Kind(
        "ServiceGroup (list)",  # no mutation changes a group's description
        "topology",
        "{ serviceGroups(first: 100) { nodes { description } } }",
        lambda w: sql(
            w.session,
            "UPDATE service_group SET description = 'k-group-list' "
            "WHERE id = (SELECT min(id) FROM service_group)",
        ),
        "k-group-list",
        public=True,
    ),
    Kind(
        "Endpoint (deleted)",  # a row deleted past the ORM
        "topology",
        SITE % "services { endpoints { id } }",
        lambda w: sql(w.session, "DELETE FROM endpoint WHERE id = :e", e=w.endpoint_id),
        lambda w: global_id("Endpoint", w.endpoint_id),
        variables=lambda w: {"s": w.site},
        gone=True,
        public=True,
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
        "Role (granted)",
        "identity",
        "{ pendingRoles(first: 100) { nodes { id } } }",
        lambda w: w.call("grantRole", {"roleId": w.made["role"]}),
        lambda w: str(w.made["role"]),
        setup=lambda w: w.made.update(
            role=w.admin.data("{ pendingRoles(first: 99) { nodes { id } } }")["pendingRoles"][
                "nodes"
            ][-1]["id"]
        ),
        gone=True,
    ),
    Kind(
        "Role (its user deleted past the ORM)",  # the roles go by the FK's ON DELETE CASCADE
        "identity",
        "{ pendingRoles(first: 98) { nodes { id } } }",
        lambda w: sql(w.session, "DELETE FROM user_account WHERE subject = 'k-applicant@egi.eu'"),
        lambda w: str(w.made["applied"]),
        setup=_applied,
        gone=True,
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
        "Topic (published)",
        "messaging",
        TOPIC,
        lambda w: w.call(
            "publish",
            {"project": PROJECT, "topic": "k-topic", "messages": [{"data": "aGk="}]},
        ),
        '"messageCount": 1',
        variables=lambda w: {"p": PROJECT, "t": "k-topic"},
    ),
    Kind(
        "MessagingSubscription (acknowledged)",
        "messaging",
        "query($p: String!, $s: String!) { subscription(project: $p, name: $s) "
        "{ offsets { current } } }",
        _acknowledge,
        '"current": 1',
        variables=lambda w: {"p": PROJECT, "s": "k-sub"},
    ),
    Kind(
        "MessagingProject (member)",
        "messaging",
        "query($p: String!) { messagingProject(name: $p) { members { subject } } }",
        lambda w: w.call(
            "addProjectMember",
            {"project": PROJECT, "subject": "k-member@egi.eu", "roles": ["CONSUMER"]},
        ),
        "k-member@egi.eu",
        variables=lambda w: {"p": PROJECT},
    ),
    Kind(
        "Topic (ACL)",
        "messaging",
        TOPIC.replace("messageCount", "acl"),
        lambda w: w.call(
            "setTopicAcl", {"project": PROJECT, "topic": "k-topic", "users": ["k-member@egi.eu"]}
        ),
        "k-member@egi.eu",
        variables=lambda w: {"p": PROJECT, "t": "k-topic"},
    ),
    Kind(
        "MessagingSubscription (its topic deleted past the ORM)",  # FKs null/delete its rows
        "messaging",
        "query($p: String!, $s: String!) { subscription(project: $p, name: $s) "
        "{ offsets { max } } }",
        lambda w: sql(
            w.session,
            "DELETE FROM msg_topic WHERE name = 'k-other' AND project_id = "
            "(SELECT id FROM msg_project WHERE name = :p)",
            p=PROJECT,
        ),
        '"offsets": {',
        variables=lambda w: {"p": PROJECT, "s": "k-other-sub"},
        setup=_subscribed,
        gone=True,
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
        "query($id: ID!) { downtime(id: $id) { description } }",
        lambda w: w.call("updateDowntime", {"id": w.made["downtime"], "description": "k-dt"}),
        "k-dt",
        variables=lambda w: {"id": w.made["downtime"]},
        setup=lambda w: w.made.setdefault("downtime", _declare(w, "declared")),
        public=True,
    ),
    Kind(
        "Downtime (declared)",
        "downtimes",
        SITE % "downtimes { description }",
        lambda w: _declare(w, "k-declared"),
        "k-declared",
        variables=lambda w: {"s": w.site},
        public=True,
    ),
    Kind(
        "Downtime (list)",  # unfiltered on time: reads no clock (see test_response_cache_time)
        "downtimes",
        "{ downtimes(first: 100) { nodes { description } } }",
        lambda w: _declare(w, "k-listed"),
        "k-listed",
        public=True,
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
        "MetricStatus",  # results published through the mutation
        "monitoring",
        "query($h: String!) { metricStatuses(hostname: $h) { nodes { metric status } } }",
        lambda w: w.call("publishMetricResults", {"results": [_result(w, "OK")]}),
        METRIC,
        variables=lambda w: {"h": w.made["endpoint"][0]},
        setup=_monitored,
        public=True,
    ),
    Kind(
        "MetricStatusChange",
        "monitoring",
        "query($h: String!, $t: String!, $m: String!) "
        "{ metricStatusChanges(hostname: $h, serviceType: $t, metric: $m) { nodes { status } } }",
        lambda w: w.call("publishMetricResults", {"results": [_result(w, "CRITICAL")]}),
        "CRITICAL",
        variables=lambda w: {"h": w.made["endpoint"][0], "t": w.made["endpoint"][1], "m": METRIC},
        public=True,
    ),
    Kind(
        "MetricResultRejectionCount",
        "monitoring",
        "{ metricResultRejections { nodes { rule } } }",
        lambda w: w.call("publishMetricResults", {"results": [_result(w, "GREEN")]}),
        "RESULT_STATUS_UNKNOWN",
    ),
    Kind(
        "Availability",  # the A/R job's daily figures (written as it writes them)
        "monitoring",
        "query($r: String!, $s: String!) { availability(report: $r, level: SITE, name: $s, "
        'from: "2025-05-10", to: "2025-05-10") { nodes { availability } } }',
        _availability,
        '"availability": 12.5',
        variables=lambda w: {"r": w.made["report"], "s": w.site},
        setup=_report,
        public=True,
    ),
    Kind(
        "EndpointStatus",  # the status now: kept until the next midnight or downtime edge
        "monitoring",
        "query($r: String!, $h: String!, $t: String!) "
        "{ endpointStatus(report: $r, hostname: $h, serviceType: $t) { metrics { status } } }",
        lambda w: w.call(
            "publishMetricResults", {"results": [_result(w, "CRITICAL", w.made["expected"])]}
        ),
        '"status": "CRITICAL"',
        variables=lambda w: {
            "r": w.made["report"],
            "h": w.made["endpoint"][0],
            "t": w.made["endpoint"][1],
        },
        setup=_expected,
        public=True,
    ),
    Kind(
        "StatusTimeline",  # today's timelines, up to now
        "monitoring",
        "query($r: String!, $s: String!) { status(report: $r, level: SITE, name: $s) { name } }",
        None,
        "",
        variables=lambda w: {"r": w.made["report"], "s": w.site},
        kept=False,
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
        lambda w: str(w.made["reject"]),
        setup=_reject,
        gone=True,
    ),
    Kind(
        "AccountingReject (one)",
        "accounting",
        "query($id: ID!) { accountingReject(id: $id) { rule } }",
        lambda w: w.call("deleteAccountingRejects", {"ids": [w.made["reject"]]}),
        "ACCOUNTING_SITE_NOT_SENDERS",
        variables=lambda w: {"id": w.made["reject"]},
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
        public=True,
    ),
    Kind(
        "AccountingPivot",  # job records loaded by the intake (a service call)
        "accounting",
        "query($s: String!) { accounting(metric: NJOBS, rows: SITE, columns: MONTH, "
        'from: "2026-11", to: "2026-11", filter: {site: $s}) { total } }',
        _jobs,
        '"total": 1',
        variables=lambda w: {"s": w.site},
        public=True,
    ),
    Kind(
        "AccountingPublication",
        "accounting",
        'query($s: String!) { accountingPublication(site: $s, from: "2026-11", '
        'to: "2026-11") { lastMessage { messageId } } }',
        _jobs,
        lambda w: f'"k{w.made["jobs"] + 1}"',  # the message _jobs loads next
        variables=lambda w: {"s": w.site},
    ),
    Kind(
        "CloudAccountingPivot",  # cloud summaries loaded by the intake
        "accounting",
        "query($s: String!) { cloudAccounting(metric: VM_NUM, rows: SITE, columns: MONTH, "
        'from: "2026-09", to: "2026-09", filter: {site: $s}) { total } }',
        lambda w: _load(
            w,
            "APEL-cloud-summary-message: v0.4\n"
            + vms(w.site, 9, "fedcloud.egi.eu", vcpus=2, wall=10, n=7),
        ),
        '"total": 7',
        variables=lambda w: {"s": w.site},
        public=True,
    ),
    Kind(
        "StorageAccountingRow",  # StAR records loaded by the intake
        "accounting",
        'query($s: String!) { storageAccounting(from: "2026-11", to: "2026-11", site: $s) '
        "{ resourceCapacityUsed } }",
        lambda w: _load(w, star(w.site, "k-r1", "2026-11-10T00:00:00Z", 4242)),
        '"resourceCapacityUsed": 4242',
        variables=lambda w: {"s": w.site},
        public=True,
    ),
    Kind(
        "WlcgPledge",
        "accounting",
        "{ wlcgFederations { nodes { pledges { cpuHs06 } } } }",
        lambda w: w.call("setWlcgPledge", {"federation": "K-FED", "year": 2027, "cpuHs06": 4321.5}),
        "4321.5",
        public=True,
    ),
    Kind(
        "AccountingDiscipline",
        "accounting",
        "{ accountingDisciplines { nodes { name } } }",
        lambda w: w.call("setAccountingDiscipline", {"name": "K-Discipline", "vos": []}),
        "K-Discipline",
        public=True,
    ),
]
GROUPS = sorted({k.group for k in KINDS})


# the Query fields no row reads, and why
UNREAD = {"roleTypes": "a constant of the code (the role types requestRole takes): no table"}


def test_every_node_type_and_query_field_has_a_kind() -> None:
    """A Node type or a Query field added to the schema needs a row in KINDS (coverage must
    not rot silently)."""
    schema = build_schema()._schema
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    nodes = {t.name for t in schema.get_possible_types(node)}
    assert nodes - {k.type_name for k in KINDS} == set()
    read = {
        selection.name.value
        for kind in KINDS
        for definition in parse(kind.query).definitions
        if isinstance(definition, OperationDefinitionNode)
        for selection in definition.selection_set.selections
        if isinstance(selection, FieldNode)
    }
    assert schema.query_type is not None
    assert set(schema.query_type.fields) - read == UNREAD.keys()


def _stale(kind: Kind, w: World) -> str | None:
    """Read, read again (a hit), change, read again (computed anew, showing the change):
    what went wrong, or None."""
    if kind.setup is not None:
        kind.setup(w)
    variables = kind.variables(w)
    reader = w.anonymous if kind.public else w.admin
    before, first = read(reader, kind.query, variables)
    again, second = read(reader, kind.query, variables)
    expected = ("miss", "hit") if kind.kept else ("skip", "skip")
    if (first, second) != expected or again != before:
        return f"read twice: {first}, {second} (expected {expected})"
    if kind.change is None:
        return None if not kind.kept else "a row without a change must be one never kept"
    mark = kind.mark if isinstance(kind.mark, str) else kind.mark(w)
    if (mark in json.dumps(before)) is not kind.gone:
        return f"{mark!r} {'not ' if kind.gone else ''}in the answer before the change: {before}"
    kind.change(w)
    after, third = read(reader, kind.query, variables)
    if third != expected[0] or (mark in json.dumps(after)) is kind.gone:
        return f"after the change: {third}, {after}"
    return None


@pytest.mark.parametrize("group", GROUPS)
def test_no_cached_answer_survives_a_change_of_any_kind(
    cached: GraphQLClient, oidc_issuer: OIDCIssuer, session: Session, group: str
) -> None:
    site, service_id, endpoint_id = a_site(session)
    admin = as_admin(cached, oidc_issuer)
    w = World(admin, cached, oidc_issuer, session, site, service_id, endpoint_id)
    w.admin.data("{ viewer { subject } }")  # first sight writes the user row
    problems = {k.type_name: _stale(k, w) for k in KINDS if k.group == group}
    assert {kind: p for kind, p in problems.items() if p} == {}
