"""Webhooks (issue 12): which events a subscription wants, where they may be sent,
how a delivery is signed and verified, and when a failed one is tried again.

Pure: plain values in, decisions out.

Signature: every POST carries ``X-Salesops-Signature: t=<unix seconds>,v1=<hex>``
where ``<hex>`` is HMAC-SHA256 of ``f"{t}.{body}"`` (the raw body bytes) keyed
with the subscription's secret. A receiver recomputes it over the body it got,
compares in constant time, and refuses a ``t`` more than five minutes from its
own clock (a replayed request); ``verify_signature`` does exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from domain.enums import ErrorCode
from domain.errors import Refusal

SIGNATURE_HEADER = "X-Salesops-Signature"
EVENT_ID_HEADER = "X-Salesops-Event-Id"
# A receiver refuses signatures older (or newer) than this: a replay window.
REPLAY_WINDOW_SECONDS = 300
URL_MAX_LENGTH = 2000
SECRET_PREFIX = "whsec_"

# Retries: 1 s, 2 s, 4 s … (capped), each with up to 20 % random jitter, so
# that subscriptions failing together do not retry in lockstep.
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 3600.0
BACKOFF_JITTER = 0.2
DEFAULT_MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What a subscription asks for; each list is "any of", empty is "any"."""

    event_types: Collection[str] = ()
    record_types: Collection[str] = ()
    from_states: Collection[str] = ()
    to_states: Collection[str] = ()


def matches(
    wanted: EventFilter, kind: str, record_type: str, payload: Mapping[str, Any]
) -> bool:
    """Whether an event is one the filter asks for.

    ``from``/``to`` are the states of a transition event (``from_state`` and
    ``to_state`` in its payload); a filter on them matches only transitions,
    and a record's first state (no ``from``) only a filter without ``from``.
    """
    if wanted.event_types and kind not in wanted.event_types:
        return False
    if wanted.record_types and record_type not in wanted.record_types:
        return False
    if wanted.from_states and payload.get("from_state") not in wanted.from_states:
        return False
    return not (wanted.to_states and payload.get("to_state") not in wanted.to_states)


LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``: the machine itself."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_refusals(url: str, *, https_only: bool = True) -> list[Refusal]:
    """Where webhooks may go: an absolute http(s) URL without credentials;
    ``https`` unless the target is loopback or ``https_only`` is off."""

    def bad(message: str) -> list[Refusal]:
        return [Refusal.on("url", ErrorCode.INVALID_INPUT, message)]

    if len(url) > URL_MAX_LENGTH:
        return bad(f"The URL is longer than {URL_MAX_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return bad("The URL cannot be parsed.")
    if parts.scheme not in {"http", "https"} or not host:
        return bad("The URL must be absolute, http:// or https://.")
    if parts.username is not None or parts.password is not None:
        return bad("The URL may not carry a user name or password; use the secret.")
    if parts.fragment:
        return bad("The URL may not have a #fragment.")
    if parts.scheme == "http" and https_only and not is_loopback(host):
        return bad("Webhooks go to https:// URLs only (http:// only on loopback).")
    return []


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Salesops-Signature`` value of a body sent at ``timestamp``."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float,
    window_seconds: int = REPLAY_WINDOW_SECONDS,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within the replay window.

    What a receiver does: parse ``t`` and every ``v1``, refuse a ``t`` farther
    than ``window_seconds`` from ``now``, recompute the HMAC and compare in
    constant time.
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or abs(now - timestamp) > window_seconds:
        return False
    expected = sign(secret, timestamp, body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, c) for c in candidates)


def backoff_seconds(
    failed_attempts: int,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    jitter: float = BACKOFF_JITTER,
    rng: random.Random | None = None,
) -> float:
    """How long to wait after the ``failed_attempts``-th failure: exponential,
    capped, plus up to ``jitter`` of itself at random."""
    delay = min(cap, base * 2 ** max(0, failed_attempts - 1))
    return delay * (1 + jitter * (rng or random).random())


def gives_up(failed_attempts: int, max_attempts: int) -> bool:
    """After this many failures the delivery is dead-lettered."""
    return failed_attempts >= max_attempts


def is_success(status_code: int) -> bool:
    """A 2xx answer delivers; anything else (3xx included: no redirects) fails."""
    return 200 <= status_code < 300
