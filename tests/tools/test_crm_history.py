"""Migrating a CRM's history (issue 13 item 2), on the real data sets.

``crm-sales-opportunities`` (sales teams, 85 accounts, the sales pipeline) and
``leads-lead-scoring/Leads.csv`` go through the import path the command line
takes (``tools.imports.run_import``, the mapping files of ``imports/``); then
the pipeline, stage velocity, funnel and SAO reports, read through GraphQL,
are checked against an independent computation from the CSVs with the csv
module. The teams and accounts are loaded whole; the pipeline and the leads
one row in ``STEP`` (the independent computation reads the same rows): a whole
pipeline takes minutes (README "Migrating a CRM's history" has its figures),
and CI is near its limit.
"""

from __future__ import annotations

import csv
import os
import statistics
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.enums import ImportKind, Role
from tools.cli_errors import CliError
from tools.imports import ImportRequest, run_import

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "imports"


def _shared_data() -> Path | None:
    given = os.environ.get("SALESOPS_SHARED_DATA")
    candidates = [Path(given)] if given else []
    candidates += [p / "shared" / "data" for p in ROOT.parents]
    return next(
        (p for p in candidates if (p / "crm-sales-opportunities").is_dir()), None
    )


DATA = _shared_data()
pytestmark = pytest.mark.skipif(
    DATA is None, reason="the shared data sets (../shared/data) are not here"
)
STEP = 20
DAY = 86400


def read(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows (the independent side: the csv module alone)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def every_step(source: Path, target: Path) -> list[dict[str, str]]:
    """Write every STEP-th row of ``source`` to ``target``; those rows."""
    with source.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [r for i, r in enumerate(reader) if i % STEP == 0]
    with target.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)
    return [dict(zip(header, r, strict=False)) for r in rows]


async def load(
    sessions: Any,
    admin: str,
    path: Path,
    kind: ImportKind,
    mapping: Path,
    report: Path,
    **options: Any,
) -> list[list[str]]:
    """Import one file as ``salesops import`` does; its row report."""
    request = ImportRequest(
        path=path,
        kind=kind,
        mapping=str(mapping),
        report=report,
        as_email=admin,
        **options,
    )
    async with sessions() as session:
        await run_import(request, session, progress=lambda n: None, say=print)
    with report.open(encoding="utf-8") as f:
        return list(csv.reader(f))[1:]


def outcomes(report: list[list[str]]) -> Counter[tuple[str, str]]:
    """(outcome, codes) -> rows."""
    return Counter((line[1], line[3]) for line in report)


async def all_won(api: Any, admin: Any) -> list[dict[str, Any]]:
    """Every won opportunity with its account's name and owner's email."""
    query = """query($after: String) {
      opportunities(first: 500, after: $after, filter: {stage: [CLOSED_WON]}) {
        nodes { incrementalAcv account { name } owner { email } }
        pageInfo { hasNextPage endCursor } } }"""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await api(query, {"after": after}, as_user=admin)).ok()
        found += page["opportunities"]["nodes"]
        if not page["opportunities"]["pageInfo"]["hasNextPage"]:
            return found
        after = page["opportunities"]["pageInfo"]["endCursor"]


def median(values: list[int]) -> float | None:
    """The middle value (the mean of the two middle ones), as the reports say."""
    return float(statistics.median(values)) if values else None


def email_of(name: str) -> str:
    """The mapping files' address of a sales agent or manager."""
    return ".".join(name.lower().replace("-", " ").split()) + "@crm-sales.example"


