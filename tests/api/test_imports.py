"""List import (D12, issue 13 item 1): every row through the API's use cases,
row outcomes, dry run, atomic mode, idempotent re-import; startImport and its
job over GraphQL and HTTP multipart; the worker."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.imports import decode_reference, report_line
from domain.enums import ImportKind, Region, Role, SalesSegment
from domain.records import Account, Contact, Event, ImportJob, Lead
from domain.rules.import_mapping import parse_mapping
from domain.rules.permissions import Actor
from domain.services.import_files import open_import_file
from domain.services.imports import ImportOptions, RowResult, Tally, import_file
from tests.api.ids import gid

LEADS_DATA = (
    Path(__file__).resolve().parents[2] / "../shared/data/leads-lead-scoring/Leads.csv"
)
LEADS_DATA = (
    Path(__file__).resolve().parents[2] / "../shared/data/leads-lead-scoring/Leads.csv"
)
LEAD_MAPPING = {
    "externalId": "Id",
    "firstName": {"split": "Name", "part": "first"},
    "lastName": {"split": "Name", "part": "last"},
    "email": "Email",
    "title": "Title",
    "company": "Company",
    "country": "Country",
    "initialSource": "Source",
}
LEADS_CSV = (
    "Id,Name,Email,Title,Company,Country,Source\n"
    "L1,Jane Doe,jane@acme.com,VP Sales,Acme,Germany,\n"
    "L2,Bob Roe,bob@beta.io,Engineer,Beta,USA,Webcast\n"
    "L3,No Mail,not-an-email,,,,\n"
    "L4,Jane Again,JANE@acme.com,,,,\n"
    "L5,Zed Q,zed@zz.com,,,,Unknown\n"
)


async def run(
    sessions: Any,
    by: Any,
    data: str | bytes,
    mapping: dict[str, Any] | None = None,
    *,
    kind: ImportKind = ImportKind.LEAD,
    source: str | None = "Trade show",
    slow_commits: float = 0,
    **options: Any,
) -> tuple[list[RowResult], Tally]:
    """Import ``data`` (CSV text or bytes) as ``by``: the row results and counts
    (``slow_commits``: seconds each batch waits before it commits)."""
    parsed, refused = parse_mapping(kind, mapping or LEAD_MAPPING)
    assert parsed is not None, refused
    results: list[RowResult] = []

    async def report(batch: list[RowResult], _: Any) -> None:
        results.extend(batch)
        await asyncio.sleep(slow_commits)

    raw = data.encode() if isinstance(data, str) else data
    async with sessions() as session:
        tally = await import_file(
            open_import_file(raw, "list.csv"),
            ImportOptions(kind=kind, mapping=parsed, source=source, **options),
            session=session,
            actor=Actor(by.id, by.role),
            decode=decode_reference,
            report=report,
        )
    return results, tally


def lines(results: list[RowResult]) -> list[list[Any]]:
    return [report_line(r) for r in results]


async def count(sessions: Any, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def one(sessions: Any, model: type, **where: Any) -> Any:
    async with sessions() as session:
        stmt = select(model).filter_by(**where)
        return (await session.execute(stmt)).scalar_one()


async def test_each_row_is_created_skipped_or_rejected_with_its_reasons(sessions, make):
    ops = await make.user(Role.MARKETING_OPS)
    results, tally = await run(sessions, ops, LEADS_CSV)
    jane = await one(sessions, Lead, external_id="L1")
    bob = await one(sessions, Lead, external_id="L2")
    assert lines(results) == [
        [2, "CREATED", gid("Lead", jane.id), "", "", None],
        [3, "CREATED", gid("Lead", bob.id), "", "", None],
        [4, "REJECTED", None, "INVALID_INPUT", "email",
         "'not-an-email' is not a valid email address."],
        [5, "SKIPPED_DUPLICATE", gid("Lead", jane.id), "DUPLICATE_RECORD", "email",
         "A lead already has this email under another external id (recordId)."],
        [6, "REJECTED", None, "INVALID_INPUT", "initialSource",
         "'Unknown' is not accepted as an initial source for records created by "
         "hand; name the first known touch."],
    ]  # fmt: skip
    assert (tally.rows, tally.created, tally.skipped, tally.rejected) == (5, 2, 1, 2)
    assert await count(sessions, Lead) == 2


async def test_a_created_lead_gets_what_create_lead_gives(sessions, make):
    """Derived segment/region (D5), demographic score (D6), initial source (D4):
    the file's source when the row maps none, the row's own otherwise."""
    ops = await make.user(Role.MARKETING_OPS)
    await run(sessions, ops, LEADS_CSV)
    jane = await one(sessions, Lead, external_id="L1")
    bob = await one(sessions, Lead, external_id="L2")
    assert (jane.first_name, jane.last_name, jane.email) == (
        "Jane",
        "Doe",
        "jane@acme.com",
    )
    assert (jane.initial_source, bob.initial_source) == ("Trade show", "Webcast")
    assert (jane.region, jane.sales_segment) == (Region.EMEA, SalesSegment.UNKNOWN)
    # VP +50, company email +5; Engineer -10, company email +5.
    assert (jane.person_score, bob.person_score) == (55, -5)
    assert (jane.import_source, jane.created_by_id) == ("Trade show", ops.id)


async def test_reimporting_the_same_file_changes_nothing(sessions, make):
    ops = await make.user(Role.MARKETING_OPS)
    await run(sessions, ops, LEADS_CSV)
    jane = await one(sessions, Lead, external_id="L1")
    events = await count(sessions, Event)
    results, tally = await run(sessions, ops, LEADS_CSV)
    assert [r.outcome.value for r in results] == [
        "UNCHANGED", "UNCHANGED", "REJECTED", "SKIPPED_DUPLICATE", "REJECTED",
    ]  # fmt: skip
    assert (tally.created, tally.updated) == (0, 0)
    again = await one(sessions, Lead, external_id="L1")
    assert again.version == jane.version
    assert await count(sessions, Lead) == 2
    assert await count(sessions, Event) == events


async def test_a_changed_row_updates_the_record_matched_by_external_id(sessions, make):
    ops = await make.user(Role.MARKETING_OPS)
    await run(sessions, ops, LEADS_CSV)
    jane = await one(sessions, Lead, external_id="L1")
    changed = LEADS_CSV.replace(
        "L1,Jane Doe,jane@acme.com,VP Sales", "L1,Jane Doe,jane@acme.com,Engineer"
    )
    results, _ = await run(sessions, ops, changed)
    assert lines(results)[0] == [2, "UPDATED", gid("Lead", jane.id), "", "", None]
    after = await one(sessions, Lead, id=jane.id)
    assert (after.title, after.person_score, after.version) == (
        "Engineer", -5, jane.version + 1,
    )  # fmt: skip


async def test_a_row_matched_by_email_takes_the_external_id(sessions, make):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, email="jane@acme.com", title="Manager")
    results, _ = await run(
        sessions,
        ops,
        "Id,Name,Email,Title,Company,Country,Source\nX9,Jane Doe,Jane@ACME.com,VP,,,\n",
    )
    assert lines(results) == [[2, "UPDATED", gid("Lead", lead.id), "", "", None]]
    after = await one(sessions, Lead, id=lead.id)
    assert (after.external_id, after.title, after.last_name) == ("X9", "VP", "Doe")


async def test_changing_the_initial_source_is_refused_and_leaves_no_trace(
    sessions, make
):
    ops = await make.user(Role.MARKETING_OPS)
    await run(sessions, ops, LEADS_CSV)
    bob = await one(sessions, Lead, external_id="L2")
    moved = LEADS_CSV.replace("USA,Webcast", "Canada,Trade show")
    results, _ = await run(sessions, ops, moved)
    assert lines(results)[1][:5] == [
        3,
        "REJECTED",
        None,
        "IMMUTABLE_FIELD",
        "initialSource",
    ]
    after = await one(sessions, Lead, id=bob.id)
    assert (after.country, after.version) == ("USA", bob.version)


async def test_a_row_refused_after_a_write_leaves_no_trace(sessions, make):
    """The account is flushed, then its domain is found taken: the savepoint
    takes the account back; the row names the account that has the domain."""
    ops = await make.user(Role.SALES_OPS)
    mapping = {"name": "Name", "domains": "Web", "externalId": "Id"}
    await run(
        sessions,
        ops,
        "Id,Name,Web\nA1,Acme,acme.com\n",
        mapping,
        kind=ImportKind.ACCOUNT,
    )
    acme = await one(sessions, Account, external_id="A1")
    results, tally = await run(
        sessions,
        ops,
        "Id,Name,Web\nA2,Other Co,https://www.acme.com\nA3,Beta,beta.io\n",
        mapping,
        kind=ImportKind.ACCOUNT,
    )
    assert [line[:5] for line in lines(results)] == [
        [2, "SKIPPED_DUPLICATE", gid("Account", acme.id), "DUPLICATE_RECORD", "domains.0"],
        [3, "CREATED", gid("Account", (await one(sessions, Account, external_id="A3")).id), "", ""],
    ]  # fmt: skip
    assert await count(sessions, Account) == 2
    assert tally.skipped == 1


async def test_contacts_need_their_account_named_by_id_or_external_id(sessions, make):
    ops = await make.user(Role.SALES_OPS)
    await run(
        sessions, ops, "Id,Name\nA1,Acme\n", {"name": "Name", "externalId": "Id"},
        kind=ImportKind.ACCOUNT,
    )  # fmt: skip
    acme = await one(sessions, Account, external_id="A1")
    mapping = {"lastName": "Last", "email": "Email", "accountId": "Account"}
    results, _ = await run(
        sessions,
        ops,
        f"Last,Email,Account\nDoe,d@acme.com,A1\nRoe,r@acme.com,{gid('Account', acme.id)}\n"
        f"Poe,p@acme.com,{gid('Lead', 1)}\nMoe,m@acme.com,\n",
        mapping,
        kind=ImportKind.CONTACT,
    )
    assert [line[1:5] for line in lines(results)][2:] == [
        ["REJECTED", None, "INVALID_INPUT", "accountId"],
        ["REJECTED", None, "MISSING_FIELD", "accountId"],
    ]
    assert [r.outcome.value for r in results][:2] == ["CREATED", "CREATED"]
    doe = await one(sessions, Contact, email="d@acme.com")
    assert (doe.account_id, doe.initial_source, doe.owner_id) == (
        acme.id,
        "Trade show",
        ops.id,
    )


async def test_a_dry_run_changes_nothing_and_reports_what_the_real_run_does(
    sessions, make
):
    ops = await make.user(Role.MARKETING_OPS)
    dry, dry_tally = await run(sessions, ops, LEADS_CSV, dry_run=True)
    assert await count(sessions, Lead) == 0
    assert await count(sessions, Event) == 0
    real, real_tally = await run(sessions, ops, LEADS_CSV)
    # The same report, except that a dry run names no record it would create
    # (neither on its row nor as the duplicate of a later row).
    new = {r.record for r in real if r.outcome.value == "CREATED"}
    for r in real:
        if r.record in new:
            r.record = None
    assert lines(dry) == lines(real)
    assert dry_tally == real_tally


async def test_an_atomic_import_with_a_rejected_row_writes_nothing(sessions, make):
    ops = await make.user(Role.MARKETING_OPS)
    results, tally = await run(sessions, ops, LEADS_CSV, atomic=True)
    assert tally.created == 2 and tally.rejected == 2
    assert [r.record for r in results[:2]] == [None, None]
    assert await count(sessions, Lead) == 0
    good = "".join(LEADS_CSV.splitlines(keepends=True)[:3])
    _, tally = await run(sessions, ops, good, atomic=True)
    assert await count(sessions, Lead) == 2 == tally.created


async def test_a_user_who_may_not_import_is_refused_before_any_row(sessions, make):
    rep = await make.user(Role.AE)
    try:
        await run(sessions, rep, LEADS_CSV)
    except Exception as exc:
        refused = exc
    assert [(r.code.value, r.field) for r in refused.refusals] == [("FORBIDDEN", ())]  # type: ignore[attr-defined]
    assert await count(sessions, Lead) == 0


async def test_a_slice_of_the_lead_scoring_data_imports_with_template_names(
    sessions, make
):
    """Leads.csv has no names or emails: the mapping supplies them."""
    ops = await make.user(Role.MARKETING_OPS)
    head = "".join(LEADS_DATA.read_text(encoding="utf-8").splitlines(True)[:41])
    mapping = {
        "externalId": "Prospect ID",
        "lastName": {"template": "Lead {Lead Number}"},
        "leadSource": {"column": "Lead Source", "map": {"Olark Chat": "WEB_CHAT"}},
        "initialSource": {"column": "Lead Origin"},
        "country": {"column": "Country", "map": {"Select": ""}},
    }
    results, tally = await run(sessions, ops, head, mapping, source="Leads.csv")
    assert tally.rows == 40 and tally.created == 40, lines(results)
    rows = list(csv.DictReader(io.StringIO(head)))
    first = await one(sessions, Lead, external_id=rows[0]["Prospect ID"])
    assert first.last_name == f"Lead {rows[0]['Lead Number']}"
    assert first.initial_source == rows[0]["Lead Origin"]
    olark = [r for r in rows if r["Lead Source"] == "Olark Chat"]
    assert olark
    lead = await one(sessions, Lead, external_id=olark[0]["Prospect ID"])
    assert lead.lead_source == "WEB_CHAT"
    _, again = await run(sessions, ops, head, mapping, source="Leads.csv")
    assert again.unchanged == 40


# --- GraphQL: mappings, startImport, the job, multipart over HTTP, the worker ------

SAVE = """
mutation($input: SaveImportMappingInput!) { saveImportMapping(input: $input) {
  importMapping { name kind fields } userErrors { code field message } } }"""
MAPPINGS = (
    "query($kind: ImportKind) { importMappings(kind: $kind) { name kind fields } }"
)
SUGGEST = """
query($header: [String!]!) { suggestImportMapping(kind: LEAD, header: $header) {
  fields fuzzyMatches { column field } unmappedColumns } }"""
START = """
mutation($input: StartImportInput!) { startImport(input: $input) {
  job { id status totalRows rowsDone progress created updated unchanged skipped
        rejected unmappedColumns error dryRun
        rows(first: 50) { nodes { rowNumber outcome recordId codes fields message } } }
  userErrors { code field message } } }"""
JOB = """
query($id: ID!) { importJob(id: $id) { status progress rowsDone created error
  rows { nodes { rowNumber outcome recordId codes fields } } } }"""


def upload(data: str | bytes, name: str = "list.csv") -> Any:
    """A file as strawberry hands it to a resolver (Starlette's UploadFile)."""
    from starlette.datastructures import UploadFile

    raw = data.encode() if isinstance(data, str) else data
    return UploadFile(file=io.BytesIO(raw), filename=name)


def report_of(job: dict[str, Any]) -> list[list[Any]]:
    return [
        [r["rowNumber"], r["outcome"], r["recordId"], ";".join(r["codes"]),
         ";".join(r["fields"])]
        for r in job["rows"]["nodes"]
    ]  # fmt: skip


async def test_a_mapping_is_saved_by_name_and_listed(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    fields = {"email": "Email", "lastName": {"template": "Lead {Lead Number}"}}
    saved = await api(
        SAVE, {"input": {"name": "webinar", "kind": "LEAD", "fields": fields}},
        as_user=ops,
    )  # fmt: skip
    assert saved.ok()["saveImportMapping"] == {
        "importMapping": {"name": "webinar", "kind": "LEAD", "fields": fields},
        "userErrors": [],
    }
    listed = await api(MAPPINGS, {"kind": "LEAD"}, as_user=ops)
    assert listed.ok()["importMappings"] == [
        {"name": "webinar", "kind": "LEAD", "fields": fields}
    ]
    assert (await api(MAPPINGS, {"kind": "ACCOUNT"}, as_user=ops)).ok() == {
        "importMappings": []
    }


async def test_a_malformed_mapping_is_refused_with_its_fields(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    bad = {"nickname": "Nick", "email": {"constant": 3}}
    result = await api(
        SAVE, {"input": {"name": "bad", "kind": "LEAD", "fields": bad}}, as_user=ops
    )
    assert [
        (e["code"], e["field"]) for e in result.ok()["saveImportMapping"]["userErrors"]
    ] == [
        ("INVALID_INPUT", ["mapping", "nickname"]),
        ("INVALID_INPUT", ["mapping", "email"]),
    ]
    assert (await api(MAPPINGS, as_user=ops)).ok() == {"importMappings": []}


async def test_a_header_gets_a_suggested_mapping(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    result = await api(
        SUGGEST, {"header": ["E-mail", "firstName", "Notes"]}, as_user=ops
    )
    assert result.ok()["suggestImportMapping"] == {
        "fields": {"firstName": "firstName", "email": "E-mail"},
        "fuzzyMatches": [],
        "unmappedColumns": ["Notes"],
    }


async def test_start_import_runs_a_small_file_and_reports_every_row(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    input_ = {
        "file": upload(LEADS_CSV),
        "kind": "LEAD",
        "mapping": LEAD_MAPPING,
        "source": "Trade show",
    }
    job = (await api(START, {"input": input_}, as_user=ops)).ok()["startImport"]
    assert job["userErrors"] == []
    job = job["job"]
    jane = await one(sessions, Lead, external_id="L1")
    bob = await one(sessions, Lead, external_id="L2")
    assert {k: job[k] for k in ("status", "totalRows", "rowsDone", "progress")} == {
        "status": "DONE", "totalRows": 5, "rowsDone": 5, "progress": 1.0,
    }  # fmt: skip
    assert (job["created"], job["skipped"], job["rejected"]) == (2, 1, 2)
    assert report_of(job) == [
        [2, "CREATED", gid("Lead", jane.id), "", ""],
        [3, "CREATED", gid("Lead", bob.id), "", ""],
        [4, "REJECTED", None, "INVALID_INPUT", "email"],
        [5, "SKIPPED_DUPLICATE", gid("Lead", jane.id), "DUPLICATE_RECORD", "email"],
        [6, "REJECTED", None, "INVALID_INPUT", "initialSource"],
    ]
    # node(id) / importJob(id) read it back.
    again = await api(JOB, {"id": job["id"]}, as_user=ops)
    assert again.ok()["importJob"]["rows"]["nodes"][0]["recordId"] == gid(
        "Lead", jane.id
    )


async def test_a_dry_run_job_reports_the_same_rows_and_writes_nothing(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    base = {"kind": "LEAD", "mapping": LEAD_MAPPING, "source": "Trade show"}
    dry = (
        await api(START, {"input": {**base, "file": upload(LEADS_CSV), "dryRun": True}},
                  as_user=ops)
    ).ok()["startImport"]["job"]  # fmt: skip
    assert await count(sessions, Lead) == 0
    real = (
        await api(START, {"input": {**base, "file": upload(LEADS_CSV)}}, as_user=ops)
    ).ok()["startImport"]["job"]
    # The same report, except that no record the run creates is named by the
    # dry run (they do not exist): neither on its row nor as a duplicate.
    new = {r[2] for r in report_of(real) if r[1] == "CREATED"}
    blank = [[*r[:2], None if r[2] in new else r[2], *r[3:]] for r in report_of(real)]
    assert report_of(dry) == blank
    assert (dry["dryRun"], dry["created"], dry["rejected"]) == (True, 2, 2)


async def test_start_import_is_refused_to_a_user_who_may_not_import(
    api, make, sessions
):
    rep = await make.user(Role.AE)
    input_ = {"file": upload(LEADS_CSV), "kind": "LEAD", "mapping": LEAD_MAPPING}
    result = (await api(START, {"input": input_}, as_user=rep)).ok()["startImport"]
    assert result["job"] is None
    assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]
    assert await count(sessions, ImportJob) == 0


async def test_a_mapping_reading_a_missing_column_refuses_the_file(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    input_ = {
        "file": upload("Email\na@b.co\n"),
        "kind": "LEAD",
        "mapping": LEAD_MAPPING,
    }
    result = (await api(START, {"input": input_}, as_user=ops)).ok()["startImport"]
    assert result["job"] is None
    assert {tuple(e["field"]) for e in result["userErrors"]} >= {
        ("mapping", "externalId"), ("mapping", "title"),
    }  # fmt: skip
    assert await count(sessions, ImportJob) == 0


async def test_a_multipart_upload_over_http_imports_the_file(
    database_url, make, sessions
):
    import json

    import httpx

    from api.app import create_app

    ops = await make.user(Role.MARKETING_OPS)
    token = await make.token(ops)
    app = create_app(database_url)
    operations = {
        "query": START,
        "variables": {
            "input": {"file": None, "kind": "LEAD", "mapping": LEAD_MAPPING,
                      "source": "Trade show"}
        },
    }  # fmt: skip
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": ("leads.csv", LEADS_CSV.encode(), "text/csv")},
        )
    await app.state.engine.dispose()
    assert response.status_code == 200, response.text
    job = response.json()["data"]["startImport"]["job"]
    assert (job["status"], job["created"], job["rejected"]) == ("DONE", 2, 2)
    assert await count(sessions, Lead) == 2


async def test_a_large_file_is_queued_and_imported_by_the_worker(
    api, make, sessions, database_url
):
    from tests.api.conftest import run_worker_once

    ops = await make.user(Role.MARKETING_OPS)
    rows = "".join(
        f"X{n},Person {n},p{n}@big{n % 7}.example,,,,\n" for n in range(2500)
    )
    big = "Id,Name,Email,Title,Company,Country,Source\n" + rows
    assert len(big) > 64 * 1024
    input_ = {"file": upload(big), "kind": "LEAD", "mapping": LEAD_MAPPING,
              "source": "Purchased list"}  # fmt: skip
    job = (await api(START, {"input": input_}, as_user=ops)).ok()["startImport"]["job"]
    assert (job["status"], job["rowsDone"], job["progress"]) == ("QUEUED", 0, 0.0)
    assert await count(sessions, Lead) == 0
    run_worker_once(database_url)
    done = (await api(JOB, {"id": job["id"]}, as_user=ops)).ok()["importJob"]
    assert (done["status"], done["rowsDone"], done["created"], done["progress"]) == (
        "DONE", 2500, 2500, 1.0,
    )  # fmt: skip
    assert await count(sessions, Lead) == 2500


class _Crash(BaseException):
    """The worker's process dies (not an error its job would record)."""


async def test_a_dead_worker_s_import_is_taken_over_and_resumes_after_its_rows(
    api, make, sessions, monkeypatch
):
    from datetime import timedelta

    from domain.services import imports

    # Batches of 200 rows on both databases.
    monkeypatch.setattr(imports, "POSTGRESQL_BATCH_SIZE", imports.BATCH_SIZE)

    from domain.records import ImportRow
    from domain.services.import_jobs import claim_import_job, run_import_job
    from domain.sqltypes import utcnow

    ops = await make.user(Role.MARKETING_OPS)
    sdr = await make.user(Role.SDR)
    # 300 rows (a batch and a half), made large by a column no field reads.
    note = "n" * 200
    rows = "".join(
        f"X{n},Person {n},p{n}@list.example,{gid('User', sdr.id)},{note}\n"
        for n in range(300)
    )
    big = "Id,Name,Email,Owner,Notes\n" + rows
    assert len(big) > 64 * 1024
    mapping = {"externalId": "Id", "firstName": {"split": "Name", "part": "first"},
               "lastName": {"split": "Name", "part": "last"}, "email": "Email",
               "ownerId": "Owner"}  # fmt: skip
    input_ = {"file": upload(big), "kind": "LEAD", "mapping": mapping,
              "source": "Purchased list"}  # fmt: skip
    job = (await api(START, {"input": input_}, as_user=ops)).ok()["startImport"]["job"]
    job_id = int(base64.b64decode(job["id"]).decode().split(":")[1])
    decoded = 0

    def dies_in_the_second_batch(text: str, *args: Any) -> int:
        nonlocal decoded
        decoded += 1
        if decoded > 250:
            raise _Crash
        return decode_reference(text, *args)

    async def claim(worker: str, at: Any) -> int | None:
        async with sessions() as s:
            return await claim_import_job(s, worker=worker, now=at, lease_seconds=300)

    async def run_as(worker: str, decode: Any = decode_reference) -> None:
        async with sessions() as s:
            await run_import_job(
                job_id, session=s, decode=decode, worker=worker, claimed=True
            )

    async def state() -> tuple[Any, ...]:
        found = await one(sessions, ImportJob, id=job_id)
        return (found.status.value, found.claimed_by, found.rows_done,
                found.created, await count(sessions, Lead),
                await count(sessions, ImportRow))  # fmt: skip

    assert await claim("a", utcnow()) == job_id
    with pytest.raises(_Crash):
        await run_as("a", dies_in_the_second_batch)
    # The first batch, its row report and counts committed together.
    assert await state() == ("RUNNING", "a", 200, 200, 200, 200)
    assert await claim("b", utcnow() + timedelta(seconds=250)) is None
    assert await claim("b", utcnow() + timedelta(seconds=301)) == job_id
    # "a" comes back: its next batch finds the job taken over and rolls back.
    await run_as("a")
    assert await state() == ("RUNNING", "b", 200, 200, 200, 200)
    await run_as("b")
    assert await state() == ("DONE", "b", 300, 300, 300, 300)
    async with sessions() as s:
        numbers = list(
            await s.scalars(
                select(ImportRow.row_number).where(ImportRow.job_id == job_id)
            )
        )
    assert sorted(numbers) == list(range(2, 302))


async def test_a_file_sent_in_the_json_variables_is_refused_typed(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    input_ = {"file": "Email\na@b.co\n", "kind": "LEAD"}
    result = (await api(START, {"input": input_}, as_user=ops)).ok()["startImport"]
    assert result["job"] is None
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
        ("INVALID_INPUT", ["file"])
    ]
    assert await count(sessions, ImportJob) == 0
