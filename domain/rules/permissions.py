"""Who may change what (A6, issue 17): ONE table decides every mutation.

``PERMISSIONS`` reads like the state machines' tables: for each operation, the
relation of the acting user to the record (``Relation``) and the roles that
may act in that relation. Services ask it through ``refusals`` (or one of the
helpers below that work out the relation first); nothing else decides who
may write. A refused cell is one ``FORBIDDEN`` refusal naming the rule. The
README's "Who may do what" is ``permissions_markdown()`` (a test keeps the
copy equal) and ``tests/api/test_authorization_table.py`` drives every cell
through the API.

Relations (``relation_of``; an operation that does not name a relation counts
it as OTHER):

- OWNER: the actor owns the record; on creation, names itself as ``ownerId``.
- ACCOUNT_OWNER: the actor owns the record's account (a contact's, a deal's,
  the account a lead is linked to).
- TEAM: the actor is on the account team (the handbook's "GitLab Team", D1)
  of the record's account.
- UNOWNED: nobody owns the record; on creation, ``ownerId`` is left empty (for
  routing, or the default owner the use case documents).
- PLACEHOLDER: the Sales Admin placeholder owns it (adoptable, D8).
- OTHER: someone else owns it (or the creation names someone else).
- ANY: the operation is about no record an actor could own (tables, users).

Decisions where the spec is silent (issue 17 item 2 and the handbook):

- Reads: every authenticated user may read every record (A6: the
  go-to-market team works in the open), except events addressed to others and
  other users' emails (``may_read_private``: the recipient or the user
  themselves, SALES_OPS, ADMIN).
- Creating a record owned by someone else is for SALES_OPS and ADMIN, and for
  MARKETING_OPS on leads (list loads and campaign syncs); everyone else
  creates records they own or leaves the owner empty (routing, or the use
  case's documented default). An owner decided by a rule (a contact on a
  field-sales account is the account owner's, D7; a deal created on an owned
  account defaults to its owner) is not the actor's choice and needs nothing.
- Leads: the owner, MARKETING_OPS, SALES_OPS and ADMIN change them (A6), by
  update, status move (except →ACCEPTED, whose row names who may act:
  ``NOT_OWNER``), conversion or engagement; a BDR's lead changes hands only
  by that BDR, SALES_OPS or ADMIN (D8); unowned and placeholder records are
  adoptable by anyone for themselves (D8, round 2).
- Contacts are created on any account (the handbook: "Ideally all ACCOUNTS
  exist in Salesforce and team members are only creating CONTACT records");
  their owner follows the account's field-sales owner (D7), so naming that
  owner is no choice of the actor's.
- Accounts: the owner, anyone while unowned, SALES_ADMIN, SALES_OPS, ADMIN;
  the same for its team. Contacts: those, plus the account owner and the
  account team (the handbook: the GitLab Team "populates down to the related
  Contact records"). Opportunities: as accounts, plus the owner of the deal's
  account (who answers for the whole account, D7), for their fields, stage
  moves and terms requests alike (sales acceptance and overrides stay guards
  of the stage machine, so an account owner does not accept a deal they do
  not own).
- A contact moves to another account (``updateContact(accountId)``) only onto
  one the actor could convert a lead into: owned by them, their team's,
  unowned, else BDR/SDR (who relate people to accounts for a living) and the
  record editors. Creating a contact stays open on any account (above): a new
  person adds to an account, a move re-homes a record and its history.
- A deal is put on an account (``createOpportunity``, ``updateOpportunity``
  moving it) only when the actor owns the account, is on its team, or it is
  unowned — else SALES_ADMIN, SALES_OPS, ADMIN; and BDRs and SDRs, who create
  the deals they source on the account owner's account and assign them to that
  owner (the handbook: "BDR will create a new Opportunity and assign to the
  appropriate Account Owner"; D3.3 names the creator as the sourcing rep), so
  they may also create an opportunity owned by someone else. Moving a deal
  between accounts has no such exception. A deal is created only in
  its entry stages (a guard, MUST_PASS_PENDING_ACCEPTANCE); the WEB_DIRECT
  purchase created in CLOSED_WON (D3 rule 1) is for SALES_OPS and ADMIN —
  tokens carry no "integration" marker, so an integration writes with a token
  of a SALES_OPS or ADMIN user — and it still needs an account it may write.
- Conversion: the lead by whoever may change it; into an existing account or
  opportunity only when the actor owns it, owns its account, is on the
  account team, or it is unowned — except BDRs and SDRs, whose job the
  handbook makes exactly that ("BDR will convert the LEAD record to a CONTACT
  and relate it to the existing Opportunity"; "create an Opportunity and
  immediately assign the opportunity to the Account Owner/SAL"), and
  SALES_ADMIN, SALES_OPS, ADMIN.
- Activities: logged on a record the actor owns, whose account they own, or
  whose account team they are on (a lead: its linked account); else by
  MARKETING_OPS (leads), SALES_ADMIN (other records), SALES_OPS, ADMIN. An
  unowned record is adopted first. Completing one needs the activity to be
  yours (or ops') and the same right on every record it is about.
- Exports (issue 13 item 5): a file of a whole list is for MARKETING_OPS,
  SALES_OPS, ADMIN and the managers of the field teams (RD); what it holds is
  what the list queries show (every record, A6). Its file is downloaded by
  whoever asked for it, SALES_OPS and ADMIN (``may_read_private``).
- Merges (D12): merging duplicates of any kind, undoing a merge and scanning
  for duplicates are the data stewards' (MARKETING_OPS, SALES_ADMIN,
  SALES_OPS, ADMIN), whoever owns the records: a merge deletes records, so
  it is not an owner's edit.
- Campaigns: MARKETING_OPS, SALES_OPS, ADMIN. Users: ADMIN. API tokens:
  anyone issues and revokes their own (an integration gets a token of its
  own, scoped), ADMIN everyone's (issue 16 item 9); the token's scopes
  narrow this further (``token_scopes``).
  Scoring and region tables, routing pools: SALES_OPS, ADMIN; re-running
  routing: MARKETING_OPS too. Passing a support ticket to sales: anyone
  (support works through any account); resolving a hand-off: whoever passed
  it, its assignee, SALES_OPS, ADMIN. Webhook subscriptions, their delivery
  log, redeliveries and replays: SALES_OPS, ADMIN (the log shows every event).

Record ownership (D8):

- A record (lead, account, contact, opportunity) that is unowned or owned by
  the Sales Admin placeholder (a user with the SALES_ADMIN role) is adoptable
  by anyone (round 2, D8; the handbook: "If LEAD or CONTACT is unowned or
  'owned by Sales Admin' …, this record is adoptable by anyone - change
  Record Owner to your name"): whoever could not otherwise change it may set
  its owner to *themselves*, together with any other change in the same
  update. Handing it to someone else needs the usual rights; an unowned lead
  is otherwise read-only like any lead (A6). Only leaving the placeholder
  raises the SALES_ADMIN_RECORD_ADOPTED alert.
- A lead owned by a BDR changes hands only by that BDR or SALES_OPS (ADMIN
  too, as everywhere SALES_OPS may act for others): whether through
  ``transferLeadOwnership`` or an ``ownerId`` in ``updateLead``, the same
  rule applies. Anyone who may edit the lead may still change its other
  fields. The rule is the spec's for leads only; contacts follow the
  general rule.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from enum import StrEnum

from domain.enums import FIELD_SALES_ROLES, ErrorCode, Role
from domain.errors import Refusal

# SALES_OPS, and ADMIN with them, act for others wherever the spec says SALES_OPS.
OPS_ROLES = frozenset({Role.SALES_OPS, Role.ADMIN})
EVERYONE = frozenset(Role)

# --- the named permissions: who may do what, each written once --------------------
LEAD_EDITORS = frozenset({Role.MARKETING_OPS, *OPS_ROLES})
RECORD_EDITORS = frozenset({Role.SALES_ADMIN, *OPS_ROLES})
CAMPAIGN_EDITORS = frozenset({Role.MARKETING_OPS, *OPS_ROLES})
USER_ADMINS = frozenset({Role.ADMIN})
# Who may take a lead away from the BDR who owns it (D8).
LEAD_TRANSFER_ROLES = OPS_ROLES
RULE_TABLE_EDITORS = OPS_ROLES
# Who may accept a lead that is not theirs (D2: "or SALES_OPS/ADMIN").
LEAD_ACCEPTORS_FOR_OTHERS = OPS_ROLES
# Who may take an opportunity out of 0-Pending Acceptance (D3.3, round 2): its
# owner when field sales ("the SAL or AE should move the opportunity") …
SALES_ACCEPTING_ROLES = FIELD_SALES_ROLES
# … or SALES_OPS/ADMIN for them; never the BDR/SDR who sourced it.
SALES_ACCEPTORS_FOR_OTHERS = OPS_ROLES
# Who may lift an opportunity stage rule with an override (D3 rules 6, 7).
STAGE_OVERRIDE_ROLES = frozenset({Role.SALES_OPS})
# Who set the members of the routing pools (D8).
POOL_MANAGERS = OPS_ROLES
# Who may re-run routing for a lead (``routeLead``).
REROUTERS = frozenset({Role.MARKETING_OPS, *POOL_MANAGERS})
# Who resolve any support hand-off, besides whoever passed it and its assignee.
HAND_OFF_RESOLVERS = OPS_ROLES
# Who create records owned by someone else (issue 17): ops; leads, marketing too.
CREATORS_FOR_OTHERS = OPS_ROLES
LEAD_CREATORS_FOR_OTHERS = LEAD_EDITORS
# Whose job is converting leads into the accounts and deals of others (D7).
SOURCING_ROLES = frozenset({Role.BDR, Role.SDR})
# Who merge duplicates, undo merges and scan for duplicates (D12): the data's
# stewards — marketing ops (lists), the Sales Admin, sales ops.
DATA_STEWARDS = frozenset({Role.MARKETING_OPS, Role.SALES_ADMIN, *OPS_ROLES})
# Who may create a WEB_DIRECT purchase already won (D3 rule 1): ops and the
# integrations writing with their tokens, never a field role.
WON_DEAL_CREATORS = OPS_ROLES
# Who import lists of leads, contacts and accounts (D12, issue 13): marketing
# ops (event and purchased lists) and sales ops / admins.
IMPORTERS = frozenset({Role.MARKETING_OPS, *OPS_ROLES})
# Who import a CRM's history — closed deals, past stages (issue 13 item 2):
# sales ops and ADMIN only, with the import's explicit ``historical`` flag.
HISTORY_IMPORTERS = OPS_ROLES
# Who register webhooks and read their delivery log (issue 12): integrations
# are set up by sales ops.
WEBHOOK_MANAGERS = OPS_ROLES
# Who export records to a file (issue 13 item 5): the people who run lists and
# reports — marketing ops, sales ops, ADMIN — and the regional directors who
# manage the field teams. A file leaves the system with every record of a kind
# (reads are open, A6, but a bulk copy is not a read of one record).
EXPORTERS = frozenset({Role.RD, Role.MARKETING_OPS, *OPS_ROLES})


class Relation(StrEnum):
    """How the acting user stands to the record (see the module docstring)."""

    OWNER = "OWNER"
    ACCOUNT_OWNER = "ACCOUNT_OWNER"
    TEAM = "TEAM"
    UNOWNED = "UNOWNED"
    PLACEHOLDER = "PLACEHOLDER"
    OTHER = "OTHER"
    ANY = "ANY"


class Operation(StrEnum):
    """Every kind of write, each decided by one row group of ``PERMISSIONS``."""

    MANAGE_USERS = "MANAGE_USERS"
    MANAGE_TOKENS = "MANAGE_TOKENS"
    CREATE_LEAD = "CREATE_LEAD"
    UPDATE_LEAD = "UPDATE_LEAD"
    TRANSITION_LEAD = "TRANSITION_LEAD"
    CONVERT_LEAD = "CONVERT_LEAD"
    CONVERT_INTO_ACCOUNT = "CONVERT_INTO_ACCOUNT"
    CONVERT_INTO_OPPORTUNITY = "CONVERT_INTO_OPPORTUNITY"
    RECORD_ENGAGEMENT = "RECORD_ENGAGEMENT"
    TRANSFER_LEAD = "TRANSFER_LEAD"
    TRANSFER_BDR_LEAD = "TRANSFER_BDR_LEAD"
    ADOPT_RECORD = "ADOPT_RECORD"
    ROUTE_LEAD = "ROUTE_LEAD"
    SET_ROUTING_POOLS = "SET_ROUTING_POOLS"
    EDIT_RULE_TABLES = "EDIT_RULE_TABLES"
    DEFINE_CUSTOM_FIELDS = "DEFINE_CUSTOM_FIELDS"
    CREATE_ACCOUNT = "CREATE_ACCOUNT"
    UPDATE_ACCOUNT = "UPDATE_ACCOUNT"
    EDIT_ACCOUNT_TEAM = "EDIT_ACCOUNT_TEAM"
    CREATE_CONTACT = "CREATE_CONTACT"
    UPDATE_CONTACT = "UPDATE_CONTACT"
    MOVE_CONTACT_TO_ACCOUNT = "MOVE_CONTACT_TO_ACCOUNT"
    CREATE_OPPORTUNITY = "CREATE_OPPORTUNITY"
    CREATE_WON_OPPORTUNITY = "CREATE_WON_OPPORTUNITY"
    CREATE_DEAL_ON_ACCOUNT = "CREATE_DEAL_ON_ACCOUNT"
    MOVE_DEAL_TO_ACCOUNT = "MOVE_DEAL_TO_ACCOUNT"
    UPDATE_OPPORTUNITY = "UPDATE_OPPORTUNITY"
    MOVE_OPPORTUNITY_STAGE = "MOVE_OPPORTUNITY_STAGE"
    REQUEST_TERMS_MODIFICATION = "REQUEST_TERMS_MODIFICATION"
    LOG_ACTIVITY = "LOG_ACTIVITY"
    LOG_LEAD_ACTIVITY = "LOG_LEAD_ACTIVITY"
    COMPLETE_ACTIVITY = "COMPLETE_ACTIVITY"
    CREATE_CAMPAIGN = "CREATE_CAMPAIGN"
    PASS_TICKET_TO_SALES = "PASS_TICKET_TO_SALES"
    RESOLVE_SUPPORT_HAND_OFF = "RESOLVE_SUPPORT_HAND_OFF"
    MANAGE_WEBHOOKS = "MANAGE_WEBHOOKS"
    MERGE_RECORDS = "MERGE_RECORDS"
    EXPORT_RECORDS = "EXPORT_RECORDS"
    IMPORT_RECORDS = "IMPORT_RECORDS"
    IMPORT_HISTORY = "IMPORT_HISTORY"


@dataclass(frozen=True, slots=True)
class Rule:
    """One operation's row group: the mutations it decides, what it guards, and
    for each relation it names, the roles that may act."""

    mutations: tuple[str, ...]
    what: str
    allowed: dict[Relation, frozenset[Role]] = field(default_factory=dict)


R = Relation
_ = frozenset[Role]()  # nobody
_CREATE = {R.OWNER: EVERYONE, R.UNOWNED: EVERYONE, R.OTHER: CREATORS_FOR_OTHERS}
_LEAD = {R.OWNER: EVERYONE, R.OTHER: LEAD_EDITORS}
_ACCOUNT = {R.OWNER: EVERYONE, R.UNOWNED: EVERYONE, R.OTHER: RECORD_EDITORS}
_CONTACT = {
    R.OWNER: EVERYONE,
    R.ACCOUNT_OWNER: EVERYONE,
    R.TEAM: EVERYONE,
    R.UNOWNED: EVERYONE,
    R.OTHER: RECORD_EDITORS,
}
_ON_ACCOUNT = {
    R.OWNER: EVERYONE,
    R.TEAM: EVERYONE,
    R.UNOWNED: EVERYONE,
    R.OTHER: RECORD_EDITORS,
}
_CONVERT_INTO = {
    R.OWNER: EVERYONE,
    R.ACCOUNT_OWNER: EVERYONE,
    R.TEAM: EVERYONE,
    R.UNOWNED: EVERYONE,
    R.OTHER: SOURCING_ROLES | RECORD_EDITORS,
}
# A deal: its owner, its account's owner (who answers for the account, D7),
# anyone while unowned, else the record editors.
_DEAL = {
    R.OWNER: EVERYONE,
    R.ACCOUNT_OWNER: EVERYONE,
    R.UNOWNED: EVERYONE,
    R.OTHER: RECORD_EDITORS,
}
_WORK_ON = {R.OWNER: EVERYONE, R.ACCOUNT_OWNER: EVERYONE, R.TEAM: EVERYONE}

# fmt: off
PERMISSIONS: dict[Operation, Rule] = {
    Operation.MANAGE_USERS: Rule(
        ("createUser", "updateUser"), "users", {R.ANY: USER_ADMINS}),
    Operation.MANAGE_TOKENS: Rule(
        ("createApiToken", "revokeApiToken"), "API tokens (OWNER: your own)",
        {R.OWNER: EVERYONE, R.OTHER: USER_ADMINS}),
    Operation.CREATE_LEAD: Rule(
        ("createLead",), "a lead, by the owner it names",
        {**_CREATE, R.OTHER: LEAD_CREATORS_FOR_OTHERS}),
    Operation.UPDATE_LEAD: Rule(("updateLead",), "a lead's fields", _LEAD),
    Operation.TRANSITION_LEAD: Rule(
        ("transitionLead",), "a lead's status (→ACCEPTED: its NOT_OWNER guard)",
        _LEAD),
    Operation.CONVERT_LEAD: Rule(("convertLead",), "the lead converted", _LEAD),
    Operation.CONVERT_INTO_ACCOUNT: Rule(
        ("convertLead",), "the existing account a lead is converted into",
        _CONVERT_INTO),
    Operation.CONVERT_INTO_OPPORTUNITY: Rule(
        ("convertLead",), "the open opportunity a lead is attached to",
        _CONVERT_INTO),
    Operation.RECORD_ENGAGEMENT: Rule(
        ("recordEngagement", "recordEngagements"), "the lead engaged", _LEAD),
    Operation.TRANSFER_LEAD: Rule(
        ("transferLeadOwnership", "updateLead"),
        "the owner of a lead not owned by a BDR", _LEAD),
    Operation.TRANSFER_BDR_LEAD: Rule(
        ("transferLeadOwnership", "updateLead", "routeLead"),
        "the owner of a BDR's lead (D8)",
        {R.OWNER: frozenset({Role.BDR}), R.OTHER: LEAD_TRANSFER_ROLES}),
    Operation.ADOPT_RECORD: Rule(
        ("updateLead", "updateAccount", "updateContact", "updateOpportunity",
         "transferLeadOwnership"),
        "taking an unowned or Sales Admin record for yourself (D8)",
        {R.UNOWNED: EVERYONE, R.PLACEHOLDER: EVERYONE}),
    Operation.ROUTE_LEAD: Rule(("routeLead",), "re-running routing",
                               {R.ANY: REROUTERS}),
    Operation.SET_ROUTING_POOLS: Rule(
        ("setRoutingPoolMembers",), "the routing pools", {R.ANY: POOL_MANAGERS}),
    Operation.EDIT_RULE_TABLES: Rule(
        ("updateScoringTable", "updateRegionTable", "updateStageRequirements",
         "updateTimeouts"),
        "the scoring, region, stage-requirements and timeouts tables",
        {R.ANY: RULE_TABLE_EDITORS}),
    Operation.DEFINE_CUSTOM_FIELDS: Rule(
        ("defineCustomField", "updateCustomField"),
        "the custom fields of leads, accounts and opportunities",
        {R.ANY: RULE_TABLE_EDITORS}),
    Operation.CREATE_ACCOUNT: Rule(
        ("createAccount",), "an account, by the owner it names", _CREATE),
    Operation.UPDATE_ACCOUNT: Rule(("updateAccount",), "an account", _ACCOUNT),
    Operation.EDIT_ACCOUNT_TEAM: Rule(
        ("addAccountTeamMember", "removeAccountTeamMember"), "an account's team",
        _ACCOUNT),
    Operation.CREATE_CONTACT: Rule(
        ("createContact",), "a contact, by the owner it names", _CREATE),
    Operation.UPDATE_CONTACT: Rule(
        ("updateContact",), "a contact", _CONTACT),
    Operation.MOVE_CONTACT_TO_ACCOUNT: Rule(
        ("updateContact",), "the account a contact is moved to", _CONVERT_INTO),
    Operation.CREATE_OPPORTUNITY: Rule(
        ("createOpportunity",), "an opportunity, by the owner it names",
        {**_CREATE, R.OTHER: SOURCING_ROLES | CREATORS_FOR_OTHERS}),
    Operation.CREATE_WON_OPPORTUNITY: Rule(
        ("createOpportunity",), "a WEB_DIRECT purchase created in 7-Closed Won",
        {R.ANY: WON_DEAL_CREATORS}),
    Operation.CREATE_DEAL_ON_ACCOUNT: Rule(
        ("createOpportunity",), "the account a deal is created on",
        {**_ON_ACCOUNT, R.OTHER: SOURCING_ROLES | RECORD_EDITORS}),
    Operation.MOVE_DEAL_TO_ACCOUNT: Rule(
        ("updateOpportunity",), "the account a deal is moved to", _ON_ACCOUNT),
    Operation.UPDATE_OPPORTUNITY: Rule(
        ("updateOpportunity",), "an opportunity's fields", _DEAL),
    Operation.MOVE_OPPORTUNITY_STAGE: Rule(
        ("moveOpportunityStage", "changeOpportunityPipeline"),
        "an opportunity's stage (acceptance: its NOT_SALES_OWNER guard)", _DEAL),
    Operation.REQUEST_TERMS_MODIFICATION: Rule(
        ("requestTermsModification",), "a terms request on an opportunity",
        _DEAL),
    Operation.LOG_LEAD_ACTIVITY: Rule(
        ("logActivity", "completeActivity"), "an activity about a lead",
        {**_WORK_ON, R.OTHER: LEAD_EDITORS}),
    Operation.LOG_ACTIVITY: Rule(
        ("logActivity", "completeActivity"),
        "an activity about an account, contact or opportunity",
        {**_WORK_ON, R.OTHER: RECORD_EDITORS}),
    Operation.COMPLETE_ACTIVITY: Rule(
        ("completeActivity", "logActivity"),
        "the activity itself, by its owner (logged: the owner it names)",
        _CREATE),
    Operation.CREATE_CAMPAIGN: Rule(
        ("createCampaign",), "campaigns", {R.ANY: CAMPAIGN_EDITORS}),
    Operation.PASS_TICKET_TO_SALES: Rule(
        ("passTicketToSales",), "a support ticket passed to sales",
        {R.ANY: EVERYONE}),
    Operation.RESOLVE_SUPPORT_HAND_OFF: Rule(
        ("resolveSupportHandOff",),
        "a support hand-off (OWNER: whoever passed it, or its assignee)",
        {R.OWNER: EVERYONE, R.OTHER: HAND_OFF_RESOLVERS}),
    Operation.MANAGE_WEBHOOKS: Rule(
        ("createWebhookSubscription", "updateWebhookSubscription",
         "deleteWebhookSubscription", "redeliverEvent", "replayWebhookSubscription"),
        "webhook subscriptions and their deliveries", {R.ANY: WEBHOOK_MANAGERS}),
    Operation.MERGE_RECORDS: Rule(
        ("mergeLeads", "mergeContacts", "mergeAccounts", "undoMerge",
         "startDuplicateScan"),
        "merging duplicates, undoing a merge, scanning for duplicates (D12)",
        {R.ANY: DATA_STEWARDS}),
    Operation.EXPORT_RECORDS: Rule(
        ("exportRecords",), "exporting leads, contacts, accounts or deals to a file",
        {R.ANY: EXPORTERS}),
    Operation.IMPORT_RECORDS: Rule(
        ("startImport", "saveImportMapping"),
        "importing lists of leads, contacts and accounts, saving mappings (D12)",
        {R.ANY: IMPORTERS}),
    Operation.IMPORT_HISTORY: Rule(
        ("startImport",),
        "a historical import: closed deals and past stages, entry requirements "
        "of the stages passed before it not checked again (issue 13 item 2)",
        {R.ANY: HISTORY_IMPORTERS}),
}
# fmt: on


def relations_named(operation: Operation) -> tuple[Relation, ...]:
    """The relations an operation distinguishes, in the enum's order."""
    allowed = PERMISSIONS[operation].allowed
    return tuple(r for r in Relation if r in allowed)


