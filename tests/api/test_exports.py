"""Exports (issue 13 item 5): the column contract, filters equal to the list
queries, formula injection, byte-stable files, ``exportRecords`` jobs written
by a real ``salesops worker`` and downloaded with the bearer token."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.exports import parse_filter
from api.schema import schema
from api.settings import load_settings
from domain.enums import ExportKind, Role
from domain.records import ExportJob
from domain.rules.export_columns import COLUMNS, EXTERNAL_ID, header
from tests.api.conftest import SALESOPS
from tests.api.exporting import build_world, read_csv
from tests.api.ids import gid
from tests.conftest import row_count
from tools.exports import write_export

CREATE_INPUT = {
    ExportKind.LEAD: ("CreateLeadInput", "Lead"),
    ExportKind.CONTACT: ("CreateContactInput", "Contact"),
    ExportKind.ACCOUNT: ("CreateAccountInput", "Account"),
    ExportKind.OPPORTUNITY: ("CreateOpportunityInput", "Opportunity"),
}
CONTROL_FIELDS = {"idempotencyKey", "allowDuplicate"}
# Custom field values (issue 14 item 3) are a list of typed entries, not one
# CSV column: exports do not carry them (README, "Custom fields").
NOT_COLUMNS = {"customFields"}
LIST_QUERY = {
    ExportKind.LEAD: ("leads", "LeadFilter"),
    ExportKind.CONTACT: ("contacts", "ContactFilter"),
    ExportKind.ACCOUNT: ("accounts", "AccountFilter"),
    ExportKind.OPPORTUNITY: ("opportunities", "OpportunityFilter"),
}
EXPORT = """
mutation($input: ExportRecordsInput!) { exportRecords(input: $input) {
  job { id kind status rowCount totalRows progress downloadUrl requestedBy { id } }
  userErrors { code field message } } }"""
JOB = """
query($id: ID!) { exportJob(id: $id) {
  id status rowCount totalRows progress downloadUrl error } }"""


@pytest.mark.parametrize("kind", list(ExportKind))
def test_the_columns_are_the_create_input_then_external_id_then_read_only(kind):
    input_name, type_name = CREATE_INPUT[kind]
    inputs = [
        name
        for name in schema._schema.get_type(input_name).fields  # type: ignore[union-attr]
        if name not in CONTROL_FIELDS and name not in NOT_COLUMNS
    ]
    node_fields = set(schema._schema.get_type(type_name).fields)  # type: ignore[union-attr]
    names = header(kind)

    assert names[: len(inputs)] == inputs
    assert names[len(inputs)] == EXTERNAL_ID
    read_only = [c for c in COLUMNS[kind] if c.read_only]
    assert [c.name for c in read_only] == names[len(inputs) + 1 :]
    assert {c.name for c in read_only} <= node_fields


async def _export(sessions, kind, raw, tmp_path, name="out.csv") -> Path:
    path = tmp_path / name
    await write_export(kind, parse_filter(kind, raw), path, sessions=sessions)
    return path


async def _listed(api, user, kind, raw) -> list[str]:
    field, filter_type = LIST_QUERY[kind]
    result = await api(
        f"query($f: {filter_type}) {{ {field}(filter: $f, first: 500) "
        "{ nodes { id } } }",
        {"f": raw},
        as_user=user,
    )
    return [n["id"] for n in result.ok()[field]["nodes"]]


FILTERS = [
    (ExportKind.LEAD, {}),
    (ExportKind.LEAD, {"search": "acme"}),
    (ExportKind.LEAD, {"initialSource": "Trade Show"}),
    (ExportKind.LEAD, {"status": ["RAW"], "segment": ["LARGE"]}),
    (ExportKind.LEAD, {"unowned": False}),
    (ExportKind.CONTACT, {}),
    (ExportKind.CONTACT, {"search": "jane1"}),
    (ExportKind.ACCOUNT, {}),
    (ExportKind.ACCOUNT, {"isNamed": True}),
    (ExportKind.OPPORTUNITY, {}),
    (ExportKind.OPPORTUNITY, {"stage": ["PENDING_ACCEPTANCE"], "search": "1"}),
]


@pytest.mark.parametrize(("kind", "raw"), FILTERS)
async def test_an_export_holds_exactly_the_records_the_list_query_shows(
    api, make, sessions, tmp_path, kind, raw
):
    world = await build_world(make)

    path = await _export(sessions, kind, raw, tmp_path)

    exported = [row["id"] for row in read_csv(path)]
    assert exported == await _listed(api, world.sdr, kind, raw)
    assert exported  # every filter above matches something


async def test_owner_and_account_filters_take_global_ids_as_the_list_does(
    api, make, sessions, tmp_path
):
    world = await build_world(make)
    raw = {"ownerId": gid("User", world.sdr.id)}
    by_account = {"accountId": gid("Account", world.accounts[1].id)}

    leads = [
        r["id"]
        for r in read_csv(await _export(sessions, ExportKind.LEAD, raw, tmp_path))
    ]
    contacts = read_csv(
        await _export(sessions, ExportKind.CONTACT, by_account, tmp_path, "c.csv")
    )

    assert leads == [gid("Lead", world.leads[1].id)]
    assert [r["id"] for r in contacts] == [gid("Contact", world.contacts[2].id)]


async def test_cells_are_written_as_the_contract_says_and_formulas_are_neutralized(
    make, sessions, tmp_path
):
    world = await build_world(make)

    leads = read_csv(await _export(sessions, ExportKind.LEAD, {}, tmp_path))
    accounts = read_csv(
        await _export(sessions, ExportKind.ACCOUNT, {}, tmp_path, "a.csv")
    )
    deals = read_csv(
        await _export(sessions, ExportKind.OPPORTUNITY, {}, tmp_path, "o.csv")
    )

    hostile = leads[2]
    assert hostile["firstName"] == '\'=HYPERLINK("http://evil.example","x")'
    assert hostile["company"] == "'@SUM(1+1)"
    assert hostile["title"] == "'-2+3+cmd|' /C calc'!A0"
    assert hostile["country"] == "Deutschland"
    assert leads[1]["phone"] == "+49 30 1234567"  # a phone is no formula
    assert leads[1]["ownerId"] == gid("User", world.sdr.id)
    assert leads[0]["numberOfEmployees"] == "5000"
    assert leads[0]["salesSegment"] == "LARGE"
    assert leads[0]["status"] == "RAW"
    assert leads[0]["isPublicSector"] == "false"
    assert leads[0]["externalId"] == ""
    assert leads[0]["accountId"] == ""
    assert leads[0]["createdAt"].endswith("+00:00")
    assert leads[0]["createdAt"] == world.leads[0].created_at.isoformat()
    acme = accounts[0]
    assert acme["domains"] == "acme.com;acme.io"
    assert acme["annualRevenue"] == "1250000.50"
    assert acme["salesSegment"] == "LARGE"
    assert acme["region"] == "US_WEST"
    assert acme["type"] == "PROSPECT"
    assert accounts[1]["isNamed"] == "true"
    assert accounts[1]["domains"] == ""
    assert [d["incrementalAcv"] for d in deals] == ["12000.00", "5.25", "900.00"]
    assert deals[0]["stage"] == "PENDING_ACCEPTANCE"
    assert deals[0]["accountId"] == gid("Account", world.accounts[0].id)


async def test_the_same_data_gives_the_same_bytes_utf8_with_a_header(
    make, sessions, tmp_path
):
    world = await build_world(make)
    await make.lead(by=world.marketing, first_name="Zoë", company='Ünïcode, "Inc"')

    first = await _export(sessions, ExportKind.LEAD, {}, tmp_path, "1.csv")
    second = await _export(sessions, ExportKind.LEAD, {}, tmp_path, "2.csv")

    data = first.read_bytes()
    assert data == second.read_bytes()
    assert data.startswith(",".join(header(ExportKind.LEAD)).encode() + b"\r\n")
    assert "Zoë".encode() in data and b'"\xc3\x9cn\xc3\xafcode, ""Inc"""' in data
    assert not list(tmp_path.glob("*.part"))


