"""The domain enums as GraphQL enums, each value with its description (A1, A7).

The Python enums live in ``domain.enums``; here they are registered with
strawberry under the fixed GraphQL names and given the descriptions that
GraphiQL shows.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from domain import enums as d
from domain.lifecycle.lead import LEAD_MACHINE
from domain.lifecycle.machine import StateInfo
from domain.lifecycle.opportunity import OPPORTUNITY_MACHINE, REOPEN_WINDOW_DAYS
from domain.rules import permissions as p


def _meaning(info: StateInfo[Any], *, labelled: bool) -> str:
    """A state's meaning as the machine declares it (with its label)."""
    text = f"{info.label}. {info.description}" if labelled else info.description
    return text + (" Final." if info.final else "")


# The meanings of the statuses and stages are the machines' own.
_LEAD_STATUS = {
    info.state.value: _meaning(info, labelled=False) for info in LEAD_MACHINE.states
}
_STAGE = {
    info.state.value: _meaning(info, labelled=True)
    for info in OPPORTUNITY_MACHINE.states
}

_SEGMENT = {
    "STRATEGIC": "A named (strategic) account; ranks above LARGE.",
    "LARGE": "2,000 employees or more.",
    "MID_MARKET": "100 to 1,999 employees.",
    "SMB": "0 to 99 employees.",
    "UNKNOWN": "Number of employees not known.",
}

_REGION = {
    "APAC": "Asia-Pacific.",
    "EMEA": "Europe, Middle East and Africa.",
    "LATAM": "Latin America.",
    "US_EAST": "US East (and eastern Canadian provinces).",
    "US_WEST": "US West (and western Canadian provinces).",
    "PUBLIC_SECTOR": "US public sector (government, federal), whatever the address.",
}

_JOB = {
    d.Role.SDR: "Sales development rep (inbound)",
    d.Role.BDR: "Business development rep (outbound)",
    d.Role.AE: "Account executive",
    d.Role.SAL: "Strategic account leader",
    d.Role.AM: "Account manager",
    d.Role.RD: "Regional director",
    d.Role.CUSTOMER_ADVOCATE: "Customer advocate (SMB inbound)",
    d.Role.CUSTOMER_SUCCESS: "Customer success manager",
    d.Role.MARKETING_OPS: "Marketing operations",
    d.Role.SALES_OPS: "Sales operations",
    d.Role.SALES_ADMIN: "The Sales Admin placeholder owner; its records are adoptable",
    d.Role.ADMIN: "Administrator",
}


def _role(role: d.Role) -> str:
    """What the role is, then what the named permissions let it do."""
    powers = "; ".join(p.powers_of(role))
    return f"{_JOB[role]}." + (f" {powers[0].upper()}{powers[1:]}." if powers else "")


_ROLE = {role.value: _role(role) for role in d.Role}

