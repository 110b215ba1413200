"""The columns of an export, and how each cell is written (issue 13 item 5).

THE COLUMN CONTRACT (the list import reads what this writes: export → import
round-trips):

1. First, the field names of the kind's GraphQL create input (``createLead``,
   ``createContact``, ``createAccount``, ``createOpportunity``), camelCase
   exactly as in ``schema.graphql``, in the input's order — without the
   request-control fields ``idempotencyKey`` and ``allowDuplicate``, which are
   no data. References to other records (``ownerId``, ``accountId``,
   ``campaignId``, ``parentAccountId``, ``primaryContactId``) are global ids.
2. Then ``externalId`` (empty when the record has none).
3. Then read-only columns, named as the fields of the GraphQL type (``id`` —
   the record's global id —, ``status``, ``personScore``, ``salesSegment``,
   ``region``, ``createdAt`` …): an import ignores them.

Cells: enums as their GraphQL names; money as a plain decimal (``1234.50``);
integers in decimal; booleans ``true``/``false``; dates ISO 8601
(``2026-12-03``); datetimes ISO 8601 in UTC (``2026-12-03T08:00:00+00:00``);
an empty cell for null; a list (an account's ``domains``) joined with ``;``
in alphabetical order. The file is UTF-8 without BOM, a header row first,
RFC 4180 quoting (``\\r\\n`` line ends), rows in id order.

Spreadsheet formula injection (OWASP "CSV injection"): a *text* cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading ``'`` so that Excel, LibreOffice and Google Sheets show it as
text instead of running it — unless it is only digits, spaces and ``( ) . / -``
after its sign (a phone number such as ``+49 30 1234567``, a negative number):
such a cell can call no function and reach no other program, so it is
written as it is and round-trips unchanged. Cells this module formats from
numbers, dates, enums and ids are never prefixed. A text that itself starts
with ``'`` gets one more, so that the import (``restore``) can take exactly one
off and every text comes back as it was.

Pure: no I/O. The tests hold the first part equal to the live schema's
create inputs and the read-only names to the GraphQL types' fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from domain.enums import ExportKind


class Cell(Enum):
    """How a column's value is written."""

    TEXT = "TEXT"
    INT = "INT"
    BOOL = "BOOL"
    MONEY = "MONEY"
    DATE = "DATE"
    DATETIME = "DATETIME"
    ENUM = "ENUM"
    REF = "REF"  # a reference: the global id of a record of ``ref``
    LIST = "LIST"  # several texts (an account's domains)


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, the record's attribute, how it is written."""

    name: str
    attribute: str
    cell: Cell = Cell.TEXT
    ref: str | None = None  # the GraphQL type a REF points at
    read_only: bool = False


EXTERNAL_ID = "externalId"
LIST_SEPARATOR = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGERS = frozenset(FORMULA_STARTS)
# Digits after a sign: a phone number or a number, never a function call.
_HARMLESS = re.compile(r"[+-]?[0-9 ().\-/]+")


def _c(name: str, attribute: str, cell: Cell = Cell.TEXT, ref: str | None = None):
    return Column(name, attribute, cell, ref)


def _ro(name: str, attribute: str, cell: Cell = Cell.TEXT, ref: str | None = None):
    return Column(name, attribute, cell, ref, read_only=True)


def _tail(*columns: Column) -> tuple[Column, ...]:
    """``externalId``, then the read-only columns every kind ends with."""
    return (
        Column(EXTERNAL_ID, "external_id"),
        _ro("id", "id", Cell.REF),
        *columns,
        _ro("createdAt", "created_at", Cell.DATETIME),
        _ro("updatedAt", "updated_at", Cell.DATETIME),
    )


