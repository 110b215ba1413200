"""Webhook rules (issue 12): filters, URL policy, signatures, backoff."""

from __future__ import annotations

import random

import pytest

from domain.enums import ErrorCode
from domain.rules.webhooks import (
    EventFilter,
    backoff_seconds,
    gives_up,
    is_loopback,
    is_success,
    matches,
    sign,
    url_refusals,
    verify_signature,
)

STAGE = "OPPORTUNITY_STAGE_CHANGED"
INTO_DISCOVERY = {"from_state": "PENDING_ACCEPTANCE", "to_state": "DISCOVERY"}


@pytest.mark.parametrize(
    ("wanted", "kind", "record_type", "payload", "expected"),
    [
        (EventFilter(), "ANYTHING", "LEAD", {}, True),
        (EventFilter(event_types=[STAGE]), STAGE, "OPPORTUNITY", INTO_DISCOVERY, True),
        (EventFilter(event_types=[STAGE]), "LEAD_ROUTED", "LEAD", {}, False),
        (EventFilter(record_types=["LEAD"]), STAGE, "OPPORTUNITY", {}, False),
        (
            EventFilter(record_types=["LEAD", "OPPORTUNITY"]),
            STAGE,
            "OPPORTUNITY",
            {},
            True,
        ),
        (
            EventFilter(to_states=["DISCOVERY"]),
            STAGE,
            "OPPORTUNITY",
            INTO_DISCOVERY,
            True,
        ),
        (
            EventFilter(to_states=["SCOPING"]),
            STAGE,
            "OPPORTUNITY",
            INTO_DISCOVERY,
            False,
        ),
        (
            EventFilter(from_states=["PENDING_ACCEPTANCE"]),
            STAGE,
            "OPPORTUNITY",
            INTO_DISCOVERY,
            True,
        ),
        (
            EventFilter(from_states=["MQL"], to_states=["DISCOVERY"]),
            STAGE,
            "OPPORTUNITY",
            INTO_DISCOVERY,
            False,
        ),
        # a filter on states matches transitions only
        (EventFilter(to_states=["DISCOVERY"]), "LEAD_ROUTED", "LEAD", {}, False),
        # a record's first state has no "from": only filters without one match it
        (
            EventFilter(from_states=["RAW"]),
            "OPPORTUNITY_CREATED",
            "OPPORTUNITY",
            {"from_state": None, "to_state": "PENDING_ACCEPTANCE"},
            False,
        ),
    ],
)
def test_a_filter_matches_on_type_record_type_from_and_to(
    wanted, kind, record_type, payload, expected
):
    assert matches(wanted, kind, record_type, payload) is expected


@pytest.mark.parametrize(
    ("url", "https_only", "allowed"),
    [
        ("https://hooks.example.com/salesops", True, True),
        ("http://hooks.example.com/salesops", True, False),
        ("http://hooks.example.com/salesops", False, True),
        ("http://127.0.0.1:8080/in", True, True),
        ("http://127.8.9.1/in", True, True),
        ("http://[::1]:9000/in", True, True),
        ("http://localhost:9000/in", True, True),
        ("http://10.0.0.1/in", True, False),
        ("ftp://hooks.example.com/", True, False),
        ("hooks.example.com/in", True, False),
        ("https://user:pw@hooks.example.com/", True, False),
        ("https://hooks.example.com/#frag", True, False),
        ("https://hooks.example.com:99999/", True, False),
        ("https://" + "a" * 2000 + ".example.com/", True, False),
        ("", True, False),
    ],
)
def test_webhooks_go_to_https_except_on_loopback(url, https_only, allowed):
    found = url_refusals(url, https_only=https_only)

    assert [(r.code, r.field) for r in found] == (
        [] if allowed else [(ErrorCode.INVALID_INPUT, ("url",))]
    )


def test_loopback_is_the_machine_itself():
    assert [
        is_loopback(h)
        for h in ("127.0.0.1", "::1", "LOCALHOST", "example.com", "10.1.1.1")
    ] == [True, True, True, False, False]


def test_a_signature_verifies_within_five_minutes_and_never_after_tampering():
    body = b'{"eventId": 1}'
    header = sign("whsec_s3cret", 1_700_000_000, body)

    assert header.startswith("t=1700000000,v1=")
    assert len(header.rpartition("v1=")[2]) == 64
    assert verify_signature("whsec_s3cret", header, body, now=1_700_000_000)
    assert verify_signature("whsec_s3cret", header, body, now=1_700_000_300)
    assert verify_signature("whsec_s3cret", header, body, now=1_699_999_700)
    assert not verify_signature("whsec_s3cret", header, body, now=1_700_000_301)
    assert not verify_signature("whsec_other", header, body, now=1_700_000_000)
    assert not verify_signature("whsec_s3cret", header, body + b" ", now=1_700_000_000)
    assert not verify_signature("whsec_s3cret", None, body, now=1_700_000_000)
    assert not verify_signature("whsec_s3cret", "v1=abc", body, now=1_700_000_000)
    forged = header.replace("t=1700000000", "t=1700000100")
    assert not verify_signature("whsec_s3cret", forged, body, now=1_700_000_100)


def test_a_signature_is_the_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = hmac.new(b"k", b"42." + body, hashlib.sha256).hexdigest()

    assert sign("k", 42, body) == f"t=42,v1={expected}"


def test_backoff_doubles_up_to_the_cap_with_at_most_20_percent_jitter():
    rng = random.Random(7)
    delays = [backoff_seconds(n, base=1.0, cap=60.0, rng=rng) for n in range(1, 10)]

    floors = [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert all(f <= d <= f * 1.2 for d, f in zip(delays, floors, strict=True))
    assert len({round(d / f, 6) for d, f in zip(delays, floors, strict=True)}) > 1


def test_delivery_gives_up_after_the_maximum_attempts_and_only_2xx_delivers():
    assert [gives_up(n, 3) for n in (1, 2, 3, 4)] == [False, False, True, True]
    assert [is_success(c) for c in (200, 204, 299, 301, 400, 500)] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
