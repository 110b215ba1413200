"""List import: which file column feeds which field, and how (D12, issue 13).

Pure: a mapping is data (a JSON document, saved by name), applied to one row
(a dict of column -> cell text) at a time. The field catalogue of a kind is
the field names of its GraphQL create input (``createLead``, ``createContact``,
``createAccount``) in camelCase, plus ``externalId`` — export writes exactly
these headers, so export -> import round-trips (tests/api/test_imports.py
keeps the catalogue equal to the inputs).

A field's spec (JSON)::

    "firstName": "First Name"                          # a column (trimmed)
    "firstName": {"split": "Full Name", "part": "first"}
    "street": {"combine": ["Address 1", "Address 2"], "separator": ", "}
    "leadSource": {"column": "Lead Origin", "map": {"Olark Chat": "WEB_CHAT"}}
    "initialSource": {"constant": "Trade show"}
    "lastName": {"template": "Lead {Lead Number}"}
    "email": {"template": "{sales_agent}@crm.example", "slug": true}
    "annualRevenue": {"column": "revenue", "multiply": "1000000"}
    "industry": {"column": "sector", "corrections": {"technolgy": "technology"}}

``trim`` (default true) strips the cells; ``map`` replaces a whole value
(exact, then case-insensitive); a blank result is "no value": a blank cell
never erases what a record has. ``slug`` writes a template's cells in lower
case with every run of other characters than letters and digits as one dot
("Anna Snelling" -> "anna.snelling"). ``multiply`` scales a number (revenue
given in millions). ``corrections`` replaces a whole value like ``map`` but is
a repair of the source's data, not a translation: every row it repairs says so
in the row report (a ``VALUE_CORRECTED`` warning naming both values), so
nothing is fixed silently (issue 13 item 2).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any

from domain.enums import (
    AccountType,
    ActivityChannel,
    ActivityDirection,
    ActivityKind,
    ErrorCode,
    ImportKind,
    OpportunityStage,
    OpportunityType,
    Pipeline,
    Region,
    Role,
    SalesQualificationSource,
)
from domain.errors import Refusal
from domain.rules.custom_fields import KEY_PATTERN, GivenValue
from domain.rules.export_columns import restore
from domain.rules.segmentation import normalize_country

# Field types: how a cell's text becomes a value.
TEXT, INT, BOOL, DECIMAL, REF, DOMAINS, ACCOUNT_TYPE = (
    "text",
    "int",
    "bool",
    "decimal",
    "ref",
    "domains",
    "account_type",
)

DATE, DATETIME = "date", "datetime"
# Enum fields: the type name is the enum's; a cell is a member's name (any case,
# spaces and dashes read as underscores).
ENUMS: dict[str, type[Enum]] = {
    "stage": OpportunityStage,
    "opportunity_type": OpportunityType,
    "pipeline": Pipeline,
    "sales_qualification_source": SalesQualificationSource,
    "role": Role,
    "region": Region,
    "activity_kind": ActivityKind,
    "activity_channel": ActivityChannel,
    "activity_direction": ActivityDirection,
}

EXTERNAL_ID = "externalId"
# Fields only a history import may set (issue 13 item 2): the moment a deal was
# sales-accepted ("engaged") before the import.
HISTORICAL_FIELDS: dict[ImportKind, frozenset[str]] = {
    ImportKind.OPPORTUNITY: frozenset({"salesAcceptedDate"}),
}
# Country fields: a value no country table knows is a warning (region UNKNOWN, D5).
COUNTRY_FIELDS = frozenset({"country", "billingCountry", "mailingCountry"})

# camelCase field -> type, in the create input's order (see the module doc).
CATALOGUES: dict[ImportKind, dict[str, str]] = {
    ImportKind.LEAD: {
        "initialSource": TEXT,
        "firstName": TEXT,
        "lastName": TEXT,
        "email": TEXT,
        "company": TEXT,
        "title": TEXT,
        "phone": TEXT,
        "numberOfEmployees": INT,
        "street": TEXT,
        "city": TEXT,
        "state": TEXT,
        "postalCode": TEXT,
        "country": TEXT,
        "isPublicSector": BOOL,
        "leadSource": TEXT,
        "ownerId": REF,
        "accountId": REF,
        "campaignId": REF,
        EXTERNAL_ID: TEXT,
    },
    ImportKind.CONTACT: {
        "lastName": TEXT,
        "accountId": REF,
        "initialSource": TEXT,
        "firstName": TEXT,
        "email": TEXT,
        "title": TEXT,
        "phone": TEXT,
        "mailingStreet": TEXT,
        "mailingCity": TEXT,
        "mailingState": TEXT,
        "mailingPostalCode": TEXT,
        "mailingCountry": TEXT,
        "leadSource": TEXT,
        "ownerId": REF,
        EXTERNAL_ID: TEXT,
    },
    ImportKind.ACCOUNT: {
        "name": TEXT,
        "domains": DOMAINS,
        "type": ACCOUNT_TYPE,
        "numberOfEmployees": INT,
        "billingStreet": TEXT,
        "billingCity": TEXT,
        "billingState": TEXT,
        "billingPostalCode": TEXT,
        "billingCountry": TEXT,
        "isPublicSector": BOOL,
        "industry": TEXT,
        "annualRevenue": DECIMAL,
        "ownerId": REF,
        "parentAccountId": REF,
        "accountSource": TEXT,
        "isNamed": BOOL,
        EXTERNAL_ID: TEXT,
    },
    # createUser's input (a user is matched by email: no external id).
    ImportKind.USER: {
        "name": TEXT,
        "email": TEXT,
        "role": "role",
        "region": "region",
    },
    # createOpportunity's input, the stage fields of a history import, and
    # salesAcceptedDate (HISTORICAL_FIELDS).
    ImportKind.OPPORTUNITY: {
        "name": TEXT,
        "accountId": REF,
        "ownerId": REF,
        "type": "opportunity_type",
        "closeDate": DATE,
        "incrementalAcv": DECIMAL,
        "currency": TEXT,
        "salesQualificationSource": "sales_qualification_source",
        "edition": TEXT,
        "initialSource": TEXT,
        "pipeline": "pipeline",
        "stage": "stage",
        "campaignId": REF,
        "salesAcceptedDate": DATE,
        EXTERNAL_ID: TEXT,
    },
    # logActivity's input.
    ImportKind.ACTIVITY: {
        "kind": "activity_kind",
        "channel": "activity_channel",
        "direction": "activity_direction",
        "subject": TEXT,
        "dueAt": DATETIME,
        "completedAt": DATETIME,
        "disposition": TEXT,
        "outcome": TEXT,
        "ownerId": REF,
        "sourceSystem": TEXT,
        "leadId": REF,
        "contactId": REF,
        "accountId": REF,
        "opportunityId": REF,
        EXTERNAL_ID: TEXT,
    },
}

# Header words of common lists (D12's "Address 1", "Zip/Postal Code"…) that
# name a catalogue field; a header is compared after ``_norm``.
ALIASES: dict[ImportKind, dict[str, str]] = {
    ImportKind.LEAD: {
        "address1": "street",
        "address": "street",
        "zip": "postalCode",
        "zippostalcode": "postalCode",
        "stateprovince": "state",
        "employees": "numberOfEmployees",
        "companyname": "company",
        "emailaddress": "email",
        "owner": "ownerId",
        "source": "leadSource",
        "id": EXTERNAL_ID,
    },
    ImportKind.CONTACT: {
        "address1": "mailingStreet",
        "address": "mailingStreet",
        "city": "mailingCity",
        "state": "mailingState",
        "stateprovince": "mailingState",
        "zip": "mailingPostalCode",
        "zippostalcode": "mailingPostalCode",
        "country": "mailingCountry",
        "emailaddress": "email",
        "owner": "ownerId",
        "account": "accountId",
        "id": EXTERNAL_ID,
    },
    ImportKind.ACCOUNT: {
        "accountname": "name",
        "company": "name",
        "website": "domains",
        "domain": "domains",
        "employees": "numberOfEmployees",
        "address1": "billingStreet",
        "city": "billingCity",
        "state": "billingState",
        "stateprovince": "billingState",
        "zip": "billingPostalCode",
        "zippostalcode": "billingPostalCode",
        "country": "billingCountry",
        "revenue": "annualRevenue",
        "owner": "ownerId",
        "id": EXTERNAL_ID,
    },
    ImportKind.USER: {"fullname": "name", "emailaddress": "email"},
    ImportKind.OPPORTUNITY: {
        "opportunityname": "name",
        "account": "accountId",
        "owner": "ownerId",
        "amount": "incrementalAcv",
        "iacv": "incrementalAcv",
        "dealstage": "stage",
        "id": EXTERNAL_ID,
    },
    ImportKind.ACTIVITY: {"owner": "ownerId", "id": EXTERNAL_ID},
}

FUZZY_CUTOFF = 0.8
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "la", "le"}
)
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_TRUE = frozenset({"true", "yes", "y", "1", "t", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "f"})


@dataclass(frozen=True)
class FieldSpec:
    """Where one field's value comes from, and its transforms."""

    column: str | None = None
    combine: tuple[str, ...] = ()
    separator: str = " "
    split: str | None = None
    part: str = "first"
    constant: str | None = None
    template: str | None = None
    trim: bool = True
    value_map: Mapping[str, str] = field(default_factory=dict)
    slug: bool = False
    multiply: str | None = None
    corrections: Mapping[str, str] = field(default_factory=dict)

    def columns(self) -> list[str]:
        """The file columns this field reads."""
        if self.column is not None:
            return [self.column]
        if self.combine:
            return list(self.combine)
        if self.split is not None:
            return [self.split]
        if self.template is not None:
            return _PLACEHOLDER.findall(self.template)
        return []

    def to_json(self) -> Any:
        """The spec as saved (the short form for a plain column)."""
        if (
            self.column is not None
            and self.trim
            and not self.value_map
            and self.constant is None
            and not (self.slug or self.multiply or self.corrections)
        ):
            return self.column
        doc: dict[str, Any] = {}
        if self.column is not None:
            doc["column"] = self.column
        if self.combine:
            doc["combine"] = list(self.combine)
            doc["separator"] = self.separator
        if self.split is not None:
            doc["split"] = self.split
            doc["part"] = self.part
        if self.constant is not None:
            doc["constant"] = self.constant
        if self.template is not None:
            doc["template"] = self.template
        if not self.trim:
            doc["trim"] = False
        if self.value_map:
            doc["map"] = dict(self.value_map)
        if self.slug:
            doc["slug"] = True
        if self.multiply is not None:
            doc["multiply"] = self.multiply
        if self.corrections:
            doc["corrections"] = dict(self.corrections)
        return doc


