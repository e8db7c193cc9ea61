"""The `viewerCan…` fields the front end shows its buttons by (issue 12, point 3): each
stands for Mutation fields, reads their `@requires` declarations and asks the service
layer's `can`, so that for every demo persona (and the anonymous caller) and every sample
object, a field is true exactly when the mutations it stands for are not refused
(FORBIDDEN, UNAUTHENTICATED), and when it is false the call is refused and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLObjectType
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import reader_memo, set_write_intent
from domains.common.graphql import VIEWER_CAN, declared_permissions, viewer_can_of
from domains.common.identity import PLATFORM
from domains.common.time import utcnow
from domains.identity.models import ApiToken
from domains.identity.service import tokens
from domains.monitoring.seed import load_json
from gateway.demo import PERSONAS, ensure_personas
from gateway.schema import build_schema
from tests.conftest import GraphQLClient, StatementCounter
from tests.identity.helpers import global_id
from tests.refusals import fingerprint, mutation_document, mutation_variables, rows_written

# Every `viewerCan…` field and the mutations it stands for: the names the front end reads.
FIELDS: dict[str, tuple[str, ...]] = {
    "Viewer.viewerCanCreateApiToken": ("createApiToken",),
    "Viewer.viewerCanRequestRole": ("requestRole",),
    "Viewer.viewerCanCreateMessagingProject": ("createMessagingProject",),
    "Viewer.viewerCanSubscribeToDowntimes": ("subscribeToDowntimes",),
    "ApiToken.viewerCanRevoke": ("revokeApiToken",),
    "Project.viewerCanDecideRoles": ("grantRole", "rejectRole", "revokeRole"),
    "NGI.viewerCanCreateSite": ("createSite",),
    "NGI.viewerCanEditScopes": ("tagScopes", "untagScopes"),
    "NGI.viewerCanDecideRoles": ("grantRole", "rejectRole", "revokeRole"),
    "Site.viewerCanEdit": ("updateSite",),
    "Site.viewerCanChangeCertificationStatus": ("changeCertificationStatus",),
    "Site.viewerCanAddService": ("createService",),
    "Site.viewerCanEditProperties": ("setProperty", "removeProperty"),
    "Site.viewerCanEditScopes": ("tagScopes", "untagScopes"),
    "Site.viewerCanDecideRoles": ("grantRole", "rejectRole", "revokeRole"),
    "Site.viewerCanDeclareDowntime": ("declareDowntime",),
    "Site.viewerCanManageApiCredentials": (
        "addSiteApiCredential",
        "updateSiteApiCredential",
        "renewSiteApiCredential",
        "deleteSiteApiCredential",
    ),
    "Service.viewerCanEdit": ("updateService",),
    "Service.viewerCanDelete": ("deleteService",),
    "Service.viewerCanAddEndpoint": ("addEndpoint",),
    "Service.viewerCanEditProperties": ("setProperty", "removeProperty"),
    "Service.viewerCanEditScopes": ("tagScopes", "untagScopes"),
    "Service.viewerCanDeclareDowntime": ("declareDowntime",),
    "Endpoint.viewerCanEdit": ("updateEndpoint",),
    "Endpoint.viewerCanDelete": ("deleteEndpoint",),
    "Endpoint.viewerCanEditProperties": ("setProperty", "removeProperty"),
    "ServiceGroup.viewerCanEditProperties": ("setProperty", "removeProperty"),
    "ServiceGroup.viewerCanEditScopes": ("tagScopes", "untagScopes"),
    "ServiceGroup.viewerCanDecideRoles": ("grantRole", "rejectRole", "revokeRole"),
    "Role.viewerCanGrant": ("grantRole",),
    "Role.viewerCanReject": ("rejectRole",),
    "Role.viewerCanRevoke": ("revokeRole",),
    "Downtime.viewerCanEdit": ("updateDowntime",),
    "Downtime.viewerCanEnd": ("endDowntime", "endDowntimeForServices"),
    "Downtime.viewerCanDelete": ("deleteDowntime",),
    "DowntimeSubscription.viewerCanEdit": ("updateDowntimeSubscription",),
    "DowntimeSubscription.viewerCanDelete": ("deleteDowntimeSubscription",),
    "MessagingProject.viewerCanAdminister": (
        "addProjectMember",
        "removeProjectMember",
        "createTopic",
        "createSubscription",
    ),
    "MessagingProject.viewerCanDelete": ("deleteMessagingProject",),
    "Topic.viewerCanPublish": ("publish",),
    "Topic.viewerCanDelete": ("deleteTopic",),
    "Topic.viewerCanEditAcl": ("setTopicAcl",),
    "MessagingSubscription.viewerCanPull": ("pull",),
    "MessagingSubscription.viewerCanAcknowledge": (
        "acknowledge",
        "modifyAckDeadline",
        "modifyOffset",
    ),
    "MessagingSubscription.viewerCanModify": (
        "modifyPushConfig",
        "setSubscriptionAcl",
        "verifyPushEndpoint",
    ),
    "MessagingSubscription.viewerCanDelete": ("deleteSubscription",),
    "MonitoringProfile.viewerCanEdit": ("updateMonitoringProfile",),
    "MonitoringProfile.viewerCanDelete": ("deleteMonitoringProfile",),
    "MonitoringProbe.viewerCanEdit": ("updateMonitoringProbe",),
    "MonitoringProbe.viewerCanDelete": ("deleteMonitoringProbe",),
    "MonitoringMetric.viewerCanEdit": ("updateMonitoringMetric",),
    "MonitoringMetric.viewerCanDelete": ("deleteMonitoringMetric",),
    "AlertRule.viewerCanEdit": ("updateAlertRule",),
    "AlertRule.viewerCanDelete": ("deleteAlertRule",),
}
REFUSED = frozenset({"FORBIDDEN", "UNAUTHENTICATED"})
# another user's token or downtime subscription does not exist for them
HIDDEN = REFUSED | {"NOT_FOUND"}


def _schema_fields() -> dict[str, tuple[str, ...]]:
    schema = build_schema()
    found: dict[str, tuple[str, ...]] = {}
    for name, graphql_type in schema._schema.type_map.items():
        definition = schema.get_type_by_name(name)
        if not isinstance(graphql_type, GraphQLObjectType) or definition is None:
            continue
        for strawberry_field in getattr(definition, "fields", ()):
            graphql_name = schema.config.name_converter.get_graphql_name(strawberry_field)
            spec = viewer_can_of(strawberry_field)
            if graphql_name.startswith(VIEWER_CAN):
                assert spec is not None, f"{name}.{graphql_name} is not made by viewer_can"
            if spec is not None:
                found[f"{name}.{graphql_name}"] = spec.mutations
    return found


def test_every_viewer_can_field_stands_for_declared_mutations() -> None:
    assert _schema_fields() == FIELDS
    declared = declared_permissions(build_schema())
    for name, mutations in FIELDS.items():
        for mutation in mutations:
            assert declared.get(mutation) is not None, f"{name}: {mutation} declares nothing"


# --- the sample objects -----------------------------------------------------------------

APPLICANT = "applicant@demo.opsgraph.example"
SITES = ("INFN-T1", "FZK-LCG2")  # the site administrator's, and one of the NGI manager's
NGIS = ("NGI_IT", "NGI_DE")
PROJECT = "biomed"


@dataclass
class Obj:
    """A sample object: its type, global id and what its mutations' inputs need."""

    type_name: str
    gid: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    clients: dict[str, GraphQLClient]
    objects: list[Obj]
    subjects: dict[str, str]


