"""VO membership from OIDC entitlement values (AARC-G002/G069 group URNs and EGI legacy form).

Pure functions, no I/O. Shapes understood:

- ``<namespace>:group:<VO>[:<subgroup>...][:role=<ROLE>][#<authority>]`` (AARC-G002, with the
  AARC-G069 normalisation: the ``urn`` NID and the namespace compare case-insensitively, each
  group segment is percent-decoded after splitting on ``:``; the authority is ignored);
- ``<namespace>:aai.egi.eu:<ROLE>@<VO>`` (the legacy EGI form, e.g. ``...:member@fedcloud.egi.eu``).

Capabilities (``:res:``), GOCDB roles (``:goc.egi.eu:``) and anything else are not groups.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

DEFAULT_NAMESPACES: tuple[str, ...] = ("urn:mace:egi.eu",)
MEMBER = "member"

_GROUP_MARK = ":group:"
_LEGACY_MARK = ":aai.egi.eu:"
_ROLE_PREFIX = "role="
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


@dataclass(frozen=True)
class VoMembership:
    """What a caller holds in one VO.

    ``roles`` are the roles held on the VO group itself; every VO listed is one the caller
    belongs to, so ``member`` is always among them (a role or a subgroup implies membership).
    ``groups`` are the subgroup paths below the VO, e.g. ``fedcloud.egi.eu:sub1:sub2``; roles
    held on subgroups are not kept here (ask `entitlement_matches` for those).
    """

    name: str
    roles: frozenset[str]
    groups: frozenset[str]


@dataclass(frozen=True)
class _Group:
    namespace: str  # lower-cased, e.g. "urn:mace:egi.eu"
    path: tuple[str, ...]  # decoded: (VO, subgroup, ...)
    role: str | None  # None when the value names no role


def _strip_components(value: str) -> str:
    """Drop the RFC 8141 f-component (``#authority``) and any q-/r-component."""
    return value.split("#", 1)[0].split("?", 1)[0].strip()


def _is_urn(value: str) -> bool:
    return value[:4].lower() == "urn:"


def _parse_g002(value: str) -> _Group | None:
    lowered = value.lower()
    at = lowered.find(_GROUP_MARK)
    if at <= 0:
        return None
    segments = value[at + len(_GROUP_MARK) :].split(":")
    role: str | None = None
    if segments and segments[-1][: len(_ROLE_PREFIX)].lower() == _ROLE_PREFIX:
        role = unquote(segments.pop()[len(_ROLE_PREFIX) :])
        if not role:
            return None
    path = tuple(unquote(s) for s in segments)
    if not path or any(not s or s.lower().startswith(_ROLE_PREFIX) for s in path):
        return None
    return _Group(lowered[:at], path, role)


def _parse_legacy(value: str, namespaces: Iterable[str]) -> _Group | None:
    lowered = value.lower()
    for namespace in namespaces:
        prefix = namespace.lower() + _LEGACY_MARK
        if not lowered.startswith(prefix):
            continue
        role, sep, vo = value[len(prefix) :].rpartition("@")
        if not sep or not role or not vo or ":" in role or ":" in vo:
            return None
        return _Group(namespace.lower(), (unquote(vo),), unquote(role))
    return None


def _parse_group(value: str, namespaces: Iterable[str]) -> _Group | None:
    stripped = _strip_components(value)
    if not _is_urn(stripped):
        return None
    return _parse_g002(stripped) or _parse_legacy(stripped, namespaces)


def _in_namespaces(group: _Group, namespaces: Iterable[str]) -> bool:
    return group.namespace in {n.lower() for n in namespaces}


def parse_entitlements(
    values: Iterable[str], *, namespaces: Iterable[str] = DEFAULT_NAMESPACES
) -> dict[str, VoMembership]:
    """VO name -> membership, from the group entitlements in the given namespaces.

    A value without ``role=`` grants ``member``; ``role=`` applies to the rightmost group.
    Values that are not group entitlements of a configured namespace are ignored.
    """
    namespaces = tuple(namespaces)
    roles: dict[str, set[str]] = {}
    groups: dict[str, set[str]] = {}
    for value in values:
        if not isinstance(value, str):
            continue
        group = _parse_group(value, namespaces)
        if group is None or not _in_namespaces(group, namespaces):
            continue
        vo = group.path[0]
        roles.setdefault(vo, {MEMBER})
        vo_groups = groups.setdefault(vo, set())
        if len(group.path) == 1:
            roles[vo].add(group.role or MEMBER)
        else:
            # a subgroup member is a member of every group above it
            for depth in range(2, len(group.path) + 1):
                vo_groups.add(":".join(group.path[:depth]))
    return {
        vo: VoMembership(name=vo, roles=frozenset(roles[vo]), groups=frozenset(groups[vo]))
        for vo in roles
    }


def _normalise_other(value: str, namespaces: Iterable[str]) -> str:
    """Compare form of a non-group URN: case-folded NID and namespace, no authority,
    percent-encodings in upper case (RFC 3986 6.2.2.1)."""
    stripped = _strip_components(value)
    stripped = _PERCENT.sub(lambda m: m.group(0).upper(), stripped)
    if not _is_urn(stripped):
        return stripped
    lowered = stripped.lower()
    for namespace in namespaces:
        prefix = namespace.lower() + ":"
        if lowered.startswith(prefix):
            return prefix + stripped[len(prefix) :]
    nid, _, rest = stripped[4:].partition(":")
    return f"urn:{nid.lower()}:{rest}"


def _group_satisfies(held: _Group, required: _Group) -> bool:
    """flaat's AARC-G002 semantics, with a missing role meaning membership.

    A required role other than ``member`` must be held on exactly the required group (a role
    on a subgroup does not carry up). Membership, or no role at all, is satisfied by any
    entitlement on the required group or on one of its subgroups.
    """
    if held.namespace != required.namespace:
        return False
    if required.role is None or required.role == MEMBER:
        return held.path[: len(required.path)] == required.path
    return held.path == required.path and held.role == required.role


def entitlement_matches(
    values: Iterable[str], required: str, *, namespaces: Iterable[str] = DEFAULT_NAMESPACES
) -> bool:
    """True if any held value satisfies the required entitlement.

    Both sides ignore the ``#authority`` part and compare the ``urn`` NID and namespace
    case-insensitively. Group entitlements (G002 or legacy) also match per `_group_satisfies`.
    """
    namespaces = tuple(namespaces)
    required_group = _parse_group(required, namespaces)
    required_other = _normalise_other(required, namespaces)
    for value in values:
        if not isinstance(value, str):
            continue
        if required_group is not None:
            held = _parse_group(value, namespaces)
            if held is not None and _group_satisfies(held, required_group):
                return True
        elif _normalise_other(value, namespaces) == required_other:
            return True
    return False


def claims_entitlements(claims: Mapping[str, Any]) -> list[str]:
    """The values of the ``entitlements`` (AARC-G069) and ``eduperson_entitlement`` claims,
    each a string or a list of strings, in order and without duplicates."""
    seen: dict[str, None] = {}
    for name in ("entitlements", "eduperson_entitlement"):
        raw = claims.get(name)
        items = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        for item in items:
            if isinstance(item, str) and item:
                seen.setdefault(item, None)
    return list(seen)
