"""A report's thresholds profile applied to metric results, as ARGO applies it
(argo-streaming's `ThresholdManager`, used by its status job's metric step): a rule re-grades
a result from the result's Nagios perfdata. Pure: the services hand in the profile's
document, the operations profile and the result.

What ARGO's code does, checked against it (ThresholdManager.Range / Threshold /
getMostRelevantRule / getStatusByRuleAndValues, and the caller that keeps `og_status` and
`rule_applied`):

- A rule's `thresholds` text holds whitespace-separated items `label=value[uom];warn;crit;
  min;max`; `warn` and `crit` are ranges, an empty one never matches.
- Ranges: `N` is 0..N, `N:` is N..+inf, `~:N` is -inf..N, `A:B` is A..B; a leading `@`
  inverts. Containment is OPEN at both ends: `floor < v < ceil` (ARGO's Range.contains,
  documented there as "floor < value < ceil and not floor <= value <= ceil"), so with
  `0:10` both 0 and 10 are outside and, inverted (`@0:10`), inside. Unlike the Nagios
  plugin guidelines (which alert OUTSIDE a range), ARGO's ranges say where the status
  applies: a value inside the warning range is WARNING, else inside the critical range
  CRITICAL, else the label gives no status.
- Rule lookup for (group, host, metric), most specific first: (group, host, metric),
  (host, metric), (group, metric), (metric). ARGO's own lookup has a quirk this does not
  copy: when the host is named by some rule but the group by none, ARGO answers the
  (host, metric) key without checking it exists, so a metric-only rule is then skipped;
  here each key is tried in turn and the first that exists wins.
- Each perfdata label the rule names gives a status or none; the statuses given are
  combined with the operations profile's AND (the first is the start). No status at all
  (no perfdata, no rule, no label named, no value in a range) leaves the probe's status.
  A result that differs from the probe's status replaces it; the probe's status is kept as
  the original status and the items that applied as the rule applied (ARGO's `og_status`
  and `rule_applied`, space-joined item texts); an equal one changes nothing.
- Perfdata is Nagios perfdata: `label=value[uom];warn;crit;min;max` items separated by
  whitespace, a label with spaces in single quotes (`''` for a quote). ARGO throws on a
  unit it does not know; here a perfdata string that does not parse is not used at all
  (no re-grading, never an error), and a `U` value (Nagios' "undetermined") gives that
  label no value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from domains.monitoring.engine.operations import OperationsTable

WARNING = "WARNING"
CRITICAL = "CRITICAL"
COMBINE = "AND"  # ARGO's status job combines a rule's label statuses with AND

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_VALUE = re.compile(rf"({_NUMBER})([A-Za-z%]*)")
# one perfdata item: a quoted or bare label, `=`, the rest up to whitespace
_ITEM = re.compile(r"\s*(?:'((?:[^']|'')+)'|([^\s'=]+))=(\S*)")


@dataclass(frozen=True, slots=True)
class Range:
    """floor < v < ceil (open at both ends, as ARGO's), the opposite when `inverted`."""

    floor: float
    ceil: float
    inverted: bool = False

    def contains(self, value: float) -> bool:
        inside = self.floor < value < self.ceil
        return not inside if self.inverted else inside


def parse_range(text: str) -> Range | None:
    """`N`, `N:`, `~:N`, `A:B`, each optionally after `@`; None for an empty or bad one
    (a range that never matches)."""
    text = text.strip()
    inverted = text.startswith("@")
    if inverted:
        text = text[1:]
    if not text:
        return None
    try:
        if ":" not in text:
            return Range(0.0, _finite(text), inverted)
        low, _, high = text.partition(":")
        floor = -math.inf if low == "~" else _finite(low)
        ceil = math.inf if high == "" else _finite(high)
    except ValueError:
        return None
    return Range(floor, ceil, inverted)


def _finite(text: str) -> float:
    if not re.fullmatch(_NUMBER, text):
        raise ValueError(text)
    return float(text)


@dataclass(frozen=True, slots=True)
class Threshold:
    """One rule item: its label, its warning and critical ranges, and its text."""

    label: str
    warning: Range | None
    critical: Range | None
    expression: str

    def status_of(self, value: float) -> str | None:
        if self.warning is not None and self.warning.contains(value):
            return WARNING
        if self.critical is not None and self.critical.contains(value):
            return CRITICAL
        return None


def parse_threshold(item: str) -> Threshold | None:
    """`label=value[uom];warn;crit;min;max`; None when it is not one (the profile's
    validation refuses such rules: this is a second guard for stored documents)."""
    label, sep, rest = item.partition("=")
    if not sep or not label:
        return None
    parts = rest.split(";")
    if not _VALUE.fullmatch(parts[0]):
        return None
    warning = parse_range(parts[1]) if len(parts) > 1 else None
    critical = parse_range(parts[2]) if len(parts) > 2 else None
    return Threshold(label, warning, critical, item)


def parse_perfdata(text: str | None) -> dict[str, float]:
    """A Nagios perfdata string's values by label, in its order; {} when it does not parse
    (bad perfdata is not graded). A `U` value leaves its label out."""
    values: dict[str, float] = {}
    if not text:
        return values
    position, end = 0, len(text.rstrip())
    while position < end:
        found = _ITEM.match(text, position)
        if found is None:
            return {}
        quoted, bare, data = found.groups()
        label = quoted.replace("''", "'") if quoted is not None else bare
        raw = data.split(";", 1)[0]
        value = _VALUE.fullmatch(raw)
        if value is not None:
            number = float(value.group(1))
            if not math.isfinite(number):
                return {}
            values[label] = number
        elif raw != "U":
            return {}
        position = found.end()
    return values


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's items by label, and its whole text."""

    items: Mapping[str, Threshold]
    text: str


RuleKey = tuple[str, str, str]  # (endpoint group, host, metric); "" for a part not named


@dataclass(frozen=True, slots=True)
class Graded:
    """A result's status under a thresholds profile: `original_status` and `rule_applied`
    are set only when a rule changed the status."""

    status: str
    original_status: str | None = None
    rule_applied: str | None = None


@dataclass(frozen=True)
class ThresholdRules:
    """A thresholds profile ready to apply, with the operations profile whose AND combines
    the statuses of a rule's labels."""

    rules: Mapping[RuleKey, Rule]
    operations: OperationsTable

    @classmethod
    def from_argo(
        cls, document: Mapping[str, object], operations: OperationsTable
    ) -> ThresholdRules:
        """From ARGO's thresholds profile JSON (`rules[{metric, host?, endpoint_group?,
        thresholds}]`); an item that does not parse is left out of its rule."""
        rules: dict[RuleKey, Rule] = {}
        raw_rules = document.get("rules")
        for raw in raw_rules if isinstance(raw_rules, list) else []:
            if not isinstance(raw, Mapping):
                continue
            metric, text = raw.get("metric"), raw.get("thresholds")
            if not isinstance(metric, str) or not isinstance(text, str):
                continue
            group, host = raw.get("endpoint_group") or "", raw.get("host") or ""
            items = {
                found.label: found
                for item in text.split()
                if (found := parse_threshold(item)) is not None
            }
            if items and isinstance(group, str) and isinstance(host, str):
                rules[(group, host, metric)] = Rule(items, text)
        return cls(rules, operations)

    @property
    def metrics(self) -> frozenset[str]:
        """The metrics some rule names: only their results can be re-graded."""
        return frozenset(key[2] for key in self.rules)

    def rule_for(self, group: str, host: str, metric: str) -> Rule | None:
        """The most specific rule for the item: (group, host, metric), (host, metric),
        (group, metric), then (metric)."""
        for key in ((group, host, metric), ("", host, metric), (group, "", metric)):
            found = self.rules.get(key)
            if found is not None:
                return found
        return self.rules.get(("", "", metric))

    def grade(
        self, group: str, host: str, metric: str, status: str, perfdata: str | None
    ) -> Graded:
        """The result's status under these rules (see the module's note)."""
        if not perfdata:
            return Graded(status)
        rule = self.rule_for(group, host, metric)
        if rule is None:
            return Graded(status)
        given = [
            (label_status, threshold.expression)
            for label, value in parse_perfdata(perfdata).items()
            if (threshold := rule.items.get(label)) is not None
            and (label_status := threshold.status_of(value)) is not None
        ]
        if not given:
            return Graded(status)
        try:
            combined = given[0][0]
            for other, _ in given[1:]:
                combined = self.operations.apply(COMBINE, combined, other)
        except KeyError:  # an operations profile without AND (or these states): left as is
            return Graded(status)
        if combined == status:
            return Graded(status)
        return Graded(combined, status, " ".join(expression for _, expression in given))
