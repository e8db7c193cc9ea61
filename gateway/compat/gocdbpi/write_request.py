"""A request to GOCDB's write API, read as GOCDB reads it, before anything is looked up.

In GOCDB's order: the path (4 or 5 elements after /gocdbpi: version, entity type, id,
property, optional key; `v5` only; an integer id), the method (GET and anything but
POST/PUT/DELETE: 405), the JSON body (`{"value": …}` for one value; an object of
key/value pairs for a bulk of extension properties or an endpoint), then the values against
GOCDB's schema (config/gocdb_schema.xml: each field's length and pattern). Every refusal is
a `WriteApiError` with GOCDB's code; nothing here touches the database."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domains.common.text import unstorable
from gateway import jsonlimits

DOCS_URL = "https://gocdb.github.io/api/write/"
URL_FORM = (
    "API requests take the form /gocdbpi/APIVERSION/ENTITYTYPE/ENTITYID/ENTITYPROPERTY/"
    f"[ENTITYPROPERTYKEY]. For more details see: {DOCS_URL}"
)
METHODS = ("POST", "PUT", "DELETE")
EXTENSIONS = "extensionproperties"
# GOCDB reads bodies with json_decode(…, depth 2): nothing nests deeper
MAX_BODY_DEPTH = 2


class WriteApiError(Exception):
    """A refusal with GOCDB's HTTP code; the body is {"Error": {Code, Message,
    API-Documentation}}."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "Error": {"Code": self.code, "Message": self.message, "API-Documentation": DOCS_URL}
        }


@dataclass(frozen=True, slots=True)
class WriteRequest:
    method: str
    entity_type: str  # lower case, as GOCDB compares it
    entity_id: int
    prop: str  # lower case
    key: str | None
    value: Any = None  # {"value": …}
    pairs: Mapping[str, Any] | None = None  # a JSON object of key/value pairs

    def unsupported_method(self) -> WriteApiError:
        return WriteApiError(
            405,
            f'"{self.method}" is not currently a supported request method for altering a '
            f"{self.entity_type}'s {self.prop}. For more details see: {DOCS_URL}",
        )

    def unsupported_property(self) -> WriteApiError:
        return WriteApiError(
            501,
            f"Updating a {self.entity_type}'s {self.prop} is not currently supported through "
            f"the API, for details of the currently supported methods see: {DOCS_URL}",
        )


# --- GOCDB's schema: fields, lengths and patterns ----------------------------------------
# The patterns are GOCDB's, rewritten where theirs nest quantifiers (which backtrack
# exponentially in Python's engine) into equivalents that do not.

_EMAIL_ONE = (
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)
_EMAILS = re.compile(rf"^(?:{_EMAIL_ONE}[,;]?)+$")
_KEY_CHARS = r"[a-zA-Z0-9@_\-\[\]+.]"
_PROPERTY_NAME = re.compile(rf"^{_KEY_CHARS}(?:[\sa-zA-Z0-9@_\-\[\]+.]*{_KEY_CHARS})?$")
_NOT_VALUE = "`'\"<>"
# no quotes or angle brackets; no leading or trailing white space
_PROPERTY_VALUE = re.compile(rf"^[^{_NOT_VALUE}\s](?:[^{_NOT_VALUE}]*[^{_NOT_VALUE}\s])?$")
# a service's: no quotes; at least one character that is not white space
_SERVICE_PROPERTY_VALUE = re.compile(r"^[^`'\"]*[^`'\"\s][^`'\"]*$")
_URL = re.compile(r"^[0-9a-zA-Z:/.&?_$+!*'(),\-#\[\]@;=~%]*$")
_TEXT = re.compile(r"^[a-zA-Z0-9\-._()\[\],;:/'\"\s]*$")
_DN_VALUE = r"(?:[a-zA-Z0-9\-_\s.@,')(]|/(?![a-zA-Z]+=))"

Check = re.Pattern[str] | None  # None: a boolean (GOCDB checks nothing)

_PROPERTY_FIELDS: dict[str, Check] = {"NAME": _PROPERTY_NAME, "VALUE": _PROPERTY_VALUE}

