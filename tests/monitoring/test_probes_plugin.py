"""The external plugin runner: only executables inside OPSGRAPH_PROBE_PLUGIN_DIR (symbolic
links followed), no shell, only {host}/{port}/{url} substituted, exit codes and output
read as Nagios does, a time limit (UNKNOWN, process group killed) and an output cap."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from domains.common.egress import EgressPolicy
from domains.monitoring.probes.nagios import TRUNCATED
from domains.monitoring.probes.plugin import (
    PluginError,
    check_arguments,
    parse_command,
    render_arguments,
    resolve_plugin,
    run_plugin,
)
from domains.monitoring.probes.targets import Target
from tests.monitoring.probe_servers import egress_for

TARGET = Target("127.0.0.1", 8443, "https://127.0.0.1:8443/x")
EGRESS = egress_for(TARGET)


def _plugin(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_exit_codes_output_and_substitution(tmp_path: Path) -> None:
    _plugin(tmp_path, "check_args", 'echo "ARGS OK - $1 $2 $3 | n=$#"\necho "long"\nexit 0\n')
    result = asyncio.run(
        run_plugin(tmp_path, ["check_args", "-H", "{host}:{port}", "--url={url}"], TARGET, EGRESS)
    )
    assert result.status == "OK"
    assert result.summary == "ARGS OK - -H 127.0.0.1:8443 --url=https://127.0.0.1:8443/x"
    assert (result.message, result.perfdata) == ("long", "n=3")
    for code, status in ((1, "WARNING"), (2, "CRITICAL"), (3, "UNKNOWN"), (42, "UNKNOWN")):
        _plugin(tmp_path, f"exit{code}", f"echo 'said {code}'\nexit {code}\n")
        result = asyncio.run(run_plugin(tmp_path, [f"exit{code}"], TARGET, EGRESS))
        assert (result.status, result.summary) == (status, f"said {code}")


def test_no_shell_reads_metacharacters_literally(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _plugin(tmp_path, "echo_first", 'echo "$1"\n')
    words = parse_command(f"echo_first '; touch {marker}' ")
    assert words == ("echo_first", f"; touch {marker}")
    result = asyncio.run(run_plugin(tmp_path, words, TARGET, EGRESS))
    assert result.summary == f"; touch {marker}"
    assert not marker.exists()


def test_environment_is_minimal(tmp_path: Path) -> None:
    os.environ["PROBE_TEST_SECRET"] = "s3cret"
    try:
        _plugin(tmp_path, "env_dump", 'echo "secret=${PROBE_TEST_SECRET:-none} dir=$(pwd)"\n')
        result = asyncio.run(run_plugin(tmp_path, ["env_dump"], TARGET, EGRESS))
    finally:
        del os.environ["PROBE_TEST_SECRET"]
    assert result.summary == f"secret=none dir={tmp_path.resolve()}"


def test_timeout_is_unknown_and_kills_the_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    _plugin(tmp_path, "hang", f"sleep 60 &\necho $! > {pid_file}\nwait\n")
    result = asyncio.run(run_plugin(tmp_path, ["hang"], TARGET, EGRESS, time_limit=0.5))
    assert result.status == "UNKNOWN"
    assert "timed out after 0.5 s and was killed" in result.summary
    child = int(pid_file.read_text())
    assert _dead(child), "the plugin's child outlived it"


def _dead(pid: int) -> bool:
    """Whether `pid` is gone or a zombie (killed, not yet reaped), waiting up to 5 s."""
    for _ in range(500):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in {"Z", "X"}:
            return True
        time.sleep(0.01)
    return False


def test_killed_by_a_signal_is_unknown(tmp_path: Path) -> None:
    _plugin(tmp_path, "suicide", "echo 'OK - fine'\nkill -9 $$\n")
    result = asyncio.run(run_plugin(tmp_path, ["suicide"], TARGET, EGRESS))
    assert (result.status, result.summary) == ("UNKNOWN", "OK - fine")


def test_output_is_capped_and_drained(tmp_path: Path) -> None:
    _plugin(
        tmp_path, "chatty", "echo 'OK - chatty'\nhead -c 1000000 /dev/zero | tr '\\0' x\nexit 0\n"
    )
    result = asyncio.run(
        run_plugin(tmp_path, ["chatty"], TARGET, EGRESS, max_output=100, time_limit=10)
    )
    assert result.status == "OK"
    assert result.summary == "OK - chatty"
    assert result.message == "x" * (100 - len("OK - chatty\n")) + "\n" + TRUNCATED


def test_only_plugins_inside_the_directory_run(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    outside = _plugin(tmp_path, "outside", "echo 'OK - escaped'\n")
    (plugins / "link_out").symlink_to(outside)
    (plugins / "sub").mkdir()
    inside = _plugin(plugins / "sub", "check_in", "echo 'OK - inside'\n")
    (plugins / "link_in").symlink_to(inside)
    (plugins / "not_exec").write_text("#!/bin/sh\necho hi\n")
    assert resolve_plugin(plugins, "sub/check_in") == inside.resolve()
    assert resolve_plugin(plugins, "link_in") == inside.resolve()
    refusals = {
        "link_out": "leads outside",
        "../outside": "relative to",
        str(outside): "relative to",
        "missing": "no such plugin",
        "not_exec": "not an executable file",
        "sub": "not an executable file",
    }
    for name, why in refusals.items():
        with pytest.raises(PluginError, match=why):
            resolve_plugin(plugins, name)
    for name in ("link_out", "missing", "sub"):
        result = asyncio.run(run_plugin(plugins, [name], TARGET, EGRESS))
        assert result.status == "UNKNOWN"
        assert result.summary.startswith("plugin not run: ")
    with pytest.raises(PluginError, match="OPSGRAPH_PROBE_PLUGIN_DIR is not set"):
        resolve_plugin(None, "check_in")
    assert asyncio.run(run_plugin(None, ["check_in"], TARGET, EGRESS)).status == "UNKNOWN"


@pytest.mark.parametrize(
    ("words", "why"),
    [
        ([], "names no plugin"),
        (["check", "{hostname}"], "not {hostname}"),
        (["check", "{host.__class__}"], "only {host}"),
        (["check", "{0}"], "not {0}"),
        (["check", "{}"], "not {}"),
        (["check", "{host!r}"], "no format or conversion"),
        (["check", "{port:>9}"], "no format or conversion"),
        (["check", "{host"], "unbalanced braces"),
        (["{host}"], "no placeholder"),
        (["/usr/bin/id"], "relative to"),
        (["../id"], "relative to"),
    ],
)
def test_argument_templates_take_only_registered_values(words: list[str], why: str) -> None:
    with pytest.raises(PluginError, match=why):
        check_arguments(words)


def test_templates_render_and_escape() -> None:
    assert render_arguments(["{{literal}}", "-p{port}", "x"], TARGET) == [
        "{literal}",
        "-p8443",
        "x",
    ]
    check_arguments(["check_x", '--json={{"a": 1}}'])
    with pytest.raises(PluginError, match="not a host name"):
        render_arguments(["{host}"], Target("-oProxyCommand=x", 1, "http://x/"))
    with pytest.raises(PluginError, match="URL cannot be passed"):
        render_arguments(["{url}"], Target("x", 1, "-x"))
    with pytest.raises(PluginError, match="not valid words"):
        parse_command("check 'open")
    with pytest.raises(PluginError, match="names no plugin"):
        parse_command("   ")


def test_a_plugin_for_an_unregistered_target_does_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    _plugin(tmp_path, "touch_it", f"touch {marker}\necho OK\n")
    other = Target("127.0.0.1", 9999, "http://127.0.0.1:9999/")
    result = asyncio.run(run_plugin(tmp_path, ["touch_it"], other, EGRESS))
    assert result.status == "UNKNOWN"
    assert "not a registered endpoint" in result.summary
    strict = egress_for(TARGET, policy=EgressPolicy())
    assert asyncio.run(run_plugin(tmp_path, ["touch_it"], TARGET, strict)).status == "UNKNOWN"
    assert not marker.exists()
    # a registered name that does not resolve: the plugin runs and says what it sees
    unresolved = Target("nowhere.invalid", 443, "https://nowhere.invalid/")
    egress = egress_for(unresolved, policy=EgressPolicy(resolver=_no_address))
    assert asyncio.run(run_plugin(tmp_path, ["touch_it"], unresolved, egress)).status == "OK"
    assert marker.exists()


def _no_address(host: str, port: int) -> list[str]:
    raise OSError("no such name")
