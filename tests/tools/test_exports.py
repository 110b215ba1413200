"""`salesops export` (issue 13 item 5), run as a user would run it."""

from __future__ import annotations

import pytest

from domain.enums import ExportKind
from domain.rules.export_columns import header
from tests.api.exporting import build_world, read_csv
from tests.api.ids import gid
from tests.tools.test_cli import run

TYPE_OF = {
    ExportKind.LEAD: "Lead",
    ExportKind.CONTACT: "Contact",
    ExportKind.ACCOUNT: "Account",
    ExportKind.OPPORTUNITY: "Opportunity",
}


@pytest.mark.parametrize("kind", list(ExportKind), ids=lambda k: k.value)
async def test_export_writes_every_record_of_a_kind_with_the_contract_header(
    database_url, make, tmp_path, kind
):
    world = await build_world(make)
    records = {
        ExportKind.LEAD: world.leads,
        ExportKind.CONTACT: world.contacts,
        ExportKind.ACCOUNT: world.accounts,
        ExportKind.OPPORTUNITY: world.opportunities,
    }[kind]
    path = tmp_path / f"{kind.value.lower()}.csv"

    done = run(database_url, "export", "--kind", kind.value.lower(), str(path))

    assert done.returncode == 0, done.stderr
    assert f"Exported {len(records)} {kind.value.lower()} rows" in done.stderr
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(header(kind))
    assert [r["id"] for r in read_csv(path)] == [
        gid(TYPE_OF[kind], r.id) for r in records
    ]


async def test_export_takes_key_value_and_json_filters_together(
    database_url, make, tmp_path
):
    world = await build_world(make)
    path = tmp_path / "leads.csv"

    done = run(
        database_url,
        "export",
        "--kind",
        "LEAD",
        "--filter",
        "status=RAW,MQL",
        "--filter",
        '{"initialSource": "Web Direct", "unowned": false}',
        str(path),
    )

    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in read_csv(path)] == [gid("Lead", world.leads[1].id)]


async def test_a_bad_filter_is_one_line_on_stderr_and_writes_no_file(
    database_url, empty_database, tmp_path
):
    path = tmp_path / "leads.csv"

    done = run(
        database_url,
        "export",
        "--kind",
        "lead",
        "--filter",
        "status=NOPE",
        "--filter",
        "ownerId=nope",
        str(path),
    )

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "salesops: INVALID_INPUT filter.status.0: Value 'NOPE' does not exist in "
        "'LeadStatus' enum."
    ]
    assert not path.exists()


def test_an_unknown_kind_is_one_line_on_stderr(database_url, tmp_path):
    done = run(database_url, "export", "--kind", "deal", str(tmp_path / "x.csv"))

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "salesops: unknown kind 'deal': use one of LEAD, CONTACT, ACCOUNT, OPPORTUNITY"
    ]
