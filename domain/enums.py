"""The enumerations of domain.md, spelled as the spec spells them.

Every value is its own name (``LeadStatus.MQL.value == "MQL"``) so the same
string travels unchanged through the database, the domain and the API. The
``DESCRIPTIONS`` mapping gives each value the human text that the GraphQL
schema shows.
"""

from __future__ import annotations

from enum import StrEnum


class LeadStatus(StrEnum):
    """Where a lead stands in its lifecycle (D2)."""

    RAW = "RAW"
    INQUIRY = "INQUIRY"
    MQL = "MQL"
    ACCEPTED = "ACCEPTED"
    QUALIFYING = "QUALIFYING"
    QUALIFIED = "QUALIFIED"
    UNQUALIFIED = "UNQUALIFIED"
    NURTURE = "NURTURE"
    BAD_DATA = "BAD_DATA"
    WEB_PORTAL_PURCHASE = "WEB_PORTAL_PURCHASE"


class OpportunityStage(StrEnum):
    """The stage of an opportunity in the sales pipeline (D3)."""

    PRE_OPPORTUNITY = "PRE_OPPORTUNITY"
    PENDING_ACCEPTANCE = "PENDING_ACCEPTANCE"
    DISCOVERY = "DISCOVERY"
    SCOPING = "SCOPING"
    TECHNICAL_EVALUATION = "TECHNICAL_EVALUATION"
    PROPOSAL = "PROPOSAL"
    NEGOTIATING = "NEGOTIATING"
    AWAITING_SIGNATURE = "AWAITING_SIGNATURE"
    CLOSED_WON = "CLOSED_WON"
    CLOSED_LOST = "CLOSED_LOST"
    UNQUALIFIED = "UNQUALIFIED"
    DUPLICATE = "DUPLICATE"


STAGE_LABELS: dict[OpportunityStage, str] = {
    OpportunityStage.PRE_OPPORTUNITY: "00-Pre Opportunity",
    OpportunityStage.PENDING_ACCEPTANCE: "0-Pending Acceptance",
    OpportunityStage.DISCOVERY: "1-Discovery",
    OpportunityStage.SCOPING: "2-Scoping",
    OpportunityStage.TECHNICAL_EVALUATION: "3-Technical Evaluation",
    OpportunityStage.PROPOSAL: "4-Proposal",
    OpportunityStage.NEGOTIATING: "5-Negotiating",
    OpportunityStage.AWAITING_SIGNATURE: "6-Awaiting Signature",
    OpportunityStage.CLOSED_WON: "7-Closed Won",
    OpportunityStage.CLOSED_LOST: "8-Closed Lost",
    OpportunityStage.UNQUALIFIED: "9-Unqualified",
    OpportunityStage.DUPLICATE: "10-Duplicate",
}


class SalesSegment(StrEnum):
    """Company size band (D5); STRATEGIC is a named account."""

    STRATEGIC = "STRATEGIC"
    LARGE = "LARGE"
    MID_MARKET = "MID_MARKET"
    SMB = "SMB"
    UNKNOWN = "UNKNOWN"


class Region(StrEnum):
    """Sales region derived from the address (D5)."""

    APAC = "APAC"
    EMEA = "EMEA"
    LATAM = "LATAM"
    US_EAST = "US_EAST"
    US_WEST = "US_WEST"
    PUBLIC_SECTOR = "PUBLIC_SECTOR"


class Role(StrEnum):
    """What a member of the go-to-market team does (D1, A7)."""

    SDR = "SDR"
    BDR = "BDR"
    AE = "AE"
    SAL = "SAL"
    AM = "AM"
    RD = "RD"
    CUSTOMER_ADVOCATE = "CUSTOMER_ADVOCATE"
    CUSTOMER_SUCCESS = "CUSTOMER_SUCCESS"
    MARKETING_OPS = "MARKETING_OPS"
    SALES_OPS = "SALES_OPS"
    SALES_ADMIN = "SALES_ADMIN"
    ADMIN = "ADMIN"


FIELD_SALES_ROLES = frozenset({Role.AE, Role.SAL, Role.AM, Role.RD})


class AccountType(StrEnum):
    """The relationship an organization has with us (D1, D12)."""

    PROSPECT = "PROSPECT"
    CUSTOMER = "CUSTOMER"
    FORMER_CUSTOMER = "FORMER_CUSTOMER"
    PARTNER = "PARTNER"
    RESELLER = "RESELLER"
    INTEGRATOR = "INTEGRATOR"
    PROSPECT_CE_USER = "PROSPECT_CE_USER"


class OpportunityType(StrEnum):
    """Kind of deal (D1)."""

    NEW_BUSINESS = "NEW_BUSINESS"
    ADD_ON = "ADD_ON"
    RENEWAL = "RENEWAL"


