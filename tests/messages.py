"""What a message clients read may not contain (issue #16, item 8): records are
named by global id or by name, fields by the API's camelCase names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# "Lead 12", "user 3", "account #7", "id 9": a database id next to what it numbers.
RAW_ID = re.compile(
    r"(?i)\b(?:lead|account|contact|opportunity|user|campaign|activity|merge|"
    r"hand-off|engagement|token|webhook|delivery|scan|id)s?\s+#?\d+\b"
)
# A column name (``incremental_acv``); SCREAMING_SNAKE enum values are fine.
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# What the caller typed, echoed in quotes, is theirs, not ours.
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
UNRENDERED = ("\u27e6", "\u27e7")


def message_faults(message: str) -> list[str]:
    """Why ``message`` may not reach a client (empty: it may)."""
    ours = QUOTED.sub("", message)
    faults = [f"database id {m.group(0)!r}" for m in RAW_ID.finditer(ours)]
    faults += [f"column name {m!r}" for m in SNAKE_CASE.findall(ours)]
    if any(mark in message for mark in UNRENDERED):
        faults.append("an unrendered record reference")
    return faults


def error_messages(data: Any) -> Iterator[str]:
    """Every ``message`` of every ``userErrors``/``blockedBy`` entry in a result."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("userErrors", "blockedBy") and isinstance(value, list):
                yield from (e["message"] for e in value if "message" in e)
            else:
                yield from error_messages(value)
    elif isinstance(data, list):
        for item in data:
            yield from error_messages(item)


def assert_clean_messages(data: Any) -> None:
    """Fail when a user error of ``data`` names a record or field the wrong way."""
    faulty = {m: f for m in error_messages(data) if (f := message_faults(m))}
    assert faulty == {}, f"user error messages that clients must not read: {faulty}"