async def test_the_crm_history_imports_and_the_reports_match_the_csvs(
    api, make, sessions, tmp_path
):
    assert DATA is not None
    crm, scoring = DATA / "crm-sales-opportunities", DATA / "leads-lead-scoring"
    admin = await make.user(Role.ADMIN, email="migration@example.com")
    ops = await make.user(Role.SALES_OPS, email="ops@example.com")
    crm_maps, lead_maps = (
        MAPPINGS / "crm-sales-opportunities",
        MAPPINGS / "leads-lead-scoring",
    )
    teams, accounts = read(crm / "sales_teams.csv"), read(crm / "accounts.csv")
    deals = every_step(crm / "sales_pipeline.csv", tmp_path / "pipeline.csv")
    leads = every_step(scoring / "Leads.csv", tmp_path / "leads.csv")

    # --- given: the CRM's people, accounts and deals, imported ------------------
    agents = await load(
        sessions, admin.email, crm / "sales_teams.csv", ImportKind.USER,
        crm_maps / "sales-agents.json", tmp_path / "agents.csv",
    )  # fmt: skip
    managers = await load(
        sessions, admin.email, crm / "sales_teams.csv", ImportKind.USER,
        crm_maps / "sales-managers.json", tmp_path / "managers.csv",
    )  # fmt: skip
    assert outcomes(agents) == {("CREATED", ""): len(teams)}
    assert outcomes(managers) == {
        ("CREATED", ""): len({t["manager"] for t in teams}),
        ("UNCHANGED", ""): len(teams) - len({t["manager"] for t in teams}),
    }
    made = await load(
        sessions, admin.email, crm / "accounts.csv", ImportKind.ACCOUNT,
        crm_maps / "accounts.json", tmp_path / "accounts.csv",
    )  # fmt: skip
    # Typos are repaired by the mapping's corrections, and every repair is said.
    typos = sum(a["sector"] == "technolgy" for a in accounts) + sum(
        a["office_location"] == "Philipines" for a in accounts
    )
    assert typos == 13
    assert outcomes(made) == {
        ("CREATED", ""): len(accounts) - typos,
        ("CREATED", "VALUE_CORRECTED"): typos,
    }
    parents = await load(
        sessions, admin.email, crm / "accounts.csv", ImportKind.ACCOUNT,
        crm_maps / "account-parents.json", tmp_path / "parents.csv",
    )  # fmt: skip
    children = sum(bool(a["subsidiary_of"]) for a in accounts)
    assert outcomes(parents) == {
        ("UPDATED", ""): children,
        ("UNCHANGED", ""): len(accounts) - children,
    }
    # Without the flag, the engage days are refused before any row.
    with pytest.raises(CliError, match="salesAcceptedDate is set only by a historical"):
        await load(
            sessions, ops.email, tmp_path / "pipeline.csv", ImportKind.OPPORTUNITY,
            crm_maps / "opportunities.json", tmp_path / "plain.csv",
        )  # fmt: skip
    history = await load(
        sessions, ops.email, tmp_path / "pipeline.csv", ImportKind.OPPORTUNITY,
        crm_maps / "opportunities.json", tmp_path / "deals.csv", historical=True,
    )  # fmt: skip

    # Re-imported, the history changes nothing (external ids).
    again = await load(
        sessions, ops.email, tmp_path / "pipeline.csv", ImportKind.OPPORTUNITY,
        crm_maps / "opportunities.json", tmp_path / "again.csv", historical=True,
    )  # fmt: skip
    assert Counter(line[1] for line in again) == Counter(
        "UNCHANGED" if line[1] == "CREATED" else line[1] for line in history
    )

    # --- then: every row has its outcome, messy rows said so -------------------
    def expected_row(d: dict[str, str]) -> tuple[str, str]:
        codes = (["MISSING_FIELD"] if not d["account"] else []) + (
            ["VALUE_CORRECTED"] if d["product"] == "GTXPro" else []
        )
        return ("REJECTED" if not d["account"] else "CREATED", ";".join(codes))

    assert outcomes(history) == Counter(expected_row(d) for d in deals)
    assert all(
        line[4].startswith("accountId") for line in history if line[1] == "REJECTED"
    )
    imported = [d for d in deals if d["account"]]
    won = [d for d in imported if d["deal_stage"] == "Won"]
    lost = [d for d in imported if d["deal_stage"] == "Lost"]
    engaging = [d for d in imported if d["deal_stage"] == "Engaging"]
    assert won and lost and engaging

    # Won: count and total close value per account and per sales agent.
    rows = await all_won(api, admin)
    by_account: dict[str, list[Decimal]] = defaultdict(list)
    by_agent: dict[str, list[Decimal]] = defaultdict(list)
    for o in rows:
        by_account[o["account"]["name"]].append(Decimal(o["incrementalAcv"]))
        by_agent[o["owner"]["email"]].append(Decimal(o["incrementalAcv"]))
    csv_account: dict[str, list[Decimal]] = defaultdict(list)
    csv_agent: dict[str, list[Decimal]] = defaultdict(list)
    for d in won:
        csv_account[d["account"]].append(Decimal(d["close_value"]))
        csv_agent[email_of(d["sales_agent"])].append(Decimal(d["close_value"]))
    assert {k: (len(v), sum(v)) for k, v in by_account.items()} == {
        k: (len(v), sum(v)) for k, v in csv_account.items()
    }
    assert {k: (len(v), sum(v)) for k, v in by_agent.items()} == {
        k: (len(v), sum(v)) for k, v in csv_agent.items()
    }

    # Pipeline: the open deals (Engaging -> 1-Discovery), count and IACV.
    pipeline = (
        await api(
            "{ pipeline { count iacv stages { stage count iacv } } }", as_user=admin
        )
    ).ok()["pipeline"]
    assert pipeline["count"] == len(engaging)
    assert Decimal(pipeline["iacv"]) == 0
    assert {s["stage"]: s["count"] for s in pipeline["stages"] if s["count"]} == {
        "DISCOVERY": len(engaging)
    }

    # Stage velocity: won and lost, days from engagement to close in 1-Discovery.
    velocity = (
        await api(
            "{ stageVelocity { wonCount lostCount stages { stage "
            "won { count averageSeconds medianSeconds } "
            "lost { count averageSeconds medianSeconds } } } }",
            as_user=admin,
        )
    ).ok()["stageVelocity"]
    assert (velocity["wonCount"], velocity["lostCount"]) == (len(won), len(lost))

    def days(d: dict[str, str]) -> int:
        spent = date.fromisoformat(d["close_date"]) - date.fromisoformat(
            d["engage_date"]
        )
        return spent.days * DAY

    stages = {s["stage"]: s for s in velocity["stages"]}
    for outcome, closed in (("won", won), ("lost", lost)):
        spent = [days(d) for d in closed]
        assert stages["DISCOVERY"][outcome] == {
            "count": len(closed),
            "averageSeconds": sum(spent) / len(spent),
            "medianSeconds": median(spent),
        }
        assert stages["PENDING_ACCEPTANCE"][outcome]["medianSeconds"] == 0

    # Funnel: the deals are direct records; SAO = engaged, SQO and WON = won.
    funnel = (
        await api(
            "{ funnel(source: DIRECT) { milestones { milestone count "
            "medianSecondsFromPrevious } } }",
            as_user=admin,
        )
    ).ok()["funnel"]
    counts = {m["milestone"]: m["count"] for m in funnel["milestones"]}
    engaged = won + lost + engaging
    assert counts["PENDING_ACCEPTANCE"] == counts["SAO"] == len(engaged)
    assert counts["SQO"] == counts["WON"] == len(won)
    sqo = next(m for m in funnel["milestones"] if m["milestone"] == "SQO")
    assert sqo["medianSecondsFromPrevious"] == median([days(d) for d in won])

    # SAO report: accepted per month on the engage day, qualified on the win.
    sao = (
        await api(
            '{ salesAcceptedOpportunities(after: "2016-10-01", before: "2018-01-01") '
            "{ sao sqo periods { start sao sqo } } }",
            as_user=admin,
        )
    ).ok()["salesAcceptedOpportunities"]
    accepted = Counter(d["engage_date"][:7] for d in engaged)
    qualified = Counter(d["close_date"][:7] for d in won)
    assert (sao["sao"], sao["sqo"]) == (len(engaged), len(won))
    assert {p["start"][:7]: (p["sao"], p["sqo"]) for p in sao["periods"]} == {
        p["start"][:7]: (accepted[p["start"][:7]], qualified[p["start"][:7]])
        for p in sao["periods"]
    }

    # The ledger: one won deal's past, noted as the audited import it was.
    deal = won[0]
    found = (
        await api(
            "query($q: String) { opportunities(first: 1, filter: {search: $q}) "
            "{ nodes { stage salesAcceptedDate closedAt history "
            "{ from to at note actor { email } } } } }",
            {"q": deal["opportunity_id"]},
            as_user=admin,
        )
    ).ok()["opportunities"]["nodes"][0]
    assert [(h["from"], h["to"], h["at"][:10]) for h in found["history"]] == [
        (None, "PENDING_ACCEPTANCE", deal["engage_date"]),
        ("PENDING_ACCEPTANCE", "DISCOVERY", deal["engage_date"]),
        ("DISCOVERY", "CLOSED_WON", deal["close_date"]),
    ]
    assert found["history"][2]["note"].endswith("pipeline.csv row 2, stage 'Won').")
    assert {h["actor"]["email"] for h in found["history"]} == {ops.email}

    # --- the leads: names from a template, sources and countries mapped ---------
    made_leads = await load(
        sessions, admin.email, tmp_path / "leads.csv", ImportKind.LEAD,
        lead_maps / "leads.json", tmp_path / "leads-report.csv",
        source="X Education CRM",
    )  # fmt: skip
    from domain.rules.segmentation import normalize_country

    def lead_codes(lead: dict[str, str]) -> str:
        codes = (["VALUE_CORRECTED"] * 2 if lead["Lead Source"] == "google" else []) + (
            ["UNKNOWN_COUNTRY"]
            if lead["Country"] and normalize_country(lead["Country"]) is None
            else []
        )
        return ";".join(codes)

    assert outcomes(made_leads) == Counter(("CREATED", lead_codes(x)) for x in leads)
    lead_funnel = (
        await api(
            "{ funnel(source: LEAD) { milestones { milestone count } } }", as_user=admin
        )
    ).ok()["funnel"]
    assert lead_funnel["milestones"][0] == {"milestone": "RAW", "count": len(leads)}
    activities = await load(
        sessions, admin.email, tmp_path / "leads.csv", ImportKind.ACTIVITY,
        lead_maps / "last-activities.json", tmp_path / "activities.csv",
    )  # fmt: skip
    assert Counter(line[1] for line in activities) == Counter(
        "CREATED" if x["Last Activity"] else "REJECTED" for x in leads
    )
