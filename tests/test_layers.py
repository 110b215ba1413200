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
