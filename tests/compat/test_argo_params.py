"""The ARGO web API's query checks, pure: ARGO's 400 bodies for the results' and status'
time window, granularity, a metric result's exec_time and a profile's history date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from starlette.datastructures import QueryParams

from gateway.compat.argo import params
from gateway.compat.argo.envelope import ArgoError
from gateway.compat.argo.params import Granularity

START = "start_time=2015-06-20T00:00:00Z"
END = "end_time=2015-06-23T23:59:59Z"


def _errors(check: Any, query: str) -> list[dict[str, str]]:
    with pytest.raises(ArgoError) as refused:
        check(QueryParams(query))
    body = refused.value.body()
    assert refused.value.code == 400
    assert body["status"] == {"message": "Bad Request", "code": "400"}
    errors: list[dict[str, str]] = body["errors"]
    return errors


def test_a_results_window_with_its_granularity() -> None:
    window = params.results_window(QueryParams(f"{START}&{END}"))
    assert window.start == datetime(2015, 6, 20, tzinfo=UTC)
    assert window.end == datetime(2015, 6, 23, 23, 59, 59, tzinfo=UTC)
    assert window.granularity is Granularity.DAILY
    for given in ("monthly", "custom", "MONTHLY"):
        chosen = params.results_window(QueryParams(f"{START}&{END}&granularity={given}"))
        assert chosen.granularity == Granularity(given.lower())


def test_no_time_span() -> None:
    assert _errors(params.results_window, "") == [
        {
            "message": "No time span set",
            "code": "400",
            "details": "Please use start_time and end_time url parameters to set the prefered "
            "time span",
        }
    ]


def test_each_missing_or_malformed_time_is_named() -> None:
    assert _errors(params.results_window, START) == [
        {
            "message": "end_time not set",
            "code": "400",
            "details": "Please use end_time url parameter in zulu format (like "
            "2006-01-02T15:04:05Z) to indicate the query end time",
        }
    ]
    assert [e["message"] for e in _errors(params.status_window, END)] == ["start_time not set"]
    both = _errors(params.results_window, "start_time=2015-06-20&end_time=x&granularity=weekly")
    assert both == [
        {
            "message": "end_time parsing error",
            "code": "400",
            "details": "Error parsing date string x please use zulu format like "
            "2006-01-02T15:04:05Z",
        },
        {
            "message": "start_time parsing error",
            "code": "400",
            "details": "Error parsing date string 2015-06-20 please use zulu format like "
            "2006-01-02T15:04:05Z",
        },
        {
            "message": "Wrong Granularity",
            "code": "400",
            "details": "weekly is not accepted as granularity parameter, please provide either "
            "daily, monthly or custom",
        },
    ]


@pytest.mark.parametrize(
    "value",
    [
        "2015-06-20T00:00:00",
        "2015-06-20T00:00:00+00:00",
        "2015-06-20T00:00:00.5Z",
        "2015-06-20 00:00:00Z",
    ],
)
def test_only_the_zulu_form(value: str) -> None:
    assert params.parse_zulu(value) is None


def test_the_end_before_the_start() -> None:
    query = "start_time=2015-06-23T00:00:00Z&end_time=2015-06-20T00:00:00Z"
    assert [e["message"] for e in _errors(params.results_window, query)] == ["time parsing error"]


def test_status_takes_no_granularity() -> None:
    assert params.status_window(QueryParams(f"{START}&{END}")).granularity is None
    errors = _errors(params.status_window, f"{START}&{END}&granularity=daily")
    assert errors[0]["message"] == "Granularity parameter should not be used in status results"


def test_exec_time() -> None:
    assert params.exec_time(QueryParams("exec_time=2015-05-01T23:53:38Z")) == datetime(
        2015, 5, 1, 23, 53, 38, tzinfo=UTC
    )
    assert _errors(params.exec_time, "")[0]["message"] == "exec_time not set"
    assert _errors(params.exec_time, "exec_time=yesterday")[0]["message"] == (
        "exec_time parsing error"
    )


def test_the_history_date() -> None:
    today = date(2026, 1, 2)
    assert params.history_date(QueryParams(""), today) == today
    assert params.history_date(QueryParams("date="), today) == today
    assert params.history_date(QueryParams("date=2019-11-04"), today) == date(2019, 11, 4)
    for bad in ("2019-1-4", "2019-13-01", "04/11/2019", "2019-11-04T00:00:00Z"):
        assert _errors(lambda q: params.history_date(q, today), f"date={bad}") == [
            {
                "message": "Bad Request",
                "code": "400",
                "details": f"date parameter value: {bad} is not in the valid form of YYYY-MM-DD",
            }
        ]


def test_accept() -> None:
    params.check_accept("application/json")
    params.check_accept("Application/JSON;q=0.9, text/plain")
    for refused in (None, "", "*/*", "application/xml"):
        with pytest.raises(ArgoError):
            params.check_accept(refused)
