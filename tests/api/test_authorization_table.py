"""Every cell of the permission table, through the API (issue 17 item 2).

Generated from ``domain.rules.permissions.PERMISSIONS``: for each operation,
each relation it names and each role, a scenario sets the relation up (the
records built by an ADMIN through the services, owners set as the cell needs)
and calls the operation's mutation as a user of that role. An allowed cell
answers no userError; a refused one answers exactly one ``FORBIDDEN`` and the
database is unchanged (row counts and versions of every record table). One
database per operation; every role and relation of it runs in that database.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

from domain.db import write_transaction
from domain.enums import (
    LeadStatus,
    OpportunityStage,
    RecordType,
    Role,
    SupportTicketKind,
)
from domain.records import (
    Account,
    AccountTeamMember,
    Activity,
    ApiToken,
    Campaign,
    Contact,
    Engagement,
    Event,
    ExportJob,
    Lead,
    Opportunity,
    RuleTableHead,
    SupportHandOff,
    TransitionRecord,
    User,
    WebhookSubscription,
)
from domain.rules.permissions import (
    PERMISSIONS,
    Actor,
    Operation,
    Relation,
    may,
    relations_named,
)
from domain.services.accounts import create_account
from domain.services.activities import log_activity
from domain.services.contacts import create_contact
from domain.services.leads import create_lead
from domain.services.opportunities import create_opportunity
from domain.services.outbox import address, emit
from domain.services.support import pass_ticket_to_sales
from domain.services.users import create_user
from tests.api.ids import gid

R = Relation
_counter = itertools.count(1)


def n() -> int:
    """A number unique in the run (emails, names)."""
    return next(_counter)


@dataclass
class World:
    """The people of one operation's database and the builders of its records."""

    make: Any
    sessions: Any
    admin: User
    actors: dict[Role, User]
    other: User  # an AE who owns what belongs to "someone else"
    other_bdr: User
    placeholder: User  # the Sales Admin placeholder
    target: User  # an active AE to hand things to
    # While set, builders write in this one transaction (a cell's records are
    # all set up before the first call: one commit per operation).
    session: Any = None

    async def run(self, use_case: Any) -> Any:
        """A builder step: in the setup transaction, else in its own."""
        if self.session is None:
            return await self.make.run(use_case)
        result = await use_case(self.session)
        await self.session.flush()
        return result

    @property
    def as_admin(self) -> Actor:
        return Actor(self.admin.id, self.admin.role)

    async def set(self, model: type, record_id: int, **values: Any) -> None:
        """Set columns directly (owners, statuses the cell needs)."""

        async def change(s: Any) -> None:
            await s.execute(
                update(model).where(model.id == record_id).values(**values)  # type: ignore[attr-defined]
            )

        await self.run(change)

    async def account(self, owner: User | None, team: User | None = None) -> int:
        values = {"name": f"Account {n()}", "owner_id": owner.id if owner else None}
        account = await self.run(
            lambda s: create_account(values, session=s, actor=self.as_admin)
        )
        if team is not None:

            async def join(s: Any) -> None:
                s.add(
                    AccountTeamMember(
                        account_id=account.id, user_id=team.id, role=team.role
                    )
                )

            await self.run(join)
        return account.id

    async def lead(
        self,
        owner: User | None,
        *,
        account_id: int | None = None,
        status: LeadStatus | None = None,
    ) -> int:
        values = {
            "last_name": f"Person {n()}",
            "email": f"person{n()}@lead{n()}.example",
            "initial_source": "Web Direct",
            "account_id": account_id,
        }
        lead = await self.run(
            lambda s: create_lead(values, session=s, actor=self.as_admin)
        )
        await self.set(Lead, lead.id, owner_id=owner.id if owner else None)
        if status is not None:
            await self.set(Lead, lead.id, status=status)
        return lead.id

    async def contact(self, owner: User | None, account_id: int) -> int:
        values = {
            "last_name": f"Contact {n()}",
            "account_id": account_id,
            "initial_source": "Web Direct",
        }
        contact = await self.run(
            lambda s: create_contact(values, session=s, actor=self.as_admin)
        )
        await self.set(Contact, contact.id, owner_id=owner.id if owner else None)
        return contact.id

    async def opportunity(
        self, owner: User | None, account_id: int, **values: Any
    ) -> int:
        values = {"name": f"Deal {n()}", "account_id": account_id, **values}
        opp = await self.run(
            lambda s: create_opportunity(values, session=s, actor=self.as_admin)
        )
        await self.set(Opportunity, opp.id, owner_id=owner.id if owner else None)
        return opp.id

    def owner(self, actor: User, relation: Relation) -> User | None:
        """Who owns the record for this relation (OWNER, UNOWNED, PLACEHOLDER,
        OTHER; ACCOUNT_OWNER and TEAM: someone else)."""
        return {
            R.OWNER: actor,
            R.UNOWNED: None,
            R.PLACEHOLDER: self.placeholder,
        }.get(relation, self.other)

    async def account_for(self, actor: User, relation: Relation) -> int:
        """An account standing in ``relation`` to the actor (its owner / team)."""
        if relation is R.ACCOUNT_OWNER:
            return await self.account(actor)
        if relation is R.TEAM:
            return await self.account(self.other, team=actor)
        return await self.account(self.other)