def _one(session: Session, sql: str, **params: Any) -> Any:
    return session.execute(text(sql), params).first()


def _ok(
    client: GraphQLClient, name: str, values: dict[str, Any], returns: str = "__typename"
) -> Any:
    """Call mutation `name` with `values` as its input; what it returns (`returns` selected)."""
    kind = name[0].upper() + name[1:] + "Input"
    document = f"mutation($input: {kind}!) {{ {name}(input: $input) {{ {returns} }} }}"
    return client.data(document, {"input": values})[name]


def _later(days: int, hours: int = 0) -> str:
    return (utcnow() + timedelta(days=days, hours=hours)).isoformat()


@pytest.fixture
def world(gql: GraphQLClient, session: Session, tmp_path: Path) -> World:
    issued = ensure_personas(session, tmp_path / "personas.json")
    _, applicant_key = tokens.create_api_token(
        session, PLATFORM, name="applicant", user_subject=APPLICANT
    )
    probe_tokens = {
        p.key: tokens.create_api_token(session, PLATFORM, name="probe", user_subject=p.subject)[0]
        for p in PERSONAS
    }
    session.commit()
    clients = {p.key: GraphQLClient(gql.client, {"x-api-key": p.token}) for p in issued}
    clients["anonymous"] = gql
    admin = clients["admin"]
    applicant = clients["applicant"] = GraphQLClient(gql.client, {"x-api-key": applicant_key})
    objects: list[Obj] = []

    def request(role: str, type_name: str, pk: int) -> str:
        """A pending request of the applicant's for `role` over the entity: its id."""
        values = {"roleType": role, "entityId": global_id(type_name, pk)}
        role_id = str(_ok(applicant, "requestRole", values, "role { id }")["role"]["id"])
        objects.append(Obj("Role", role_id))
        return role_id

    for short_name in SITES:
        site_id = _one(session, "SELECT id FROM site WHERE short_name = :n", n=short_name)[0]
        service_id, endpoint_id = _one(
            session,
            "SELECT v.id, e.id FROM service v JOIN endpoint e ON e.service_id = v.id "
            "WHERE v.site_id = :s ORDER BY v.id, e.id LIMIT 1",
            s=site_id,
        )
        service = global_id("Service", service_id)
        declared = _ok(
            admin,
            "declareDowntime",
            {
                "serviceIds": [service],
                "severity": "OUTAGE",
                "startsAt": _later(3),
                "endsAt": _later(3, 2),
                "description": "Sample downtime",
            },
            "downtime { id }",
        )
        role = request("Site Operations Manager", "Site", site_id)
        credential = _ok(
            admin,
            "addSiteApiCredential",
            {
                "siteId": global_id("Site", site_id),
                "identifier": "/DC=org/CN=viewer can probe",
                "kind": "X509",
            },
            "credential { id }",
        )["credential"]["id"]
        objects += [
            Obj(
                "Site",
                global_id("Site", site_id),
                {"service": service, "role": role, "credential": credential},
            ),
            Obj("Service", service),
            Obj("Endpoint", global_id("Endpoint", endpoint_id)),
            Obj("Downtime", declared["downtime"]["id"], {"service": service}),
        ]
    for ngi in NGIS:
        ngi_id = _one(session, "SELECT id FROM ngi WHERE name = :n", n=ngi)[0]
        role = request("NGI Operations Manager", "NGI", ngi_id)
        objects.append(Obj("NGI", global_id("NGI", ngi_id), {"name": ngi, "role": role}))
    project_id = _one(session, "SELECT id FROM project ORDER BY id LIMIT 1")[0]
    role = request("COD Staff", "Project", project_id)
    objects.append(Obj("Project", global_id("Project", project_id), {"role": role}))
    group_id = _one(session, "SELECT id FROM service_group ORDER BY id LIMIT 1")[0]
    role = request("Service Group Administrator", "ServiceGroup", group_id)
    objects.append(Obj("ServiceGroup", global_id("ServiceGroup", group_id), {"role": role}))

    # messaging: topics and subscriptions with the VO member in their ACL, and without
    vo_member = next(p.subject for p in PERSONAS if p.key == "vo-member")
    for suffix, users in (("open", [vo_member]), ("closed", [])):
        topic, sub = f"vc-{suffix}", f"vc-sub-{suffix}"
        _ok(admin, "createTopic", {"project": PROJECT, "name": topic})
        _ok(admin, "setTopicAcl", {"project": PROJECT, "topic": topic, "users": users})
        _ok(
            admin,
            "createSubscription",
            {"project": PROJECT, "name": sub, "topic": topic},
        )
        _ok(admin, "setSubscriptionAcl", {"project": PROJECT, "subscription": sub, "users": users})
        ids = _one(
            session,
            "SELECT t.id, s.id FROM msg_topic t, msg_subscription s "
            "WHERE t.name = :t AND s.name = :s",
            t=topic,
            s=sub,
        )
        objects += [
            Obj("Topic", global_id("Topic", ids[0]), {"project": PROJECT, "topic": topic}),
            Obj(
                "MessagingSubscription",
                global_id("MessagingSubscription", ids[1]),
                {"project": PROJECT, "subscription": sub},
            ),
        ]
    project_pk = _one(session, "SELECT id FROM msg_project WHERE name = :n", n=PROJECT)[0]
    objects.append(Obj("MessagingProject", global_id("MessagingProject", project_pk)))

    # each persona's own things: a token and a downtime subscription
    for key, token in probe_tokens.items():
        objects.append(Obj("ApiToken", global_id("ApiToken", token.id)))
        values = {"name": "mine", "events": ["DECLARED"], "email": True}
        made = _ok(clients[key], "subscribeToDowntimes", values, "subscription { id }")
        objects.append(Obj("DowntimeSubscription", made["subscription"]["id"]))
    # the monitoring catalogue's seeded operations profile, a probe and a metric it runs (in
    # use, so an administrator's delete is refused by a rule, never by a permission), and
    # the site administrator's alert rule over their site
    catalogue = admin.data(
        "{ monitoringProfiles(filter: {kind: OPERATIONS}) { nodes { id profileId } } "
        "monitoringMetrics(first: 1) { nodes { id probeName probeVersion } } "
        "monitoringProbes { nodes { id name version } } }"
    )
    profile = catalogue["monitoringProfiles"]["nodes"][0]
    metric = catalogue["monitoringMetrics"]["nodes"][0]
    probe_gid = next(
        p["id"]
        for p in catalogue["monitoringProbes"]["nodes"]
        if (p["name"], p["version"]) == (metric["probeName"], metric["probeVersion"])
    )
    rule = _ok(
        clients["site-admin"],
        "createAlertRule",
        {"name": "sample", "site": SITES[0], "email": True},
        "rule { id }",
    )["rule"]["id"]
    objects += [
        Obj("MonitoringProfile", profile["id"], {"profile": profile["profileId"]}),
        Obj("MonitoringProbe", probe_gid),
        Obj("MonitoringMetric", metric["id"]),
        Obj("AlertRule", rule, {"site": SITES[0]}),
    ]
    # the site administrator's own granted role, which they may give up
    roles = clients["site-admin"].data("{ viewer { roles { id status } } }")["viewer"]["roles"]
    objects += [Obj("Role", r["id"]) for r in roles if r["status"] == "GRANTED"]
    session.commit()
    return World(clients, objects, {p.key: p.subject for p in PERSONAS})