class CustomFieldType(StrEnum):
    """What a custom field holds (issue 14 item 3; ``domain.rules.custom_fields``)."""

    TEXT = "TEXT"
    NUMBER = "NUMBER"
    MONEY = "MONEY"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"
    CHOICE = "CHOICE"


class Pipeline(StrEnum):
    """The pipeline an opportunity moves through (issue 14 item 2): a subset of
    the stages, in order (``domain.lifecycle.opportunity.PIPELINES``)."""

    NEW_BUSINESS = "NEW_BUSINESS"
    RENEWAL = "RENEWAL"
    ADD_ON = "ADD_ON"


class SalesQualificationSource(StrEnum):
    """Who generated the opportunity (D1)."""

    BDR_GENERATED = "BDR_GENERATED"
    SDR_GENERATED = "SDR_GENERATED"
    AE_GENERATED = "AE_GENERATED"
    WEB_DIRECT = "WEB_DIRECT"


class ClosedLostReason(StrEnum):
    """Why an opportunity was lost (D3)."""

    LOST_TO_COMPETITOR = "LOST_TO_COMPETITOR"
    PRICING = "PRICING"
    NO_BUDGET = "NO_BUDGET"
    NO_DECISION_OR_PROJECT_CANCELLED = "NO_DECISION_OR_PROJECT_CANCELLED"
    PRODUCT_FIT = "PRODUCT_FIT"
    TIMING = "TIMING"
    CONSOLIDATING_ORDER = "CONSOLIDATING_ORDER"
    MERGED_INTO_ANOTHER_OPPORTUNITY = "MERGED_INTO_ANOTHER_OPPORTUNITY"
    OTHER = "OTHER"


class ReferenceableCustomer(StrEnum):
    """The referenceable-customer answer required before AWAITING_SIGNATURE (D3)."""

    YES = "YES"
    NO = "NO"
    LATER = "LATER"


class RestrictedPartyScreening(StrEnum):
    """Result of the restricted-party screening required to close won (D3)."""

    NOT_STARTED = "NOT_STARTED"
    PENDING = "PENDING"
    CLEARED = "CLEARED"
    BLOCKED = "BLOCKED"


class EngagementKind(StrEnum):
    """A marketing touch that feeds the score (D6)."""

    TRIAL_REQUEST = "TRIAL_REQUEST"
    CONTACT_US_REQUEST = "CONTACT_US_REQUEST"
    PROFESSIONAL_SERVICES_REQUEST = "PROFESSIONAL_SERVICES_REQUEST"
    HIGH_INTENT_LIVE_ATTENDED = "HIGH_INTENT_LIVE_ATTENDED"
    ENTERPRISE_TRIAL_PAGE_VISIT = "ENTERPRISE_TRIAL_PAGE_VISIT"
    HIGH_INTENT_ON_DEMAND_WATCHED = "HIGH_INTENT_ON_DEMAND_WATCHED"
    TRADESHOW_BOOTH_VISIT = "TRADESHOW_BOOTH_VISIT"
    LIVE_EVENT_ATTENDED = "LIVE_EVENT_ATTENDED"
    GATED_ASSET_DOWNLOAD = "GATED_ASSET_DOWNLOAD"
    WEBCAST_REGISTRATION = "WEBCAST_REGISTRATION"
    LOW_INTENT_LIVE_ATTENDED = "LOW_INTENT_LIVE_ATTENDED"
    LOW_INTENT_ON_DEMAND_WATCHED = "LOW_INTENT_ON_DEMAND_WATCHED"
    NEWSLETTER_OPT_IN = "NEWSLETTER_OPT_IN"
    SECURITY_NEWSLETTER_OPT_IN = "SECURITY_NEWSLETTER_OPT_IN"
    WEBCAST_EMAIL_OPT_IN = "WEBCAST_EMAIL_OPT_IN"
    LIVE_EVENT_EMAIL_OPT_IN = "LIVE_EVENT_EMAIL_OPT_IN"
    PRICING_PAGE_VISIT = "PRICING_PAGE_VISIT"
    FEATURES_PAGE_VISIT = "FEATURES_PAGE_VISIT"
    INSTALLATION_PAGE_VISIT = "INSTALLATION_PAGE_VISIT"
    EMAIL_UNSUBSCRIBE = "EMAIL_UNSUBSCRIBE"
    CAREERS_PAGE_VISIT = "CAREERS_PAGE_VISIT"
    WEB_CHAT = "WEB_CHAT"


class ActivityKind(StrEnum):
    """A Task (to do) or an Event (happened at a time) (D1)."""

    TASK = "TASK"
    EVENT = "EVENT"


class ActivityChannel(StrEnum):
    """How an activity reached the person (D1)."""

    CALL = "CALL"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    WEB_CHAT = "WEB_CHAT"
    OTHER = "OTHER"