def may(role: Role, operation: Operation, relation: Relation) -> bool:
    """The table's answer for one cell; a relation the operation does not name
    counts as OTHER."""
    allowed = PERMISSIONS[operation].allowed
    if relation not in allowed:
        relation = Relation.OTHER if Relation.OTHER in allowed else Relation.ANY
    return role in allowed.get(relation, _)


def _who(operation: Operation) -> str:
    """Who may act, in words: 'its owner, MARKETING_OPS, SALES_OPS or ADMIN'."""
    allowed = PERMISSIONS[operation].allowed
    everyone = [r for r, roles in allowed.items() if roles == EVERYONE]
    words = [_RELATION_WORDS[r] for r in everyone if r in _RELATION_WORDS]
    partial = frozenset().union(
        *(roles for roles in allowed.values() if roles != EVERYONE)
    )
    if partial:
        words.append(role_names(partial))
    return ", ".join(words) or "nobody"


_RELATION_WORDS = {
    Relation.OWNER: "its owner",
    Relation.ACCOUNT_OWNER: "its account's owner",
    Relation.TEAM: "its account team",
    Relation.UNOWNED: "anyone while unowned",
    Relation.PLACEHOLDER: "anyone from the Sales Admin placeholder",
}


def refusals(
    actor: Actor,
    operation: Operation,
    relation: Relation = Relation.ANY,
    *,
    message: str | None = None,
) -> list[Refusal]:
    """[] when the table allows the cell, else one FORBIDDEN naming the rule
    (``message`` when the use case words it better)."""
    if may(actor.role, operation, relation):
        return []
    rule = PERMISSIONS[operation]
    return _forbidden(
        message
        or f"{operation.value}: {rule.what} may be changed only by "
        f"{_who(operation)} (you are {actor.role.value}, relation {relation.value})."
    )


