"""Field formats and fixed rules of the topology, after GOCDB's schema definition; GOCDB's
role types and which of them allow which action on which kind of entity (after GOCDB's
RoleActionMappings), and the policy that decides those actions. A role counts on its own
entity and on everything below it (project > NGI > site), never sideways."""

from __future__ import annotations

import enum
import re

from sqlalchemy.orm import Session

from domains.common.authz import policy
from domains.common.errors import RuleCode
from domains.common.identity import Principal
from domains.identity import service as identity
from domains.identity.models import EntityKind
from domains.topology import ownership
from domains.topology.models import MAX_PROPERTIES_PER_ENTITY, CertificationStatus
from domains.topology.ownership import EntityRef

# Bounds of a property expression, checked before anything is built from it: every condition
# becomes an EXISTS sub-query, and SQLite refuses expressions nested ~50 deep or ~1,000 long.
MAX_PROPERTY_TERMS = 100
MAX_PROPERTY_DEPTH = 10


class TopologyRule(RuleCode):
    """Input rules of the topology and its roles (`extensions.rule` carries the name)."""

    TOPOLOGY_FIELD_NULL = "may be left out but not null"
    TOPOLOGY_FIELD_NOT_CHANGEABLE = "not a field that can be changed here"
    TOPOLOGY_VALUE_TAKEN = "already in use"
    TOPOLOGY_ID_REPEATED = "each reference given once"
    TOPOLOGY_KIND_NOT_ALLOWED = "an entity of a kind that carries this"
    TOPOLOGY_DESCRIPTION_CHARACTERS = "must not contain quotes, backticks, ';', '<' or '>'"
    TOPOLOGY_TAG_NAME_CHARACTERS = "letters, digits, '.', '_' and '-' only"
    TOPOLOGY_PRIMARY_KEY_MALFORMED = "digits followed by G and a digit, as in 123G0"
    COUNTRY_UNKNOWN = "an ISO 3166-1 alpha-2 code of a known country"
    COUNTRY_CODE_MALFORMED = "ISO 3166-1 alpha-2: two capital letters"
    COUNTRY_NAME_LENGTH = "1 to 255 characters"
    NGI_UNKNOWN = "the name of an existing NGI"
    SITE_SHORT_NAME_CHARACTERS = "letters, digits, '.', '_' and '-' only"
    SITE_LATITUDE_RANGE = "between -90 and 90"
    SITE_LONGITUDE_RANGE = "between -180 and 180"
    SITE_GIIS_URL_NOT_LDAP = "must be an ldap:// URL"
    SITE_TIMEZONE_UNKNOWN = "an IANA time zone name"
    SITE_STATUS_REASON_LENGTH = "1 to 300 characters"
    SITE_STATUS_UNCHANGED = "a status other than the site's own"
    SITE_STATUS_CHANGE_NOT_ALLOWED = "a certification status change GOCDB allows"
    SERVICE_TYPE_UNKNOWN = "the name of a known service type"
    SERVICE_ID_OR_PRIMARY_KEY = "give exactly one of id and primaryKey"
    SERVICE_PRODUCTION_UNMONITORED = "a production service must be monitored"
    SERVICE_HOST_NAME_MALFORMED = "a fully qualified host name"
    SERVICE_HOST_TAKEN = "host name and service type already registered at another site"
    SERVICE_GROUP_NAME_CHARACTERS = "letters, digits, '.', '_' and '-' only"
    ENDPOINT_NAME_EMPTY = "must not be empty"
    ENDPOINT_NAME_TAKEN = "endpoint names are unique within a service"
    ENDPOINT_INTERFACE_NAME_EMPTY = "must not be empty"
    ENDPOINT_URL_REQUIRED = "an endpoint created through GOCDB's write API needs a url"
    ENDPOINT_OF_ANOTHER_SERVICE = "an endpoint of the service in the path"
    PROPERTY_KEY_MALFORMED = "non-empty, without spaces, '=' or parentheses"
    PROPERTY_LIMIT_REACHED = f"at most {MAX_PROPERTIES_PER_ENTITY} properties per entity"
    PROPERTY_FILTER_TOO_MANY_TERMS = (
        f"at most {MAX_PROPERTY_TERMS} conditions in all (each key, and, or, not counts one)"
    )
    PROPERTY_FILTER_TOO_DEEP = f"and/or/not nested at most {MAX_PROPERTY_DEPTH} levels deep"
    PROPERTY_FILTER_NOT_ONE_FORM = "exactly one of key, and, or, not must be given"
    PROPERTY_FILTER_VALUE_WITHOUT_KEY = "value needs a key"
    PROPERTY_FILTER_KEY_EMPTY = "must not be empty"
    PROPERTY_FILTER_GROUP_EMPTY = "must not be empty"
    SCOPE_UNKNOWN = "the name of a known scope"
    SCOPE_RESERVED = "a reserved scope needs an admin, or the parent to have it"
    SCOPE_LAST_OPEN = "at least one non-reserved scope must remain"
    ROLE_TYPE_UNKNOWN = "a role type held over this kind of entity"
    ROLE_ALREADY_HELD = "a role the caller does not already hold or request"
    ROLE_NOT_DECIDABLE = "a role in the status this decision needs"
    ROLE_ENTITY_TYPE_UNKNOWN = "one of project, ngi, site, service_group"
    ROLE_ORPHANS_API_CREDENTIALS = (
        "a role whose holder owns no site API credential that would be left without a role "
        "over its site or NGI"
    )
    API_CREDENTIAL_IDENTIFIER_EMPTY = "must not be empty"
    API_CREDENTIAL_DN_MALFORMED = "an X.509 DN in slash form, as in /DC=org/O=Example/CN=Name"
    API_CREDENTIAL_SUBJECT_MALFORMED = "an OIDC subject, without spaces"
    API_CREDENTIAL_TAKEN = "an identifier not yet registered at this site"
    API_CREDENTIAL_OWNER_UNKNOWN = "a caller who is a registered user, to own the credential"


