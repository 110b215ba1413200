"""Tools stand beside the service: nothing in domain/ or api/ imports them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports (absolute imports, at any depth)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_no_module_of_domain_or_api_imports_tools():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m == "tools" or m.startswith("tools.")
        )
        for room in ("domain", "api")
        for path in sorted((ROOT / room).rglob("*.py"))
    }

    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_cli_and_the_demo_data_live_in_tools():
    assert not (ROOT / "api" / "cli.py").exists()
    assert not (ROOT / "domain" / "demo.py").exists()
    assert (ROOT / "tools" / "cli.py").exists()
    assert (ROOT / "tools" / "demo" / "__init__.py").exists()