# --- each mutation called on a sample object ----------------------------------------------

Values = Callable[[Obj], dict[str, Any]]


def _on_entity(**extra: Any) -> Values:
    return lambda o: {"entityId": o.gid, **extra}


def _by_id(key: str = "id", **extra: Any) -> Values:
    return lambda o: {key: o.gid, **extra}


def _in_project(**extra: Any) -> Values:
    return lambda o: {**o.values, **extra}


_WINDOW = {"severity": "WARNING", "description": "Probe"}
PROBES: dict[str, Values] = {
    "createApiToken": lambda o: {"name": "probe"},
    "requestRole": lambda o: {"roleType": "Site Administrator", "entityId": o.values["site"]},
    "createMessagingProject": lambda o: {"name": "probe-project"},
    "subscribeToDowntimes": lambda o: {"name": "probe", "events": ["DECLARED"], "email": True},
    "revokeApiToken": _by_id("tokenId"),
    # on a role, or on the applicant's pending request over the entity
    "grantRole": lambda o: {"roleId": o.values.get("role", o.gid)},
    "rejectRole": lambda o: {"roleId": o.values.get("role", o.gid)},
    "revokeRole": lambda o: {"roleId": o.values.get("role", o.gid)},
    "createSite": lambda o: {"ngi": o.values["name"], "shortName": "PROBE", "countryCode": "DE"},
    "tagScopes": _on_entity(scopes=["Local"]),
    "untagScopes": _on_entity(scopes=["Local"]),
    "setProperty": _on_entity(key="probe_key", value="v"),
    "removeProperty": _on_entity(key="probe_key"),
    "updateSite": _by_id(description="Renewed racks"),
    "changeCertificationStatus": _by_id("siteId", status="SUSPENDED", reason="Probe"),
    "createService": _by_id("siteId", serviceType="webdav", hostName="probe.example.org"),
    "declareDowntime": lambda o: {
        "serviceIds": [o.values.get("service", o.gid)],
        "startsAt": _later(4),
        "endsAt": _later(4, 1),
        **_WINDOW,
    },
    "addSiteApiCredential": _by_id("siteId", identifier="/DC=org/CN=probe", kind="X509"),
    "updateSiteApiCredential": lambda o: {"id": o.values["credential"], "allowWrite": True},
    "renewSiteApiCredential": lambda o: {"id": o.values["credential"]},
    "deleteSiteApiCredential": lambda o: {"id": o.values["credential"]},
    "updateService": _by_id(url="https://probe.example.org"),
    "deleteService": _by_id(),
    "addEndpoint": _by_id("serviceId", name="probe"),
    "updateEndpoint": _by_id(url="https://probe.example.org"),
    "deleteEndpoint": _by_id(),
    "updateDowntime": _by_id(description="Probe"),
    "endDowntime": _by_id(),
    "endDowntimeForServices": lambda o: {"id": o.gid, "serviceIds": [o.values["service"]]},
    "deleteDowntime": _by_id(),
    "updateDowntimeSubscription": _by_id(name="probe", events=["CHANGED"], email=True),
    "deleteDowntimeSubscription": _by_id(),
    "addProjectMember": lambda o: {"project": PROJECT, "subject": APPLICANT, "roles": ["CONSUMER"]},
    "removeProjectMember": lambda o: {"project": PROJECT, "subject": APPLICANT},
    "createTopic": lambda o: {"project": PROJECT, "name": "probe"},
    "createSubscription": lambda o: {
        "project": PROJECT,
        "name": "probe",
        "topic": "vc-open",
    },
    "deleteMessagingProject": lambda o: {"name": PROJECT},
    "publish": _in_project(messages=[{"data": "aGk="}]),
    "deleteTopic": lambda o: {"project": PROJECT, "name": o.values["topic"]},
    "setTopicAcl": _in_project(users=[]),
    "pull": _in_project(maxMessages=1),
    "acknowledge": lambda o: {
        **o.values,
        "ackIds": [f"projects/{PROJECT}/subscriptions/{o.values['subscription']}:1"],
    },
    "modifyAckDeadline": _in_project(ackDeadlineSeconds=30),
    "modifyOffset": _in_project(offset=0),
    "modifyPushConfig": _in_project(pushConfig=None),
    "setSubscriptionAcl": _in_project(users=[]),
    "verifyPushEndpoint": _in_project(),
    "deleteSubscription": lambda o: {"project": PROJECT, "name": o.values["subscription"]},
    "updateMonitoringProfile": lambda o: {
        "kind": "OPERATIONS",
        "profileId": o.values["profile"],
        "document": {**load_json("egi_ops.json"), "date": "2030-01-01"},
    },
    "deleteMonitoringProfile": lambda o: {"kind": "OPERATIONS", "profileId": o.values["profile"]},
    "updateMonitoringProbe": _by_id(timeoutSeconds=9),
    "deleteMonitoringProbe": _by_id(),
    "updateMonitoringMetric": _by_id(interval=600),
    "deleteMonitoringMetric": _by_id(),
    "updateAlertRule": lambda o: {
        "id": o.gid,
        "name": "probe",
        "site": o.values["site"],
        "email": True,
    },
    "deleteAlertRule": _by_id(),
}


