"""What a mutation's payload says, read the same way by every API test."""

from __future__ import annotations

from typing import Any


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    """The (code, field) of every user error, in order."""
    return [(e["code"], e["field"]) for e in payload["userErrors"]]
