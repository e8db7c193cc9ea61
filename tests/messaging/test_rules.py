"""Pure rules: names, ack ids, times, page tokens, push configuration edge cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domains.common.errors import Invalid
from domains.messaging import rules


@pytest.mark.parametrize("name", ["a", "A-b_9", "x" * 255])
def test_valid_names(name: str) -> None:
    assert rules.check_name("Topic", name) == name


@pytest.mark.parametrize("ref", ["projects/P/topics/T", "/projects/P/topics/T"])
def test_topic_refs_with_or_without_slash(ref: str) -> None:
    assert rules.parse_topic_ref(ref) == ("P", "T")


@pytest.mark.parametrize("ref", ["projects/P/subscriptions/T", "projects/P/topics/", "P/T", ""])
def test_bad_topic_refs(ref: str) -> None:
    with pytest.raises(Invalid, match="Invalid Topic name"):
        rules.parse_topic_ref(ref)


def test_ack_ids_give_the_highest_offset() -> None:
    ids = [f"projects/P/subscriptions/S:{n}" for n in (3, 11, 7)]
    assert rules.parse_ack_ids("P", "S", ids) == 11
    with pytest.raises(Invalid):
        rules.parse_ack_ids("P", "S", ["projects/P/subscriptions/S:\u00b2"])  # a unicode digit
    with pytest.raises(Invalid):
        rules.parse_ack_ids("P", "S", "projects/P/subscriptions/S:1")  # not a list


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-09-02T13:39:11.000Z", datetime(2019, 9, 2, 13, 39, 11, tzinfo=UTC)),
        ("2019-09-02 13:39:11.000Z", datetime(2019, 9, 2, 13, 39, 11, tzinfo=UTC)),
        ("2019-09-02T13:39:11.5Z", datetime(2019, 9, 2, 13, 39, 11, 500_000, tzinfo=UTC)),
        ("2019-09-02T13:39:11.123456789Z", datetime(2019, 9, 2, 13, 39, 11, 123456, tzinfo=UTC)),
        ("2019-09-02T13:39:11Z", datetime(2019, 9, 2, 13, 39, 11, tzinfo=UTC)),
    ],
)
def test_zulu_times(text: str, expected: datetime) -> None:
    assert rules.parse_zulu(text) == expected


@pytest.mark.parametrize("text", ["2019-02-30T00:00:00Z", "2019-09-02T25:00:00Z"])
def test_impossible_times_are_invalid(text: str) -> None:
    with pytest.raises(Invalid, match="Zulu"):
        rules.parse_zulu(text)


def test_page_tokens_round_trip() -> None:
    assert rules.decode_page_token(rules.encode_page_token(42)) == 42
    assert rules.decode_page_token("") is None


def test_pushconfig_from_the_library_has_no_type() -> None:
    """argo-ams-library's pushconfig_sub body (trap §2.3.7)."""
    settings = rules.parse_push_config(
        {"pushEndpoint": "https://h.org/x", "retryPolicy": {"type": "linear", "period": 300}}
    )
    assert settings.push_type == "http_endpoint"
    assert settings.is_push


def test_switching_from_autogen_to_disabled_and_back_makes_a_new_header() -> None:
    first = rules.parse_push_config({"pushEndpoint": "https://h.org/x"})
    disabled = rules.parse_push_config(
        {"pushEndpoint": "https://h.org/x", "authorizationHeader": {"type": "disabled"}}, first
    )
    assert (disabled.auth_header_type, disabled.auth_header_value) == ("disabled", "")
    kept = rules.parse_push_config({"pushEndpoint": "https://h.org/x"}, disabled)
    assert kept.auth_header_type == "disabled"  # unspecified: keeps what there was
    again = rules.parse_push_config(
        {"pushEndpoint": "https://h.org/x", "authorizationHeader": {"type": "autogen"}}, kept
    )
    assert again.auth_header_type == "autogen"
    assert again.auth_header_value not in ("", first.auth_header_value)


def test_max_messages_is_kept_when_not_given() -> None:
    first = rules.parse_push_config({"pushEndpoint": "https://h.org/x", "maxMessages": 7})
    assert (
        rules.parse_push_config({"pushEndpoint": "https://h.org/x"}, first).push_max_messages == 7
    )


def test_verification_url_is_on_the_endpoint_host() -> None:
    assert (
        rules.verification_url("https://h.org:8443/deep/path?q=1")
        == "https://h.org:8443/ams_verification_hash"
    )


def test_initial_backoff() -> None:
    linear = rules.parse_push_config({"pushEndpoint": "https://h.org/x"})
    slow = rules.parse_push_config(
        {"pushEndpoint": "https://h.org/x", "retryPolicy": {"type": "slowstart"}}
    )
    assert (rules.initial_backoff_ms(linear), rules.initial_backoff_ms(slow)) == (3000, 1000)
    assert rules.initial_backoff_ms(rules.PULL) == 0
