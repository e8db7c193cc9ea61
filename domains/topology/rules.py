"""Field formats and fixed rules of the topology, after GOCDB's schema definition."""

from __future__ import annotations

import re

from domains.topology.models import CertificationStatus

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