@dataclass(frozen=True, slots=True)
class Standing:
    """What decides the actor's relation to a record: its owner (and whether
    that is the Sales Admin placeholder), its account's owner and team."""

    owner_id: int | None
    placeholder: bool = False
    account_owner_id: int | None = None
    team: Collection[int] = ()


def relation_of(actor: Actor, operation: Operation, standing: Standing) -> Relation:
    """The first relation that holds and the operation names, else OTHER."""
    named = PERMISSIONS[operation].allowed
    holds = (
        (Relation.OWNER, standing.owner_id is not None
         and standing.owner_id == actor.id),
        (Relation.ACCOUNT_OWNER, standing.account_owner_id is not None
         and standing.account_owner_id == actor.id),
        (Relation.TEAM, actor.id in standing.team),
        (Relation.PLACEHOLDER, standing.placeholder),
        (Relation.UNOWNED, standing.owner_id is None),
    )  # fmt: skip
    for relation, true in holds:
        if true and relation in named:
            return relation
    return Relation.OTHER


def refusals_for(
    actor: Actor, operation: Operation, standing: Standing
) -> list[Refusal]:
    """``refusals`` for the relation ``standing`` gives the actor."""
    return refusals(actor, operation, relation_of(actor, operation, standing))


def creation_relation(actor: Actor, owner_id: int | None) -> Relation:
    """A new record's ``ownerId``: yourself, left empty, or someone else."""
    if owner_id is None:
        return Relation.UNOWNED
    return Relation.OWNER if owner_id == actor.id else Relation.OTHER


