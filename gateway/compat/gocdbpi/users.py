"""get_user: the users with their granted roles, as GOCDB's PI shows them (level 3: this is
personal data). `dn` and `dnlike` are LIKE patterns over a user's identities (an X.509
DN, an OIDC subject) and subject; `forename` and `surname` LIKE patterns; `roletype` a
comma list of role types, any of which a user holds (only those roles are shown, as
GOCDB's query shows the roles it matched). A user has no page in the web app, so
GOCDB_PORTAL_URL is empty; GOCDB's always-empty DESCRIPTION, SSOUSERNAME, APPROVED and
ACTIVE are kept for its readers."""

from __future__ import annotations

from typing import cast

from domains.topology.service import people
from domains.topology.service.pi import PiLevel
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.params import Params
from gateway.compat.gocdbpi.registry import Call, Method

USER_PARAMS = frozenset({"dn", "dnlike", "forename", "surname", "roletype"})
# GOCDB's word for a role's entity kind
ENTITY_TYPES = {"site": "site", "ngi": "ngi", "project": "project", "service_group": "servicegroup"}


def user_filter(params: Params) -> people.UserFilter:
    role_types = params.get("roletype")
    return people.UserFilter(
        dn_patterns=tuple(p for p in (params.get("dn"), params.get("dnlike")) if p is not None),
        forename_like=params.get("forename"),
        surname_like=params.get("surname"),
        role_types=None if role_types is None else tuple(role_types.split(",")),
    )


def get_user(call: Call) -> bytes:
    page = people.list_people(
        call.session,
        call.principal,
        filter=user_filter(call.params),
        page=call.page.request(),
        restrict_personal_data=call.instance.restrict_personal_data,
    )
    found = cast(list[people.Person], page.items)  # list_people's rows are Persons
    root = xml.results()
    for person in found:
        key = f"{person.id}G0"
        user = root.add("EGEE_USER").set("ID", key).set("PRIMARY_KEY", key)
        user.add("FORENAME", person.forename)
        user.add("SURNAME", person.surname)
        user.add("TITLE", person.title)
        user.add("DESCRIPTION", "")
        user.add("GOCDB_PORTAL_URL", "")
        user.add("EMAIL", person.email)
        user.add("TEL", person.telephone)
        user.add("WORKING_HOURS_START", person.working_hours_start)
        user.add("WORKING_HOURS_END", person.working_hours_end)
        user.add("CERTDN", person.dn)
        user.add("SSOUSERNAME")
        user.add("APPROVED")
        user.add("ACTIVE")
        user.add("HOMESITE", person.home_site)
        for role in person.roles:
            held = user.add("USER_ROLE")
            held.add("USER_ROLE", role.role_type)
            held.add("ON_ENTITY", role.entity_name)
            held.add("ENTITY_TYPE", ENTITY_TYPES[role.entity_kind])
            held.add_if("PRIMARY_KEY", role.entity_key)
            projects = held.add("RECOGNISED_IN_PROJECTS")
            for project_id, project_name in role.projects:
                projects.add("PROJECT", project_name).set("ID", project_id)
    call.page.meta(root, [person.id for person in found])
    return root.render()


METHODS = (Method("get_user", PiLevel.PERSONAL_DATA, USER_PARAMS, paged=True, handler=get_user),)