# Field formats from GOCDB's schema definition.
SHORT_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
HOST_NAME_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
TAG_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
LEGACY_KEY_RE = re.compile(r"^[0-9]+G[0-9]$")
PROPERTY_KEY_RE = re.compile(r"^[^\s=()]+$")
FORBIDDEN_DESCRIPTION_CHARS = set("\"'`;<>")

# Services of these types may be in production without being monitored (GOCDB keeps this
# legacy list beside the per-type monitoring-exception flag).
LEGACY_MONITORING_EXCEPTIONS = frozenset({"VOMS", "emi.ARGUS", "org.squid-cache.Squid"})


# Certification status changes GOCDB refuses (platform admins may still make them):
# nothing leaves Closed, Suspended may not go straight back to Certified, and a Candidate
# may only become Uncertified or Closed.
def certification_change_allowed(old: CertificationStatus, new: CertificationStatus) -> bool:
    if old is CertificationStatus.CLOSED:
        return False
    if old is CertificationStatus.SUSPENDED and new is CertificationStatus.CERTIFIED:
        return False
    return not (
        old is CertificationStatus.CANDIDATE
        and new not in (CertificationStatus.UNCERTIFIED, CertificationStatus.CLOSED)
    )


# --- roles and actions -----------------------------------------------------------------


class Action(enum.StrEnum):
    EDIT_OBJECT = "EDIT_OBJECT"
    NGI_ADD_SITE = "NGI_ADD_SITE"
    SITE_ADD_SERVICE = "SITE_ADD_SERVICE"
    SITE_DELETE_SERVICE = "SITE_DELETE_SERVICE"
    SITE_EDIT_CERT_STATUS = "SITE_EDIT_CERT_STATUS"
    GRANT_ROLE = "GRANT_ROLE"
    REJECT_ROLE = "REJECT_ROLE"
    REVOKE_ROLE = "REVOKE_ROLE"
    READ_PERSONAL_DATA = "READ_PERSONAL_DATA"


SITE_ADMIN = frozenset({"Site Administrator"})
SITE_MANAGERS = frozenset(
    {"Site Security Officer", "Site Operations Deputy Manager", "Site Operations Manager"}
)
NGI_STAFF = frozenset({"Regional First Line Support", "Regional Staff (ROD)"})
NGI_MANAGERS = frozenset(
    {"NGI Security Officer", "NGI Operations Deputy Manager", "NGI Operations Manager"}
)
PROJECT_ROLES = frozenset(
    {"COD Staff", "COD Administrator", "EGI CSIRT Officer", "Chief Operations Officer"}
)
SERVICE_GROUP_ROLES = frozenset({"Service Group Administrator"})

