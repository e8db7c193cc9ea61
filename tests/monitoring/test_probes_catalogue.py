"""Defining probes and metrics checks what the probes will run: a plugin's command is a
path inside the plugin directory with arguments substituting only {host}, {port} and
{url}; a built-in probe's metric takes only that probe's parameters; and only platform
administrators define either."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domains.common.errors import Forbidden, Invalid, Unauthenticated
from domains.common.identity import ANONYMOUS, Principal
from domains.monitoring.models import Metric, Probe, ProbeKind
from domains.monitoring.rules import MonitoringRule as R
from domains.monitoring.service import catalogue_probes as probes_svc

ADMIN = Principal(subject="root", user_id=2, is_admin=True)
USER = Principal(subject="someone", user_id=3)


def _rows(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Probe)) or 0,
        session.scalar(select(func.count()).select_from(Metric)) or 0,
    )


@pytest.mark.parametrize(
    "command",
    [
        ["check_x", "-H", "{hostname}"],
        ["check_x", "{host.__class__}"],
        ["/usr/lib/nagios/plugins/check_http", "-H", "{host}"],
        ["../check_x"],
        ["check_x", "{port"],
    ],
)
def test_a_plugin_command_substitutes_only_registered_values(
    session: Session, command: list[str]
) -> None:
    before = _rows(session)
    with pytest.raises(Invalid) as caught:
        probes_svc.create_probe(
            session, ADMIN, name="check_x", version="1", kind=ProbeKind.PLUGIN, command=command
        )
    assert (caught.value.field, caught.value.rule) == (
        "command",
        R.MONITORING_PROBE_COMMAND_INVALID,
    )
    assert _rows(session) == before


def test_only_platform_administrators_define_plugin_probes(session: Session) -> None:
    before = _rows(session)
    for caller, error in ((ANONYMOUS, Unauthenticated), (USER, Forbidden)):
        with pytest.raises(error):
            probes_svc.create_probe(
                session,
                caller,
                name="check_x",
                version="1",
                kind=ProbeKind.PLUGIN,
                command=["check_x", "-H", "{host}"],
            )
    assert _rows(session) == before
    probe = probes_svc.create_probe(
        session,
        ADMIN,
        name="check_x",
        version="1",
        kind=ProbeKind.PLUGIN,
        command=["check_x", "-H", "{host}", "-p", "{port}", "--json={{}}"],
    )
    assert probe.command == ["check_x", "-H", "{host}", "-p", "{port}", "--json={{}}"]


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"expected_status": "200"}, "parameters.expected_status"),
        ({"warning_ms": -5}, "parameters.warning_ms"),
        ({"verify": False}, "parameters.verify"),
    ],
)
def test_a_builtin_metric_takes_its_probe_parameters(
    session: Session, parameters: dict[str, Any], field: str
) -> None:
    probes_svc.create_probe(
        session, ADMIN, name="web", version="1", kind=ProbeKind.BUILTIN, builtin="http"
    )
    before = _rows(session)
    with pytest.raises(Invalid) as caught:
        probes_svc.create_metric(
            session, ADMIN, name="t.Web", probe_name="web", probe_version="1", parameters=parameters
        )
    assert (caught.value.field, caught.value.rule) == (
        field,
        R.MONITORING_METRIC_PARAMETERS_INVALID,
    )
    assert _rows(session) == before
    metric = probes_svc.create_metric(
        session,
        ADMIN,
        name="t.Web",
        probe_name="web",
        probe_version="1",
        parameters={"expected_status": [200, 301], "warning_ms": 800, "path": "/health"},
    )
    assert metric.parameters["warning_ms"] == 800
