"""The schema's contract with its clients (issue 16 item 8), checked with the
pinned npm tools through ``npx``:

- graphql-schema-linter passes with the committed config (``.ci/``): relay,
  description and naming rules; no alphabetical-order rules;
- every breaking change graphql-inspector finds between the last release
  (``.ci/released-schema.graphql``) and ``schema.graphql`` is recorded in
  ``CHANGELOG.md`` (`.ci/run` also prints the whole diff).

A release copies ``schema.graphql`` over the released one and starts a new
"Unreleased" section.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINTER = ("--package", "graphql@16.11.0", "--package", "graphql-schema-linter@3.0.1")
INSPECTOR = (
    "--package",
    "graphql@16.11.0",
    "--package",
    "@graphql-inspector/cli@7.0.0",
)


def npx(packages: tuple[str, ...], *command: str) -> subprocess.CompletedProcess[str]:
    """Run a pinned npm tool (fails, never skips, without Node.js)."""
    if shutil.which("npx") is None:
        pytest.fail("npx (Node.js) is needed for the schema checks")
    return subprocess.run(
        ["npx", "--yes", *packages, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_schema_passes_the_linter():
    found = npx(LINTER, "graphql-schema-linter", "-c", ".ci", "schema.graphql")

    assert found.returncode == 0, found.stdout + found.stderr


def breaking_changes(diff: str) -> list[tuple[str, str]]:
    """(the line, the member it names) of every breaking change in a diff."""
    found = []
    for line in diff.splitlines():
        if "✖" in line:
            text = line.split("✖", 1)[1].strip()
            member = re.match(
                r"(?:Input field|Argument|Field|Type|Enum value|Directive|Member) "
                r"'?(\w+)",
                text,
            )
            found.append((text, member.group(1) if member else text))
    return found


def test_every_breaking_change_since_the_last_release_is_in_the_changelog():
    diff = npx(
        INSPECTOR,
        "graphql-inspector",
        "diff",
        ".ci/released-schema.graphql",
        "schema.graphql",
    )
    unreleased = (ROOT / "CHANGELOG.md").read_text().split("\n## ")[1]

    missing = [
        text
        for text, member in breaking_changes(diff.stdout + diff.stderr)
        if f"`{member}" not in unreleased and f"{member}`" not in unreleased
    ]

    assert unreleased.startswith("Unreleased")
    assert missing == [], "breaking changes not in CHANGELOG.md:\n" + "\n".join(missing)


def test_a_breaking_change_is_read_from_the_diff():
    diff = (
        "[log] ✔  Field Lead.name was added\n"
        "[log] ✖  Argument closedFrom: Date was removed from field Query.x\n"
        "[log] ✖  Input field closeDateTo was removed from input object type P\n"
    )

    assert [member for _, member in breaking_changes(diff)] == [
        "closedFrom",
        "closeDateTo",
    ]