@dataclass
class Call:
    """One mutation to run: its name and input; ``late`` fills what can only be
    read right before the call (a table's current version)."""

    mutation: str
    input: dict[str, Any]
    late: Callable[[World], Awaitable[dict[str, Any]]] | None = None


Scenario = Callable[[World, User, Relation], Awaitable[Call]]


def call(mutation: str, input_type: str, **input: Any) -> Call:
    """A call of ``mutation(input: <input_type>!)``."""
    return Call(mutation, {"__type": input_type, **input})


# --- one scenario per operation: set the relation up, name the call ----------------


async def manage_users(w: World, actor: User, rel: Relation) -> Call:
    return call(
        "createUser",
        "CreateUserInput",
        name="New",
        email=f"new{n()}@example.com",
        role="SDR",
    )


async def manage_tokens(w: World, actor: User, rel: Relation) -> Call:
    owner = w.owner(actor, rel)
    assert owner is not None
    return call(
        "createApiToken",
        "CreateApiTokenInput",
        name="integration",
        scopes=["READ"],
        userId=gid("User", owner.id),
    )


async def create_lead_(w: World, actor: User, rel: Relation) -> Call:
    owner = w.owner(actor, rel)
    return call(
        "createLead",
        "CreateLeadInput",
        lastName="Lee",
        email=f"lee{n()}@new{n()}.example",
        initialSource="Web Direct",
        ownerId=gid("User", owner.id) if owner else None,
    )