_ERROR = {
    "NOT_FOUND": "The record does not exist (or is not visible to you).",
    "FORBIDDEN": "Your role may not do this; the message names the rule.",
    "INVALID_INPUT": "An input value is malformed or out of range.",
    "DUPLICATE_RECORD": "A record with this email exists; pass allowDuplicate to "
    "create anyway.",
    "IMMUTABLE_FIELD": "The field cannot change once set (e.g. initialSource).",
    "STALE_VERSION": "The record changed since the version you read.",
    "IDEMPOTENCY_KEY_REUSED": "The idempotency key was used with a different input.",
    "MISSING_FIELD": "A required field is missing.",
    "READ_ONLY_RECORD": "The record is read-only (e.g. a converted lead).",
    "REQUEST_TOO_LARGE": "The HTTP body is over the size limit (HTTP 413).",
    "QUERY_TOO_COSTLY": "The query's computed cost is over the budget; "
    "`extensions` carries both.",
    "LAST_ACTIVE_ADMIN": "The last active ADMIN cannot be deactivated or demoted.",
    "RATE_LIMITED": "The API token made more requests than its limit a minute "
    "(HTTP 429; `Retry-After` says when to try again).",
    "INSUFFICIENT_SCOPE": "The API token lacks the scope this operation needs "
    "(queries READ, mutations WRITE, users, tokens and rule tables ADMIN), or "
    "a new token asks for a scope the calling token lacks.",
    "INVALID_TRANSITION": "The target state is not reachable from the current one.",
    "FINAL_STATE": "The record is in a final state.",
    "REASON_REQUIRED": "This move needs a reason.",
    "NOT_OWNER": "Only the lead's owner, "
    f"{p.role_names(p.LEAD_ACCEPTORS_FOR_OTHERS)} may accept it.",
    "NO_OWNER": "The record has no owner.",
    "NOT_ACTIVE": "A GitLab.com lead must be Active to be accepted or routed.",
    "SCORE_BELOW_THRESHOLD": "The score is below the MQL threshold.",
    "NO_INBOUND_ENGAGEMENT": "No hand-raise (form, content offer, event, trial, "
    "Contact Us) is recorded: page visits and unsubscribes do not count.",
    "NO_NEW_ENGAGEMENT": "No new hand-raise since the lead entered nurture.",
    "NOT_TIMED_OUT": "The lead's timeout (timeoutAt) has not passed; only the "
    "scheduler returns a lead to the routing pool.",
    "NO_TWO_WAY_ACTIVITY": "No completed two-way activity is logged.",
    "CONVERSION_REQUIRED": "QUALIFIED is reached only by converting the lead.",
    "CONTACT_DATA_UNCHANGED": "Email or phone must be corrected first.",
    "PURCHASE_REFERENCE_REQUIRED": "A reference to the purchasing record is needed.",
    "ALREADY_CONVERTED": "The lead was already converted.",
    "ASSIGNEE_REQUIRED": "A converted opportunity goes to a sales rep: name one "
    "(ownerId) when the account has no field-sales owner and you are not one.",
    "ALREADY_SALES_ACCEPTED": "The opportunity was sales-accepted; it cannot go there.",
    "NOT_SALES_OWNER": "Leaving 0-Pending Acceptance is done by the opportunity's "
    f"owner when field sales ({p.role_list(p.SALES_ACCEPTING_ROLES)}) or by "
    f"{p.role_names(p.SALES_ACCEPTORS_FOR_OTHERS)}.",
    "REOPEN_WINDOW_PASSED": f"More than {REOPEN_WINDOW_DAYS} days since closing: "
    "create a new opportunity.",
    "OVERRIDE_NOT_ALLOWED": f"Only {p.role_names(p.STAGE_OVERRIDE_ROLES)} may "
    "override stage rules.",
    "MUST_PASS_PENDING_ACCEPTANCE": "An opportunity must pass 0-Pending Acceptance.",
    "WEB_DIRECT_ONLY": "Only a WEB_DIRECT opportunity may be created Closed Won.",
    "TERMS_NOT_MODIFIABLE": "Standard terms cannot be modified for this deal.",
    "NOT_IN_PIPELINE": "The stage is not one of the opportunity's pipeline.",
    "REQUIREMENT_NOT_MET": "An entry requirement of the target stage is not met.",
    "CHANGED_SINCE_MERGE": "Something the merge moved or kept changed since: undoing "
    "it would lose that change (the message says what).",
    "UNDO_WINDOW_PASSED": "The merge is older than the undo window (30 days).",
    "ALREADY_UNDONE": "The merge was undone already.",
    "VALUE_CORRECTED": "A warning of an imported row: the mapping's corrections "
    "replaced a cell's value (the message names both).",
    "UNKNOWN_COUNTRY": "A warning of an imported row: its country is not "
    "recognized, so its region is UNKNOWN (D5).",
}