class ActivityDirection(StrEnum):
    """Whether we reached out or the person answered; an inbound email is a reply."""

    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


class CampaignChannel(StrEnum):
    """Marketing channel of a campaign (D11)."""

    CPC = "CPC"
    DISPLAY = "DISPLAY"
    PAID_SOCIAL = "PAID_SOCIAL"
    ORGANIC = "ORGANIC"
    OTHER = "OTHER"
    PARTNERS = "PARTNERS"
    EMAIL = "EMAIL"
    SOCIAL = "SOCIAL"
    SPONSORSHIP = "SPONSORSHIP"
    WEB_DIRECT = "WEB_DIRECT"
    WEB_REFERRAL = "WEB_REFERRAL"


class FunnelMilestone(StrEnum):
    """A milestone of the customer-lifecycle funnel, in funnel order (D11)."""

    RAW = "RAW"
    INQUIRY = "INQUIRY"
    MQL = "MQL"
    ACCEPTED = "ACCEPTED"
    QUALIFYING = "QUALIFYING"
    PENDING_ACCEPTANCE = "PENDING_ACCEPTANCE"
    SAO = "SAO"
    SQO = "SQO"
    WON = "WON"


class FunnelDimension(StrEnum):
    """What the funnel can be filtered and grouped by (D11)."""

    SEGMENT = "SEGMENT"
    REGION = "REGION"
    INITIAL_SOURCE = "INITIAL_SOURCE"
    SALES_QUALIFICATION_SOURCE = "SALES_QUALIFICATION_SOURCE"
    OWNER = "OWNER"
    CAMPAIGN_CHANNEL = "CAMPAIGN_CHANNEL"


class FunnelSource(StrEnum):
    """Which funnel records count, by where they came from (D11, round 2)."""

    ALL = "ALL"
    LEAD = "LEAD"
    DIRECT = "DIRECT"


class WebhookStatus(StrEnum):
    """Whether a webhook subscription is delivered to (issue 12)."""

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


