"""Statement budgets of the hot writes (issue 15 item 2): each mutation below,
run through the GraphQL schema on a real database, sends at most its budget
of SQL statements. A change that adds one fails here; lower the budget when a
change removes one.

Counted with a ``before_cursor_execute`` listener on the engine around one
mutation: every statement the driver is given (on SQLite the ``BEGIN
IMMEDIATE`` too; COMMIT is a driver call, not a statement). The budgets are
written down in each service's docstring as well.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from domain.enums import EngagementKind, LeadStatus, Role
from domain.lifecycle.lead import LEAD_MACHINE
from domain.records import Account, Contact, Lead
from domain.rules.permissions import Actor
from domain.services.opportunities import create_opportunity
from tests.api.ids import gid
from tests.api.test_routing import apac_lead

# (SQLite, PostgreSQL)
BUDGETS: dict[str, tuple[int, int]] = {
    "transitionLead": (5, 2),
    "moveOpportunityStage": (6, 2),
    "createLead": (5, 5),
    "recordEngagement": (9, 4),
    "recordEngagement, routed": (12, 6),
    "recordEngagements(3)": (10, 8),
}

MOVE_LEAD = """
mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { status version } userErrors { code } }
}"""
MOVE_DEAL = """
mutation($input: MoveOpportunityStageInput!) {
  moveOpportunityStage(input: $input) {
    opportunity { stage version } userErrors { code }
  }
}"""
CREATE_LEAD = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id status } userErrors { code } }
}"""
ENGAGEMENT = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) { engagement { id } userErrors { code } }
}"""
ROUTED = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) { lead { routing { rule } } userErrors { code } }
}"""
ENGAGEMENTS = """
mutation($input: RecordEngagementsInput!) {
  recordEngagements(input: $input) {
    results { engagement { id } lead { status } } userErrors { code }
  }
}"""


class Statements:
    """The statements the engine sends while active."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine.sync_engine
        self.sent: list[str] = []

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sent.append(" ".join(statement.split())[:160])

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


def budget(engine: Any, name: str) -> int:
    """The budget of ``name`` on the engine's database."""
    sqlite, postgresql = BUDGETS[name]
    return sqlite if engine.dialect.name == "sqlite" else postgresql


async def counted(api: Any, engine: Any, query: str, variables: Any, user: Any) -> Any:
    """Run one mutation; (its payload, the statements it sent)."""
    with Statements(engine) as statements:
        data = (await api(query, variables, as_user=user)).ok()
    return data, statements.sent


def within(engine: Any, name: str, sent: list[str]) -> None:
    """The statements fit the budget (listed when they do not)."""
    assert len(sent) <= budget(engine, name), "\n".join(
        [f"{name}: {len(sent)} statements, budget {budget(engine, name)}", *sent]
    )


async def test_a_lead_move_stays_within_its_statement_budget(api, make, engine):
    admin = await make.user(Role.ADMIN)
    lead = await make.lead()
    variables = {"input": {"id": gid("Lead", lead.id), "to": "NURTURE", "reason": "r"}}

    data, sent = await counted(api, engine, MOVE_LEAD, variables, admin)

    assert data["transitionLead"] == {
        "lead": {"status": "NURTURE", "version": 2},
        "userErrors": [],
    }
    within(engine, "transitionLead", sent)


async def test_a_refused_lead_move_stays_within_the_same_budget(api, make, engine):
    admin = await make.user(Role.ADMIN)
    lead = await make.lead()
    variables = {"input": {"id": gid("Lead", lead.id), "to": "NURTURE"}}

    data, sent = await counted(api, engine, MOVE_LEAD, variables, admin)

    assert data["transitionLead"] == {
        "lead": None,
        "userErrors": [{"code": "REASON_REQUIRED"}],
    }
    within(engine, "transitionLead", sent)


async def a_deal(make: Any, owner: Any) -> Any:
    """A PENDING_ACCEPTANCE opportunity owned by ``owner``."""

    async def setup(s: Any) -> tuple[int, int]:
        account = Account(name="Acme", normalized_name="acme", owner_id=owner.id)
        s.add(account)
        await s.flush()
        contact = Contact(
            last_name="Buyer", account_id=account.id, initial_source="Webcast"
        )
        s.add(contact)
        await s.flush()
        return account.id, contact.id

    account_id, contact_id = await make.run(setup)
    values = {
        "name": "Acme - 500 seats",
        "account_id": account_id,
        "owner_id": owner.id,
        "primary_contact_id": contact_id,
        "business_problem": "Releases take weeks",
        "incremental_acv": Decimal("8000.00"),
    }
    return await make.run(
        lambda s: create_opportunity(
            values, session=s, actor=Actor(owner.id, owner.role)
        )
    )