_ESCALATION = {
    "NON_CARD_PAYMENT_OVER_1000_USD": "Pays other than by credit card, and the deal "
    "is above 1,000 USD.",
    "PURCHASE_ORDER": "Has a purchase order (PO).",
    "QUOTE_REQUIRED": "Requires a quote before purchasing.",
    "CREDIT_REQUEST": "A complaint with a request for credit.",
    "TIER_DOWNGRADE": "Downgrading product tiers.",
    "PRODUCT_CHANGE": "Moving from one product to another (GitLab.com <-> "
    "Self-Managed).",
    "USER_COUNT_DOWNGRADE": "Downgrading the number of users.",
    "CANCELLATION_OR_REFUND": "Cancellation or refund.",
}

_HAND_OFF_RULE = {
    "ACCOUNT_OWNER": "New business: the account of the email's domain is owned by a "
    "sales rep, who takes the ticket.",
    "TERRITORY": "New business: the account has no sales-rep owner (none, the Sales "
    "Admin placeholder, inactive): its territory's pool takes the ticket in turn.",
    "NEW_SALES_QUOTE": "New business: no account matches; answer with a new sales "
    "quote; a lead with lead source Support tracks the request.",
    "RENEWAL_OWNER": "Renewal: the owner of the account's open renewal opportunity.",
    "RENEWAL_ACCOUNT_OWNER": "Renewal: the account has no open renewal opportunity; "
    "its sales-rep owner takes the ticket.",
    "SMB_TERRITORY": "Renewal: no sales-rep owner (e.g. the Sales Admin placeholder): "
    "the SMB territory of the account's region takes the ticket in turn.",
}


def register_enum(
    enum: type[Enum], name: str, description: str, values: dict[str, str] | None = None
) -> Any:
    """Register a domain enum with strawberry and describe each value."""
    gql = strawberry.enum(enum, name=name, description=description)
    for value in gql.__strawberry_definition__.values:
        text = (values or {}).get(value.name)
        value.description = text or value.name.replace("_", " ").capitalize() + "."
    return gql


LeadStatusGQL = register_enum(
    d.LeadStatus, "LeadStatus", "Lead lifecycle status (D2).", _LEAD_STATUS
)
OpportunityStageGQL = register_enum(
    d.OpportunityStage, "OpportunityStage", "Opportunity pipeline stage (D3).", _STAGE
)
SalesSegmentGQL = register_enum(
    d.SalesSegment, "SalesSegment", "Company size band (D5).", _SEGMENT
)
RegionGQL = register_enum(d.Region, "Region", "Sales region (D5).", _REGION)
RoleGQL = register_enum(d.Role, "Role", "Role of a go-to-market team member.", _ROLE)
AccountTypeGQL = register_enum(
    d.AccountType, "AccountType", "Relationship with an organization."
)
OpportunityTypeGQL = register_enum(
    d.OpportunityType, "OpportunityType", "Kind of deal: new business, add-on, renewal."
)
PipelineGQL = register_enum(
    d.Pipeline,
    "OpportunityPipeline",
    "The pipeline an opportunity moves through: its stages and moves "
    "(stateMachines.opportunityPipelines).",
    {
        "NEW_BUSINESS": "Every stage of D3.",
        "RENEWAL": "0-Pending Acceptance, 1-Discovery, 4-Proposal, 5-Negotiating, "
        "6-Awaiting Signature, then won, lost or duplicate.",
        "ADD_ON": "Every stage but 00-Pre Opportunity and 2-Scoping.",
    },
)
SalesQualificationSourceGQL = register_enum(
    d.SalesQualificationSource,
    "SalesQualificationSource",
    "Who generated the opportunity.",
)
ClosedLostReasonGQL = register_enum(
    d.ClosedLostReason, "ClosedLostReason", "Why an opportunity was lost."
)
ReferenceableCustomerGQL = register_enum(
    d.ReferenceableCustomer,
    "ReferenceableCustomer",
    "Whether the customer agrees to be a reference.",
)
RestrictedPartyScreeningGQL = register_enum(
    d.RestrictedPartyScreening,
    "RestrictedPartyScreening",
    "Result of the restricted-party screening (CLEARED is needed to close won).",
)
EngagementKindGQL = register_enum(
    d.EngagementKind, "EngagementKind", "A marketing touch that feeds the score (D6)."
)
ActivityKindGQL = register_enum(
    d.ActivityKind, "ActivityKind", "Task (to do) or Event (happened)."
)
ActivityChannelGQL = register_enum(
    d.ActivityChannel, "ActivityChannel", "How an activity happened."
)
ActivityDirectionGQL = register_enum(
    d.ActivityDirection,
    "ActivityDirection",
    "OUTBOUND: we reached out; INBOUND: the person reached us (an email reply).",
)
CampaignChannelGQL = register_enum(
    d.CampaignChannel, "CampaignChannel", "Marketing channel of a campaign (D11)."
)
RecordTypeGQL = register_enum(
    d.RecordType,
    "RecordType",
    "The kind of record a transition or event is about.",
)
ErrorCodeGQL = register_enum(
    d.ErrorCode, "ErrorCode", "Stable codes of every refusal in the API (D9).", _ERROR
)
SupportTicketKindGQL = register_enum(
    d.SupportTicketKind,
    "SupportTicketKind",
    "What a support ticket passed to sales asks for (D13).",
    {
        "NEW_BUSINESS": "Someone without a subscription wants a quote.",
        "RENEWAL": "A current customer wants a renewal quote.",
    },
)
EscalationReasonGQL = register_enum(
    d.EscalationReason,
    "EscalationReason",
    "Why a support ticket is escalated to sales (D13).",
    _ESCALATION,
)
HandOffRuleGQL = register_enum(
    d.HandOffRule,
    "HandOffRule",
    "Which rule of the support hand-off decided who gets the ticket (D13).",
    _HAND_OFF_RULE,
)