async def update_lead(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(w.owner(actor, rel))
    return call("updateLead", "UpdateLeadInput", id=gid("Lead", lead), company="Co")


async def transition_lead(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(w.owner(actor, rel))
    return call(
        "transitionLead",
        "TransitionLeadInput",
        id=gid("Lead", lead),
        to="NURTURE",
        reason="Later",
    )


async def convert_lead(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(w.owner(actor, rel), status=LeadStatus.ACCEPTED)
    return call(
        "convertLead",
        "ConvertLeadInput",
        id=gid("Lead", lead),
        createOpportunity=False,
    )


async def convert_into_account(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(actor, status=LeadStatus.ACCEPTED)
    if rel is R.OWNER:
        account = await w.account(actor)
    elif rel is R.UNOWNED:
        account = await w.account(None)
    else:
        account = await w.account_for(actor, rel)
    return call(
        "convertLead",
        "ConvertLeadInput",
        id=gid("Lead", lead),
        accountId=gid("Account", account),
        createOpportunity=False,
    )


async def convert_into_opportunity(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(actor, status=LeadStatus.ACCEPTED)
    if rel is R.ACCOUNT_OWNER:
        account = await w.account(actor)
    elif rel is R.TEAM:
        account = await w.account(None, team=actor)
    else:
        account = await w.account(None)
    opp = await w.opportunity(w.owner(actor, rel), account)
    return call(
        "convertLead",
        "ConvertLeadInput",
        id=gid("Lead", lead),
        accountId=gid("Account", account),
        opportunityId=gid("Opportunity", opp),
    )


async def record_engagement(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(w.owner(actor, rel))
    return call(
        "recordEngagement",
        "RecordEngagementInput",
        leadId=gid("Lead", lead),
        kind="PRICING_PAGE_VISIT",
    )


async def transfer_lead(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(w.owner(actor, rel))
    return call(
        "transferLeadOwnership",
        "TransferLeadOwnershipInput",
        id=gid("Lead", lead),
        toUserId=gid("User", w.target.id),
    )


async def transfer_bdr_lead(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(actor if rel is R.OWNER else w.other_bdr)
    return call(
        "transferLeadOwnership",
        "TransferLeadOwnershipInput",
        id=gid("Lead", lead),
        toUserId=gid("User", w.target.id),
    )


async def adopt_record(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(w.owner(actor, rel))
    return call(
        "updateLead",
        "UpdateLeadInput",
        id=gid("Lead", lead),
        ownerId=gid("User", actor.id),
    )


async def route_lead(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(None)
    return call("routeLead", "RouteLeadInput", id=gid("Lead", lead))


async def set_routing_pools(w: World, actor: User, rel: Relation) -> Call:
    return call(
        "setRoutingPoolMembers",
        "SetRoutingPoolMembersInput",
        pool="BDR_EMEA",
        userIds=[gid("User", w.other_bdr.id)],
    )


async def _scoring_version(w: World) -> dict[str, Any]:
    async with w.sessions() as s:
        version = await s.scalar(
            select(RuleTableHead.version).where(RuleTableHead.name == "SCORING")  # type: ignore[arg-type]
        )
    return {"expectedVersion": version}


async def edit_rule_tables(w: World, actor: User, rel: Relation) -> Call:
    c = call(
        "updateScoringTable",
        "UpdateScoringTableInput",
        freeMailDomains=["gmail.com", f"free{n()}.example"],
    )
    c.late = _scoring_version
    return c


async def define_custom_fields(w: World, actor: User, rel: Relation) -> Call:
    return call(
        "defineCustomField",
        "DefineCustomFieldInput",
        recordType="LEAD",
        key=f"field{n()}",
        label="A field",
        type="TEXT",
    )


async def create_account_(w: World, actor: User, rel: Relation) -> Call:
    owner = w.owner(actor, rel)
    return call(
        "createAccount",
        "CreateAccountInput",
        name=f"New {n()}",
        ownerId=gid("User", owner.id) if owner else None,
    )


async def update_account(w: World, actor: User, rel: Relation) -> Call:
    account = await w.account(w.owner(actor, rel))
    return call(
        "updateAccount",
        "UpdateAccountInput",
        id=gid("Account", account),
        name=f"Renamed {n()}",
    )


async def edit_account_team(w: World, actor: User, rel: Relation) -> Call:
    account = await w.account(w.owner(actor, rel))
    return call(
        "addAccountTeamMember",
        "AddAccountTeamMemberInput",
        accountId=gid("Account", account),
        userId=gid("User", w.target.id),
    )


async def create_contact_(w: World, actor: User, rel: Relation) -> Call:
    account = await w.account(None)
    owner = w.owner(actor, rel)
    return call(
        "createContact",
        "CreateContactInput",
        lastName="Doe",
        accountId=gid("Account", account),
        initialSource="Web Direct",
        ownerId=gid("User", owner.id) if owner else None,
    )


async def update_contact(w: World, actor: User, rel: Relation) -> Call:
    if rel in (R.ACCOUNT_OWNER, R.TEAM):
        account = await w.account_for(actor, rel)
    else:
        account = await w.account(None)
    contact = await w.contact(w.owner(actor, rel), account)
    return call(
        "updateContact", "UpdateContactInput", id=gid("Contact", contact), title="CTO"
    )


async def create_opportunity_(w: World, actor: User, rel: Relation) -> Call:
    account = await w.account(None)
    owner = w.owner(actor, rel)
    return call(
        "createOpportunity",
        "CreateOpportunityInput",
        name="Deal",
        accountId=gid("Account", account),
        ownerId=gid("User", owner.id) if owner else None,
    )


async def create_won_opportunity(w: World, actor: User, rel: Relation) -> Call:
    account = await w.account(None)
    return call(
        "createOpportunity",
        "CreateOpportunityInput",
        name="Web purchase",
        accountId=gid("Account", account),
        stage="CLOSED_WON",
        salesQualificationSource="WEB_DIRECT",
    )


async def _account_in(w: World, actor: User, rel: Relation) -> int:
    if rel is R.OWNER:
        return await w.account(actor)
    if rel is R.UNOWNED:
        return await w.account(None)
    return await w.account_for(actor, rel)


async def create_deal_on_account(w: World, actor: User, rel: Relation) -> Call:
    account = await _account_in(w, actor, rel)
    return call(
        "createOpportunity",
        "CreateOpportunityInput",
        name="Deal",
        accountId=gid("Account", account),
    )


async def move_deal_to_account(w: World, actor: User, rel: Relation) -> Call:
    opp = await w.opportunity(actor, await w.account(None))
    account = await _account_in(w, actor, rel)
    return call(
        "updateOpportunity",
        "UpdateOpportunityInput",
        id=gid("Opportunity", opp),
        accountId=gid("Account", account),
    )


async def _deal_account(w: World, actor: User, rel: Relation) -> int:
    """The account of a deal in ``rel`` to the actor: theirs for ACCOUNT_OWNER."""
    if rel is R.ACCOUNT_OWNER:
        return await w.account_for(actor, rel)
    return await w.account(None)


async def move_contact_to_account(w: World, actor: User, rel: Relation) -> Call:
    contact = await w.contact(actor, await w.account(None))
    account = await _account_in(w, actor, rel)
    return call(
        "updateContact",
        "UpdateContactInput",
        id=gid("Contact", contact),
        accountId=gid("Account", account),
    )


async def update_opportunity(w: World, actor: User, rel: Relation) -> Call:
    opp = await w.opportunity(w.owner(actor, rel), await _deal_account(w, actor, rel))
    return call(
        "updateOpportunity",
        "UpdateOpportunityInput",
        id=gid("Opportunity", opp),
        name=f"Renamed {n()}",
    )


async def move_opportunity_stage(w: World, actor: User, rel: Relation) -> Call:
    opp = await w.opportunity(
        w.owner(actor, rel),
        await _deal_account(w, actor, rel),
        stage=OpportunityStage.PRE_OPPORTUNITY,
    )
    return call(
        "moveOpportunityStage",
        "MoveOpportunityStageInput",
        id=gid("Opportunity", opp),
        to="UNQUALIFIED",
        reason="No opportunity",
    )


async def request_terms_modification(w: World, actor: User, rel: Relation) -> Call:
    opp = await w.opportunity(
        w.owner(actor, rel),
        await _deal_account(w, actor, rel),
        incremental_acv=Decimal("50000.00"),
        edition="Ultimate",
    )
    return call(
        "requestTermsModification",
        "RequestTermsModificationInput",
        id=gid("Opportunity", opp),
    )


_TASK = {"kind": "TASK", "channel": "CALL", "subject": "Call"}


async def log_lead_activity(w: World, actor: User, rel: Relation) -> Call:
    account = (
        await w.account_for(actor, rel) if rel in (R.ACCOUNT_OWNER, R.TEAM) else None
    )
    lead = await w.lead(w.owner(actor, rel), account_id=account)
    return call("logActivity", "LogActivityInput", **_TASK, leadId=gid("Lead", lead))


async def log_activity_(w: World, actor: User, rel: Relation) -> Call:
    if rel in (R.ACCOUNT_OWNER, R.TEAM):
        account = await w.account_for(actor, rel)
    else:
        account = await w.account(w.other)
    contact = await w.contact(w.owner(actor, rel), account)
    return call(
        "logActivity", "LogActivityInput", **_TASK, contactId=gid("Contact", contact)
    )


async def complete_activity(w: World, actor: User, rel: Relation) -> Call:
    lead = await w.lead(actor)
    values = {"kind": "TASK", "channel": "CALL", "subject": "Call", "lead_id": lead}
    activity = await w.run(lambda s: log_activity(values, session=s, actor=w.as_admin))
    owner = w.owner(actor, rel)
    await w.set(Activity, activity.id, owner_id=owner.id if owner else None)
    return call(
        "completeActivity", "CompleteActivityInput", id=gid("Activity", activity.id)
    )


async def create_campaign(w: World, actor: User, rel: Relation) -> Call:
    return call(
        "createCampaign", "CreateCampaignInput", name=f"Campaign {n()}", channel="EMAIL"
    )


async def manage_webhooks(w: World, actor: User, rel: Relation) -> Call:
    return call(
        "createWebhookSubscription",
        "CreateWebhookSubscriptionInput",
        url=f"https://hooks{n()}.example.com/in",
    )


async def pass_ticket(w: World, actor: User, rel: Relation) -> Call:
    return call(
        "passTicketToSales",
        "PassTicketToSalesInput",
        requesterEmail=f"buyer{n()}@shop{n()}.example",
        kind="NEW_BUSINESS",
    )


async def resolve_hand_off(w: World, actor: User, rel: Relation) -> Call:
    by = actor if rel is R.OWNER else w.admin
    values = {
        "requester_email": f"buyer{n()}@shop{n()}.example",
        "kind": SupportTicketKind.NEW_BUSINESS,
    }
    hand_off = await w.run(
        lambda s: pass_ticket_to_sales(values, session=s, actor=Actor(by.id, by.role))
    )
    return call(
        "resolveSupportHandOff",
        "ResolveSupportHandOffInput",
        id=gid("SupportHandOff", hand_off.id),
    )


async def merge_records(w: World, actor: User, rel: Relation) -> Call:
    survivor = await w.lead(w.other)
    duplicate = await w.lead(w.other)
    return call(
        "mergeLeads",
        "MergeLeadsInput",
        survivorId=gid("Lead", survivor),
        duplicateIds=[gid("Lead", duplicate)],
    )


async def export_records(w: World, actor: User, rel: Relation) -> Call:
    return call(
        "exportRecords",
        "ExportRecordsInput",
        kind="LEAD",
        leadFilter={"search": "Lovelace"},
    )


async def import_records(w: World, actor: User, rel: Relation) -> Call:
    return call(
        "saveImportMapping",
        "SaveImportMappingInput",
        name=f"list {n()}",
        kind="LEAD",
        fields={"email": "Email"},
    )


async def import_history(w: World, actor: User, rel: Relation) -> Call:
    from tests.api.test_imports import upload

    return call(
        "startImport",
        "StartImportInput",
        file=upload("Id,Name\n", "deals.csv"),
        kind="OPPORTUNITY",
        mapping={"externalId": "Id", "name": "Name"},
        historical=True,
        dryRun=True,
    )


SCENARIOS: dict[Operation, Scenario] = {
    Operation.MANAGE_USERS: manage_users,
    Operation.MANAGE_TOKENS: manage_tokens,
    Operation.CREATE_LEAD: create_lead_,
    Operation.UPDATE_LEAD: update_lead,
    Operation.TRANSITION_LEAD: transition_lead,
    Operation.CONVERT_LEAD: convert_lead,
    Operation.CONVERT_INTO_ACCOUNT: convert_into_account,
    Operation.CONVERT_INTO_OPPORTUNITY: convert_into_opportunity,
    Operation.RECORD_ENGAGEMENT: record_engagement,
    Operation.TRANSFER_LEAD: transfer_lead,
    Operation.TRANSFER_BDR_LEAD: transfer_bdr_lead,
    Operation.ADOPT_RECORD: adopt_record,
    Operation.ROUTE_LEAD: route_lead,
    Operation.SET_ROUTING_POOLS: set_routing_pools,
    Operation.EDIT_RULE_TABLES: edit_rule_tables,
    Operation.DEFINE_CUSTOM_FIELDS: define_custom_fields,
    Operation.CREATE_ACCOUNT: create_account_,
    Operation.UPDATE_ACCOUNT: update_account,
    Operation.EDIT_ACCOUNT_TEAM: edit_account_team,
    Operation.CREATE_CONTACT: create_contact_,
    Operation.UPDATE_CONTACT: update_contact,
    Operation.MOVE_CONTACT_TO_ACCOUNT: move_contact_to_account,
    Operation.CREATE_OPPORTUNITY: create_opportunity_,
    Operation.CREATE_WON_OPPORTUNITY: create_won_opportunity,
    Operation.CREATE_DEAL_ON_ACCOUNT: create_deal_on_account,
    Operation.MOVE_DEAL_TO_ACCOUNT: move_deal_to_account,
    Operation.UPDATE_OPPORTUNITY: update_opportunity,
    Operation.MOVE_OPPORTUNITY_STAGE: move_opportunity_stage,
    Operation.REQUEST_TERMS_MODIFICATION: request_terms_modification,
    Operation.LOG_LEAD_ACTIVITY: log_lead_activity,
    Operation.LOG_ACTIVITY: log_activity_,
    Operation.COMPLETE_ACTIVITY: complete_activity,
    Operation.CREATE_CAMPAIGN: create_campaign,
    Operation.PASS_TICKET_TO_SALES: pass_ticket,
    Operation.RESOLVE_SUPPORT_HAND_OFF: resolve_hand_off,
    Operation.MANAGE_WEBHOOKS: manage_webhooks,
    Operation.MERGE_RECORDS: merge_records,
    Operation.EXPORT_RECORDS: export_records,
    Operation.IMPORT_RECORDS: import_records,
    Operation.IMPORT_HISTORY: import_history,
}


def possible(operation: Operation, role: Role, relation: Relation) -> bool:
    """Cells no data can set up: only a BDR owns a BDR's lead."""
    if operation is Operation.TRANSFER_BDR_LEAD and relation is R.OWNER:
        return role is Role.BDR
    return True


# Every table whose rows or versions a write could change.
WATCHED = (
    User,
    ApiToken,
    Lead,
    Account,
    AccountTeamMember,
    Contact,
    Opportunity,
    Activity,
    Engagement,
    Campaign,
    SupportHandOff,
    TransitionRecord,
    Event,
    RuleTableHead,
    WebhookSubscription,
    ExportJob,
)


async def fingerprint(sessions: Any) -> tuple[Any, ...]:
    """Row counts of every watched table and the sum of its versions."""
    columns = []
    for model in WATCHED:
        columns.append(select(func.count()).select_from(model).scalar_subquery())
        if hasattr(model, "version"):
            columns.append(
                select(func.coalesce(func.sum(model.version), 0)).scalar_subquery()
            )
    async with sessions() as s:
        return tuple((await s.execute(select(*columns))).one())


def document(c: Call) -> tuple[str, dict[str, Any]]:
    """The GraphQL document and variables of a call."""
    values = {k: v for k, v in c.input.items() if k != "__type" and v is not None}
    return (
        f"mutation($input: {c.input['__type']}!) "
        f"{{ {c.mutation}(input: $input) {{ userErrors {{ code field message }} }} }}",
        {"input": values},
    )


def test_every_operation_has_a_scenario_and_every_mutation_an_operation():
    from api.schema import schema

    mutations = set(schema._schema.mutation_type.fields)  # type: ignore[union-attr]
    named = {m for rule in PERMISSIONS.values() for m in rule.mutations}

    assert set(SCENARIOS) == set(Operation)
    assert mutations == named


async def people(make: Any) -> dict[str, Any]:
    """One user of every role, and the others the cells need, in one transaction."""

    async def create(s: Any) -> dict[str, Any]:
        async def user(role: Role) -> User:
            k = n()
            values = {"name": f"U{k}", "email": f"u{k}@example.com", "role": role}
            return await create_user(values, session=s, actor=None)

        return {
            "admin": await user(Role.ADMIN),
            "actors": {role: await user(role) for role in Role},
            "other": await user(Role.AE),
            "other_bdr": await user(Role.BDR),
            "placeholder": await user(Role.SALES_ADMIN),
            "target": await user(Role.AE),
        }

    return await make.run(create)


@pytest.mark.parametrize("operation", list(Operation), ids=lambda o: o.value)
async def test_every_cell_of_the_permission_table(api, make, sessions, operation):
    world = World(make=make, sessions=sessions, **await people(make))
    scenario = SCENARIOS[operation]
    cells = [
        (role, relation)
        for relation in relations_named(operation)
        for role in Role
        if possible(operation, role, relation)
    ]
    async with sessions() as session, write_transaction(session):
        world.session = session
        calls = [
            await scenario(world, world.actors[role], relation)
            for role, relation in cells
        ]
    world.session = None
    wrong = []
    before = await fingerprint(sessions)
    for (role, relation), c in zip(cells, calls, strict=True):
        if c.late is not None:
            c.input.update(await c.late(world))
        query, variables = document(c)
        result = await api(query, variables, as_user=world.actors[role])
        errors = result.ok()[c.mutation]["userErrors"]
        after = await fingerprint(sessions)
        cell = (role.value, relation.value)
        if may(role, operation, relation):
            if errors:
                wrong.append((*cell, "allowed, but", errors))
        elif [e["code"] for e in errors] != ["FORBIDDEN"]:
            wrong.append((*cell, "should be FORBIDDEN, got", errors))
        elif after != before:
            wrong.append((*cell, "refused, but something changed"))
        before = after
    assert wrong == []


# --- reads: every record is open; events to others and emails are not -------------

EVENTS = """
query($types: [String!]) { events(filter: {type: $types}) { nodes { id type } } }"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Event { type } } }"
USERS = "{ users(first: 50) { nodes { id email } } viewer { id email } }"


async def test_events_addressed_to_others_are_read_only_by_their_recipients_and_ops(
    api, make
):
    rep, stranger = await make.user(Role.AE), await make.user(Role.SDR)
    ops, admin = await make.user(Role.SALES_OPS), await make.user(Role.ADMIN)
    lead = await make.lead()

    async def write(s: Any) -> Any:
        alert = emit(s, "TEST_ALERT", RecordType.LEAD, lead.id, None)
        await address(s, alert, [(rep.id, "OWNER")])
        emit(s, "TEST_CHANGE", RecordType.LEAD, lead.id, None)
        await s.flush()
        return alert.id

    alert_id = await make.run(write)

    async def seen(user: User) -> list[str]:
        data = (
            await api(EVENTS, {"types": ["TEST_ALERT", "TEST_CHANGE"]}, as_user=user)
        ).ok()
        return sorted(e["type"] for e in data["events"]["nodes"])

    async def node(user: User) -> Any:
        return (await api(NODE, {"id": gid("Event", alert_id)}, as_user=user)).ok()[
            "node"
        ]

    both = ["TEST_ALERT", "TEST_CHANGE"]
    assert [await seen(u) for u in (rep, stranger, ops, admin)] == [
        both,
        ["TEST_CHANGE"],
        both,
        both,
    ]
    assert await node(stranger) is None
    assert await node(rep) == {"id": gid("Event", alert_id), "type": "TEST_ALERT"}
    assert (await node(ops))["type"] == "TEST_ALERT"


async def test_a_users_email_is_read_by_themselves_sales_ops_and_admin_only(api, make):
    rep, other = await make.user(Role.AE), await make.user(Role.BDR)
    ops, admin = await make.user(Role.SALES_OPS), await make.user(Role.ADMIN)

    async def emails(user: User) -> tuple[dict[str, Any], dict[str, Any]]:
        data = (await api(USERS, as_user=user)).ok()
        listed = {u["id"]: u["email"] for u in data["users"]["nodes"]}
        return listed, data["viewer"]

    listed, viewer = await emails(rep)
    assert viewer == {"id": gid("User", rep.id), "email": rep.email}
    assert listed == {
        gid("User", u.id): (u.email if u is rep else None)
        for u in (rep, other, ops, admin)
    }
    for reader in (ops, admin):
        listed, _ = await emails(reader)
        assert listed == {gid("User", u.id): u.email for u in (rep, other, ops, admin)}

    async def found(search: str, user: User) -> list[str]:
        query = "query($s: String) { users(filter: {search: $s}) { nodes { id } } }"
        data = (await api(query, {"s": search}, as_user=user)).ok()
        return [u["id"] for u in data["users"]["nodes"]]

    # Searching by email is no way round it: others' emails only for ops.
    assert await found(other.email, rep) == []
    assert await found(rep.email, rep) == [gid("User", rep.id)]
    assert await found(other.email, ops) == [gid("User", other.id)]


# --- lock order (domain/services/locks.py) ------------------------------------------


async def test_route_lead_takes_the_rule_table_heads_before_the_leads_row(
    api, make, engine
):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.lower())

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        data = (
            await api(
                "mutation($id: ID!) { routeLead(input: {id: $id}) "
                "{ userErrors { code } } }",
                {"id": gid("Lead", lead.id)},
                as_user=ops,
            )
        ).ok()
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)

    assert data["routeLead"]["userErrors"] == []
    heads = next(i for i, s in enumerate(statements) if "from rule_table_heads" in s)
    lead_row = next(i for i, s in enumerate(statements) if "\nfrom leads" in s)
    assert heads < lead_row
    if engine.dialect.name == "postgresql":
        assert "for key share" in statements[heads]
        assert "for update" in statements[lead_row]
