"""`salesops import` (issue 13 item 1), run as a user would run it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from domain.enums import Role
from domain.records import Lead
from tests.api.ids import gid
from tests.api.test_imports import LEAD_MAPPING, LEADS_CSV, count, one
from tests.tools.test_cli import run


def read_report(path: str) -> list[list[str]]:
    """The lines of a CSV row report."""
    with Path(path).open(encoding="utf-8") as f:
        return list(csv.reader(f))


def files(tmp_path, data: str = LEADS_CSV) -> tuple[str, str, str]:
    listing, mapping, report = (tmp_path / n for n in ("l.csv", "m.json", "r.csv"))
    listing.write_text(data, encoding="utf-8")
    mapping.write_text(json.dumps({"kind": "LEAD", "fields": LEAD_MAPPING}))
    return str(listing), str(mapping), str(report)


async def test_import_writes_the_row_report_and_a_summary(
    database_url, make, sessions, tmp_path
):
    ops = await make.user(Role.MARKETING_OPS, email="ops@example.com")
    listing, mapping, report = files(tmp_path)
    args = [listing, "--kind", "lead", "--mapping", mapping, "--source", "Trade show"]
    done = run(database_url, "import", *args, "--report", report, "--as", ops.email)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "5 rows: 2 created, 0 updated, 0 unchanged, 1 skipped as duplicates, 2 rejected"
    )
    jane = await one(sessions, Lead, external_id="L1")
    lines = read_report(report)
    assert lines[0] == ["row", "outcome", "recordId", "codes", "fields", "message"]
    assert [line[:5] for line in lines[1:]] == [
        ["2", "CREATED", gid("Lead", jane.id), "", ""],
        ["3", "CREATED", gid("Lead", jane.id + 1), "", ""],
        ["4", "REJECTED", "", "INVALID_INPUT", "email"],
        ["5", "SKIPPED_DUPLICATE", gid("Lead", jane.id), "DUPLICATE_RECORD", "email"],
        ["6", "REJECTED", "", "INVALID_INPUT", "initialSource"],
    ]
    again = run(database_url, "import", *args, "--as", ops.email, "--dry-run")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        "5 rows: 0 created, 0 updated, 2 unchanged, 1 skipped as duplicates, "
        "2 rejected (dry run: nothing written)"
    )
    assert await count(sessions, Lead) == 2


async def test_import_mistakes_are_one_line_on_stderr(database_url, make, tmp_path):
    rep = await make.user(Role.AE, email="rep@example.com")
    await make.user(Role.ADMIN)  # the default importer
    listing, mapping, _ = files(tmp_path, "Email\na@b.co\n")
    cases = {
        ("--kind", "deal"): "unknown kind 'DEAL'",
        ("--kind", "lead", "--mapping", mapping): "import refused: externalId: the "
        "file has no column 'Id'.",
        ("--kind", "lead", "--mapping", "nope"): "no mapping file or saved mapping "
        "named 'nope'",
        ("--kind", "lead", "--as", rep.email): "import refused: IMPORT_RECORDS:",
        ("--kind", "lead", "--as", "ghost@example.com"): "no active user",
    }
    for args, start in cases.items():
        done = run(database_url, "import", listing, *args)
        assert done.returncode == 1, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert start in done.stderr, done.stderr