def may_create(
    actor: Actor, operation: Operation, owner_id: int | None
) -> list[Refusal]:
    """Creating a record owned by ``owner_id`` (issue 17): yours, or nobody's;
    a refusal names ``ownerId``."""
    found = refusals(actor, operation, creation_relation(actor, owner_id))
    return [replace(r, field=("ownerId",)) for r in found]


def may_read_private(actor: Actor, person_ids: Collection[int]) -> bool:
    """Events addressed to others and users' emails: the recipients (or the user
    themselves), SALES_OPS and ADMIN."""
    return actor.role in OPS_ROLES or actor.id in person_ids


def private_reader(actor: Actor) -> int | None:
    """Whose private items the actor reads: ``None`` for every one (SALES_OPS,
    ADMIN), else only their own (their id)."""
    return None if actor.role in OPS_ROLES else actor.id


def permissions_markdown() -> str:
    """The table as Markdown: one row per operation and relation, a column per
    role (the README's "Who may do what")."""
    roles = list(Role)
    head = "| operation | relation | " + " | ".join(r.value for r in roles) + " |"
    rule = "|" + "---|" * (len(roles) + 2)
    rows = [head, rule]
    for operation, entry in PERMISSIONS.items():
        mutations = ", ".join(f"`{m}`" for m in entry.mutations)
        for relation in relations_named(operation):
            marks = " | ".join(
                "✓" if role in entry.allowed[relation] else "·" for role in roles
            )
            rows.append(
                f"| **{operation.value}** ({mutations}) | {relation.value} | {marks} |"
            )
    return "\n".join(rows)


