"""Nagios plugin output conventions (reference §5): exit codes, summary, long output,
perfdata on the first and later lines, perfdata parsing, the output cap."""

from __future__ import annotations

import pytest

from domains.monitoring.probes.nagios import (
    TRUNCATED,
    PerfdataError,
    PerfDatum,
    decode_output,
    parse_output,
    parse_perfdata,
    render_perfdata,
    result_from_plugin,
    status_for_exit,
    worst,
)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (0, "OK"),
        (1, "WARNING"),
        (2, "CRITICAL"),
        (3, "UNKNOWN"),
        (4, "UNKNOWN"),
        (127, "UNKNOWN"),
        (-9, "UNKNOWN"),
        (None, "UNKNOWN"),
    ],
)
def test_exit_codes(code: int | None, status: str) -> None:
    assert status_for_exit(code) == status


def test_worst_orders_critical_over_unknown_over_warning() -> None:
    assert worst(["OK", "WARNING", "UNKNOWN"]) == "UNKNOWN"
    assert worst(["UNKNOWN", "CRITICAL", "OK"]) == "CRITICAL"
    assert worst([]) == "OK"


def test_summary_only() -> None:
    out = parse_output("DISK OK - free space: / 3326 MB (56%);\n")
    assert (out.summary, out.message, out.perfdata) == (
        "DISK OK - free space: / 3326 MB (56%);",
        "",
        "",
    )


def test_first_line_perfdata_long_output_and_more_perfdata() -> None:
    text = (
        "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\r\n"
        "/ 15272 MB (77%);\n"
        "/boot 68 MB (69%);\n"
        "/home 69357 MB (27%);\n"
        "/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n"
        "/home=69357MB;253404;253409;0;253414\n"
        "/var/log=818MB;970;975;0;980\n"
    )
    out = parse_output(text)
    assert out.summary == "DISK OK - free space: / 3326 MB (56%);"
    assert (
        out.message
        == "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%);"
    )
    assert out.perfdata == (
        "/=2643MB;5948;5958;0;5968 /boot=68MB;88;93;0;98 "
        "/home=69357MB;253404;253409;0;253414 /var/log=818MB;970;975;0;980"
    )
    assert [d.label for d in parse_perfdata(out.perfdata)] == ["/", "/boot", "/home", "/var/log"]


def test_perfdata_fields_quoted_labels_and_ranges() -> None:
    data = parse_perfdata(
        "'time to answer'=0.0123s;0.5;1:;0; 'it''s'=5 users=3;@10:20;~:30;0;100 rx=12c"
    )
    assert data == [
        PerfDatum("time to answer", 0.0123, "s", "0.5", "1:", 0.0, None),
        PerfDatum("it's", 5.0),
        PerfDatum("users", 3.0, "", "@10:20", "~:30", 0.0, 100.0),
        PerfDatum("rx", 12.0, "c"),
    ]
    assert render_perfdata(data) == (
        "'time to answer'=0.0123s;0.5;1:;0 'it''s'=5 users=3;@10:20;~:30;0;100 rx=12c"
    )


@pytest.mark.parametrize(
    ("text", "position"),
    [("time=U", 0), ("a=1 b", 4), ("a=1parsecs", 0), ("'open=1", 0), ("a=1;2;3;x", 0)],
)
def test_malformed_perfdata_names_the_position(text: str, position: int) -> None:
    with pytest.raises(PerfdataError) as caught:
        parse_perfdata(text)
    assert caught.value.position == position


def test_output_is_capped() -> None:
    assert decode_output(b"OK\n") == "OK\n"
    capped = decode_output(("é" * 20).encode(), limit=9)  # the cut falls inside a character
    assert capped == "éééé\n" + TRUNCATED
    assert decode_output(b"\xff OK") == "\ufffd OK"
    assert decode_output(b"O\0K") == "O\ufffdK"


def test_result_from_plugin() -> None:
    result = result_from_plugin(2, "PROC CRITICAL: 0 processes | procs=0;;1:\nnone found\n", 0.5)
    assert (result.status, result.summary, result.message, result.perfdata, result.duration) == (
        "CRITICAL",
        "PROC CRITICAL: 0 processes",
        "none found",
        "procs=0;;1:",
        0.5,
    )
    silent = result_from_plugin(0, "", 0.1)
    assert (silent.status, silent.summary) == ("OK", "(no output; exit code 0)")


def test_a_long_summary_is_cut() -> None:
    assert len(parse_output("x" * 5000).summary) == 1024
