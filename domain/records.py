"""The records of domain.md D1 as SQLModel tables (declarations only).

Conventions: integer primary keys (the API wraps them in global ids);
``created_at``/``updated_at`` are UTC-aware; stateful records carry
``version`` (bumped on every change by ``domain.db``'s flush hook); money is
``Money`` (Decimal in Python, integer cents in the database); enums are
stored as their string values. Derived fields (``sales_segment``,
``region``) are written by the services from ``domain.rules.segmentation``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlmodel import Field, SQLModel

from domain.enums import (
    AccountType,
    ActivityChannel,
    ActivityDirection,
    ActivityKind,
    CampaignChannel,
    CustomFieldType,
    DeliveryStatus,
    DuplicateScanStatus,
    EngagementKind,
    ExportJobStatus,
    ExportKind,
    HandOffRule,
    ImportJobStatus,
    ImportKind,
    ImportOutcome,
    LeadStatus,
    MergeKind,
    OpportunityStage,
    OpportunityType,
    Pipeline,
    RecordType,
    ReferenceableCustomer,
    Region,
    RestrictedPartyScreening,
    Role,
    SalesQualificationSource,
    SalesSegment,
    SupportTicketKind,
    WebhookStatus,
)
from domain.sqltypes import Money, UTCDateTime, enum_column, utcnow

# Stable constraint names, so migrations can name what they alter (SQLite batch).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _now_field(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, **kwargs)


def _time_field(**kwargs: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kwargs)


def _enum_field(enum: type, **kwargs: Any) -> Any:
    return Field(sa_type=enum_column(enum), **kwargs)


def _money_field(**kwargs: Any) -> Any:
    return Field(default=None, sa_type=Money, **kwargs)


def _text_field() -> Any:
    return Field(default=None, sa_type=Text)


class Versioned(SQLModel):
    """A stateful record: ``version`` grows by one with every committed change."""

    version: int = Field(default=1, nullable=False)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class User(Versioned, table=True):
    """A member of the go-to-market team (D1)."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, unique=True)
    role: Role = _enum_field(Role, index=True)
    region: Region | None = _enum_field(Region, default=None, nullable=True)
    active: bool = Field(default=True)
    out_of_office_until: datetime | None = _time_field()


class ApiToken(SQLModel, table=True):
    """An opaque bearer token; only its SHA-256 is stored (A6)."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = _now_field()
    last_used_at: datetime | None = _time_field()
    revoked_at: datetime | None = _time_field()
    # Scopes (independent flags); a session token (the CLI's) has all three.
    scope_read: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    scope_write: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    scope_admin: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    expires_at: datetime | None = _time_field()


class AuthGeneration(SQLModel, table=True):
    """One row (id 1) whose counter grows with every change that must end a
    token an API process holds in its cache (issue 15 item 3)."""

    __tablename__ = "auth_generation"

    id: int = Field(primary_key=True)
    generation: int = Field(sa_type=BigInteger)


class Account(Versioned, table=True):
    """An organization: prospect, customer, partner… (D1)."""

    __tablename__ = "accounts"
    __table_args__ = (
        Index("ix_accounts_segment_region", "sales_segment", "region"),
        Index("ix_accounts_external_id", "external_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    normalized_name: str = Field(max_length=255, index=True)
    type: AccountType = _enum_field(AccountType, default=AccountType.PROSPECT)
    number_of_employees: int | None = None
    sales_segment: SalesSegment = _enum_field(
        SalesSegment, default=SalesSegment.UNKNOWN
    )
    billing_street: str | None = Field(default=None, max_length=255)
    billing_city: str | None = Field(default=None, max_length=120)
    billing_state: str | None = Field(default=None, max_length=120)
    billing_postal_code: str | None = Field(default=None, max_length=40)
    billing_country: str | None = Field(default=None, max_length=120)
    is_public_sector: bool = Field(default=False)
    region: Region | None = _enum_field(Region, default=None, nullable=True)
    industry: str | None = Field(default=None, max_length=120)
    annual_revenue: Decimal | None = _money_field()
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    parent_account_id: int | None = Field(
        default=None, foreign_key="accounts.id", index=True
    )
    account_source: str | None = Field(default=None, max_length=120)
    is_named: bool = Field(default=False)
    # Custom field values (issue 14 item 3); null: none.
    custom_fields: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    # When a won NEW_BUSINESS deal made it a CUSTOMER (D1, D10 round 2).
    customer_since: datetime | None = _time_field()
    # Set by a list import (D12): the record's id in the file's system, and the
    # import source that set it; a re-import matches on it (unique per kind).
    external_id: str | None = Field(default=None, max_length=255)
    import_source: str | None = Field(default=None, max_length=120)


class AccountDomain(SQLModel, table=True):
    """An email or web domain that identifies an account (for matching)."""

    __tablename__ = "account_domains"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    domain: str = Field(max_length=255, unique=True)


class AccountTeamMember(SQLModel, table=True):
    """A user helping on an account besides its owner (e.g. an assigned SDR)."""

    __tablename__ = "account_team_members"
    __table_args__ = (UniqueConstraint("account_id", "user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: Role = _enum_field(Role)


class Contact(Versioned, table=True):
    """A person at an account (D1)."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_match_email", "match_email"),
        Index("ix_contacts_match_name_domain", "match_name", "match_domain"),
        Index("ix_contacts_match_name_account", "match_name", "account_id"),
        Index("ix_contacts_match_phone", "match_phone"),
        Index("ix_contacts_external_id", "external_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    first_name: str | None = Field(default=None, max_length=120)
    last_name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=320, index=True)
    title: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=60)
    mailing_street: str | None = Field(default=None, max_length=255)
    mailing_city: str | None = Field(default=None, max_length=120)
    mailing_state: str | None = Field(default=None, max_length=120)
    mailing_postal_code: str | None = Field(default=None, max_length=40)
    mailing_country: str | None = Field(default=None, max_length=120)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    initial_source: str = Field(max_length=120)
    lead_source: str | None = Field(default=None, max_length=120)
    # Duplicate match keys (D12), as on leads; a contact's company is its account.
    match_email: str | None = Field(default=None, max_length=320)
    match_name: str | None = Field(default=None, max_length=255)
    match_domain: str | None = Field(default=None, max_length=255)
    match_phone: str | None = Field(default=None, max_length=40)
    # Set by a list import (D12): the record's id in the file's system, and the
    # import source that set it; a re-import matches on it (unique per kind).
    external_id: str | None = Field(default=None, max_length=255)
    import_source: str | None = Field(default=None, max_length=120)


