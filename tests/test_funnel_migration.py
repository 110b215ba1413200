"""Migration 0007 fills the funnel of the records already there, from their history;
0010 takes the lead milestones off the opportunities created without a lead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text

from domain.db import alembic_config, make_sync_engine
from tests.test_migrations import fresh_database  # noqa: F401 - the fixture

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def stamp(moment: datetime, sqlite: bool) -> object:
    """A time as the UTCDateTime column stores it."""
    return moment.replace(tzinfo=None) if sqlite else moment


def given_records_and_their_history(url: str) -> None:
    """Two leads, a converted one's opportunity and a direct one, at 0002."""
    command.upgrade(alembic_config(url), "0002")
    engine = make_sync_engine(url)
    sqlite = engine.dialect.name == "sqlite"

    def at(hours: float) -> object:
        return stamp(T0 + hours * H, sqlite)

    base = {"version": 1, "created_at": at(0), "updated_at": at(0)}
    with engine.begin() as conn:
        run = conn.execute
        run(
            text(
                "INSERT INTO users (id, name, email, role, active, version, "
                "created_at, updated_at) VALUES (1, 'Bo', 'bo@x.example', 'BDR', "
                "true, :version, :created_at, :updated_at)"
            ),
            base,
        )
        run(
            text(
                "INSERT INTO campaigns (id, name, channel, spend, version, created_at, "
                "updated_at) VALUES (1, 'Ads', 'CPC', 100000, :version, :created_at, "
                ":updated_at)"
            ),
            base,
        )
        run(
            text(
                "INSERT INTO accounts (id, name, normalized_name, type, sales_segment, "
                "region, is_public_sector, is_named, version, created_at, updated_at) "
                "VALUES (1, 'Acme', 'acme', 'PROSPECT', 'LARGE', 'EMEA', false, false, "
                ":version, :created_at, :updated_at)"
            ),
            base,
        )
        for lead_id, status in ((1, "MQL"), (2, "QUALIFIED")):
            run(
                text(
                    "INSERT INTO leads (id, last_name, initial_source, status, "
                    "status_changed_at, sales_segment, region, is_public_sector, "
                    "person_score, owner_id, version, created_at, updated_at) VALUES "
                    "(:id, 'L', 'Webcast', :status, :created_at, 'SMB', 'EMEA', false, "
                    "0, 1, :version, :created_at, :updated_at)"
                ),
                {**base, "id": lead_id, "status": status},
            )
        run(
            text(
                "INSERT INTO engagements (lead_id, kind, occurred_at, campaign_id, "
                "created_at) VALUES (1, 'PRICING_PAGE_VISIT', :a, NULL, :a), "
                "(1, 'WEBCAST_REGISTRATION', :b, 1, :b)"
            ),
            {"a": at(1), "b": at(2)},
        )
        for opp_id in (1, 2):  # 1 converted from lead 2, 2 created directly
            run(
                text(
                    "INSERT INTO opportunities (id, name, account_id, owner_id, type, "
                    "stage, stage_changed_at, currency, incremental_acv, "
                    "sales_qualified, sales_qualification_source, initial_source, "
                    "technical_requirements_confirmed, poc_ran, business_terms_agreed, "
                    "signed_order_form_received, po_received, "
                    "restricted_party_screening, finance_approved, "
                    "closed_lost_reasons, version, created_at, updated_at) VALUES "
                    "(:id, 'Deal', 1, 1, 'NEW_BUSINESS', 'DISCOVERY', :at, 'USD', 0, "
                    "false, 'BDR_GENERATED', 'Partner', false, false, false, false, "
                    "false, 'NOT_STARTED', false, '[]', 1, :at, :at)"
                ),
                {"id": opp_id, "at": at(10 + opp_id)},
            )
        ledger = [
            ("LEAD", 1, "RAW", "INQUIRY", 1, None),
            ("LEAD", 1, "INQUIRY", "MQL", 3, None),
            ("LEAD", 2, "RAW", "ACCEPTED", 4, None),
            ("LEAD", 2, "ACCEPTED", "QUALIFIED", 11, None),
            ("OPPORTUNITY", 1, None, "PENDING_ACCEPTANCE", 11,
             "Created by converting lead 2"),
            ("OPPORTUNITY", 1, "PENDING_ACCEPTANCE", "DISCOVERY", 20, None),
            ("OPPORTUNITY", 2, None, "PENDING_ACCEPTANCE", 12, None),
            ("OPPORTUNITY", 2, "PENDING_ACCEPTANCE", "DISCOVERY", 15, None),
        ]  # fmt: skip
        for kind, record, from_, to, hours, reason in ledger:
            run(
                text(
                    "INSERT INTO transition_records (record_type, record_id, "
                    "from_state, to_state, at, reason, override) VALUES "
                    "(:kind, :record, :from_, :to, :at, :reason, false)"
                ),
                {
                    "kind": kind,
                    "record": record,
                    "from_": from_,
                    "to": to,
                    "at": at(hours),
                    "reason": reason,
                },
            )

    engine.dispose()