@dataclass(frozen=True)
class ColumnMapping:
    """A whole mapping: field -> spec, for one kind of record."""

    kind: ImportKind
    fields: Mapping[str, FieldSpec]

    def to_json(self) -> dict[str, Any]:
        """The mapping as saved and as a mapping file holds it."""
        return {
            "kind": self.kind.value,
            "fields": {name: spec.to_json() for name, spec in self.fields.items()},
        }


@dataclass(frozen=True)
class Suggestion:
    """A mapping suggested from a header, and the columns left out."""

    mapping: ColumnMapping
    fuzzy: dict[str, str]  # column -> field matched by similarity, not exactly
    unmapped: list[str]


def _refusal(path: Sequence[str], message: str) -> Refusal:
    return Refusal(ErrorCode.INVALID_INPUT, message, tuple(path))


def _spec(name: str, doc: Any) -> tuple[FieldSpec | None, list[Refusal]]:
    path = ("mapping", name)
    if isinstance(doc, str):
        return FieldSpec(column=doc), []
    if not isinstance(doc, dict):
        return None, [_refusal(path, f"{name}: a column name or an object.")]
    sources = [
        k for k in ("column", "combine", "split", "constant", "template") if k in doc
    ]
    known = {"column", "combine", "separator", "split", "part", "constant"}
    extras = {"template", "trim", "map", "slug", "multiply", "corrections"}
    unknown = set(doc) - known - extras
    if unknown:
        return None, [_refusal(path, f"{name}: unknown keys {sorted(unknown)}.")]
    if len(sources) != 1:
        return None, [
            _refusal(
                path,
                f"{name}: exactly one of column, combine, split, constant or template.",
            )
        ]
    value_map = doc.get("map", {})
    corrections = doc.get("corrections", {})
    multiply = doc.get("multiply")
    combine = doc.get("combine", [])
    part = doc.get("part", "first")
    if (
        not isinstance(value_map, dict)
        or not all(isinstance(v, str) for v in [*value_map, *value_map.values()])
        or not isinstance(combine, list)
        or not all(isinstance(c, str) for c in combine)
        or part not in ("first", "last")
        or not all(
            isinstance(doc.get(k, ""), str)
            for k in ("column", "split", "constant", "template", "separator")
        )
        or not isinstance(doc.get("trim", True), bool)
        or not isinstance(doc.get("slug", False), bool)
        or not isinstance(corrections, dict)
        or not all(isinstance(v, str) for v in [*corrections, *corrections.values()])
        or not (multiply is None or _is_number(multiply))
    ):
        return None, [
            _refusal(
                path,
                f"{name}: map and corrections are objects of texts, combine a list "
                "of columns, part 'first' or 'last', trim and slug true or false, "
                "multiply a number.",
            )
        ]
    return (
        FieldSpec(
            column=doc.get("column"),
            combine=tuple(combine),
            separator=doc.get("separator", " "),
            split=doc.get("split"),
            part=part,
            constant=doc.get("constant"),
            template=doc.get("template"),
            trim=doc.get("trim", True),
            value_map=value_map,
            slug=doc.get("slug", False),
            multiply=None if multiply is None else str(multiply),
            corrections=corrections,
        ),
        [],
    )


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    try:
        Decimal(str(value))
    except InvalidOperation:
        return False
    return True