class Lead(Versioned, table=True):
    """A prospect not yet qualified (D1, D2)."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_status_id", "status", "id"),
        Index("ix_leads_owner_id_id", "owner_id", "id"),
        Index("ix_leads_created_at_id", "created_at", "id"),
        Index("ix_leads_segment_region", "sales_segment", "region"),
        Index("ix_leads_match_email", "match_email"),
        Index("ix_leads_match_name_domain", "match_name", "match_domain"),
        Index("ix_leads_match_name_company", "match_name", "match_company"),
        Index("ix_leads_match_phone", "match_phone"),
        Index("ix_leads_external_id", "external_id", unique=True),
        # The scheduler's scans (issue 14 item 4): timeouts and SLA breaches due.
        Index("ix_leads_timeout_at", "timeout_at"),
        Index("ix_leads_sla_due_at", "sla_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    first_name: str | None = Field(default=None, max_length=120)
    last_name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=320, index=True)
    company: str | None = Field(default=None, max_length=255)
    title: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=60)
    number_of_employees: int | None = None
    street: str | None = Field(default=None, max_length=255)
    city: str | None = Field(default=None, max_length=120)
    state: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, max_length=120)
    is_public_sector: bool = Field(default=False)
    sales_segment: SalesSegment = _enum_field(
        SalesSegment, default=SalesSegment.UNKNOWN
    )
    region: Region | None = _enum_field(Region, default=None, nullable=True)
    initial_source: str = Field(max_length=120, index=True)
    lead_source: str | None = Field(default=None, max_length=120)
    status: LeadStatus = _enum_field(LeadStatus, default=LeadStatus.RAW)
    status_changed_at: datetime = _now_field()
    person_score: int = Field(default=0)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    account_id: int | None = Field(default=None, foreign_key="accounts.id", index=True)
    active_until: datetime | None = _time_field()
    last_interesting_moment: str | None = Field(default=None, max_length=255)
    # The follow-up SLA (D8): started when routing set it, due, first follow-up.
    sla_started_at: datetime | None = _time_field()
    sla_due_at: datetime | None = _time_field()
    sla_met_at: datetime | None = _time_field()
    # When a breached SLA was escalated (``domain.rules.timeouts``; once).
    sla_escalated_at: datetime | None = _time_field()
    # When an ACCEPTED lead times out unless a completed activity is logged
    # (``domain.rules.timeouts.lead_timeout_at``); null in any other status.
    timeout_at: datetime | None = _time_field()
    # Custom field values (issue 14 item 3), key -> stored value
    # (``domain.rules.custom_fields``); null: none.
    custom_fields: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    converted_at: datetime | None = _time_field()
    converted_account_id: int | None = Field(default=None, foreign_key="accounts.id")
    converted_contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    converted_opportunity_id: int | None = Field(
        default=None, foreign_key="opportunities.id"
    )
    # First-touch campaign (D11 attribution): given at creation, else the
    # campaign of the first engagement that names one; never changes after.
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    # The last routing decision (D8): rule, human reason, pool, assignee, when.
    routing_rule: str | None = Field(default=None, max_length=60)
    routing_reason: str | None = _text_field()
    routing_pool: str | None = Field(default=None, max_length=60)
    routed_to_id: int | None = Field(default=None, foreign_key="users.id")
    routed_at: datetime | None = _time_field()
    # What the score rests on apart from the table's points (D6,
    # ``domain.rules.scoring.ScoreFacts``): an edited table rescores from these.
    # Server defaults too: rows written by raw SQL (bulk loads) get them.
    score_title_seniority: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )
    score_title_blank_or_technical: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )
    score_email_domain: str | None = Field(default=None, max_length=255)
    score_careers_penalties: int = Field(
        default=0, sa_column_kwargs={"server_default": "0"}
    )
    # Duplicate match keys (D12, ``domain.rules.matching.match_keys``), kept by
    # ``domain.services.match_keys`` on every flush and by bulk loads.
    match_email: str | None = Field(default=None, max_length=320)
    match_name: str | None = Field(default=None, max_length=255)
    match_domain: str | None = Field(default=None, max_length=255)
    match_company: str | None = Field(default=None, max_length=255)
    match_phone: str | None = Field(default=None, max_length=40)
    # Set by a list import (D12): the record's id in the file's system, and the
    # import source that set it; a re-import matches on it (unique per kind).
    external_id: str | None = Field(default=None, max_length=255)
    import_source: str | None = Field(default=None, max_length=120)


class RoutingPool(Versioned, table=True):
    """A round-robin pool (D8); ``last_position`` is the rotation's stored turn."""

    __tablename__ = "routing_pools"

    key: str = Field(primary_key=True, max_length=60)
    description: str = Field(max_length=255)
    last_position: int | None = None