ENTRIES = (
    "SELECT lead_id, opportunity_id, seconds_to_inquiry, seconds_to_mql, "
    "seconds_to_accepted, seconds_to_qualifying, seconds_to_pending_acceptance, "
    "seconds_to_sao, sales_segment, sales_qualification_source, campaign_id "
    "FROM funnel_entries ORDER BY id"
)
STAMPS = (
    "SELECT raw_at, inquiry_at, mql_at, accepted_at, qualifying_at, "
    "pending_acceptance_at, sao_at FROM funnel_entries ORDER BY id"
)
HOUR = 3600


def test_upgrading_stamps_the_existing_leads_and_opportunities(fresh_database):  # noqa: F811
    given_records_and_their_history(fresh_database)

    command.upgrade(alembic_config(fresh_database), "0007_funnel")

    engine = make_sync_engine(fresh_database)
    with engine.connect() as conn:
        entries = conn.execute(text(ENTRIES)).all()
        leads = conn.execute(
            text("SELECT id, campaign_id FROM leads ORDER BY id")
        ).all()
        opportunities = conn.execute(
            text("SELECT id, lead_id, campaign_id FROM opportunities ORDER BY id")
        ).all()
    engine.dispose()
    hour = HOUR
    assert [tuple(e) for e in entries] == [
        (1, None, 1 * hour, 2 * hour, None, None, None, None, "SMB", None, 1),
        (2, 1, 4 * hour, 0, 0, 7 * hour, 0, 9 * hour, "SMB", "BDR_GENERATED", None),
        (None, 2, 0, 0, 0, 0, 0, 3 * hour, "LARGE", "BDR_GENERATED", None),
    ]
    assert [tuple(r) for r in leads] == [(1, 1), (2, None)]
    assert [tuple(r) for r in opportunities] == [(1, 2, None), (2, None, None)]


def test_upgrading_takes_the_lead_milestones_off_direct_opportunities(fresh_database):  # noqa: F811
    """domain.md D11, Decision (round 2): "a direct opportunity (no lead) enters
    the funnel at PENDING_ACCEPTANCE and is never stamped with lead milestones";
    0010 clears the zero-length lead milestones 0007 gave it, and downgrading
    gives them back."""
    given_records_and_their_history(fresh_database)
    command.upgrade(alembic_config(fresh_database), "0009_customer_since")
    engine = make_sync_engine(fresh_database)
    with engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(text(ENTRIES))]
        stamps_before = [tuple(r) for r in conn.execute(text(STAMPS))]

    command.upgrade(alembic_config(fresh_database), "0010_funnel_direct")

    with engine.connect() as conn:
        after = [tuple(r) for r in conn.execute(text(ENTRIES))]
        stamps_after = [tuple(r) for r in conn.execute(text(STAMPS))]
    assert after[:2] == before[:2]  # the leads' entries are untouched
    assert stamps_after[:2] == stamps_before[:2]
    assert after[2] == (
        None, 2, None, None, None, None, None, 3 * HOUR, "LARGE", "BDR_GENERATED",
        None,
    )  # fmt: skip
    assert stamps_after[2][:5] == (None,) * 5
    assert stamps_after[2][5:] == stamps_before[2][5:]

    command.downgrade(alembic_config(fresh_database), "0009_customer_since")

    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text(ENTRIES))] == before
        assert [tuple(r) for r in conn.execute(text(STAMPS))] == stamps_before
    engine.dispose()
