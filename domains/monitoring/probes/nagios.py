"""Nagios plugin output, as the plugin API and the monitoring-plugins guidelines define it
(reference §5): the exit code is the status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; any
other code, or a signal, is UNKNOWN); stdout's first line is the summary, optionally
followed by `| perfdata`; further lines are the long output, where a `|` starts perfdata
that runs to the end of the output. Perfdata is a space-separated list of
`'label'=value[UOM];[warn];[crit];[min];[max]` (a label with spaces is single-quoted, a
quote inside it doubled).

Pure functions, and `ProbeResult`: what every probe (built-in or plugin) returns, in the
fields a metric result carries (status, summary, message, perfdata as `actual_data`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

OK, WARNING, CRITICAL, UNKNOWN = "OK", "WARNING", "CRITICAL", "UNKNOWN"
EXIT_STATUS = {0: OK, 1: WARNING, 2: CRITICAL, 3: UNKNOWN}
# the worse of two statuses, as Nagios orders them for a probe's own checks
SEVERITY = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}

MAX_OUTPUT_BYTES = 16 * 1024  # what is kept of a plugin's stdout (Nagios 3 kept 8 KiB)
MAX_SUMMARY_CHARS = 1024
TRUNCATED = "[output truncated]"
UOMS = frozenset({"", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"})


def status_for_exit(code: int | None) -> str:
    """The status an exit code stands for; None (killed) and any other code: UNKNOWN."""
    return EXIT_STATUS.get(code, UNKNOWN) if code is not None else UNKNOWN


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: SEVERITY.get(s, SEVERITY[UNKNOWN]), default=OK)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    status: str  # OK, WARNING, CRITICAL, UNKNOWN
    summary: str  # one line
    message: str = ""  # the long output
    perfdata: str = ""  # Nagios perfdata, ARGO's actual_data
    duration: float = 0.0  # seconds the probe took


@dataclass(frozen=True, slots=True)
class PluginOutput:
    summary: str
    message: str
    perfdata: str


@dataclass(frozen=True, slots=True)
class PerfDatum:
    label: str
    value: float
    uom: str = ""
    warn: str = ""  # Nagios range syntax, kept as written
    crit: str = ""
    min: float | None = None
    max: float | None = None

    def render(self) -> str:
        label = self.label
        if re.search(r"[\s'=]", label):
            label = "'" + label.replace("'", "''") + "'"
        fields = [
            f"{_number(self.value)}{self.uom}",
            self.warn,
            self.crit,
            "" if self.min is None else _number(self.min),
            "" if self.max is None else _number(self.max),
        ]
        while len(fields) > 1 and fields[-1] == "":
            fields.pop()
        return f"{label}={';'.join(fields)}"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def render_perfdata(data: Iterable[PerfDatum]) -> str:
    return " ".join(d.render() for d in data)


def decode_output(raw: bytes, limit: int = MAX_OUTPUT_BYTES) -> str:
    """A plugin's stdout as text, capped at `limit` bytes (invalid UTF-8 and NUL, which no
    database stores, replaced)."""
    raw = raw.replace(b"\0", "\ufffd".encode())
    if len(raw) <= limit:
        return raw.decode("utf-8", "replace")
    return raw[:limit].decode("utf-8", "ignore") + "\n" + TRUNCATED


def parse_output(text: str) -> PluginOutput:
    """Summary, long output and perfdata (first line's and the long output's, joined)."""
    lines = text.replace("\r\n", "\n").split("\n")
    first, _, first_perf = lines[0].partition("|")
    long_lines: list[str] = []
    perf = [first_perf.strip()]
    in_perf = False
    for line in lines[1:]:
        if in_perf:
            perf.append(line.strip())
            continue
        text_part, bar, perf_part = line.partition("|")
        long_lines.append(text_part.rstrip() if bar else text_part)
        if bar:
            in_perf = True
            perf.append(perf_part.strip())
    summary = first.strip()
    if len(summary) > MAX_SUMMARY_CHARS:
        summary = summary[: MAX_SUMMARY_CHARS - 1] + "…"
    return PluginOutput(
        summary=summary,
        message="\n".join(long_lines).strip("\n"),
        perfdata=" ".join(p for p in perf if p),
    )


_VALUE = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_DATUM = re.compile(
    rf"""\s*(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^\s'=]+))
    =(?P<value>{_VALUE})(?P<uom>[a-zA-Z%]*)
    (?:;(?P<warn>[^;\s]*))?(?:;(?P<crit>[^;\s]*))?
    (?:;(?P<min>{_VALUE})?)?(?:;(?P<max>{_VALUE})?)?;*(?=\s|$)""",
    re.VERBOSE,
)


class PerfdataError(ValueError):
    def __init__(self, position: int, text: str) -> None:
        super().__init__(f"perfdata not 'label'=value[UOM];[warn];[crit];[min];[max] at {position}")
        self.position = position
        self.text = text


def parse_perfdata(text: str) -> list[PerfDatum]:
    """Every datum of a perfdata string; PerfdataError at the first malformed one (a value
    of `U`, "unknown", included: it has no number to keep)."""
    data: list[PerfDatum] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _DATUM.match(text, position)
        if match is None or match.group("uom") not in UOMS:
            raise PerfdataError(position, text)
        label = match.group("quoted")
        data.append(
            PerfDatum(
                label=label.replace("''", "'") if label is not None else match.group("plain"),
                value=float(match.group("value")),
                uom=match.group("uom"),
                warn=match.group("warn") or "",
                crit=match.group("crit") or "",
                min=_optional(match.group("min")),
                max=_optional(match.group("max")),
            )
        )
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return data


def _optional(raw: str | None) -> float | None:
    return None if raw is None or raw == "" else float(raw)


def result_from_plugin(code: int | None, stdout: str, duration: float) -> ProbeResult:
    out = parse_output(stdout)
    summary = out.summary or f"(no output; exit code {code})"
    return ProbeResult(status_for_exit(code), summary, out.message, out.perfdata, duration)