class RoutingPoolMember(SQLModel, table=True):
    """A user taking turns in a pool, in a fixed order (``position``)."""

    __tablename__ = "routing_pool_members"
    __table_args__ = (UniqueConstraint("pool_key", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    pool_key: str = Field(foreign_key="routing_pools.key", max_length=60, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    position: int


class RuleTableHead(SQLModel, table=True):
    """The current version of an editable rule table (``SCORING``, ``REGIONS``,
    ``STAGE_REQUIREMENTS``).

    Writers that score or derive regions hold this row ``FOR KEY SHARE`` and an
    edit holds it ``FOR UPDATE``, so an edit and its bulk recompute never
    interleave with a write that used the previous version.
    """

    __tablename__ = "rule_table_heads"

    name: str = Field(primary_key=True, max_length=40)
    version: int
    changed_at: datetime = _now_field()


def _version_key() -> Any:
    return Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class ScoringTableVersion(SQLModel, table=True):
    """One version of the D6 scoring table: thresholds, who changed it, when, why."""

    __tablename__ = "scoring_table_versions"

    version: int = _version_key()
    mql_threshold: int
    routing_threshold: int
    changed_by_id: int | None = Field(default=None, foreign_key="users.id")
    changed_at: datetime = _now_field()
    note: str | None = _text_field()
    leads_rescored: int = Field(default=0)


class ScoringTablePoints(SQLModel, table=True):
    """The points of one scoring rule (an engagement kind or a demographic rule)."""

    __tablename__ = "scoring_table_points"

    version: int = Field(primary_key=True, foreign_key="scoring_table_versions.version")
    rule: str = Field(primary_key=True, max_length=60)
    points: int
    description: str = Field(max_length=255)


class ScoringFreeMailDomain(SQLModel, table=True):
    """A free-mail domain of one scoring-table version (D6's data list)."""

    __tablename__ = "scoring_free_mail_domains"

    version: int = Field(primary_key=True, foreign_key="scoring_table_versions.version")
    domain: str = Field(primary_key=True, max_length=255)


class RegionTableVersion(SQLModel, table=True):
    """One version of the D5 region table: who changed it, when, why."""

    __tablename__ = "region_table_versions"

    version: int = _version_key()
    changed_by_id: int | None = Field(default=None, foreign_key="users.id")
    changed_at: datetime = _now_field()
    note: str | None = _text_field()
    leads_rederived: int = Field(default=0)
    accounts_rederived: int = Field(default=0)


class RegionTableRow(SQLModel, table=True):
    """Country (``*``: any other) and state ("": whole country) → region."""

    __tablename__ = "region_table_rows"

    version: int = Field(primary_key=True, foreign_key="region_table_versions.version")
    country: str = Field(primary_key=True, max_length=2)
    state: str = Field(primary_key=True, max_length=3)
    region: Region = _enum_field(Region)


class StageRequirementsVersion(SQLModel, table=True):
    """One version of the stage entry requirements (D3 rule 5 as data): the
    table as a document (``domain.rules.stage_requirements.to_document``), who
    changed it, when, why."""

    __tablename__ = "stage_requirements_versions"

    version: int = _version_key()
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    changed_by_id: int | None = Field(default=None, foreign_key="users.id")
    changed_at: datetime = _now_field()
    note: str | None = _text_field()


class CustomFieldDefinition(Versioned, table=True):
    """A custom field sales ops defined on leads, accounts or opportunities
    (issue 14 item 3; ``domain.rules.custom_fields``)."""

    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("record_type", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    record_type: RecordType = _enum_field(RecordType)
    key: str = Field(max_length=40)
    label: str = Field(max_length=120)
    type: CustomFieldType = _enum_field(CustomFieldType)
    choices: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    description: str | None = _text_field()
    archived_at: datetime | None = _time_field()
    created_by_id: int | None = Field(default=None, foreign_key="users.id")


class TimeoutsVersion(SQLModel, table=True):
    """One version of the timeouts table (issue 14 item 4) as a document
    (``domain.rules.timeouts.to_document``), who changed it, when, why."""

    __tablename__ = "timeouts_versions"

    version: int = _version_key()
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    changed_by_id: int | None = Field(default=None, foreign_key="users.id")
    changed_at: datetime = _now_field()
    note: str | None = _text_field()


class Opportunity(Versioned, table=True):
    """A potential deal moving through the stages of D3."""

    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_stage_id", "stage", "id"),
        Index("ix_opportunities_owner_id_id", "owner_id", "id"),
        # D11 reports: SAO/SQO per period, won/lost deals closed in a window.
        Index("ix_opportunities_sales_accepted_date", "sales_accepted_date"),
        Index("ix_opportunities_sales_qualified_date", "sales_qualified_date"),
        Index("ix_opportunities_stage_closed_at", "stage", "closed_at"),
        Index("ix_opportunities_lead_id", "lead_id", unique=True),
        Index("ix_opportunities_external_id", "external_id", unique=True),
        # The scheduler's stale scan and the stale filter (issue 14 item 4).
        Index("ix_opportunities_stage_stage_changed_at", "stage", "stage_changed_at"),
        Index("ix_opportunities_stale_since", "stale_since"),
        # Reports filter and group by pipeline (issue 14 item 2).
        Index("ix_opportunities_pipeline_stage", "pipeline", "stage"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    type: OpportunityType = _enum_field(
        OpportunityType, default=OpportunityType.NEW_BUSINESS
    )
    # The pipeline it moves through (issue 14 item 2); changed only by
    # changeOpportunityPipeline.
    pipeline: Pipeline = _enum_field(Pipeline, default=Pipeline.NEW_BUSINESS)
    stage: OpportunityStage = _enum_field(
        OpportunityStage, default=OpportunityStage.PENDING_ACCEPTANCE
    )
    stage_changed_at: datetime = _now_field()
    # Set by the scheduler when no activity was logged for the stage's stale
    # days (``domain.rules.timeouts``); a stage move or an activity clears it.
    stale_since: datetime | None = _time_field()
    # Custom field values (issue 14 item 3); null: none.
    custom_fields: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    close_date: date | None = None
    currency: str = Field(default="USD", max_length=3)
    incremental_acv: Decimal = Field(default=Decimal("0.00"), sa_type=Money)
    initial_iacv: Decimal | None = _money_field()
    sales_accepted_date: datetime | None = _time_field()
    sales_qualified: bool = Field(default=False)
    sales_qualified_date: datetime | None = _time_field()
    sales_qualification_source: SalesQualificationSource | None = _enum_field(
        SalesQualificationSource, default=None, nullable=True
    )
    edition: str | None = Field(default=None, max_length=60)
    primary_contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    initial_source: str | None = Field(default=None, max_length=120)
    # The lead this opportunity was created by converting (D7), if any. No
    # foreign key: leads already point here (converted_opportunity_id), and a
    # key back would make a cycle that bulk loads and deletes cannot order.
    lead_id: int | None = None
    # Primary campaign (D11 attribution): the converted lead's first-touch
    # campaign, or the one given at creation.
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")
    # D3 stage fields (what each stage's entry requires)
    business_problem: str | None = _text_field()
    technical_requirements_confirmed: bool = Field(default=False)
    poc_ran: bool = Field(default=False)
    poc_notes: str | None = _text_field()
    poc_success_criteria: str | None = _text_field()
    bill_to_contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    sold_to_contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    po_will_be_issued: bool | None = None
    purchasing_plan: str | None = _text_field()
    business_terms_agreed: bool = Field(default=False)
    referenceable_customer: ReferenceableCustomer | None = _enum_field(
        ReferenceableCustomer, default=None, nullable=True
    )
    signed_order_form_received: bool = Field(default=False)
    po_received: bool = Field(default=False)
    restricted_party_screening: RestrictedPartyScreening = _enum_field(
        RestrictedPartyScreening, default=RestrictedPartyScreening.NOT_STARTED
    )
    finance_approved: bool = Field(default=False)
    closed_won_details: str | None = _text_field()
    closed_lost_reasons: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    closed_lost_detail: str | None = _text_field()
    merged_into_id: int | None = Field(default=None, foreign_key="opportunities.id")
    duplicate_of_id: int | None = Field(default=None, foreign_key="opportunities.id")
    lost_from_stage: OpportunityStage | None = _enum_field(
        OpportunityStage, default=None, nullable=True
    )
    closed_at: datetime | None = _time_field()
    # Its id in the system a history import took it from (issue 13 item 2).
    external_id: str | None = Field(default=None, max_length=255)
    import_source: str | None = Field(default=None, max_length=120)


_SECONDS = (
    "seconds_to_inquiry",
    "seconds_to_mql",
    "seconds_to_accepted",
    "seconds_to_qualifying",
    "seconds_to_pending_acceptance",
    "seconds_to_sao",
    "seconds_to_sqo",
    "seconds_to_won",
)


# The funnel's grouping columns besides the segment, by a short name for their
# indexes (a campaign channel groups by its campaigns).
_FUNNEL_DIMENSIONS = {
    "region": "region",
    "owner": "owner_id",
    "source": "initial_source",
    "sqs": "sales_qualification_source",
    "campaign": "campaign_id",
}
# What a walk checks without reading the row: the segment and region filters,
# and whether the record is a lead (``source``).
_FUNNEL_COVERED = ("sales_segment", "region", "lead_id")


def _funnel_walk_indexes() -> list[Index]:
    """Per grouping column: one index per milestone reached, ordered by the group
    then the seconds (each group's median is a walk to its middle row), and one
    of the leads (their count at RAW by group); covering the filters."""
    found = []
    for short, column in _FUNNEL_DIMENSIONS.items():
        rest = [c for c in _FUNNEL_COVERED if c != column]
        for name in _SECONDS:
            found.append(
                Index(
                    f"ix_funnel_{short}_{name[len('seconds_to_') :]}",
                    column,
                    name,
                    *rest,
                    sqlite_where=text(f"{name} IS NOT NULL"),
                    postgresql_where=text(f"{name} IS NOT NULL"),
                )
            )
        found.append(
            Index(
                f"ix_funnel_{short}_raw",
                column,
                *rest,
                sqlite_where=text("raw_at IS NOT NULL"),
                postgresql_where=text("raw_at IS NOT NULL"),
            )
        )
    return found


class FunnelEntry(SQLModel, table=True):
    """One record's way through the customer-lifecycle funnel (D11).

    A row per lead, and per opportunity created without a lead; a lead
    converted into a new opportunity goes on in its own row. It holds the
    moment each milestone was first reached (``*_at``), the whole seconds
    from the previous milestone (``seconds_to_*``, kept for the medians), and
    the record's dimensions (see ``domain.services.milestones``).
    """

    __tablename__ = "funnel_entries"
    __table_args__ = (
        # Counts and medians walk these instead of reading and sorting rows
        # (domain.reports.funnel): per milestone, partial (only the records
        # that reached it), ordered by seconds (all records) and by segment then
        # seconds, covering the filters; the same per other grouping column
        # (_funnel_walk_indexes); the leads' cohorts; the direct records.
        *(
            Index(
                f"ix_funnel_entries_{name}",
                name,
                *_FUNNEL_COVERED,
                sqlite_where=text(f"{name} IS NOT NULL"),
                postgresql_where=text(f"{name} IS NOT NULL"),
            )
            for name in _SECONDS
        ),
        *(
            Index(
                f"ix_funnel_entries_segment_{name[len('seconds_to_') :]}",
                "sales_segment",
                name,
                "region",
                "lead_id",
                sqlite_where=text(f"{name} IS NOT NULL"),
                postgresql_where=text(f"{name} IS NOT NULL"),
            )
            for name in _SECONDS
        ),
        # the leads' cohorts (partial: the direct records are read from
        # ix_funnel_direct, never by scanning this one for a NULL)
        Index(
            "ix_funnel_entries_raw_at",
            "raw_at",
            sqlite_where=text("raw_at IS NOT NULL"),
            postgresql_where=text("raw_at IS NOT NULL"),
        ),
        Index(
            "ix_funnel_segment_raw",
            "sales_segment",
            "region",
            "lead_id",
            sqlite_where=text("raw_at IS NOT NULL"),
            postgresql_where=text("raw_at IS NOT NULL"),
        ),
        # the direct records at PENDING_ACCEPTANCE, by any group, in any window
        Index(
            "ix_funnel_direct",
            "pending_acceptance_at",
            "sales_segment",
            *_FUNNEL_DIMENSIONS.values(),
            sqlite_where=text("raw_at IS NULL"),
            postgresql_where=text("raw_at IS NULL"),
        ),
        *_funnel_walk_indexes(),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int | None = Field(default=None, foreign_key="leads.id", unique=True)
    opportunity_id: int | None = Field(
        default=None, foreign_key="opportunities.id", unique=True
    )
    # None for a direct record (an opportunity created without a lead): it
    # enters the funnel at PENDING_ACCEPTANCE, never stamped with lead milestones.
    raw_at: datetime | None = Field(sa_type=UTCDateTime, nullable=True)
    inquiry_at: datetime | None = _time_field()
    mql_at: datetime | None = _time_field()
    accepted_at: datetime | None = _time_field()
    qualifying_at: datetime | None = _time_field()
    pending_acceptance_at: datetime | None = _time_field()
    sao_at: datetime | None = _time_field()
    sqo_at: datetime | None = _time_field()
    won_at: datetime | None = _time_field()
    seconds_to_inquiry: int | None = None
    seconds_to_mql: int | None = None
    seconds_to_accepted: int | None = None
    seconds_to_qualifying: int | None = None
    seconds_to_pending_acceptance: int | None = None
    seconds_to_sao: int | None = None
    seconds_to_sqo: int | None = None
    seconds_to_won: int | None = None
    sales_segment: SalesSegment = _enum_field(
        SalesSegment, default=SalesSegment.UNKNOWN, index=True
    )
    region: Region | None = _enum_field(Region, default=None, nullable=True)
    initial_source: str | None = Field(default=None, max_length=120)
    sales_qualification_source: SalesQualificationSource | None = _enum_field(
        SalesQualificationSource, default=None, nullable=True
    )
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")


class OpportunityContactRole(SQLModel, table=True):
    """A contact's role on an opportunity (buyer, champion, …)."""

    __tablename__ = "opportunity_contact_roles"
    __table_args__ = (UniqueConstraint("opportunity_id", "contact_id"),)

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunities.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    role: str | None = Field(default=None, max_length=60)
    is_primary: bool = Field(default=False)
    created_at: datetime = _now_field()


class Campaign(Versioned, table=True):
    """A marketing program: webcast, trade show, email, paid channel (D1, D11)."""

    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    channel: CampaignChannel = _enum_field(CampaignChannel, index=True)
    spend: Decimal = Field(default=Decimal("0.00"), sa_type=Money)
    start_date: date | None = None
    end_date: date | None = None


class Activity(Versioned, table=True):
    """A Task or an Event logged against a lead/contact/account/opportunity (D1)."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_external_id", "external_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    kind: ActivityKind = _enum_field(ActivityKind)
    channel: ActivityChannel = _enum_field(ActivityChannel)
    direction: ActivityDirection = _enum_field(
        ActivityDirection, default=ActivityDirection.OUTBOUND
    )
    subject: str = Field(max_length=255)
    due_at: datetime | None = _time_field()
    completed_at: datetime | None = _time_field()
    disposition: str | None = Field(default=None, max_length=120)
    outcome: str | None = _text_field()
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    source_system: str | None = Field(default=None, max_length=60)
    lead_id: int | None = Field(default=None, foreign_key="leads.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="accounts.id", index=True)
    opportunity_id: int | None = Field(
        default=None, foreign_key="opportunities.id", index=True
    )
    # Its id in the system a history import took it from (issue 13 item 2).
    external_id: str | None = Field(default=None, max_length=255)
    import_source: str | None = Field(default=None, max_length=120)


class Engagement(SQLModel, table=True):
    """A marketing touch that feeds the score (D6)."""

    __tablename__ = "engagements"
    __table_args__ = (Index("ix_engagements_lead_occurred", "lead_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int | None = Field(default=None, foreign_key="leads.id")
    contact_id: int | None = Field(default=None, foreign_key="contacts.id", index=True)
    kind: EngagementKind = _enum_field(EngagementKind)
    occurred_at: datetime = _now_field()
    campaign_id: int | None = Field(
        default=None, foreign_key="campaigns.id", index=True
    )
    created_at: datetime = _now_field()


class TransitionRecord(SQLModel, table=True):
    """One status/stage change: the append-only ledger behind history (D1)."""

    __tablename__ = "transition_records"
    __table_args__ = (
        Index("ix_transition_records_record", "record_type", "record_id", "id"),
        Index("ix_transition_records_to_state", "record_type", "to_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    record_type: RecordType = _enum_field(RecordType)
    record_id: int
    from_state: str | None = Field(default=None, max_length=40)
    to_state: str = Field(max_length=40)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    at: datetime = _now_field()
    reason: str | None = _text_field()
    note: str | None = _text_field()
    override: bool = Field(default=False)
    seconds_in_from: int | None = None


class Event(SQLModel, table=True):
    """The outbox (D10): every transition, conversion, assignment and alert."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_record", "record_type", "record_id"),
        Index("ix_events_kind_id", "kind", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=60)
    record_type: RecordType = _enum_field(RecordType)
    record_id: int
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    occurred_at: datetime = _now_field()
    delivered_at: datetime | None = _time_field()


class EventRecipient(SQLModel, table=True):
    """A user an event is addressed to (D10), and in which capacity (e.g. SAL)."""

    __tablename__ = "event_recipients"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_event_recipients_user_event", "user_id", "event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id")
    user_id: int = Field(foreign_key="users.id")
    capacity: str = Field(max_length=40)


class IdempotencyKey(SQLModel, table=True):
    """The first answer to a repeated mutation (A3 ``idempotencyKey``)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "mutation", "key"),
        # Pruning deletes by age (``idempotency.prune_expired_keys``).
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    mutation: str = Field(max_length=60)
    key: str = Field(max_length=200)
    input_hash: str = Field(max_length=64)
    record_id: int | None = None
    # A batch mutation's answer: the ids of its records, in input order.
    record_ids: list[int] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    created_at: datetime = _now_field()


class SupportHandOff(Versioned, table=True):
    """A support ticket passed to sales (D13): the decision, and its follow-up.

    ``escalated`` is true when escalation reasons were given; open escalated
    hand-offs (``resolved_at`` null) make the daily follow-up list.
    """

    __tablename__ = "support_hand_offs"
    __table_args__ = (
        Index("ix_support_hand_offs_escalated_passed", "escalated", "passed_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    requester_email: str = Field(max_length=320)
    kind: SupportTicketKind = _enum_field(SupportTicketKind)
    reasons: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    escalated: bool = Field(default=False)
    ticket_reference: str | None = Field(default=None, max_length=120)
    rule: HandOffRule = _enum_field(HandOffRule)
    reason: str = Field(sa_type=Text)
    pool: str | None = Field(default=None, max_length=60)
    assignee_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="accounts.id")
    opportunity_id: int | None = Field(default=None, foreign_key="opportunities.id")
    lead_id: int | None = Field(default=None, foreign_key="leads.id")
    lead_created: bool = Field(default=False)
    passed_by_id: int | None = Field(default=None, foreign_key="users.id")
    passed_at: datetime = _now_field()
    resolved_at: datetime | None = _time_field()
    resolved_by_id: int | None = Field(default=None, foreign_key="users.id")
    resolution_note: str | None = _text_field()


class WebhookSubscription(Versioned, table=True):
    """An integration told about events by signed HTTP POSTs (issue 12).

    The filter lists are ANDed, each "any of" (empty: any). ``cursor_event_id``
    is the last event the worker looked at for it; ``retry_at`` holds the whole
    subscription back while its oldest pending delivery waits for a retry (order
    per subscription); ``lease_*`` is the worker that delivers it right now.
    """

    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=200)
    status: WebhookStatus = _enum_field(WebhookStatus, default=WebhookStatus.ACTIVE)
    event_types: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    record_types: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    from_states: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    to_states: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    cursor_event_id: int = Field(default=0)
    retry_at: datetime | None = _time_field()
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = _time_field()


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one subscription, and how its delivery went (issue 12)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_subscription_status",
            "subscription_id",
            "status",
            "id",
        ),
        Index("ix_webhook_deliveries_event", "event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscriptions.id")
    event_id: int = Field(foreign_key="events.id")
    status: DeliveryStatus = _enum_field(DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts: int = Field(default=0)
    # Asked for again by redeliverEvent (out of order, on purpose).
    redelivery: bool = Field(default=False)
    created_at: datetime = _now_field()
    delivered_at: datetime | None = _time_field()


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery: when, the answer, how long it took (issue 12)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_deliveries.id")
    attempt: int
    attempted_at: datetime = _now_field()
    response_code: int | None = None
    latency_ms: int
    error: str | None = Field(default=None, max_length=500)
    succeeded: bool


class RecordMerge(SQLModel, table=True):
    """One merge (D12): the ledger's entry, and what undoing it needs.

    ``snapshot`` is taken at merge time: the survivor's row and every
    merged-away (or displaced) row as they were, and which rows moved from
    which record (see ``domain.services.merges``).
    """

    __tablename__ = "record_merges"
    __table_args__ = (Index("ix_record_merges_kind_survivor", "kind", "survivor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: MergeKind = _enum_field(MergeKind)
    survivor_id: int
    duplicate_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    merged_at: datetime = _now_field()
    survivor_version: int
    snapshot: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    undone_at: datetime | None = _time_field()
    undone_by_id: int | None = Field(default=None, foreign_key="users.id")


class DuplicateScan(SQLModel, table=True):
    """A full duplicate scan of leads or contacts (a job): status and result."""

    __tablename__ = "duplicate_scans"

    id: int | None = Field(default=None, primary_key=True)
    kind: MergeKind = _enum_field(MergeKind)
    status: DuplicateScanStatus = _enum_field(DuplicateScanStatus)
    requested_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = _now_field()
    started_at: datetime | None = _time_field()
    finished_at: datetime | None = _time_field()
    # The worker running it and its last sign of life (``domain.services.jobs``).
    claimed_by: str | None = Field(default=None, max_length=120)
    heartbeat_at: datetime | None = _time_field()
    pair_count: int = Field(default=0)
    # [[id, other id, score, [reasons…]], …], best first.
    pairs: list[Any] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    error: str | None = _text_field()


class ExportJob(SQLModel, table=True):
    """An export of one kind of record to a CSV file (a job, issue 13 item 5)."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: ExportKind = _enum_field(ExportKind)
    # The list query's filter as the API spells it (LeadFilter… in JSON).
    filter: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    status: ExportJobStatus = _enum_field(
        ExportJobStatus, default=ExportJobStatus.QUEUED
    )
    requested_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = _now_field()
    started_at: datetime | None = _time_field()
    finished_at: datetime | None = _time_field()
    # The worker running it and its last sign of life (a dead worker's job is
    # taken over once this is older than the lease).
    claimed_by: str | None = Field(default=None, max_length=120)
    heartbeat_at: datetime | None = _time_field()
    total_rows: int | None = None
    row_count: int = Field(default=0)
    file_name: str | None = Field(default=None, max_length=255)
    error: str | None = _text_field()


class ImportMapping(SQLModel, table=True):
    """A column mapping saved by name (``domain.rules.import_mapping``)."""

    __tablename__ = "import_mappings"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    kind: ImportKind = _enum_field(ImportKind)
    fields: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    saved_by_id: int | None = Field(default=None, foreign_key="users.id")
    saved_at: datetime = _now_field()


class ImportJob(SQLModel, table=True):
    """One list import (a job): the file, its options, progress and counts."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: ImportKind = _enum_field(ImportKind)
    status: ImportJobStatus = _enum_field(ImportJobStatus)
    file_name: str = Field(max_length=255)
    # The file itself, kept until the job is done (a worker in another process
    # reads it from here).
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    mapping: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    source: str | None = Field(default=None, max_length=120)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")
    dry_run: bool = Field(default=False)
    atomic: bool = Field(default=False)
    # A history import (issue 13 item 2): closed deals and past stages.
    historical: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )
    requested_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = _now_field()
    started_at: datetime | None = _time_field()
    finished_at: datetime | None = _time_field()
    # The worker running it and its last sign of life (``domain.services.jobs``).
    claimed_by: str | None = Field(default=None, max_length=120)
    heartbeat_at: datetime | None = _time_field()
    total_rows: int | None = None
    rows_done: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    skipped: int = Field(default=0)
    rejected: int = Field(default=0)
    # Columns of the file no field reads (reported, then ignored).
    unmapped: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    error: str | None = _text_field()


class ImportRow(SQLModel, table=True):
    """One line of an import's row report."""

    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_job_row", "job_id", "row_number"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="import_jobs.id")
    row_number: int
    outcome: ImportOutcome = _enum_field(ImportOutcome)
    record_type: RecordType | None = _enum_field(
        RecordType, default=None, nullable=True
    )
    record_id: int | None = None
    codes: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    fields: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    message: str | None = _text_field()