def test_every_mutation_a_field_stands_for_has_a_probe() -> None:
    assert {m for ms in FIELDS.values() for m in ms} == PROBES.keys()


@pytest.fixture
def probe(
    connection: Connection, session_factory: sessionmaker[Session]
) -> Callable[[GraphQLClient, str, dict[str, Any]], str | None]:
    """Calls a mutation in a savepoint that is rolled back after it; the error code, or
    None when it succeeded. A refused call must have written nothing at all."""

    def written(s: Session) -> dict[str, list[str]]:
        # what the mutation may have written: the callers' API tokens without their last
        # use, which authentication records once per LAST_USED_GRANULARITY (5 min) whatever
        # the mutation does, so that a slow run saw a refused call "write" it
        rows = fingerprint(s)
        kept = [c for c in ApiToken.__table__.columns if c.name != "last_used_at"]  # type: ignore[attr-defined]
        rows["api_token"] = sorted(map(repr, s.execute(select(*kept))))
        return rows

    with session_factory() as s:
        untouched = written(s)

    def call(client: GraphQLClient, name: str, values: dict[str, Any]) -> str | None:
        point = connection.begin_nested()
        try:
            before = rows_written(connection)
            body = client.post(mutation_document(name), mutation_variables(name, values))
            if not body.get("errors"):
                return None
            code = str(body["errors"][0]["extensions"]["code"])
            if code in HIDDEN:
                assert body["data"] is None, body
                if rows_written(connection) != before:  # else nothing was written at all
                    with session_factory() as s:
                        assert written(s) == untouched, f"{name} wrote while refused"
            return code
        finally:
            point.rollback()

    return call