ROLE_TYPES: dict[EntityKind, frozenset[str]] = {
    EntityKind.SITE: SITE_ADMIN | SITE_MANAGERS,
    EntityKind.NGI: NGI_STAFF | NGI_MANAGERS,
    EntityKind.PROJECT: PROJECT_ROLES,
    EntityKind.SERVICE_GROUP: SERVICE_GROUP_ROLES,
}

ALL_SITE = SITE_ADMIN | SITE_MANAGERS
ALL_NGI = NGI_STAFF | NGI_MANAGERS
_ROLE_ACTIONS = (Action.GRANT_ROLE, Action.REJECT_ROLE, Action.REVOKE_ROLE)

# (action, target kind) -> {kind of the entity the role is held over: allowed role types}
_GRANTS: dict[tuple[Action, EntityKind], dict[EntityKind, frozenset[str]]] = {}


def _allow(actions: tuple[Action, ...], target: EntityKind, **holders: frozenset[str]) -> None:
    for action in actions:
        _GRANTS[(action, target)] = {EntityKind(k): v for k, v in holders.items()}


_allow(
    (Action.EDIT_OBJECT, Action.SITE_ADD_SERVICE, Action.SITE_DELETE_SERVICE),
    EntityKind.SITE,
    site=ALL_SITE,
    ngi=ALL_NGI,
)
_allow(_ROLE_ACTIONS, EntityKind.SITE, site=SITE_MANAGERS, ngi=NGI_MANAGERS)
_allow((Action.SITE_EDIT_CERT_STATUS,), EntityKind.SITE, ngi=NGI_MANAGERS, project=PROJECT_ROLES)
_allow((Action.EDIT_OBJECT,), EntityKind.NGI, ngi=ALL_NGI)
_allow((Action.NGI_ADD_SITE,), EntityKind.NGI, ngi=NGI_MANAGERS)
_allow(_ROLE_ACTIONS, EntityKind.NGI, ngi=NGI_MANAGERS, project=PROJECT_ROLES)
_allow((Action.EDIT_OBJECT, *_ROLE_ACTIONS), EntityKind.PROJECT, project=PROJECT_ROLES)
_allow(
    (Action.EDIT_OBJECT, *_ROLE_ACTIONS),
    EntityKind.SERVICE_GROUP,
    service_group=SERVICE_GROUP_ROLES,
)
_allow(
    (Action.READ_PERSONAL_DATA,), EntityKind.SITE, site=ALL_SITE, ngi=ALL_NGI, project=PROJECT_ROLES
)
_allow((Action.READ_PERSONAL_DATA,), EntityKind.NGI, ngi=ALL_NGI, project=PROJECT_ROLES)
_allow((Action.READ_PERSONAL_DATA,), EntityKind.PROJECT, project=PROJECT_ROLES)


def allowed_holders(action: Action, target: EntityKind) -> dict[EntityKind, frozenset[str]]:
    """Which role types, held over which kind of entity, allow `action` on `target`."""
    return _GRANTS.get((action, target), {})


@policy(Action)
def decide(session: Session, principal: Principal, action: Action, entity: EntityRef) -> str | None:
    """A caller may do `action` on `entity` when one of their granted roles allows it on
    the entity or on something above it (a service counts as its site)."""
    refused = f"not allowed: {action.value} on this {entity.kind.replace('_', ' ')}"
    if principal.user_id is None:
        return refused
    holders = allowed_holders(
        action, EntityKind("site" if entity.kind == "service" else entity.kind)
    )
    # the roles that would allow it where they are held; the tree is walked only for them
    fitting = {
        (role.entity_type.value, role.entity_id)
        for role in identity.granted_roles(session, principal.user_id)
        if role.role_type in holders.get(role.entity_type, frozenset())
    }
    if fitting and not fitting.isdisjoint(ownership.chain(session, entity.kind, entity.id)):
        return None
    return refused