# A custom field (issue 14 item 3) is a target named ``custom.<key>`` in the
# imports of the record types that take custom fields.
CUSTOM_TARGET = "custom."
_CUSTOMIZABLE_KINDS = frozenset(
    {ImportKind.LEAD, ImportKind.ACCOUNT, ImportKind.OPPORTUNITY}
)


def is_custom_target(kind: ImportKind, name: str) -> bool:
    """Whether ``name`` maps a column to a custom field of ``kind``'s records."""
    return (
        kind in _CUSTOMIZABLE_KINDS
        and name.startswith(CUSTOM_TARGET)
        and KEY_PATTERN.match(name.removeprefix(CUSTOM_TARGET)) is not None
    )


def parse_mapping(
    kind: ImportKind, doc: Any
) -> tuple[ColumnMapping | None, list[Refusal]]:
    """A mapping from its JSON form (``{"fields": {...}}`` or the fields alone),
    or every reason it is malformed (field path ``mapping.<field>``)."""
    fields_doc = doc.get("fields", doc) if isinstance(doc, dict) else None
    if not isinstance(fields_doc, dict):
        return None, [_refusal(("mapping",), "A mapping is a JSON object.")]
    # ``kind`` is the document's only beside ``fields`` (an activity has a
    # field named kind).
    wrapped = isinstance(doc, dict) and "fields" in doc
    if wrapped and "kind" in doc and doc["kind"] != kind.value:
        return None, [
            _refusal(("mapping", "kind"), f"This mapping is for {doc['kind']}.")
        ]
    catalogue = CATALOGUES[kind]
    found: list[Refusal] = []
    specs: dict[str, FieldSpec] = {}
    for name, spec_doc in fields_doc.items():
        if name not in catalogue and not is_custom_target(kind, name):
            found.append(
                _refusal(
                    ("mapping", name),
                    f"{name!r} is no {kind.value.lower()} field (fields: "
                    f"{', '.join(catalogue)}).",
                )
            )
            continue
        spec, refused = _spec(name, spec_doc)
        found += refused
        if spec is not None:
            specs[name] = spec
    return (None, found) if found else (ColumnMapping(kind, specs), [])


