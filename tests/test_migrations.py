"""Alembic: an empty database migrates to head, matches the models, and goes back."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, inspect, select, table, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from domain.db import alembic_config, is_sqlite, make_sync_engine
from domain.sqltypes import UTCDateTime

VERSIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


@pytest.fixture
def fresh_database(database_url: str, tmp_path) -> Iterator[str]:
    """A brand-new empty database of the same kind as the test database."""
    if is_sqlite(database_url):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    # Named after the test database, so runs on different databases never collide.
    name = f"{make_url(database_url).database}_migration_test"
    admin = make_sync_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield (
            make_url(database_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_migrating_an_fresh_database_to_head_matches_the_models(fresh_database):
    command.upgrade(alembic_config(fresh_database), "head")

    engine = make_sync_engine(fresh_database)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}),
            SQLModel.metadata,
        )
    engine.dispose()

    assert diff == []


def test_downgrading_to_base_removes_every_table(fresh_database):
    command.upgrade(alembic_config(fresh_database), "head")

    command.downgrade(alembic_config(fresh_database), "base")

    engine = make_sync_engine(fresh_database)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()


def insert_old_leads(conn, at: datetime, rows: list[dict]) -> None:
    """Leads as any schema version had them: each row's own values over the
    columns every version requires (RAW, score 0, UNKNOWN segment, all times
    ``at``); every row names the same columns."""
    base = {
        "version": 1,
        "initial_source": "Web Direct",
        "status": "RAW",
        "person_score": 0,
        "is_public_sector": False,
        "sales_segment": "UNKNOWN",
        "created_at": at,
        "updated_at": at,
        "status_changed_at": at,
    }
    full = [{**base, **row} for row in rows]
    times = {"created_at", "updated_at", "status_changed_at"}
    leads = table(
        "leads",
        *(column(n, UTCDateTime() if n in times else None) for n in full[0]),
    )
    conn.execute(leads.insert(), full)


def test_upgrading_gives_existing_leads_their_score_facts(fresh_database):
    command.upgrade(alembic_config(fresh_database), "0002")
    engine = make_sync_engine(fresh_database)
    now = datetime(2024, 3, 4, 12, tzinfo=UTC)
    at = UTCDateTime()
    engagements = table(
        "engagements",
        column("id"),
        column("lead_id"),
        column("kind"),
        column("occurred_at", at),
        column("created_at", at),
    )
    profiles = [(1, "Senior Developer", "a@acme.com"), (2, None, "b@gmail.com")]
    with engine.begin() as conn:
        insert_old_leads(
            conn,
            now,
            [{"id": i, "title": t, "email": e} for i, t, e in profiles],
        )
        conn.execute(
            engagements.insert(),
            [
                {
                    "id": n,
                    "lead_id": 2,
                    "kind": "CAREERS_PAGE_VISIT",
                    "occurred_at": now + timedelta(days=days),
                    "created_at": now,
                }
                for n, days in ((1, 0), (2, 3), (3, 4), (4, 5))
            ],
        )

    command.upgrade(alembic_config(fresh_database), "head")

    with engine.connect() as conn:
        facts = conn.execute(
            text(
                "SELECT id, score_title_seniority, score_title_blank_or_technical, "
                "score_email_domain, score_careers_penalties FROM leads ORDER BY id"
            )
        ).all()
        heads = conn.execute(
            text("SELECT name, version FROM rule_table_heads ORDER BY name")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in facts] == [
        (1, True, True, "acme.com", 0),
        (2, False, True, "gmail.com", 2),
    ]
    assert [tuple(row) for row in heads] == [
        ("REGIONS", 1),
        ("SCORING", 1),
        ("STAGE_REQUIREMENTS", 1),
        ("TIMEOUTS", 1),
    ]


def test_the_seeded_stage_requirements_are_the_handbooks(fresh_database):
    from domain.rules.stage_requirements import HANDBOOK_REQUIREMENTS, from_document

    command.upgrade(alembic_config(fresh_database), "head")
    engine = make_sync_engine(fresh_database)
    with engine.connect() as conn:
        [(document,)] = conn.execute(
            text("SELECT document FROM stage_requirements_versions WHERE version = 1")
        ).all()
    engine.dispose()
    if isinstance(document, str):  # SQLite gives the JSON text back
        document = json.loads(document)
    assert from_document(document, version=1) == HANDBOOK_REQUIREMENTS


def test_upgrading_gives_accepted_leads_a_full_timeout_from_then_on(fresh_database):
    from domain.rules.business_days import sla_due_at

    command.upgrade(alembic_config(fresh_database), "0021_stage_requirements")
    engine = make_sync_engine(fresh_database)
    then = datetime(2024, 3, 4, 12, tzinfo=UTC)
    at = UTCDateTime()
    with engine.begin() as conn:
        insert_old_leads(
            conn,
            then,
            [
                {"id": i, "status": status}
                for i, status in ((1, "ACCEPTED"), (2, "MQL"))
            ],
        )
    before = datetime.now(UTC)
    command.upgrade(alembic_config(fresh_database), "head")
    after = datetime.now(UTC)
    with engine.connect() as conn:
        stamped = dict(
            conn.execute(
                select(column("id"), column("timeout_at", at))
                .select_from(table("leads"))
                .order_by(column("id"))
            ).all()
        )
    engine.dispose()
    # Five weekdays after the upgrade, at the upgrade's time.
    assert stamped[2] is None
    assert sla_due_at(before, 5) <= stamped[1] <= sla_due_at(after, 5)


def test_the_seeded_timeouts_are_the_documented_ones(fresh_database):
    from domain.rules.timeouts import SEEDED_TIMEOUTS, from_document

    command.upgrade(alembic_config(fresh_database), "head")
    engine = make_sync_engine(fresh_database)
    with engine.connect() as conn:
        [(document,)] = conn.execute(
            text("SELECT document FROM timeouts_versions WHERE version = 1")
        ).all()
    engine.dispose()
    if isinstance(document, str):  # SQLite gives the JSON text back
        document = json.loads(document)
    assert from_document(document, version=1) == SEEDED_TIMEOUTS


def test_no_migration_imports_a_live_rule_or_record():
    """A migration is frozen: it copies the rules and values it needs; of the
    domain it may use only the column types it declares its columns with."""
    imported: dict[str, set[str]] = {}
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module}
            else:
                continue
            imported.setdefault(path.name, set()).update(
                n for n in names if n.split(".")[0] == "domain"
            )

    assert {
        name: sorted(modules - {"domain.sqltypes"})
        for name, modules in imported.items()
        if modules - {"domain.sqltypes"}
    } == {}


def test_upgrading_makes_accounts_with_won_new_business_customers(fresh_database):
    """0009: an account with a won NEW_BUSINESS deal is a CUSTOMER since its first
    win (002_91dd8e67a169a832.txt: "Customer | [Opportunity] | 6-Closed Won")."""
    command.upgrade(alembic_config(fresh_database), "0008_idempotent_batches")
    engine = make_sync_engine(fresh_database)
    now = datetime(2025, 5, 6, 12, tzinfo=UTC)
    at = UTCDateTime()
    accounts = table(
        "accounts",
        *(column(n) for n in ("id", "version", "name", "normalized_name", "type")),
        *(column(n) for n in ("sales_segment", "is_public_sector", "is_named")),
        *(column(n, at) for n in ("created_at", "updated_at")),
    )
    names = [
        "id",
        "version",
        "name",
        "account_id",
        "type",
        "stage",
        "currency",
        "incremental_acv",
        "sales_qualified",
        "technical_requirements_confirmed",
        "poc_ran",
        "business_terms_agreed",
        "signed_order_form_received",
        "po_received",
        "restricted_party_screening",
        "finance_approved",
        "closed_lost_reasons",
    ]
    opportunities = table(
        "opportunities",
        *(column(n) for n in names),
        *(column(n, at) for n in ("created_at", "updated_at", "closed_at")),
        column("stage_changed_at", at),
    )
    with engine.begin() as conn:
        conn.execute(
            accounts.insert(),
            [
                {
                    "id": i,
                    "version": 1,
                    "name": f"A{i}",
                    "normalized_name": f"a{i}",
                    "type": kind,
                    "sales_segment": "UNKNOWN",
                    "is_public_sector": False,
                    "is_named": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, kind in ((1, "PROSPECT"), (2, "PROSPECT"), (3, "RESELLER"))
            ],
        )
        deals = [
            (1, 1, "NEW_BUSINESS", "CLOSED_WON", 3),
            (2, 1, "NEW_BUSINESS", "CLOSED_WON", 1),
            (3, 2, "ADD_ON", "CLOSED_WON", 1),
            (4, 3, "NEW_BUSINESS", "CLOSED_WON", 2),
        ]
        conn.execute(
            opportunities.insert(),
            [
                {
                    "id": i,
                    "version": 1,
                    "name": f"O{i}",
                    "account_id": account,
                    "type": kind,
                    "stage": stage,
                    "currency": "USD",
                    "incremental_acv": 0,
                    "closed_lost_reasons": "[]",
                    "restricted_party_screening": "CLEARED",
                    **dict.fromkeys([*names[8:14], "finance_approved"], False),
                    "created_at": now,
                    "updated_at": now,
                    "stage_changed_at": now,
                    "closed_at": now + timedelta(days=days),
                }
                for i, account, kind, stage, days in deals
            ],
        )

    command.upgrade(alembic_config(fresh_database), "head")

    with engine.connect() as conn:
        rows = conn.execute(
            table(
                "accounts", column("id"), column("type"), column("customer_since", at)
            )
            .select()
            .order_by(column("id"))
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        (1, "CUSTOMER", now + timedelta(days=1)),
        (2, "PROSPECT", None),
        (3, "RESELLER", now + timedelta(days=2)),
    ]


def test_upgrading_keys_existing_people_as_the_live_rules_do(fresh_database):
    """0015: leads and contacts already there get their duplicate match keys from
    the migration's frozen copy of the normalizers, equal to the live ones."""
    from domain.services.match_keys import keys_of_row

    command.upgrade(alembic_config(fresh_database), "0013_idempotency")
    engine = make_sync_engine(fresh_database)
    now = datetime(2025, 5, 6, 12, tzinfo=UTC)
    people = [
        ("Jöse", "O'Neil", "Jose.ONeil+x@GoogleMail.com", "The Acme Co.", "0044 20 1"),
        (None, "Lee", "sam@acme.io", "ACME, Inc.", "+1 (415) 555-0100"),
        ("Ann", None, "broken", None, None),
    ]
    with engine.begin() as conn:
        insert_old_leads(
            conn,
            now,
            [
                {
                    "id": i,
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "company": company,
                    "phone": phone,
                }
                for i, (first, last, email, company, phone) in enumerate(people, 1)
            ],
        )

    command.upgrade(alembic_config(fresh_database), "head")

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT match_email, match_name, match_domain, match_company, "
                "match_phone FROM leads ORDER BY id"
            )
        ).all()
    engine.dispose()
    expected = [
        tuple(
            keys_of_row(
                {
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "company": company,
                    "phone": phone,
                },
                contact=False,
            ).values()
        )
        for first, last, email, company, phone in people
    ]
    assert [tuple(r) for r in rows] == expected
    assert expected[0] == ("joseoneil@gmail.com", "jose oneil", None, "acme", None)