# the fields of the entities GOCDB's API writes, each with its pattern
SCHEMA: dict[str, dict[str, Check]] = {
    "service": {
        "HOSTNAME": re.compile(r"^(?:[a-zA-Z0-9\-_]+\.)+[a-zA-Z0-9]+$"),
        "HOST_IP": re.compile(r"^(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3})?$"),
        "HOST_IP_V6": re.compile(r"^[a-fA-F0-9:/]*$"),
        "HOST_DN": re.compile(rf"^(?:/[a-zA-Z]+={_DN_VALUE}+)*$"),
        "HOST_OS": _TEXT,
        "HOST_ARCH": _TEXT,
        "DESCRIPTION": re.compile(r"^[^`'\";<>]+$"),
        "EMAIL": _EMAILS,
        "URL": _URL,
        "PRODUCTION": None,
        "BETA": None,
        "MONITORED": None,
        "NOTIFY": None,
    },
    "endpoint": {
        "NAME": re.compile(r"^[a-zA-Z0-9\-._\s]+$"),
        "DESCRIPTION": re.compile(r"^[^`'\";<>]*$"),
        "URL": _URL,
        "INTERFACENAME": re.compile(r"^[a-zA-Z0-9\-._()\[\],;+:/'\"\s]*$"),
        "EMAIL": re.compile(rf"^(?:{_EMAIL_ONE}[,;]?)*$"),
        "MONITORED": None,
    },
    "siteproperty": _PROPERTY_FIELDS,
    "serviceproperty": {"NAME": _PROPERTY_NAME, "VALUE": _SERVICE_PROPERTY_VALUE},
    "endpointproperty": _PROPERTY_FIELDS,
    "servicegroupproperty": _PROPERTY_FIELDS,
}
# fields GOCDB's schema knows but its API does not write: they pass validation, to be
# refused later (501) as GOCDB refuses them
KNOWN_ONLY: dict[str, frozenset[str]] = {
    "site": frozenset(
        [
            "SHORT_NAME",
            "DOMAIN",
            "OFFICIAL_NAME",
            "HOME_URL",
            "GIIS_URL",
            "IP_RANGE",
            "IP_V6_RANGE",
            "OPERATINGHOURS_START",
            "OPERATINGHOURS_END",
            "LOCATION",
            "LATITUDE",
            "LONGITUDE",
            "DESCRIPTION",
            "CREATION_DATE",
            "EMAIL",
            "CONTACTTEL",
            "EMERGENCYTEL",
            "CSIRTEMAIL",
            "CSIRTTEL",
            "EMERGENCYEMAIL",
            "HELPDESKEMAIL",
            "TIMEZONE",
        ]
    ),
    "endpoint": frozenset({"SERVICE", "ENDPOINTID"}),
    "ngi": frozenset(
        ["NAME", "DESCRIPTION", "EMAIL", "ROD_EMAIL", "HELPDESK_EMAIL", "SECURITY_EMAIL", "GGUS_SU"]
    ),
    "downtime": frozenset(
        [
            "CLASSIFICATION",
            "SEVERITY",
            "DESCRIPTION",
            "DECLARATION_TIMESTAMP",
            "START_TIMESTAMP",
            "END_TIMESTAMP",
            "ANNOUNCE_TIMESTAMP",
            "DEFINE_TZ_BY_UTC_OR_SITE",
        ]
    ),
    "user": frozenset(
        [
            "FORENAME",
            "SURNAME",
            "TITLE",
            "CERTIFICATE_DN",
            "WORKINGHOURS_START",
            "WORKINGHOURS_END",
            "EMAIL",
            "TELEPHONE",
            "UNLINK_HOMESITE",
        ]
    ),
    "service_group": frozenset({"NAME", "DESCRIPTION", "EMAIL"}),
    "project": frozenset({"NAME", "DESCRIPTION"}),
    "service_type": frozenset({"NAME", "DESCRIPTION"}),
    "scope": frozenset({"NAME", "DESCRIPTION"}),
}
FIELD_LENGTH = 255
_BOOLEAN_WORDS = {"true": True, "false": False, "1": True, "0": False, "y": True, "n": False}


def as_text(value: Any) -> str | None:
    """A JSON scalar as the text GOCDB stores (numbers and booleans in their JSON form);
    None for null, a list or an object."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def as_boolean(value: Any) -> bool | None:
    """true/false, or their words ("true", "Y", "1"… in any case); None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return _BOOLEAN_WORDS.get(value.strip().lower())
    return None


def _validate(object_type: str, field: str, value: Any) -> None:
    """GOCDB's Validate::validate: the field must be in the schema (400 otherwise), no
    longer than its length and matching its pattern."""
    fields = SCHEMA.get(object_type)
    name = field.upper()
    if fields is None or name not in fields:
        if name in KNOWN_ONLY.get(object_type, ()):
            return
        what = (
            f"Object type: {object_type}"
            if fields is None and object_type not in KNOWN_ONLY
            else f"Field Name: {name}"
        )
        raise WriteApiError(
            400,
            f"Validation Error. {what} not found in schema. For more information see {DOCS_URL}.",
        )
    check = fields[name]
    if check is None:
        if as_boolean(value) is None:
            raise WriteApiError(
                400,
                f"The value ({value}) you have specified is not valid: "
                "true or false. For more information see " + DOCS_URL,
            )
        return
    text = as_text(value)
    if text is not None and len(text) > FIELD_LENGTH:
        raise WriteApiError(
            400,
            f"Validation Error. {name} may not be more than {FIELD_LENGTH} characters in "
            f"length. For more information see {DOCS_URL}.",
        )
    if text is None or not check.match(text):
        raise WriteApiError(
            400,
            f"The value ({text}) you have specified is not valid. For more "
            f"information see {DOCS_URL}.",
        )


# --- reading the request -----------------------------------------------------------------