def header_refusals(mapping: ColumnMapping, header: Sequence[str]) -> list[Refusal]:
    """A column the mapping reads that the file does not have."""
    have = set(header)
    return [
        _refusal(("mapping", name), f"{name}: the file has no column {column!r}.")
        for name, spec in mapping.fields.items()
        for column in spec.columns()
        if column not in have
    ]


def unmapped_columns(mapping: ColumnMapping, header: Sequence[str]) -> list[str]:
    """The file's columns no field reads (reported, then ignored)."""
    used = {c for spec in mapping.fields.values() for c in spec.columns()}
    return [c for c in header if c and c not in used]


def split_full_name(full: str) -> tuple[str | None, str | None]:
    """ "Jane Doe" -> (Jane, Doe); "Doe, Jane" -> (Jane, Doe); particles stay with
    the last name ("Anna van der Berg" -> Anna, van der Berg); one word is a
    last name."""
    full = " ".join(full.split())
    if not full:
        return None, None
    if "," in full:
        last, _, first = full.partition(",")
        return first.strip() or None, last.strip() or None
    words = full.split(" ")
    if len(words) == 1:
        return None, words[0]
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


def _text(value: str | None, trim: bool) -> str:
    value = value or ""
    return value.strip() if trim else value


def slugged(text: str) -> str:
    """ "Anna Snelling" -> "anna.snelling" (letters and digits kept, lower case)."""
    return ".".join(re.findall(r"[^\W_]+", text.casefold()))