# What each named permission lets its roles do, in words (the API's role list).
PERMISSION_WORDS: tuple[tuple[frozenset[Role], str], ...] = (
    (LEAD_EDITORS, "may edit any lead"),
    (RECORD_EDITORS, "may edit any account, contact, opportunity and activity"),
    (CAMPAIGN_EDITORS, "may edit campaigns"),
    (LEAD_ACCEPTORS_FOR_OTHERS, "may accept a lead for its owner"),
    (LEAD_TRANSFER_ROLES, "may hand on a BDR's lead"),
    (SALES_ACCEPTING_ROLES, "may sales-accept the opportunities they own"),
    (SALES_ACCEPTORS_FOR_OTHERS, "may sales-accept an opportunity for its owner"),
    (STAGE_OVERRIDE_ROLES, "may override stage rules"),
    (REROUTERS, "may re-run routing"),
    (POOL_MANAGERS, "sets the routing pools"),
    (
        RULE_TABLE_EDITORS,
        "edits the rule tables (scoring, regions, stage requirements, timeouts)",
    ),
    (HAND_OFF_RESOLVERS, "may resolve any support hand-off"),
    (USER_ADMINS, "manages users and everyone's API tokens"),
    (CREATORS_FOR_OTHERS, "may create records owned by others"),
    (SOURCING_ROLES, "may source deals into others' accounts"),
    (WON_DEAL_CREATORS, "may create a won WEB_DIRECT purchase"),
    (DATA_STEWARDS, "merges duplicates and undoes merges"),
    (EXPORTERS, "exports records to files"),
)