# the demo personas, the anonymous caller, and the user whose role requests are the samples
CALLERS = ("admin", "ngi-manager", "site-admin", "vo-member", "anonymous", "applicant")


def _read(client: GraphQLClient, obj: Obj, fields: list[str]) -> dict[str, Any] | None:
    if obj.type_name == "Viewer":
        return client.data(f"{{ viewer {{ {' '.join(fields)} }} }}")["viewer"]  # type: ignore[no-any-return]
    document = (
        f"query($id: ID!) {{ node(id: $id) {{ ... on {obj.type_name} {{ {' '.join(fields)} }} }} }}"
    )
    return client.data(document, {"id": obj.gid})["node"]  # type: ignore[no-any-return]


# never false for one who sees the object: open to every signed-in caller on their own
# things, or the very right that shows a topic (publishing) or a pull subscription
# (consuming) to a caller who does not administer the project
SEEN_IS_ALLOWED = frozenset(
    {
        "Viewer.viewerCanCreateApiToken",
        "Viewer.viewerCanRequestRole",
        "Viewer.viewerCanSubscribeToDowntimes",
        "ApiToken.viewerCanRevoke",
        "DowntimeSubscription.viewerCanEdit",
        "DowntimeSubscription.viewerCanDelete",
        "Topic.viewerCanPublish",
        "MessagingSubscription.viewerCanPull",
        "MessagingSubscription.viewerCanAcknowledge",
        # an alert rule is shown only to who may manage it (its owner, its site's or NGI's
        # editors, platform administrators)
        "AlertRule.viewerCanEdit",
        "AlertRule.viewerCanDelete",
    }
)