def _raw_value(spec: FieldSpec, row: Mapping[str, str | None]) -> str:
    """The field's text before any map, correction or scaling."""
    if spec.constant is not None:
        return spec.constant
    if spec.template is not None:

        def cell(m: re.Match[str]) -> str:
            text = _text(row.get(m.group(1)), spec.trim)
            return slugged(text) if spec.slug else text

        return _PLACEHOLDER.sub(cell, spec.template)
    if spec.combine:
        parts = [_text(row.get(c), spec.trim) for c in spec.combine]
        return spec.separator.join(p for p in parts if p)
    if spec.split is not None:
        first, last = split_full_name(_text(row.get(spec.split), True))
        return (first if spec.part == "first" else last) or ""
    return _text(row.get(spec.column or ""), spec.trim)


def _replaced(value: str, table: Mapping[str, str]) -> str | None:
    """The table's replacement of a whole value (exact, then any case)."""
    if value in table:
        return table[value]
    folded = {k.casefold(): v for k, v in table.items()}
    return folded.get(value.casefold())


def original_value(spec: FieldSpec, row: Mapping[str, str | None]) -> str | None:
    """The field's text as the file has it (no map, correction or scaling)."""
    value = _raw_value(spec, row)
    return value if value.strip() else None


def row_warnings(
    mapping: ColumnMapping, row: Mapping[str, str | None]
) -> list[Refusal]:
    """What the row report says of a row besides its outcome: each value the
    mapping's ``corrections`` repaired (VALUE_CORRECTED, naming both values),
    each country no table knows (UNKNOWN_COUNTRY: region UNKNOWN, D5)."""
    found: list[Refusal] = []
    for name, spec in mapping.fields.items():
        raw = _raw_value(spec, row)
        if spec.corrections and raw.strip():
            fixed = _replaced(raw, spec.corrections)
            if fixed is not None and fixed != raw:
                found.append(
                    Refusal.on(
                        name,
                        ErrorCode.VALUE_CORRECTED,
                        f"{name}: {raw!r} was corrected to {fixed!r} "
                        "(the mapping's corrections).",
                    )
                )
        if name in COUNTRY_FIELDS:
            value = field_value(spec, row)
            if value is not None and normalize_country(value) is None:
                found.append(
                    Refusal.on(
                        name,
                        ErrorCode.UNKNOWN_COUNTRY,
                        f"{name}: {value!r} is no country we know: region UNKNOWN.",
                    )
                )
    return found


def field_value(spec: FieldSpec, row: Mapping[str, str | None]) -> str | None:
    """One field's text from one row (None: no value)."""
    value = _raw_value(spec, row)
    if spec.corrections:
        value = _replaced(value, spec.corrections) or value
    if spec.value_map:
        value = _replaced(value, spec.value_map) or value
    if spec.multiply is not None and value.strip():
        try:
            number = Decimal(value.replace(",", "").strip()) * Decimal(spec.multiply)
        except InvalidOperation:
            pass  # the field's type refuses the text as it is
        else:
            value = format(number.normalize(), "f")
    return value if value.strip() else None


def mapped_texts(
    mapping: ColumnMapping, row: Mapping[str, str | None]
) -> dict[str, str]:
    """Every field with a value in this row (camelCase -> text)."""
    found: dict[str, str] = {}
    for name, spec in mapping.fields.items():
        value = field_value(spec, row)
        if value is not None:
            found[name] = value
    return found


