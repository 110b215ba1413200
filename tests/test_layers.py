"""Every arrow points down (STYLE.md, "The rooms"): each room imports only the
rooms below it, and nothing is imported for its side effect."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# room (a folder or a module) -> module prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # pure rules and machines: no I/O, no edge, nothing above them
    "domain/rules": (
        "sqlalchemy",
        "sqlmodel",
        "strawberry",
        "starlette",
        "domain.db",
        "domain.services",
        "domain.reports",
        "api",
        "tools",
    ),
    "domain/lifecycle": (
        "sqlalchemy",
        "sqlmodel",
        "strawberry",
        "starlette",
        "domain.db",
        "domain.services",
        "domain.reports",
        "api",
        "tools",
    ),
    # engines and transactions know no use case
    "domain/db.py": ("domain.services", "domain.reports", "api", "tools"),
    "domain/records.py": ("domain.db", "domain.services", "domain.reports", "api"),
    "domain/services": ("strawberry", "starlette", "api", "tools"),
    "domain/reports": ("strawberry", "starlette", "api", "tools"),
    # the GraphQL edge is not a tool
    "api": ("tools",),
}


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports (absolute imports, at any depth)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def files_of(room: str) -> list[Path]:
    """The Python files of a room (a folder, or one module)."""
    path = ROOT / room
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_imports_nothing_above_it(room: str):
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            module
            for module in imported_modules(path)
            for banned in FORBIDDEN[room]
            if module == banned or module.startswith(banned + ".")
        )
        for path in files_of(room)
    }

    assert {path: found for path, found in offenders.items() if found} == {}


def test_no_module_is_imported_for_its_side_effect():
    """`import x  # noqa: F401` is how a side-effect import hides from ruff."""
    hidden = [
        f"{path.relative_to(ROOT)}:{number}"
        for room in ("domain", "api", "tools")
        for path in sorted((ROOT / room).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.lstrip().startswith(("import ", "from ")) and "F401" in line
    ]

    assert hidden == []


def test_the_cli_and_the_demo_data_live_in_tools():
    assert not (ROOT / "api" / "cli.py").exists()
    assert not (ROOT / "domain" / "demo.py").exists()
    assert (ROOT / "tools" / "cli.py").exists()
    assert (ROOT / "tools" / "demo" / "__init__.py").exists()


# f-strings of domain/ that do format a database id, and why none is a message.
RAW_ID_ALLOWED = {
    # the RecordRef marker itself, and its plain rendering for logs and the CLI
    ("domain/errors.py", "self.id"),
    ("domain/errors.py", "record_id"),
    # a lock key, never shown
    ("domain/services/idempotency.py", "actor.id"),
    # an assertion for developers
    ("domain/services/milestones.py", "opp.id"),
    # the last-resort *name* of an account/contact made from a lead with no name,
    # company or email: data, not a message
    ("domain/services/lead_lifecycle.py", "lead.id"),
}


def id_formatting_sites(path: Path) -> set[tuple[str, str]]:
    """(file, expression) of every f-string value that is an id (``x.id``,
    ``lead_id``): a raw database id pasted into text."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.FormattedValue):
            continue
        value = node.value
        name = (
            value.attr
            if isinstance(value, ast.Attribute)
            else value.id
            if isinstance(value, ast.Name)
            else ""
        )
        if name == "id" or name.endswith(("_id", "_ids")):
            found.add((str(path.relative_to(ROOT)), ast.unparse(value)))
    return found


def test_domain_messages_name_records_by_reference_never_by_raw_database_id():
    """A message names a record with ``RecordRef`` (the edge renders its global
    id) or by name; ``f"Lead {lead.id}"`` would show clients a database id."""
    found = set().union(*map(id_formatting_sites, files_of("domain")))

    assert found - RAW_ID_ALLOWED == set()
