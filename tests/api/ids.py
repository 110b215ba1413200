"""Relay global ids as a client writes and reads them: base64 of "Type:id".

Built here, not with ``api.relay``, so that a test checks the ids the API
gives instead of trusting the code under test.
"""

from __future__ import annotations

import base64


def gid(node: str | type, record_id: int | str) -> str:
    """The global id of a record; ``node`` is the GraphQL type's name ("Lead")
    or its strawberry type (``LeadNode``)."""
    name = node if isinstance(node, str) else node.__strawberry_definition__.name  # type: ignore[attr-defined]
    return base64.b64encode(f"{name}:{record_id}".encode()).decode()


def raw_id(global_id: str) -> int:
    """The database id inside a global id."""
    return int(base64.b64decode(global_id).decode().split(":")[1])
