"""The README's promises that code can check."""

from __future__ import annotations

import re
from pathlib import Path

from domain.lifecycle.lead import LEAD_MACHINE

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_opens_with_the_run_and_test_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)

    assert first_block is not None
    lines = first_block.group(1).strip().splitlines()
    assert len(lines) == 2
    assert "salesops serve --demo" in lines[0]
    assert lines[1].endswith(".venv/bin/pytest")


def test_the_readme_lead_diagram_is_the_machine_s_own():
    shown = re.search(
        r"<!-- lead-machine:start -->\n```mermaid\n(.*?)```", README, re.S
    )

    assert shown is not None
    assert shown.group(1).strip() == LEAD_MACHINE.mermaid().strip()


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    test_command = re.search(r"```bash\n.*?\n(.*?)\n```", README, re.S).group(1)

    assert f"TEST_COMMAND='{test_command}'" in ci


def test_the_readme_permission_table_is_the_code_s_own():
    from domain.rules.permissions import permissions_markdown

    shown = re.search(
        r"<!-- permissions:start -->\n(.*?)\n<!-- permissions:end -->", README, re.S
    )

    assert shown is not None
    assert shown.group(1).strip() == permissions_markdown().strip()