def _parse_path(path: str) -> tuple[str, int, str, str | None]:
    parts = [part for part in path.split("/") if part]
    if len(parts) not in (4, 5):
        raise WriteApiError(400, f"Request URL has the wrong number of elements. {URL_FORM}")
    version = parts[0].lower()
    if version != "v5":
        raise WriteApiError(400, f'Unsupported API version: "{version}". {URL_FORM}')
    raw_id = parts[2]
    if not re.fullmatch(r"[0-9]{1,18}", raw_id):
        raise WriteApiError(
            400, f'Entity ID\'s should be integers. "{raw_id}" is not an integer. {URL_FORM}'
        )
    return parts[1].lower(), int(raw_id), parts[3].lower(), parts[4] if len(parts) == 5 else None


def _parse_method(method: str) -> str:
    if method.upper() in METHODS:
        return method.upper()
    if method.upper() == "GET":
        raise WriteApiError(
            405,
            '"GET" is not currently a supported request method. Try the read API: '
            "/gocdbpi/public/ or /gocdbpi/private/",
        )
    raise WriteApiError(
        405,
        f'"{method}" is not currently a supported request method. For more details see: {DOCS_URL}',
    )


def _decode(raw: bytes) -> Any:
    """The body's JSON (None for an empty body), nested at most two levels as GOCDB
    reads it."""
    if not raw.strip():
        return None
    bad = WriteApiError(
        400,
        "The JSON message is not correctly formatted. For more information on correctly "
        f"formatting your request, see {DOCS_URL}",
    )
    try:
        value = jsonlimits.loads(raw, max_depth=MAX_BODY_DEPTH)
    except (ValueError, UnicodeDecodeError):  # TooDeep is a ValueError too
        raise bad from None
    if value is None or unstorable(value) is not None:
        raise bad
    return value


def _takes_pairs(entity_type: str, prop: str, key: str | None) -> bool:
    """Whether the body is an object of key/value pairs rather than {"value": …}: a bulk of
    extension properties, or a service's endpoint to create or update."""
    return key is None and (prop == EXTENSIONS or (entity_type == "service" and prop == "endpoint"))


def parse(method: str, path: str, raw: bytes) -> WriteRequest:
    """The request, or the WriteApiError GOCDB answers before looking anything up."""
    entity_type, entity_id, prop, key = _parse_path(path)
    verb = _parse_method(method)
    body = _decode(raw)
    value: Any = None
    pairs: Mapping[str, Any] | None = None
    if body is not None:
        if not isinstance(body, dict):
            raise WriteApiError(
                400,
                "The request body should be a JSON object. For more information on "
                f"correctly formatting your request, see {DOCS_URL}",
            )
        if _takes_pairs(entity_type, prop, key):
            pairs = body
        else:
            wanted = (
                f'A value for "{prop}" should be provided, in a JSON string '
                f'{{"value":"<value for \\"{prop}\\">"}}, with no other pairs present. '
                f"For more information on correctly formatting your request, see {DOCS_URL}"
            )
            if body.get("value") is None:
                raise WriteApiError(400, wanted)
            if len(body) > 1:
                raise WriteApiError(400, f"Only one value should be provided. {wanted}")
            value = body["value"]
    request = WriteRequest(verb, entity_type, entity_id, prop, key, value, pairs)
    _check_values(request)
    return request


def _check_values(request: WriteRequest) -> None:
    """GOCDB's validateEntityTypePropertyAndPropValue: which combinations of key, value and
    pairs a property takes, and each value against the schema."""
    method, prop, key, value, pairs = (
        request.method,
        request.prop,
        request.key,
        request.value,
        request.pairs,
    )
    extensions = prop == EXTENSIONS
    object_type = f"{request.entity_type}property" if extensions else request.entity_type
    if key is not None and value is not None:
        if not extensions:
            raise WriteApiError(
                400,
                "The API only supports specifying a key (the 5th URL element) for extension "
                f"properties, or the id of an endpoint to delete. For help see: {DOCS_URL}",
            )
        _validate(object_type, "name", key)
        _validate(object_type, "value", value)
    elif value is not None:
        _validate(object_type, prop, value)
    elif pairs is not None:
        if extensions:
            for name, item in pairs.items():
                _validate(object_type, "name", name)
                if not (method == "DELETE" and item in (None, "")):
                    _validate(object_type, "value", item)
        else:  # a service's endpoint
            for name, item in pairs.items():
                _validate("endpoint", name, item)
    elif method != "DELETE":
        raise WriteApiError(
            400,
            "For methods other than 'DELETE' a value or set of values must be provided. "
            f"For help see: {DOCS_URL}",
        )
    elif request.entity_type == "service" and prop == "endpoint":
        if key is None:
            raise WriteApiError(400, f"The ID of the endpoint must be specified. See: {DOCS_URL}")
        if not re.fullmatch(r"[0-9]{1,18}", key):
            raise WriteApiError(400, f"The ID of the endpoint must be an integer. See: {DOCS_URL}")
    elif not extensions:
        raise WriteApiError(
            400,
            "The API only supports deleting without specifying values for extension "
            f"properties. For help see: {DOCS_URL}",
        )
