"""stage requirements as data: versioned, edited by sales ops (issue 14, item 1)

Revision ID: 0021_stage_requirements
Revises: 0020_duplicate_scan_lease
Create Date: 2026-12-04 22:20:00.000000

``stage_requirements_versions`` holds each version of the stage entry
requirements as one document (``domain.rules.stage_requirements``); the
``STAGE_REQUIREMENTS`` row of ``rule_table_heads`` names the version in force.
Version 1 is the handbook's (D3 rule 5), frozen here as it was seeded
(``tests/test_migrations.py`` checks it equals ``HANDBOOK_REQUIREMENTS``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0021_stage_requirements"
down_revision: str | None = "0020_duplicate_scan_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HANDBOOK = {
    "conditions": [],
    "stages": [
        {
            "stage": "PENDING_ACCEPTANCE",
            "requirements": [
                {
                    "field": "contact",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Record a contact.",
                    "when": None,
                },
                {
                    "field": "businessProblem",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Record the business problem.",
                    "when": None,
                },
            ],
        },
        {
            "stage": "DISCOVERY",
            "requirements": [
                {
                    "field": "primaryContactId",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Sales acceptance needs the right "
                    "person: record the primary contact.",
                    "when": None,
                },
                {
                    "field": "businessProblem",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Sales acceptance needs the business "
                    "problem to be recorded.",
                    "when": None,
                },
            ],
        },
        {
            "stage": "PROPOSAL",
            "requirements": [
                {
                    "field": "technicalRequirementsConfirmed",
                    "check": "TRUE",
                    "value": None,
                    "message": "Confirm the technical requirements "
                    "before the proposal.",
                    "when": None,
                },
                {
                    "field": "pocNotes",
                    "check": "RECORDED",
                    "value": None,
                    "message": "A POC ran: record its notes.",
                    "when": {"field": "pocRan", "test": "TRUE", "values": []},
                },
                {
                    "field": "pocSuccessCriteria",
                    "check": "RECORDED",
                    "value": None,
                    "message": "A POC ran: record its success criteria.",
                    "when": {"field": "pocRan", "test": "TRUE", "values": []},
                },
            ],
        },
        {
            "stage": "NEGOTIATING",
            "requirements": [
                {
                    "field": "billToContactId",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Record the bill-to contact.",
                    "when": None,
                },
                {
                    "field": "soldToContactId",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Record the sold-to contact.",
                    "when": None,
                },
                {
                    "field": "poWillBeIssued",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Record whether a PO will be issued.",
                    "when": None,
                },
                {
                    "field": "purchasingPlan",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Record the purchasing (close) plan.",
                    "when": None,
                },
            ],
        },
        {
            "stage": "AWAITING_SIGNATURE",
            "requirements": [
                {
                    "field": "businessTermsAgreed",
                    "check": "TRUE",
                    "value": None,
                    "message": "The business terms are not agreed yet.",
                    "when": None,
                },
                {
                    "field": "referenceableCustomer",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Record whether the customer is "
                    "referenceable (yes, no, later).",
                    "when": None,
                },
            ],
        },
        {
            "stage": "CLOSED_WON",
            "requirements": [
                {
                    "field": "signedOrderFormReceived",
                    "check": "TRUE",
                    "value": None,
                    "message": "The signed order form is missing.",
                    "when": None,
                },
                {
                    "field": "poReceived",
                    "check": "TRUE",
                    "value": None,
                    "message": "A PO will be issued and has not been received.",
                    "when": {"field": "poWillBeIssued", "test": "TRUE", "values": []},
                },
                {
                    "field": "restrictedPartyScreening",
                    "check": "EQUALS",
                    "value": "CLEARED",
                    "message": "Restricted-party screening is {value}, not CLEARED.",
                    "when": None,
                },
                {
                    "field": "financeApproved",
                    "check": "TRUE",
                    "value": None,
                    "message": "Finance has not approved.",
                    "when": None,
                },
                {
                    "field": "closedWonDetails",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Named or Large accounts and deals "
                    "of IACV {largeDealIacv} USD or more "
                    "need closed-won details.",
                    "when": {"field": "largeDeal", "test": "TRUE", "values": []},
                },
            ],
        },
        {
            "stage": "CLOSED_LOST",
            "requirements": [
                {
                    "field": "closedLostReasons",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Give at least one closed-lost reason.",
                    "when": None,
                },
                {
                    "field": "closedLostDetail",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Describe why the opportunity was lost.",
                    "when": None,
                },
                {
                    "field": "mergedIntoId",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Merged into another opportunity: "
                    "name that opportunity.",
                    "when": {
                        "field": "closedLostReasons",
                        "test": "CONTAINS",
                        "values": ["MERGED_INTO_ANOTHER_OPPORTUNITY"],
                    },
                },
            ],
        },
        {
            "stage": "DUPLICATE",
            "requirements": [
                {
                    "field": "duplicateOfId",
                    "check": "RECORDED",
                    "value": None,
                    "message": "Name the opportunity this one duplicates.",
                    "when": None,
                }
            ],
        },
    ],
}


def upgrade() -> None:
    versions = op.create_table(
        "stage_requirements_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "changed_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_stage_requirements_versions_changed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_stage_requirements_versions")),
    )
    now = domain.sqltypes.utcnow()
    op.bulk_insert(
        versions,
        [{"version": 1, "document": HANDBOOK, "changed_at": now, "note": None}],
    )
    op.bulk_insert(
        sa.table(
            "rule_table_heads",
            sa.column("name", sa.String),
            sa.column("version", sa.Integer),
            sa.column("changed_at", domain.sqltypes.UTCDateTime(timezone=True)),
        ),
        [{"name": "STAGE_REQUIREMENTS", "version": 1, "changed_at": now}],
    )


def downgrade() -> None:
    op.execute("DELETE FROM rule_table_heads WHERE name = 'STAGE_REQUIREMENTS'")
    op.drop_table("stage_requirements_versions")