def powers_of(role: Role) -> list[str]:
    """What the named permissions let this role do, in words."""
    return [words for roles, words in PERMISSION_WORDS if role in roles]


def role_list(roles: frozenset[Role]) -> str:
    """The roles, in the enum's order: "MARKETING_OPS, SALES_OPS, ADMIN"."""
    return ", ".join(role.value for role in Role if role in roles)


def role_names(roles: frozenset[Role]) -> str:
    """The roles as words, in the enum's order: "MARKETING_OPS, SALES_OPS or ADMIN"."""
    names = [role.value for role in Role if role in roles]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


@dataclass(frozen=True, slots=True)
class Actor:
    """The user on whose behalf a use case runs."""

    id: int
    role: Role


def _forbidden(message: str) -> list[Refusal]:
    return [Refusal(code=ErrorCode.FORBIDDEN, message=message)]


def may_edit_lead(
    actor: Actor, owner_id: int | None, operation: Operation = Operation.UPDATE_LEAD
) -> list[Refusal]:
    """Leads are read-only except for their owner, MARKETING_OPS, SALES_OPS, ADMIN."""
    return refusals_for(actor, operation, Standing(owner_id))


def may_edit_record(
    actor: Actor, owner_id: int | None, kind: str, operation: Operation | None = None
) -> list[Refusal]:
    """Owned records: the owner, SALES_OPS, SALES_ADMIN, ADMIN; unowned: anyone."""
    return refusals_for(actor, operation or _UPDATE_OF[kind], Standing(owner_id))


