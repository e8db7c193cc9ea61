"""The `CONTACT` element of GOCDB's contact lists (sites, NGIs, projects)."""

from __future__ import annotations

from domains.common.models import legacy_key
from domains.topology import roles
from domains.topology.service import pi
from domains.topology.service.pi import Contact
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.registry import Call


def personal_data(call: Call) -> roles.PersonalData:
    """The service layer's decision on which personal data this caller may read."""
    return pi.pi_personal_data(
        call.session, call.principal, restricted=call.instance.restrict_personal_data
    )


def add_contact(parent: xml.Element, contact: Contact, *, working_hours: bool = False) -> None:
    key = legacy_key(contact.user_id)
    element = parent.add("CONTACT").set("USER_ID", key).set("PRIMARY_KEY", key)
    element.add("FORENAME", contact.forename)
    element.add("SURNAME", contact.surname)
    element.add("TITLE", contact.title)
    element.add("EMAIL", contact.email)
    element.add("TEL", contact.telephone)
    if working_hours:
        element.add("WORKING_HOURS_START", contact.working_hours_start)
        element.add("WORKING_HOURS_END", contact.working_hours_end)
    element.add("CERTDN", contact.certdn)
    element.add("ROLE_NAME", contact.role_type)