async def test_an_export_reads_in_batches_and_loses_no_row_at_their_edges(
    make, sessions, tmp_path
):
    world = await build_world(make)
    path = tmp_path / "small-batches.csv"
    accounts = tmp_path / "accounts-one-by-one.csv"

    rows = await write_export(
        ExportKind.LEAD,
        parse_filter(ExportKind.LEAD, {}),
        path,
        sessions=sessions,
        batch=3,
    )
    await write_export(
        ExportKind.ACCOUNT,
        parse_filter(ExportKind.ACCOUNT, {}),
        accounts,
        sessions=sessions,
        batch=1,
    )

    assert rows == 4
    assert [r["id"] for r in read_csv(path)] == [
        gid("Lead", lead.id) for lead in world.leads
    ]
    assert [r["domains"] for r in read_csv(accounts)] == ["acme.com;acme.io", ""]


async def test_an_sdr_may_not_export_and_no_job_is_queued(api, make, sessions):
    world = await build_world(make)

    result = await api(EXPORT, {"input": {"kind": "LEAD"}}, as_user=world.sdr)

    payload = result.ok()["exportRecords"]
    assert payload["job"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("FORBIDDEN", None)
    ]
    assert await row_count(sessions, ExportJob) == 0


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        (
            {"kind": "LEAD", "leadFilter": {"ownerId": "bm90IGFuIGlk"}},
            [("INVALID_INPUT", ["leadFilter", "ownerId"])],
        ),
        (
            {"kind": "LEAD", "leadFilter": {"ownerId": gid("Account", 1)}},
            [("INVALID_INPUT", ["leadFilter", "ownerId"])],
        ),
        (
            {"kind": "LEAD", "contactFilter": {"search": "x"}},
            [("INVALID_INPUT", ["contactFilter"])],
        ),
        (
            {"kind": "ACCOUNT", "leadFilter": {}, "opportunityFilter": {}},
            [
                ("INVALID_INPUT", ["leadFilter"]),
                ("INVALID_INPUT", ["opportunityFilter"]),
            ],
        ),
    ],
)
async def test_a_bad_filter_is_a_typed_error_and_queues_nothing(
    api, make, sessions, input, expected
):
    world = await build_world(make)

    result = await api(EXPORT, {"input": input}, as_user=world.ops)

    payload = result.ok()["exportRecords"]
    assert payload["job"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == expected
    assert await row_count(sessions, ExportJob) == 0


def test_a_stored_filter_is_checked_by_the_schema_with_its_paths():
    with pytest.raises(Exception) as refused:
        parse_filter(
            ExportKind.LEAD, {"status": ["NOPE"], "scoreAtLeast": "high", "x": 1}
        )

    assert sorted(r.field for r in refused.value.refusals) == [  # type: ignore[attr-defined]
        ("filter",),
        ("filter", "scoreAtLeast"),
        ("filter", "status", "0"),
    ]


async def test_a_queued_export_is_written_by_the_worker_and_downloaded_by_its_owner(
    api, make, sessions, database_url, tmp_path
):
    world = await build_world(make)
    raw = {"initialSource": "Web Direct", "status": ["RAW"]}
    queued = await api(
        EXPORT, {"input": {"kind": "LEAD", "leadFilter": raw}}, as_user=world.marketing
    )
    job = queued.ok()["exportRecords"]["job"]
    assert queued.ok()["exportRecords"]["userErrors"] == []
    assert (job["kind"], job["status"], job["progress"], job["downloadUrl"]) == (
        "LEAD",
        "QUEUED",
        None,
        None,
    )
    export_dir = tmp_path / "exports"

    done = subprocess.run(  # noqa: ASYNC221 - the worker is the thing under test
        [SALESOPS, "worker", "--once"],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "SALESOPS_EXPORT_DIR": str(export_dir),
        },
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stderr
    job = (await api(JOB, {"id": job["id"]}, as_user=world.marketing)).ok()["exportJob"]
    expected = await _export(sessions, ExportKind.LEAD, raw, tmp_path, "direct.csv")
    assert (job["status"], job["rowCount"], job["totalRows"], job["progress"]) == (
        "DONE",
        3,
        3,
        1.0,
    )
    assert job["downloadUrl"] == f"/exports/{job['id']}"
    sdr_view = (await api(JOB, {"id": job["id"]}, as_user=world.sdr)).ok()["exportJob"]
    assert sdr_view["downloadUrl"] is None
    tokens = {
        u.id: await make.token(u) for u in (world.marketing, world.ops, world.sdr)
    }
    settings = load_settings().model_copy(update={"export_dir": str(export_dir)})
    app = create_app(database_url, settings=settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        async def get(user_id: int | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {tokens[user_id]}"} if user_id else {}
            return await client.get(job["downloadUrl"], headers=headers)

        mine = await get(world.marketing.id)
        ops = await get(world.ops.id)
        sdr = await get(world.sdr.id)
        nobody = await get(None)
        missing = await client.get(
            f"/exports/{gid('ExportJob', 999)}",
            headers={"Authorization": f"Bearer {tokens[world.ops.id]}"},
        )
    await app.state.engine.dispose()
    assert mine.status_code == 200 and ops.status_code == 200
    assert mine.content == expected.read_bytes() == ops.content
    assert mine.headers["content-type"] == "text/csv; charset=utf-8"
    assert (sdr.status_code, sdr.json()["errors"][0]["extensions"]["code"]) == (
        403,
        "FORBIDDEN",
    )
    assert nobody.status_code == 401
    assert missing.status_code == 404


def test_a_filter_input_is_stored_as_the_api_spells_it_and_reads_back_the_same():
    from datetime import UTC, datetime

    from api.exports import filter_json
    from api.leads import LeadFilter
    from domain.enums import LeadStatus, Region

    given = LeadFilter(
        status=[LeadStatus.MQL, LeadStatus.ACCEPTED],
        region=[Region.EMEA],
        created_after=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        score_at_least=50,
        unowned=False,
    )

    stored = filter_json(given)
    query = parse_filter(ExportKind.LEAD, stored)

    assert stored == {
        "status": ["MQL", "ACCEPTED"],
        "unowned": False,
        "region": ["EMEA"],
        "scoreAtLeast": 50,
        "createdAfter": "2026-01-02T03:04:05+00:00",
    }
    assert (query.status, query.region, query.score_at_least, query.unowned) == (
        [LeadStatus.MQL, LeadStatus.ACCEPTED],
        [Region.EMEA],
        50,
        False,
    )
    assert query.created_after == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_a_job_is_claimed_once_and_a_silent_worker_s_job_is_taken_over(
    make, sessions
):
    from datetime import timedelta

    from domain.enums import ExportJobStatus
    from domain.rules.permissions import Actor
    from domain.services.exports import claim_export, start_export
    from domain.sqltypes import utcnow

    ops = await make.user(Role.SALES_OPS)
    queued = await make.run(
        lambda s: start_export(
            ExportKind.LEAD, session=s, actor=Actor(ops.id, ops.role), filter_of=dict
        )
    )
    now = utcnow()

    async def claim(worker: str, at):
        async with sessions() as s:
            return await claim_export(s, worker=worker, now=at, lease_seconds=300)

    first = await claim("a", now)
    second = await claim("b", now + timedelta(seconds=299))
    taken_over = await claim("c", now + timedelta(seconds=301))

    assert (first.id, first.status, first.claimed_by) == (
        queued.id,
        ExportJobStatus.RUNNING,
        "a",
    )
    assert second is None
    assert (taken_over.id, taken_over.claimed_by) == (queued.id, "c")