_UPDATE_OF = {
    "account": Operation.UPDATE_ACCOUNT,
    "contact": Operation.UPDATE_CONTACT,
    "opportunity": Operation.UPDATE_OPPORTUNITY,
    "activity": Operation.COMPLETE_ACTIVITY,
}


@dataclass(frozen=True, slots=True)
class Owner:
    """The current owner of a record, as the ownership rules see them."""

    id: int
    role: Role
    active: bool = True


def is_placeholder(owner: Owner | None) -> bool:
    """Owned by the Sales Admin placeholder: the record is adoptable (D8)."""
    return owner is not None and owner.role is Role.SALES_ADMIN


def is_adoptable(owner: Owner | None) -> bool:
    """Unowned or owned by the Sales Admin placeholder: anyone may adopt it (D8)."""
    return owner is None or is_placeholder(owner)


def is_adoption(owner: Owner | None, new_owner_id: int | None) -> bool:
    """The record leaves the Sales Admin placeholder for a user: an adoption."""
    return (
        is_placeholder(owner) and new_owner_id is not None and new_owner_id != owner.id  # type: ignore[union-attr]
    )


def standing_of(owner: Owner | None, **account: object) -> Standing:
    """The standing a record's current owner gives (plus its account's)."""
    return Standing(
        owner.id if owner else None,
        is_placeholder(owner),
        **account,  # type: ignore[arg-type]
    )


