"""The runner of external Nagios plugins: command execution on the workers, bounded.

- Only an executable inside the allow-listed directory (OPSGRAPH_PROBE_PLUGIN_DIR) runs:
  the command's first word is resolved against that directory, symbolic links followed,
  and refused when the result lies outside it, is no regular file or is not executable.
  Without the setting no plugin runs.
- No shell: `asyncio.create_subprocess_exec` with the argument list, stdin closed, a
  minimal environment, the plugin directory as working directory, a session of its own.
- Arguments are templates that substitute only registered values: `{host}`, `{port}`,
  `{url}` of the endpoint's target (targets.py); `{{` and `}}` are literal braces, any
  other placeholder is refused when the probe is defined (`check_arguments`) and again
  when it runs. A host that is not a plain name or address is not substituted.
- Time limit: past it the plugin's whole process group is killed and the result is
  UNKNOWN. Output: stdout is read to the end but only its first MAX_OUTPUT_BYTES kept;
  stderr is discarded, as Nagios does.

A plugin makes its own connections, which the egress policy cannot see: the runner checks
the target's host and port against it first (`ProbeEgress.resolve`), and only platform
administrators define plugin probes."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import string
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from domains.common.egress import EgressRefused
from domains.monitoring.probes.nagios import (
    MAX_OUTPUT_BYTES,
    UNKNOWN,
    ProbeResult,
    decode_output,
    result_from_plugin,
)
from domains.monitoring.probes.targets import ProbeEgress, Target

PLUGIN_DIR_SETTING = "OPSGRAPH_PROBE_PLUGIN_DIR"
PLACEHOLDERS = ("host", "port", "url")
DEFAULT_TIMEOUT = 30.0
_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|[0-9A-Fa-f:.]+")
_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_CHUNK = 64 * 1024


class PluginError(ValueError):
    """A plugin command that may not run: the message says why."""


def parse_command(command_line: str) -> tuple[str, ...]:
    """A command line as a probe definition holds it, split as a POSIX shell would split
    words (quotes, no expansion, no operators: `;`, `|` or `$(…)` are plain characters
    of an argument), checked: PluginError naming the problem."""
    try:
        words = tuple(shlex.split(command_line))
    except ValueError as exc:
        raise PluginError(f"the command line is not valid words: {exc}") from exc
    if not words:
        raise PluginError("the command line names no plugin")
    check_arguments(words)
    return words


def check_arguments(words: Sequence[str]) -> None:
    """Each word's placeholders are {host}, {port} or {url} (PluginError otherwise); the
    plugin itself (the first word) is a relative path without placeholders."""
    if not words:
        raise PluginError("the command line names no plugin")
    plugin = words[0]
    if "{" in plugin or "}" in plugin:
        raise PluginError("the plugin's name has no placeholder")
    if plugin.startswith("/") or ".." in Path(plugin).parts:
        raise PluginError(f"{plugin!r}: a plugin is named relative to {PLUGIN_DIR_SETTING}")
    for word in words[1:]:
        _fields(word)


def _fields(word: str) -> list[tuple[str, str | None]]:
    try:
        parsed = [(literal, name) for literal, name, _, _ in string.Formatter().parse(word)]
    except ValueError as exc:
        raise PluginError(
            f"{word!r}: unbalanced braces (write {{{{ and }}}} for literal ones)"
        ) from exc
    for _, name in parsed:
        if name is not None and name not in PLACEHOLDERS:
            raise PluginError(
                f"{word!r}: only {{host}}, {{port}} and {{url}} are substituted, not {{{name}}}"
            )
    for _literal, name, spec, conversion in string.Formatter().parse(word):
        if name is not None and (spec or conversion):
            raise PluginError(f"{word!r}: a placeholder takes no format or conversion")
    return parsed


def render_arguments(words: Sequence[str], target: Target) -> list[str]:
    """The arguments with the target's registered values substituted."""
    if not _HOST.fullmatch(target.host):
        raise PluginError(f"{target.host!r} is not a host name or address to pass a plugin")
    if target.url.startswith("-") or any(c in target.url for c in "\r\n\0"):
        raise PluginError("the target's URL cannot be passed to a plugin")
    values = {"host": target.host, "port": str(target.port), "url": target.url}
    rendered = []
    for word in words:
        rendered.append("".join(lit + (values[n] if n else "") for lit, n in _fields(word)))
    return rendered


def resolve_plugin(plugin_dir: str | os.PathLike[str] | None, name: str) -> Path:
    """The executable `name` stands for, inside `plugin_dir`: PluginError otherwise."""
    if not plugin_dir:
        raise PluginError(f"no plugin runs: {PLUGIN_DIR_SETTING} is not set")
    base = Path(plugin_dir).resolve()
    if name.startswith("/") or ".." in Path(name).parts:
        raise PluginError(f"{name!r}: a plugin is named relative to {PLUGIN_DIR_SETTING}")
    try:
        path = (base / name).resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise PluginError(f"{name!r}: no such plugin in {PLUGIN_DIR_SETTING}") from exc
    if not path.is_relative_to(base) or path == base:
        raise PluginError(f"{name!r} leads outside {PLUGIN_DIR_SETTING}")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise PluginError(f"{name!r} is not an executable file")
    return path


async def run_plugin(
    plugin_dir: str | os.PathLike[str] | None,
    words: Sequence[str],
    target: Target,
    egress: ProbeEgress,
    *,
    time_limit: float = DEFAULT_TIMEOUT,
    max_output: int = MAX_OUTPUT_BYTES,
    environment: Mapping[str, str] | None = None,
) -> ProbeResult:
    """Runs the plugin for `target` and reads its result (UNKNOWN when it may not run, ran
    out of time or died of a signal)."""
    started = time.perf_counter()
    try:
        check_arguments(words)
        executable = resolve_plugin(plugin_dir, words[0])
        arguments = render_arguments(words[1:], target)
        await egress.resolve(target.host, target.port)
    except PluginError as exc:
        return ProbeResult(UNKNOWN, f"plugin not run: {exc}")
    except EgressRefused as exc:
        return ProbeResult(UNKNOWN, f"plugin not run: refused by egress policy: {exc.reason}")
    except (OSError, UnicodeError, ValueError):
        pass  # a name that does not resolve: the plugin reports it as it sees fit
    process = await asyncio.create_subprocess_exec(
        str(executable),
        *arguments,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=str(executable.parent),
        env=dict(environment if environment is not None else _ENVIRONMENT),
        start_new_session=True,
    )
    kept = bytearray()
    try:
        async with asyncio.timeout(time_limit):
            assert process.stdout is not None
            while chunk := await process.stdout.read(_CHUNK):
                if len(kept) <= max_output:
                    kept += chunk[: max_output + 1 - len(kept)]
            code = await process.wait()
    except TimeoutError:
        _kill_group(process.pid)
        await process.wait()
        return ProbeResult(
            UNKNOWN,
            f"plugin {words[0]} timed out after {time_limit:g} s and was killed",
            duration=time.perf_counter() - started,
        )
    _kill_group(process.pid)  # what it left running in its session goes with it
    output = decode_output(bytes(kept), max_output)
    return result_from_plugin(code if code >= 0 else None, output, time.perf_counter() - started)


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