# fmt: off
COLUMNS: dict[ExportKind, tuple[Column, ...]] = {
    ExportKind.LEAD: (
        _c("initialSource", "initial_source"),
        _c("firstName", "first_name"),
        _c("lastName", "last_name"),
        _c("email", "email"),
        _c("company", "company"),
        _c("title", "title"),
        _c("phone", "phone"),
        _c("numberOfEmployees", "number_of_employees", Cell.INT),
        _c("street", "street"),
        _c("city", "city"),
        _c("state", "state"),
        _c("postalCode", "postal_code"),
        _c("country", "country"),
        _c("isPublicSector", "is_public_sector", Cell.BOOL),
        _c("leadSource", "lead_source"),
        _c("ownerId", "owner_id", Cell.REF, "User"),
        _c("accountId", "account_id", Cell.REF, "Account"),
        _c("campaignId", "campaign_id", Cell.REF, "Campaign"),
        *_tail(
            _ro("status", "status", Cell.ENUM),
            _ro("personScore", "person_score", Cell.INT),
            _ro("salesSegment", "sales_segment", Cell.ENUM),
            _ro("region", "region", Cell.ENUM),
        ),
    ),
    ExportKind.CONTACT: (
        _c("lastName", "last_name"),
        _c("accountId", "account_id", Cell.REF, "Account"),
        _c("initialSource", "initial_source"),
        _c("firstName", "first_name"),
        _c("email", "email"),
        _c("title", "title"),
        _c("phone", "phone"),
        _c("mailingStreet", "mailing_street"),
        _c("mailingCity", "mailing_city"),
        _c("mailingState", "mailing_state"),
        _c("mailingPostalCode", "mailing_postal_code"),
        _c("mailingCountry", "mailing_country"),
        _c("leadSource", "lead_source"),
        _c("ownerId", "owner_id", Cell.REF, "User"),
        *_tail(),
    ),
    ExportKind.ACCOUNT: (
        _c("name", "name"),
        _c("domains", "domains", Cell.LIST),
        _c("type", "type", Cell.ENUM),
        _c("numberOfEmployees", "number_of_employees", Cell.INT),
        _c("billingStreet", "billing_street"),
        _c("billingCity", "billing_city"),
        _c("billingState", "billing_state"),
        _c("billingPostalCode", "billing_postal_code"),
        _c("billingCountry", "billing_country"),
        _c("isPublicSector", "is_public_sector", Cell.BOOL),
        _c("industry", "industry"),
        _c("annualRevenue", "annual_revenue", Cell.MONEY),
        _c("ownerId", "owner_id", Cell.REF, "User"),
        _c("parentAccountId", "parent_account_id", Cell.REF, "Account"),
        _c("accountSource", "account_source"),
        _c("isNamed", "is_named", Cell.BOOL),
        *_tail(
            _ro("salesSegment", "sales_segment", Cell.ENUM),
            _ro("region", "region", Cell.ENUM),
            _ro("customerSince", "customer_since", Cell.DATETIME),
        ),
    ),
    ExportKind.OPPORTUNITY: (
        _c("name", "name"),
        _c("accountId", "account_id", Cell.REF, "Account"),
        _c("ownerId", "owner_id", Cell.REF, "User"),
        _c("type", "type", Cell.ENUM),
        _c("closeDate", "close_date", Cell.DATE),
        _c("incrementalAcv", "incremental_acv", Cell.MONEY),
        _c("currency", "currency"),
        _c("salesQualificationSource", "sales_qualification_source", Cell.ENUM),
        _c("edition", "edition"),
        _c("initialSource", "initial_source"),
        _c("primaryContactId", "primary_contact_id", Cell.REF, "Contact"),
        _c("businessProblem", "business_problem"),
        _c("pipeline", "pipeline", Cell.ENUM),
        _c("stage", "stage", Cell.ENUM),
        _c("campaignId", "campaign_id", Cell.REF, "Campaign"),
        *_tail(
            _ro("salesAcceptedDate", "sales_accepted_date", Cell.DATETIME),
            _ro("salesQualified", "sales_qualified", Cell.BOOL),
            _ro("salesQualifiedDate", "sales_qualified_date", Cell.DATETIME),
            _ro("initialIacv", "initial_iacv", Cell.MONEY),
            _ro("closedAt", "closed_at", Cell.DATETIME),
        ),
    ),
}
# fmt: on

# The GraphQL type of each kind's own ``id`` column.
TYPE_OF: dict[ExportKind, str] = {
    ExportKind.LEAD: "Lead",
    ExportKind.CONTACT: "Contact",
    ExportKind.ACCOUNT: "Account",
    ExportKind.OPPORTUNITY: "Opportunity",
}

GlobalId = Callable[[str, int], str]
Format = Callable[[Any], str]
RowWriter = Callable[[Sequence[Any]], list[str]]


def header(kind: ExportKind) -> list[str]:
    """The header row of a kind."""
    return [column.name for column in COLUMNS[kind]]


def neutralize(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (see the docstring)."""
    if text[:1] == "'" or (text[:1] in _TRIGGERS and not _HARMLESS.fullmatch(text)):
        return "'" + text
    return text


def restore(text: str) -> str:
    """The text ``neutralize`` was given: one leading ``'`` it added is taken
    off (what an import of an exported file does)."""
    if text[:1] == "'" and neutralize(text[1:]) == text:
        return text[1:]
    return text


def _formatter(column: Column, own_type: str, global_id: GlobalId) -> Format:
    """How one column's value becomes its cell (None: an empty cell)."""
    kind = column.cell
    if kind is Cell.TEXT:
        return lambda v: "" if v is None else neutralize(str(v))
    if kind is Cell.REF:
        ref = column.ref or own_type
        return lambda v: "" if v is None else global_id(ref, int(v))
    if kind is Cell.ENUM:
        return lambda v: "" if v is None else str(getattr(v, "value", v))
    if kind is Cell.BOOL:
        return lambda v: "" if v is None else ("true" if v else "false")
    if kind is Cell.INT:
        return lambda v: "" if v is None else str(int(v))
    if kind is Cell.MONEY:
        return lambda v: "" if v is None else format(Decimal(v), "f")
    if kind is Cell.DATETIME:
        return lambda v: "" if v is None else _utc(v).isoformat()
    if kind is Cell.DATE:
        return lambda v: "" if v is None else date.isoformat(v)
    return lambda v: "" if v is None else neutralize(LIST_SEPARATOR.join(sorted(v)))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:  # stored as UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def row_writer(kind: ExportKind, global_id: GlobalId) -> RowWriter:
    """The cells of one record of ``kind``, from its values in the order of
    ``COLUMNS[kind]``: one formatter per column, chosen once per export."""
    own = TYPE_OF[kind]
    formats = [_formatter(column, own, global_id) for column in COLUMNS[kind]]

    def cells(values: Sequence[Any]) -> list[str]:
        return [f(v) for f, v in zip(formats, values, strict=True)]

    return cells
