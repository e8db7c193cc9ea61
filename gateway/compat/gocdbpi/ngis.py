"""NGI (GOCDB: ROC) and project methods of the PI: get_roc_list, get_ngi, get_roc_contacts,
get_project_contacts."""

from __future__ import annotations

from urllib.parse import quote

from domains.common.scopes import ScopeSelection
from domains.identity.models import EntityKind
from domains.topology import service as topology
from domains.topology.service import pi
from domains.topology.service.pi import PiLevel
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.contacts import add_contact, personal_data
from gateway.compat.gocdbpi.registry import Call, Method
from gateway.compat.gocdbpi.sites import primary_key

EVERY_SCOPE = ScopeSelection(names=())


def get_roc_list(call: Call) -> bytes:
    # every NGI whatever its scopes: GOCDB's get_roc_list has no scope filter
    page = topology.list_ngis(
        call.session,
        call.principal,
        page=call.page.request(),
        scopes=EVERY_SCOPE,
        scope_defaults=call.instance.scope_defaults,
        name_like=call.params.get("roc"),
    )
    root = xml.results()
    for row in page.items:
        root.add("ROC").set("PRIMARY_KEY", primary_key(row)).set("ROC_NAME", row.name)
    return root.render()


METHODS: tuple[Method, ...] = (
    Method("get_roc_list", PiLevel.PUBLIC, frozenset({"roc"}), paged=False, handler=get_roc_list),
)


def get_ngi(call: Call) -> bytes:
    page = topology.list_ngis(
        call.session,
        call.principal,
        page=call.page.request(),
        scopes=call.params.scopes(),
        scope_defaults=call.instance.scope_defaults,
        name_like=call.params.get("roc"),
    )
    ids = [int(row.id) for row in page.items]
    counts = pi.ngi_site_counts(call.session, call.principal, ids)
    personal = personal_data(call)
    root = xml.results()
    for row in page.items:
        ngi_id = int(row.id)
        ngi = root.add("NGI").set("NAME", row.name)
        ngi.add("PRIMARY_KEY", primary_key(row))
        ngi.add("NAME", row.name)
        ngi.add("OBJECT_ID", ngi_id)
        ngi.add("DESCRIPTION", row.description)
        ngi.add("EMAIL", personal.of_ngi(row.email, ngi_id))
        ngi.add("GGUS_SU", None)
        ngi.add("ROD_EMAIL", personal.of_ngi(row.rod_email, ngi_id))
        ngi.add("HELPDESK_EMAIL", personal.of_ngi(row.helpdesk_email, ngi_id))
        ngi.add("SECURITY_EMAIL", personal.of_ngi(row.security_email, ngi_id))
        ngi.add("SITE_COUNT", counts.get(ngi_id, 0))
    call.page.meta(root, ids)
    return root.render()


def get_roc_contacts(call: Call) -> bytes:
    page = topology.list_ngis(
        call.session,
        call.principal,
        page=call.page.request(),
        scopes=EVERY_SCOPE,
        scope_defaults=call.instance.scope_defaults,
        name_like=call.params.get("roc"),
    )
    ids = [int(row.id) for row in page.items]
    personal = personal_data(call)
    held = pi.contacts_over(
        call.session, personal, EntityKind.NGI, ids, role_type=call.params.get("roletype")
    )
    root = xml.results()
    for row in page.items:
        ngi_id = int(row.id)
        ngi = root.add("ROC").set("ID", ngi_id).set("ROC_NAME", row.name)
        ngi.add("ROCNAME", row.name)
        ngi.add("MAIL_CONTACT", personal.of_ngi(row.email, ngi_id))
        ngi.add_if(
            "GOCDB_PORTAL_URL", call.instance.portal_url(f"/ngis/{quote(row.name, safe='')}")
        )
        for contact in held.get(ngi_id, []):
            add_contact(ngi, contact)
    call.page.meta(root, ids)
    return root.render()


def get_project_contacts(call: Call) -> bytes:
    pattern = call.params.get("project")
    page = pi.list_projects_like(
        call.session, call.principal, page=call.page.request(), name_like=pattern
    )
    ids = [int(row.id) for row in page.items]
    held = pi.contacts_over(
        call.session,
        personal_data(call),
        EntityKind.PROJECT,
        ids,
        excluded=PROJECT_CONTACT_EXCLUDED,
    )
    root = xml.results()
    for row in page.items:
        project = root.add("Project").set("ID", row.id).set("NAME", row.name)
        for contact in held.get(int(row.id), []):
            add_contact(project, contact, working_hours=True)
    call.page.meta(root, ids)
    return root.render()


# GOCDB leaves its CIC staff out of a project's contacts
PROJECT_CONTACT_EXCLUDED = frozenset({"CIC Staff"})

METHODS += (
    Method(
        "get_roc_contacts",
        PiLevel.PERSONAL_DATA,
        frozenset({"roc", "roletype"}),
        paged=True,
        handler=get_roc_contacts,
    ),
    Method(
        "get_project_contacts",
        PiLevel.PERSONAL_DATA,
        frozenset({"project"}),
        paged=True,
        handler=get_project_contacts,
    ),
    Method(
        "get_ngi",
        PiLevel.PERSONAL_DATA,
        frozenset({"roc", "scope", "scope_match"}),
        paged=True,
        handler=get_ngi,
    ),
)