class DeliveryStatus(StrEnum):
    """Where one event stands for one webhook subscription (issue 12)."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD_LETTERED = "DEAD_LETTERED"


class RecordType(StrEnum):
    """The kinds of record a transition, activity or event can point at."""

    LEAD = "LEAD"
    CONTACT = "CONTACT"
    ACCOUNT = "ACCOUNT"
    OPPORTUNITY = "OPPORTUNITY"
    USER = "USER"
    CAMPAIGN = "CAMPAIGN"
    SUPPORT_HAND_OFF = "SUPPORT_HAND_OFF"
    ACTIVITY = "ACTIVITY"


class SupportTicketKind(StrEnum):
    """What a support ticket passed to sales asks for (D13)."""

    NEW_BUSINESS = "NEW_BUSINESS"
    RENEWAL = "RENEWAL"


class EscalationReason(StrEnum):
    """Why a support ticket is escalated to sales (D13)."""

    NON_CARD_PAYMENT_OVER_1000_USD = "NON_CARD_PAYMENT_OVER_1000_USD"
    PURCHASE_ORDER = "PURCHASE_ORDER"
    QUOTE_REQUIRED = "QUOTE_REQUIRED"
    CREDIT_REQUEST = "CREDIT_REQUEST"
    TIER_DOWNGRADE = "TIER_DOWNGRADE"
    PRODUCT_CHANGE = "PRODUCT_CHANGE"
    USER_COUNT_DOWNGRADE = "USER_COUNT_DOWNGRADE"
    CANCELLATION_OR_REFUND = "CANCELLATION_OR_REFUND"


class HandOffRule(StrEnum):
    """Which rule of the support hand-off decided who gets a ticket (D13)."""

    ACCOUNT_OWNER = "ACCOUNT_OWNER"
    TERRITORY = "TERRITORY"
    NEW_SALES_QUOTE = "NEW_SALES_QUOTE"
    RENEWAL_OWNER = "RENEWAL_OWNER"
    RENEWAL_ACCOUNT_OWNER = "RENEWAL_ACCOUNT_OWNER"
    SMB_TERRITORY = "SMB_TERRITORY"


class ErrorCode(StrEnum):
    """Stable, machine-readable reasons for a refusal (D9, A3).

    One enum for the whole API: clients switch on these values.
    """

    # generic
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID_INPUT = "INVALID_INPUT"
    DUPLICATE_RECORD = "DUPLICATE_RECORD"
    IMMUTABLE_FIELD = "IMMUTABLE_FIELD"
    STALE_VERSION = "STALE_VERSION"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    MISSING_FIELD = "MISSING_FIELD"
    READ_ONLY_RECORD = "READ_ONLY_RECORD"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    LAST_ACTIVE_ADMIN = "LAST_ACTIVE_ADMIN"
    INSUFFICIENT_SCOPE = "INSUFFICIENT_SCOPE"
    RATE_LIMITED = "RATE_LIMITED"
    # state machines
    INVALID_TRANSITION = "INVALID_TRANSITION"
    FINAL_STATE = "FINAL_STATE"
    REASON_REQUIRED = "REASON_REQUIRED"
    NOT_OWNER = "NOT_OWNER"
    NO_OWNER = "NO_OWNER"
    NOT_ACTIVE = "NOT_ACTIVE"
    SCORE_BELOW_THRESHOLD = "SCORE_BELOW_THRESHOLD"
    NO_INBOUND_ENGAGEMENT = "NO_INBOUND_ENGAGEMENT"
    NO_NEW_ENGAGEMENT = "NO_NEW_ENGAGEMENT"
    NO_TWO_WAY_ACTIVITY = "NO_TWO_WAY_ACTIVITY"
    NOT_TIMED_OUT = "NOT_TIMED_OUT"
    CONVERSION_REQUIRED = "CONVERSION_REQUIRED"
    CONTACT_DATA_UNCHANGED = "CONTACT_DATA_UNCHANGED"
    PURCHASE_REFERENCE_REQUIRED = "PURCHASE_REFERENCE_REQUIRED"
    ALREADY_CONVERTED = "ALREADY_CONVERTED"
    ASSIGNEE_REQUIRED = "ASSIGNEE_REQUIRED"
    ALREADY_SALES_ACCEPTED = "ALREADY_SALES_ACCEPTED"
    NOT_SALES_OWNER = "NOT_SALES_OWNER"
    REOPEN_WINDOW_PASSED = "REOPEN_WINDOW_PASSED"
    OVERRIDE_NOT_ALLOWED = "OVERRIDE_NOT_ALLOWED"
    MUST_PASS_PENDING_ACCEPTANCE = "MUST_PASS_PENDING_ACCEPTANCE"
    WEB_DIRECT_ONLY = "WEB_DIRECT_ONLY"
    TERMS_NOT_MODIFIABLE = "TERMS_NOT_MODIFIABLE"
    REQUIREMENT_NOT_MET = "REQUIREMENT_NOT_MET"
    NOT_IN_PIPELINE = "NOT_IN_PIPELINE"
    # merges (D12)
    CHANGED_SINCE_MERGE = "CHANGED_SINCE_MERGE"
    UNDO_WINDOW_PASSED = "UNDO_WINDOW_PASSED"
    ALREADY_UNDONE = "ALREADY_UNDONE"
    # Warnings of an imported row (written, but worth a look; issue 13 item 2).
    VALUE_CORRECTED = "VALUE_CORRECTED"
    UNKNOWN_COUNTRY = "UNKNOWN_COUNTRY"


class MergeKind(StrEnum):
    """The kinds of record that merge (D12): survivor and duplicates of one kind."""

    LEAD = "LEAD"
    CONTACT = "CONTACT"
    ACCOUNT = "ACCOUNT"


class DuplicateReason(StrEnum):
    """Why two people look like one (D12), strongest first."""

    SAME_EMAIL = "SAME_EMAIL"
    SAME_NAME_AND_DOMAIN = "SAME_NAME_AND_DOMAIN"
    SAME_NAME_AND_COMPANY = "SAME_NAME_AND_COMPANY"
    SAME_PHONE = "SAME_PHONE"


class DuplicateScanStatus(StrEnum):
    """Where a full duplicate scan (a job) stands."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class TokenScope(StrEnum):
    """What an API token may be used for (independent flags, issue 16 item 9)."""

    READ = "READ"
    WRITE = "WRITE"
    ADMIN = "ADMIN"


class ExportKind(StrEnum):
    """Which records an export writes (issue 13 item 5)."""

    LEAD = "LEAD"
    CONTACT = "CONTACT"
    ACCOUNT = "ACCOUNT"
    OPPORTUNITY = "OPPORTUNITY"


class ExportJobStatus(StrEnum):
    """Where an export job stands."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class ImportKind(StrEnum):
    """The kinds of record a list import writes (D12, issue 13 items 1 and 2)."""

    LEAD = "LEAD"
    CONTACT = "CONTACT"
    ACCOUNT = "ACCOUNT"
    USER = "USER"
    OPPORTUNITY = "OPPORTUNITY"
    ACTIVITY = "ACTIVITY"


class ImportOutcome(StrEnum):
    """What a list import did with one row of the file."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"
    SKIPPED_DUPLICATE = "SKIPPED_DUPLICATE"
    REJECTED = "REJECTED"


class ImportJobStatus(StrEnum):
    """Where an import job stands."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
