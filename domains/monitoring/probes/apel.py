"""Built-in probes that read opsgraph's own accounting repository instead of the network:
APEL-Pub and APEL-Sync, the checks EGI's APEL server runs centrally for every production
site with a monitored `gLite-APEL` service (metrics `org.apel.APEL-Pub` and
`org.apel.APEL-Sync`, results in Nagios' terms like every other probe's).

- `apel-pub`: how long ago the site's last accounting message was loaded. OK up to
  `warning_days` (default 7, EGI's documented limit for OK), WARNING beyond it, CRITICAL
  beyond `critical_days` (default 30) or when the site never published.
- `apel-sync`: for each of the last `months` complete months (default 2), the number of
  jobs the site's sync records say it sent against the job records opsgraph holds, per
  submit host. OK when every host's counts agree (or the site sent neither), WARNING when
  one differs, CRITICAL when a month's total differs by more than `critical_percent`
  (default 5) of what the site says, or when jobs are held for a host the site sent no
  sync record for.

Monitoring sits below the accounting domain (it may not import it): accounting hands its
read functions over at import (`provide`, domains/accounting/service/publication.py), as
domains register their outbox handlers and authorization policies. A process where it has
not answers UNKNOWN."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from domains.monitoring.probes.nagios import CRITICAL, OK, UNKNOWN, WARNING, ProbeResult

PUB, SYNC = "apel-pub", "apel-sync"
BUILTINS = (PUB, SYNC)
PARAMETERS = {PUB: {"warning_days", "critical_days"}, SYNC: {"months", "critical_percent"}}
# the service types these metrics are expected on, whatever the metric profiles list, and
# the metrics (EGI's names) of each
SERVICE_TYPE = "gLite-APEL"
PUB_METRIC, SYNC_METRIC = "org.apel.APEL-Pub", "org.apel.APEL-Sync"
EXPECTED = {SERVICE_TYPE: (PUB_METRIC, SYNC_METRIC)}
MAX_MONTHS = 24

Month = tuple[int, int]  # (year, month)


class SyncCount(Protocol):
    """One submit host's month, as accounting's `SyncLine` is."""

    @property
    def submit_host(self) -> str: ...
    @property
    def site_says(self) -> int | None: ...
    @property
    def held(self) -> int: ...


@dataclass(frozen=True, slots=True)
class AccountingReads:
    """What the probes read of the accounting domain (its service functions)."""

    last_publication: Callable[[Session, str], dt.datetime | None]
    sync_months: Callable[[Session, str, Month, Month], Mapping[Month, Sequence[SyncCount]]]


_reads: AccountingReads | None = None


def provide(reads: AccountingReads) -> None:
    """Called by the accounting domain at import."""
    global _reads
    _reads = reads


class ParameterError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def _whole(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(name, f"a whole number from {low} to {high}")
    return value


@dataclass(frozen=True, slots=True)
class PubCheck:
    warning_days: int = 7
    critical_days: int = 30


@dataclass(frozen=True, slots=True)
class SyncCheck:
    months: int = 2
    critical_percent: int = 5


def pub_check(params: Mapping[str, Any]) -> PubCheck:
    default = PubCheck()
    warning = _whole(params, "warning_days", default.warning_days, 1, 3650)
    critical = _whole(params, "critical_days", default.critical_days, 1, 3650)
    if critical < warning:
        raise ParameterError("critical_days", "at least warning_days")
    return PubCheck(warning, critical)


def sync_check(params: Mapping[str, Any]) -> SyncCheck:
    default = SyncCheck()
    return SyncCheck(
        _whole(params, "months", default.months, 1, MAX_MONTHS),
        _whole(params, "critical_percent", default.critical_percent, 0, 100),
    )


def check_parameters(builtin: str, params: Mapping[str, Any]) -> None:
    """ParameterError naming a parameter the probe does not take or reads as invalid."""
    unknown = sorted(set(params) - PARAMETERS[builtin])
    if unknown:
        raise ParameterError(unknown[0], f"not a parameter of the {builtin} probe")
    if builtin == PUB:
        pub_check(params)
    else:
        sync_check(params)


def run(
    session: Session, builtin: str, site: str, params: Mapping[str, Any], now: dt.datetime
) -> ProbeResult:
    """The result of `builtin` (apel-pub or apel-sync) for `site`, read in `session`."""
    try:
        check_parameters(builtin, params)
    except ParameterError as exc:
        return ProbeResult(UNKNOWN, f"probe not run: {exc}")
    if _reads is None:
        return ProbeResult(UNKNOWN, "probe not run: the accounting domain is not loaded here")
    if builtin == PUB:
        return _pub(_reads.last_publication(session, site), pub_check(params), now)
    check = sync_check(params)
    last = _previous((now.year, now.month))
    first = last
    for _ in range(check.months - 1):
        first = _previous(first)
    found = _reads.sync_months(session, site, first, last)
    return _sync(found, first, last, check)


def _pub(last: dt.datetime | None, check: PubCheck, now: dt.datetime) -> ProbeResult:
    if last is None:
        return ProbeResult(CRITICAL, "APEL-Pub CRITICAL - the site has never published")
    days = (now - last).total_seconds() / 86400
    status = OK
    if days > check.critical_days:
        status = CRITICAL
    elif days > check.warning_days:
        status = WARNING
    return ProbeResult(
        status,
        f"APEL-Pub {status} - last publication {last:%Y-%m-%d %H:%M} UTC, "
        f"{max(days, 0):.1f} days ago",
        perfdata=f"days={max(days, 0):.2f};{check.warning_days};{check.critical_days};0",
    )


def _previous(month: Month) -> Month:
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)


def _months(first: Month, last: Month) -> list[Month]:
    out = [first]
    while out[-1] != last:
        year, number = out[-1]
        out.append((year + 1, 1) if number == 12 else (year, number + 1))
    return out


def _sync(
    found: Mapping[Month, Sequence[SyncCount]], first: Month, last: Month, check: SyncCheck
) -> ProbeResult:
    status = OK
    problems: list[str] = []
    for month in _months(first, last):
        lines = found.get(month, ())
        differing = [line for line in lines if line.site_says != line.held]
        if not differing:
            continue
        says = sum(line.site_says or 0 for line in lines)
        held = sum(line.held for line in lines)
        unsent = any(line.site_says is None for line in differing)
        off = abs(says - held) * 100 > check.critical_percent * says
        if unsent or off:
            status = CRITICAL
        elif status == OK:
            status = WARNING
        hosts = ", ".join(
            f"{line.submit_host or '(none)'} says {_said(line.site_says)}, held {line.held}"
            for line in differing
        )
        problems.append(f"{month[0]:04d}-{month[1]:02d}: {hosts}")
    period = f"{first[0]:04d}-{first[1]:02d} to {last[0]:04d}-{last[1]:02d}"
    if not problems:
        return ProbeResult(OK, f"APEL-Sync OK - in sync from {period}")
    return ProbeResult(
        status, f"APEL-Sync {status} - out of sync from {period}", message="\n".join(problems)
    )


def _said(value: int | None) -> str:
    return "nothing" if value is None else str(value)