@pytest.mark.timeout(900)
def test_viewer_can_is_true_exactly_when_the_mutations_are_not_refused(
    world: World, probe: Callable[[GraphQLClient, str, dict[str, Any]], str | None]
) -> None:
    site = next(o.gid for o in world.objects if o.type_name == "Site")
    seen: dict[str, dict[str, set[bool]]] = {caller: {} for caller in CALLERS}
    for caller in CALLERS:
        client = world.clients[caller]
        for obj in [Obj("Viewer", "", {"site": site}), *world.objects]:
            fields = [n.split(".")[1] for n in FIELDS if n.split(".")[0] == obj.type_name]
            node = _read(client, obj, fields)
            if node is None:
                continue  # not shown to this caller (another's token), so no button either
            for name in fields:
                allowed = node[name]
                assert allowed in (True, False)
                mutations = FIELDS[f"{obj.type_name}.{name}"]
                codes = {m: probe(client, m, PROBES[m](obj)) for m in mutations}
                where = f"{caller}: {obj.type_name}.{name} = {allowed} on {obj.gid}: {codes}"
                if allowed:
                    assert not REFUSED & set(codes.values()), where
                else:
                    assert REFUSED & set(codes.values()), where
                seen[caller].setdefault(f"{obj.type_name}.{name}", set()).add(allowed)
    # not vacuous: the anonymous caller sees objects and may do nothing; the administrator
    # may do everything; each field is false for someone, unless it is one's own business
    assert seen["anonymous"]
    assert all(values == {False} for values in seen["anonymous"].values())
    assert seen["admin"].keys() == FIELDS.keys()
    assert all(values == {True} for values in seen["admin"].values())
    for name in FIELDS:
        values = set().union(*(seen[caller].get(name, set()) for caller in CALLERS))
        assert values == ({True} if name in SEEN_IS_ALLOWED else {True, False}), name