async def test_an_opportunity_move_stays_within_its_statement_budget(api, make, engine):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    variables = {"input": {"id": gid("Opportunity", deal.id), "to": "DISCOVERY"}}

    data, sent = await counted(api, engine, MOVE_DEAL, variables, ae)

    assert data["moveOpportunityStage"] == {
        "opportunity": {"stage": "DISCOVERY", "version": 2},
        "userErrors": [],
    }
    within(engine, "moveOpportunityStage", sent)


async def test_creating_a_lead_stays_within_its_statement_budget(api, make, engine):
    ops = await make.user(Role.MARKETING_OPS)
    await make.lead()  # the rule tables are read once per process: not counted
    variables = {
        "input": {
            "lastName": "Lovelace",
            "email": "ada@acme.example",
            "company": "Acme",
            "initialSource": "Web Direct",
        }
    }

    data, sent = await counted(api, engine, CREATE_LEAD, variables, ops)

    assert data["createLead"]["userErrors"] == []
    assert data["createLead"]["lead"]["status"] == "RAW"
    within(engine, "createLead", sent)


async def test_an_engagement_stays_within_its_statement_budget(api, make, engine):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead()
    variables = {
        "input": {"leadId": gid("Lead", lead.id), "kind": "WEBCAST_REGISTRATION"}
    }

    data, sent = await counted(api, engine, ENGAGEMENT, variables, ops)

    assert data["recordEngagement"]["userErrors"] == []
    within(engine, "recordEngagement", sent)


async def test_a_routed_engagement_stays_within_its_statement_budget(
    api, make, engine, sessions
):
    """The engagement takes the lead past 50 points into its region's pool: the
    candidate accounts (by the email's domains and the company's name) in one
    statement, the pool locked with its members in one, and (PostgreSQL) its
    rotation written with the lead's writes."""
    ops, bdr, lead = await apac_lead(api, make)  # of "Acme": no such account
    variables = {
        "input": {"leadId": gid("Lead", lead.id), "kind": "HIGH_INTENT_LIVE_ATTENDED"}
    }

    data, sent = await counted(api, engine, ROUTED, variables, ops)

    assert data["recordEngagement"] == {
        "lead": {"routing": {"rule": "SCORE_AT_LEAST_50"}},
        "userErrors": [],
    }
    async with sessions() as session:
        assert (await session.get(Lead, lead.id)).owner_id == bdr.id
    within(engine, "recordEngagement, routed", sent)


@pytest.mark.parametrize("kind", [EngagementKind.WEBCAST_REGISTRATION])
async def test_a_batch_of_three_engagements_stays_within_its_budget(
    api, make, engine, kind
):
    ops = await make.user(Role.MARKETING_OPS)
    leads = [await make.lead() for _ in range(3)]
    variables = {
        "input": {
            "engagements": [
                {"leadId": gid("Lead", lead.id), "kind": kind.value} for lead in leads
            ]
        }
    }

    data, sent = await counted(api, engine, ENGAGEMENTS, variables, ops)

    assert data["recordEngagements"]["userErrors"] == []
    assert [r["lead"]["status"] for r in data["recordEngagements"]["results"]] == [
        "INQUIRY"
    ] * 3
    within(engine, "recordEngagements(3)", sent)


async def test_a_lead_move_runs_its_guards_once(api, make, monkeypatch):
    admin = await make.user(Role.ADMIN)
    lead = await make.lead()
    runs: list[LeadStatus] = []
    run_guards = LEAD_MACHINE._run_guards

    def counted_run(rule: Any, facts: Any, request: Any) -> Any:
        runs.append(rule.dest)
        return run_guards(rule, facts, request)

    monkeypatch.setattr(LEAD_MACHINE, "_run_guards", counted_run)
    variables = {"input": {"id": gid("Lead", lead.id), "to": "NURTURE", "reason": "r"}}

    data = (await api(MOVE_LEAD, variables, as_user=admin)).ok()

    assert data["transitionLead"]["userErrors"] == []
    assert runs == [LeadStatus.NURTURE]
