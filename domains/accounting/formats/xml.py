"""CAR (compute, job records) and StAR (storage) XML messages, told apart by the records'
namespace as APEL's record factory does. Their values are read with the key/value formats'
field readers, so a CAR job record meets every rule an APEL job record meets."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from domains.accounting.formats import fields as fv
from domains.accounting.formats import keyvalue as kv
from domains.accounting.formats.fields import Record
from domains.accounting.rules import AccountingRule as R
from domains.common.errors import Invalid

CAR = "http://eu-emi.eu/namespaces/2012/11/computerecord"
STAR = "http://eu-emi.eu/namespaces/2011/02/storagerecord"
AUR = "http://eu-emi.eu/namespaces/2012/11/aggregatedcomputerecord"

# CAR's elements that carry a job record's value as text, by the job record's field
_CAR_TEXT = {
    "Site": "Site", "SubmitHost": "SubmitHost", "MachineName": "MachineName",
    "Queue": "Queue", "LocalJobId": "LocalJobId", "LocalUserId": "LocalUserId",
    "GlobalUserName": "GlobalUserName", "VO": "Group", "Processors": "Processors",
    "NodeCount": "NodeCount", "StartTime": "StartTime", "EndTime": "EndTime",
}  # fmt: skip
# CAR's GroupAttribute types that carry the job record's FQAN, VO group and role
_CAR_GROUP_ATTRIBUTES = {"FQAN": "FQAN", "group": "VOGroup", "vo-group": "VOGroup",
                         "role": "VORole", "vo-role": "VORole"}  # fmt: skip
# CAR's Memory types (storageUnit KB, as the job record's)
_CAR_MEMORY = {"Physical": "MemoryReal", "Shared": "MemoryVirtual"}

_STAR_TEXT = {
    "StorageSystem": "StorageSystem", "Site": "Site", "StorageShare": "StorageShare",
    "StorageMedia": "StorageMedia", "StorageClass": "StorageClass", "FileCount": "FileCount",
    "DirectoryPath": "DirectoryPath", "LocalUser": "LocalUser", "LocalGroup": "LocalGroup",
    "UserIdentity": "UserIdentity", "Group": "Group", "StartTime": "StartTime",
    "EndTime": "EndTime", "ResourceCapacityUsed": "ResourceCapacityUsed",
    "LogicalCapacityUsed": "LogicalCapacityUsed",
    "ResourceCapacityAllocated": "ResourceCapacityAllocated",
}  # fmt: skip
T, N, TM = fv.Kind.TEXT, fv.Kind.INTEGER, fv.Kind.TIME
STORAGE = kv.Spec(
    kv.RecordKind.STORAGE,
    "StAR",
    {
        "RecordId": T,
        "CreateTime": TM,
        "StorageSystem": T,
        "Site": T,
        "StorageShare": T,
        "StorageMedia": T,
        "StorageClass": T,
        "FileCount": N,
        "DirectoryPath": T,
        "LocalUser": T,
        "LocalGroup": T,
        "UserIdentity": T,
        "Group": T,
        "SubGroup": T,
        "Role": T,
        "StartTime": TM,
        "EndTime": TM,
        "ResourceCapacityUsed": N,
        "LogicalCapacityUsed": N,
        "ResourceCapacityAllocated": N,
    },  # fmt: skip
    frozenset(
        {"RecordId", "CreateTime", "StorageSystem", "StartTime", "EndTime", "ResourceCapacityUsed"}
    ),  # fmt: skip
)
JOB = kv.SPECS["APEL-individual-job-message: v0.3"]


def root_of(body: str) -> ET.Element:
    """The document's root; one with a DTD is refused before expat reads it (what defusedxml
    guards against, entities expanding without bound or reaching outside, comes with one)."""
    if "<!DOCTYPE" in body or "<!ENTITY" in body:
        raise Invalid("message", R.ACCOUNTING_XML_INVALID, "message: a DTD is not accepted")
    try:
        return ET.fromstring(body)  # noqa: S314  (no DTD reaches it: see above)
    except ET.ParseError as exc:
        raise Invalid(
            "message", R.ACCOUNTING_XML_INVALID, f"message: not well-formed XML ({exc})"
        ) from None


def _local(tag: str) -> tuple[str, str]:
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def _attribute(element: ET.Element, name: str, namespace: str) -> str | None:
    return element.get(f"{{{namespace}}}{name}", element.get(name))


def _text(element: ET.Element | None) -> str | None:
    return None if element is None else (element.text or "").strip()


def records_of(root: ET.Element) -> tuple[kv.RecordKind, list[ET.Element], str]:
    """The usage records of a CAR or StAR document: the root itself or its children."""
    namespace, name = _local(root.tag)
    if namespace == AUR:
        raise Invalid("message", R.ACCOUNTING_XML_AGGREGATED)
    if namespace not in (CAR, STAR):
        raise Invalid(
            "message", R.ACCOUNTING_XML_INVALID, f"message: <{name}> in no CAR or StAR namespace"
        )
    kind = kv.RecordKind.JOB if namespace == CAR else kv.RecordKind.STORAGE
    single = "UsageRecord" if namespace == CAR else "StorageUsageRecord"
    items = [root] if name == single else [c for c in root if _local(c.tag) == (namespace, single)]
    return kind, items, namespace


def car_record(element: ET.Element, position: int, now: datetime) -> Record:
    ns = CAR
    raw: dict[str, str] = {}
    for field, tag in _CAR_TEXT.items():
        value = _text(element.find(f".//{{{ns}}}{tag}"))
        if value is not None:
            raw[field] = value
    for attribute in element.iter(f"{{{ns}}}GroupAttribute"):
        target = _CAR_GROUP_ATTRIBUTES.get(_attribute(attribute, "type", ns) or "")
        if target is not None:
            raw[target] = _text(attribute) or ""
    for memory in element.iter(f"{{{ns}}}Memory"):
        target = _CAR_MEMORY.get(_attribute(memory, "type", ns) or "")
        if target is not None:
            raw[target] = _text(memory) or ""
    infrastructure = element.find(f"{{{ns}}}Infrastructure")
    if infrastructure is not None:
        for field, name in (
            ("InfrastructureType", "type"),
            ("InfrastructureDescription", "description"),
        ):
            value = _attribute(infrastructure, name, ns)
            if value is not None:
                raw[field] = value
    level = element.find(f"{{{ns}}}ServiceLevel")
    if level is not None:
        raw["ServiceLevel"] = _text(level) or ""
        raw["ServiceLevelType"] = _attribute(level, "type", ns) or ""
    record: Record = {}
    for field, value in raw.items():
        record[field] = kv.read_plain(JOB, field, value, position)
    # durations are ISO 8601 in CAR; of several CPU durations, the one of usage type "all"
    wall = element.find(f"{{{ns}}}WallDuration")
    if wall is not None:
        record["WallDuration"] = fv.duration(_text(wall) or "", position, "WallDuration")
    cpus = element.findall(f"{{{ns}}}CpuDuration")
    cpu = next(
        (c for c in cpus if _attribute(c, "usageType", ns) == "all"), cpus[0] if cpus else None
    )
    if cpu is not None:
        record["CpuDuration"] = fv.duration(_text(cpu) or "", position, "CpuDuration")
    return kv.check_record(JOB, record, {}, position, now)


def star_record(element: ET.Element, position: int, now: datetime) -> Record:
    ns = STAR
    raw: dict[str, str] = {}
    identity = element.find(f"{{{ns}}}RecordIdentity")
    if identity is not None:
        for field, name in (("RecordId", "recordId"), ("CreateTime", "createTime")):
            value = _attribute(identity, name, ns)
            if value is not None:
                raw[field] = value
    for field, tag in _STAR_TEXT.items():
        value = _text(element.find(f".//{{{ns}}}{tag}"))
        if value is not None:
            raw[field] = value
    others: list[tuple[str, str]] = []
    for attribute in element.iter(f"{{{ns}}}GroupAttribute"):
        kind = _attribute(attribute, "attributeType", ns) or ""
        text = _text(attribute) or ""
        if kind in ("subgroup", "role"):
            raw["SubGroup" if kind == "subgroup" else "Role"] = text
        else:
            pair = (
                fv.text(kind, position, "GroupAttribute"),
                fv.text(text, position, "GroupAttribute"),
            )
            others.append(pair)
    record: Record = {f: kv.read_plain(STORAGE, f, v, position) for f, v in raw.items()}
    record["GroupAttributes"] = tuple(others)
    return kv.check_record(STORAGE, record, {}, position, now)