_MILESTONE = {
    "RAW": "Lead created (or an opportunity created without a lead).",
    "INQUIRY": "The lead reached INQUIRY (or any later milestone).",
    "MQL": "The lead reached MQL.",
    "ACCEPTED": "The lead reached ACCEPTED.",
    "QUALIFYING": "The lead reached QUALIFYING (or was converted).",
    "PENDING_ACCEPTANCE": "An opportunity was created (from the lead, or directly).",
    "SAO": "The opportunity was sales accepted (entered 1-Discovery).",
    "SQO": "The opportunity became sales qualified.",
    "WON": "The opportunity reached 7-Closed Won.",
}
_DIMENSION = {
    "SEGMENT": "Sales segment (the lead's; a direct opportunity's account's).",
    "REGION": "Region (the lead's; a direct opportunity's account's).",
    "INITIAL_SOURCE": "Initial source (first known touch).",
    "SALES_QUALIFICATION_SOURCE": "Sales qualification source of the opportunity.",
    "OWNER": "Owner (the lead's; a direct opportunity's).",
    "CAMPAIGN_CHANNEL": "Channel of the first-touch (or primary) campaign.",
}
_FUNNEL_SOURCE = {
    "ALL": "Every funnel record: leads and opportunities created without a lead.",
    "LEAD": "Lead-sourced records: leads (going on as the opportunity they became).",
    "DIRECT": "Opportunities created without a lead: they enter the funnel at "
    "PENDING_ACCEPTANCE and reach no lead milestone.",
}
FunnelSourceGQL = register_enum(
    d.FunnelSource,
    "FunnelSource",
    "Which funnel records count, by where they came from (D11).",
    _FUNNEL_SOURCE,
)
FunnelMilestoneNameGQL = register_enum(
    d.FunnelMilestone,
    "FunnelMilestoneName",
    "A milestone of the customer-lifecycle funnel, in funnel order (D11).",
    _MILESTONE,
)
FunnelDimensionGQL = register_enum(
    d.FunnelDimension,
    "FunnelDimension",
    "What the funnel can be filtered and grouped by (D11).",
    _DIMENSION,
)
TokenScopeGQL = register_enum(
    d.TokenScope,
    "TokenScope",
    "What an API token may be used for; a token carries any of them.",
    {
        "READ": "Queries (and subscriptions).",
        "WRITE": "Mutations that change records.",
        "ADMIN": "Mutations of users, API tokens, routing pools and rule tables "
        "(the role must allow them too).",
    },
)
WebhookStatusGQL = register_enum(
    d.WebhookStatus,
    "WebhookStatus",
    "Whether a webhook subscription is delivered to.",
    {
        "ACTIVE": "Events are delivered.",
        "PAUSED": "Nothing is sent; events are kept and delivered on resuming.",
        "DISABLED": "Nothing is sent and events go by: enabling it again starts "
        "after the newest event.",
    },
)
DeliveryStatusGQL = register_enum(
    d.DeliveryStatus,
    "DeliveryStatus",
    "Where one event stands for one webhook subscription.",
    {
        "PENDING": "Not delivered yet (waiting for its turn or for a retry).",
        "DELIVERED": "The target answered 2xx.",
        "DEAD_LETTERED": "Given up after the worker's maximum number of attempts "
        "(redeliverEvent sends it again).",
    },
)
MergeKindGQL = register_enum(
    d.MergeKind,
    "MergeKind",
    "The kinds of record that merge and have duplicates (D12).",
)
DuplicateReasonGQL = register_enum(
    d.DuplicateReason,
    "DuplicateReason",
    "Why two records look like one person (D12), strongest first.",
    {
        "SAME_EMAIL": "The same email, compared normalized (case, +tags, Gmail dots).",
        "SAME_NAME_AND_DOMAIN": "The same name and the same (non free-mail) email "
        "domain.",
        "SAME_NAME_AND_COMPANY": "The same name and the same company (a lead's "
        "normalized company name; a contact's account).",
        "SAME_PHONE": "The same phone number (its last ten digits).",
    },
)
DuplicateScanStatusGQL = register_enum(
    d.DuplicateScanStatus,
    "DuplicateScanStatus",
    "Where a full duplicate scan stands.",
    {
        "QUEUED": "Requested, not started.",
        "RUNNING": "Scanning.",
        "DONE": "Finished: its pairs are readable.",
        "FAILED": "Stopped by an error (see error).",
    },
)
ExportKindGQL = register_enum(
    d.ExportKind,
    "ExportKind",
    "Which records an export writes.",
    {
        "LEAD": "Leads (filter: LeadFilter).",
        "CONTACT": "Contacts (filter: ContactFilter).",
        "ACCOUNT": "Accounts (filter: AccountFilter).",
        "OPPORTUNITY": "Opportunities (filter: OpportunityFilter).",
    },
)
ExportJobStatusGQL = register_enum(
    d.ExportJobStatus,
    "ExportJobStatus",
    "Where an export job stands.",
    {
        "QUEUED": "Requested, waiting for a worker (`salesops worker`).",
        "RUNNING": "Being written (see rowCount, totalRows, progress).",
        "DONE": "Written: download it from downloadUrl.",
        "FAILED": "Stopped by an error (see error).",
    },
)
ImportKindGQL = register_enum(
    d.ImportKind,
    "ImportKind",
    "The kinds of record a list import writes (D12).",
)
ImportOutcomeGQL = register_enum(
    d.ImportOutcome,
    "ImportOutcome",
    "What a list import did with one row of its file.",
    {
        "CREATED": "A new record (recordId).",
        "UPDATED": "The record matched by external id, email (leads, contacts) or "
        "name and domain (accounts) took the row's values.",
        "UNCHANGED": "The matched record already had the row's values (a re-import).",
        "SKIPPED_DUPLICATE": "Another record already has this email or domain "
        "(recordId names it); nothing written.",
        "REJECTED": "Refused (codes, fields, message); nothing written.",
    },
)
ImportJobStatusGQL = register_enum(
    d.ImportJobStatus,
    "ImportJobStatus",
    "Where an import job stands.",
    {
        "QUEUED": "Waiting for `salesops worker`.",
        "RUNNING": "Importing (progress, counts and rows grow).",
        "DONE": "Every row has its outcome in `rows`.",
        "FAILED": "Stopped (see error); an atomic import with a rejected row wrote "
        "nothing.",
    },
)