def _adopts(actor: Actor, owner: Owner | None, new_owner_id: int | None) -> bool:
    """Taking an adoptable record for yourself: the ADOPT_RECORD cell says yes."""
    return (
        is_adoptable(owner)
        and new_owner_id is not None
        and new_owner_id == actor.id
        and not refusals_for(actor, Operation.ADOPT_RECORD, standing_of(owner))
    )


def may_change_lead_owner(
    actor: Actor, owner: Owner | None, new_owner_id: int | None
) -> list[Refusal]:
    """Who may give a lead another owner (D8): BDR leads by transfer only."""
    if owner is not None and owner.role is Role.BDR:
        op = Operation.TRANSFER_BDR_LEAD
        return refusals(
            actor,
            op,
            relation_of(actor, op, standing_of(owner)),
            message="A lead owned by a BDR changes hands only through an ownership "
            "transfer by that BDR or SALES_OPS (D8): ask the BDR to transfer it to "
            "you.",
        )
    if _adopts(actor, owner, new_owner_id):
        return []
    return refusals_for(actor, Operation.TRANSFER_LEAD, standing_of(owner))


def may_update_lead(
    actor: Actor, owner: Owner | None, new_owner_id: int | None, *, changes_owner: bool
) -> list[Refusal]:
    """An update of a lead: the ownership rule when it changes the owner."""
    if changes_owner:
        return may_change_lead_owner(actor, owner, new_owner_id)
    return may_edit_lead(actor, owner.id if owner else None)


def may_update_record(
    actor: Actor,
    owner: Owner | None,
    new_owner_id: int | None,
    kind: str,
    *,
    changes_owner: bool,
    account_owner_id: int | None = None,
    team: Collection[int] = (),
) -> list[Refusal]:
    """An update of an account, contact or opportunity; adopting is open to all."""
    if (
        changes_owner
        and is_adoption(owner, new_owner_id)
        and _adopts(actor, owner, new_owner_id)
    ):
        return []
    return refusals_for(
        actor,
        _UPDATE_OF[kind],
        Standing(owner.id if owner else None, False, account_owner_id, team),
    )


def may_edit_campaigns(actor: Actor) -> list[Refusal]:
    """Campaigns belong to marketing: MARKETING_OPS, SALES_OPS, ADMIN."""
    return refusals(actor, Operation.CREATE_CAMPAIGN)


def may_manage_users(actor: Actor) -> list[Refusal]:
    """Users are managed by ADMIN only."""
    return refusals(actor, Operation.MANAGE_USERS)


def may_manage_tokens(actor: Actor, user_id: int) -> list[Refusal]:
    """Your own API tokens are yours to issue and revoke; others', ADMIN's."""
    relation = Relation.OWNER if user_id == actor.id else Relation.OTHER
    return refusals(actor, Operation.MANAGE_TOKENS, relation)


def may_edit_rule_tables(actor: Actor, table: str) -> list[Refusal]:
    """The scoring and region tables are sales ops' data: SALES_OPS, ADMIN."""
    return refusals(
        actor,
        Operation.EDIT_RULE_TABLES,
        message=f"Only {role_names(RULE_TABLE_EDITORS)} may change {table}.",
    )


def may_preview_timeouts(actor: Actor) -> list[Refusal]:
    """What the scheduler would do is previewed by those who edit its table."""
    return refusals(
        actor,
        Operation.EDIT_RULE_TABLES,
        message=f"Only {role_names(RULE_TABLE_EDITORS)} may preview the timeouts.",
    )


def may_define_custom_fields(actor: Actor) -> list[Refusal]:
    """Custom fields are sales ops' data, like the rule tables: SALES_OPS, ADMIN."""
    return refusals(
        actor,
        Operation.DEFINE_CUSTOM_FIELDS,
        message=f"Only {role_names(RULE_TABLE_EDITORS)} may define custom fields.",
    )


def may_manage_pools(actor: Actor) -> list[Refusal]:
    """The routing pools' members are set by SALES_OPS and ADMIN (D8)."""
    return refusals(actor, Operation.SET_ROUTING_POOLS)


def may_reroute(actor: Actor) -> list[Refusal]:
    """Routing is re-run for a lead by MARKETING_OPS, SALES_OPS and ADMIN."""
    return refusals(actor, Operation.ROUTE_LEAD)


def may_export(actor: Actor) -> list[Refusal]:
    """Exports (a whole list to a file): RD, MARKETING_OPS, SALES_OPS, ADMIN."""
    return refusals(actor, Operation.EXPORT_RECORDS)


def may_manage_webhooks(actor: Actor) -> list[Refusal]:
    """Webhook subscriptions and their delivery log: SALES_OPS and ADMIN."""
    return refusals(actor, Operation.MANAGE_WEBHOOKS)