# --- asked once per request ---------------------------------------------------------------

PAGE = """query($first: Int!) { sites(first: $first) { nodes {
  viewerCanEdit viewerCanDecideRoles viewerCanDeclareDowntime
  services { viewerCanEdit viewerCanDelete endpoints { viewerCanEdit } }
} } }"""


def test_a_page_of_sites_asks_the_database_the_same_whatever_its_size(
    world: World, statements: StatementCounter
) -> None:
    """A reader's roles, NGIs and answers are read once per request: the statements a page
    of sites with its `viewerCan…` fields costs do not grow with the page."""
    client = world.clients["ngi-manager"]
    counts = {}
    for first in (2, 40):
        statements.reset()
        nodes = client.data(PAGE, {"first": first})["sites"]["nodes"]
        assert len(nodes) == first
        counts[first] = statements.count
    assert counts[40] == counts[2], counts
    assert any(n["viewerCanEdit"] for n in nodes)
    assert not all(n["viewerCanEdit"] for n in nodes)


def test_a_mutation_answers_after_its_own_writes(world: World) -> None:
    """A writer remembers no answer and no role: after the NGI manager gives up their role
    in the same request, its payload already says they may not revoke it any more."""
    client = world.clients["ngi-manager"]
    roles = client.data("{ viewer { roles { id status } } }")["viewer"]["roles"]
    own = next(r["id"] for r in roles if r["status"] == "GRANTED")
    site = [o.gid for o in world.objects if o.type_name == "Site"][1]  # FZK-LCG2, in NGI_DE
    data = client.data(
        """mutation($site: ID!, $role: ID!) {
          updateSite(input: {id: $site, description: "Before"}) { site { viewerCanEdit } }
          revokeRole(input: {roleId: $role}) { role { status viewerCanRevoke } }
        }""",
        {"site": site, "role": own},
    )
    assert data["updateSite"]["site"]["viewerCanEdit"] is True
    assert data["revokeRole"]["role"] == {"status": "REVOKED", "viewerCanRevoke": False}
    after = client.data(
        "query($id: ID!) { node(id: $id) { ... on Site { viewerCanEdit } } }", {"id": site}
    )
    assert after["node"]["viewerCanEdit"] is False


def test_a_writer_remembers_nothing(session: Session) -> None:
    assert reader_memo(session, "x") is None  # a session of no declared intent
    set_write_intent(session, True)
    assert reader_memo(session, "x") is None


def test_a_reader_remembers_within_its_session(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as reader:
        set_write_intent(reader, False)
        memo = reader_memo(reader, "x")
        assert memo is not None
        memo["k"] = 1
        assert reader_memo(reader, "x") == {"k": 1}
        assert reader_memo(reader, "y") == {}