@cache
def snake(name: str) -> str:
    """camelCase -> snake_case (the domain's field names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    """snake_case -> camelCase (idempotent on camelCase)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _convert(name: str, kind_of: str, text: str) -> tuple[Any, Refusal | None]:
    def bad(what: str) -> tuple[Any, Refusal]:
        return None, Refusal.on(
            name, ErrorCode.INVALID_INPUT, f"{name}: {text!r} is not {what}."
        )

    if kind_of == INT:
        cleaned = text.replace(",", "").replace("_", "").replace(" ", "")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            return bad("a whole number")
        if number != number.to_integral_value():
            return bad("a whole number")
        return int(number), None
    if kind_of == DECIMAL:
        cleaned = text.replace(",", "").replace(" ", "").lstrip("$€£")
        try:
            return Decimal(cleaned), None
        except InvalidOperation:
            return bad("an amount")
    if kind_of == BOOL:
        folded = text.casefold()
        if folded in _TRUE:
            return True, None
        if folded in _FALSE:
            return False, None
        return bad("true or false")
    if kind_of == DOMAINS:
        return [d for d in re.split(r"[;,\s]+", text) if d], None
    if kind_of in ENUMS:
        enum = ENUMS[kind_of]
        key = re.sub(r"[\s-]+", "_", text.strip()).upper()
        if key not in enum.__members__:
            return bad(f"one of {', '.join(enum.__members__)}")
        return enum[key], None
    if kind_of == DATE:
        try:
            return date.fromisoformat(text.strip()[:10]), None
        except ValueError:
            return bad("a date (YYYY-MM-DD)")
    if kind_of == DATETIME:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            return bad("a moment (ISO 8601, e.g. 2017-03-01T09:00:00+00:00)")
        if moment.tzinfo is None:  # a day or a local moment: read as UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC), None
    if kind_of == ACCOUNT_TYPE:
        key = re.sub(r"[\s-]+", "_", text.strip()).upper()
        if key not in AccountType.__members__:
            return bad(f"an account type ({', '.join(AccountType)})")
        return AccountType(key), None
    # A text an export guarded against spreadsheet formulas reads back as it was.
    return restore(text), None


def typed_values(
    kind: ImportKind, texts: Mapping[str, str]
) -> tuple[dict[str, Any], list[Refusal]]:
    """Row texts -> the domain's values (snake_case) and every refusal;
    references (``ownerId``…) and ``externalId`` stay texts, resolved by the
    import service. Refusals name the camelCase field."""
    catalogue = CATALOGUES[kind]
    values: dict[str, Any] = {}
    found: list[Refusal] = []
    for name, text in texts.items():
        if name not in catalogue:
            # ``custom.<key>``: checked against the field's definition, by
            # type, when the row is written (``custom_fields.merged_values``).
            given = GivenValue(name.removeprefix(CUSTOM_TARGET), None, text)
            values.setdefault("custom_fields", []).append(given)
            continue
        value, refused = _convert(name, catalogue[name], text)
        if refused is not None:
            found.append(refused)
        else:
            values[snake(name)] = value
    return values, found


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def suggest_mapping(kind: ImportKind, header: Iterable[str]) -> Suggestion:
    """A mapping for this header: exact (case-insensitive) catalogue names,
    then known aliases, then the closest name (difflib) above FUZZY_CUTOFF;
    each field fed by one column at most, the first one."""
    catalogue = list(CATALOGUES[kind])
    by_norm = {_norm(n): n for n in catalogue}
    aliases = ALIASES[kind]
    columns = [c for c in header if c]
    chosen: dict[str, str] = {}  # field -> column
    fuzzy: dict[str, str] = {}
    rounds = (
        lambda c: next((n for n in catalogue if n.casefold() == c.casefold()), None),
        lambda c: by_norm.get(_norm(c)) or aliases.get(_norm(c)),
        lambda c: next(
            iter(
                by_norm[m]
                for m in difflib.get_close_matches(
                    _norm(c), list(by_norm), n=1, cutoff=FUZZY_CUTOFF
                )
            ),
            None,
        ),
    )
    for number, match in enumerate(rounds):
        for column in columns:
            if column in chosen.values():
                continue
            name = match(column)
            if name is not None and name not in chosen:
                chosen[name] = column
                if number == 2:
                    fuzzy[column] = name
    ordered = {n: FieldSpec(column=chosen[n]) for n in catalogue if n in chosen}
    mapping = ColumnMapping(kind, ordered)
    return Suggestion(mapping, fuzzy, unmapped_columns(mapping, columns))
