"""Custom fields (issue 14 item 3): typed fields sales ops define on leads,
accounts and opportunities, as pure rules.

A *definition* names a field of one record type: its key (camelCase, as the
API shows it), label, type and, for a choice, its choices. A record keeps its
values in one JSON object (``custom_fields``), key → stored value:

| type | given as | stored as |
|---|---|---|
| TEXT | a string (≤ 1,000 characters, trimmed; blank: no value) | the string |
| NUMBER | a decimal | its canonical decimal text ("12.5") — exact, never a float |
| MONEY | a decimal, at most 2 decimals | its text with 2 decimals ("1200.00") |
| DATE | an ISO date | "2027-01-31" (sorts as text) |
| BOOLEAN | true / false | a JSON boolean |
| CHOICE | one of the choices | the choice |

Decisions where the issue is silent: a value given as null removes it; a
definition is never deleted, it is archived (its values stay readable, no new
value is taken, filters still see them); choices may be added, never removed
(a stored value would lose its meaning); the key and type never change (an
integration writes by key; a changed type would strand stored values); at
most 100 definitions per record type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.enums import CustomFieldType, ErrorCode, RecordType
from domain.errors import Refusal

KEY_PATTERN = re.compile(r"^[a-z][A-Za-z0-9]{0,39}$")
MAX_TEXT = 1000
MAX_LABEL = 120
MAX_CHOICES = 100
MAX_CHOICE = 80
MAX_DEFINITIONS = 100
# The record types that take custom fields.
CUSTOMIZABLE = (RecordType.LEAD, RecordType.ACCOUNT, RecordType.OPPORTUNITY)


_YES_NO = {
    **dict.fromkeys(("true", "yes", "y", "1", "x"), True),
    **dict.fromkeys(("false", "no", "n", "0"), False),
}


@dataclass(frozen=True, slots=True)
class Definition:
    """A custom field of one record type."""

    record_type: RecordType
    key: str
    label: str
    type: CustomFieldType
    choices: tuple[str, ...] = ()
    archived: bool = False


def _invalid(path: tuple[str, ...], message: str) -> Refusal:
    return Refusal(ErrorCode.INVALID_INPUT, message, path)


def definition_refusals(
    definition: Definition, existing: Sequence[Definition]
) -> list[Refusal]:
    """Why a new definition cannot be made (each naming its input field)."""
    found: list[Refusal] = []
    if definition.record_type not in CUSTOMIZABLE:
        found.append(
            _invalid(
                ("recordType",),
                "Custom fields are defined on leads, accounts and opportunities.",
            )
        )
    if not KEY_PATTERN.match(definition.key):
        found.append(
            _invalid(
                ("key",),
                f"{definition.key!r} is not a key: a lower-case letter, then letters "
                "and digits (camelCase), at most 40.",
            )
        )
    elif any(d.key == definition.key for d in existing):
        found.append(
            Refusal(
                ErrorCode.DUPLICATE_RECORD,
                f"{definition.record_type.value} already has a custom field "
                f"{definition.key!r}.",
                ("key",),
            )
        )
    if len(existing) >= MAX_DEFINITIONS:
        found.append(
            _invalid(
                ("recordType",),
                f"{definition.record_type.value} has {MAX_DEFINITIONS} custom "
                "fields, the most it may have.",
            )
        )
    found += label_refusals(definition.label)
    found += choice_refusals(definition.type, definition.choices, ())
    return found


def label_refusals(label: str) -> list[Refusal]:
    """A label is 1 to 120 characters, not blank."""
    if not label.strip() or len(label) > MAX_LABEL:
        return [_invalid(("label",), f"A label is 1 to {MAX_LABEL} characters.")]
    return []


def choice_refusals(
    kind: CustomFieldType, choices: Sequence[str], before: Sequence[str]
) -> list[Refusal]:
    """A CHOICE field has 1 to 100 distinct, non-blank choices, keeping every
    choice it had; other types take none."""
    if kind is not CustomFieldType.CHOICE:
        if choices:
            return [_invalid(("choices",), f"A {kind.value} field takes no choices.")]
        return []
    found: list[Refusal] = []
    if not choices or len(choices) > MAX_CHOICES:
        found.append(
            _invalid(("choices",), f"A CHOICE field has 1 to {MAX_CHOICES} choices.")
        )
    for i, choice in enumerate(choices):
        if not choice.strip() or len(choice) > MAX_CHOICE:
            found.append(
                _invalid(
                    ("choices", str(i)), f"A choice is 1 to {MAX_CHOICE} characters."
                )
            )
        elif choice in choices[:i]:
            found.append(_invalid(("choices", str(i)), f"{choice!r} is given twice."))
    dropped = [c for c in before if c not in choices]
    if dropped:
        found.append(
            _invalid(
                ("choices",),
                "Choices are only added, never removed (stored values keep their "
                f"meaning): keep {', '.join(repr(c) for c in dropped)}.",
            )
        )
    return found


def stored_value(definition: Definition, given: Any) -> tuple[Any, str | None]:
    """(the value as stored, None) or (None, why it is not one); a stored None
    means "no value"."""
    if given is None:
        return None, None
    kind = definition.type
    if kind is CustomFieldType.TEXT:
        text = str(given).strip()
        if len(text) > MAX_TEXT:
            return None, f"A text is at most {MAX_TEXT} characters."
        return (text or None), None
    if kind is CustomFieldType.BOOLEAN:
        if isinstance(given, str):
            # A file's cell (an import): the usual spellings of yes and no.
            given = _YES_NO.get(given.strip().casefold(), given)
        if isinstance(given, bool):
            return given, None
        return None, "Give true or false."
    if kind is CustomFieldType.CHOICE:
        if given in definition.choices:
            return given, None
        return None, f"Choose one of {', '.join(definition.choices)}."
    if kind is CustomFieldType.DATE:
        try:
            return date.fromisoformat(str(given)).isoformat(), None
        except ValueError:
            return None, "Give a date as YYYY-MM-DD."
    try:
        number = Decimal(str(given))
    except InvalidOperation:
        return None, "Give a number."
    if not number.is_finite():
        return None, "Give a finite number."
    if kind is CustomFieldType.MONEY:
        if number.as_tuple().exponent < -2:  # type: ignore[operator]
            return None, "An amount has at most 2 decimals (cents)."
        return str(number.quantize(Decimal("0.01"))), None
    return _canonical(number), None


def _canonical(number: Decimal) -> str:
    """A decimal without trailing zeros or exponent ("12.5", "1200")."""
    text = format(number.normalize(), "f")
    return text


def typed(definition: Definition, stored: Any) -> Any:
    """A stored value as its type (Decimal, date, bool, str)."""
    if stored is None:
        return None
    kind = definition.type
    if kind in (CustomFieldType.NUMBER, CustomFieldType.MONEY):
        return Decimal(str(stored))
    if kind is CustomFieldType.DATE:
        return date.fromisoformat(stored)
    return stored


@dataclass(frozen=True, slots=True)
class GivenValue:
    """A value given for a custom field: its key, the type it was given as
    (None: a removal), the value."""

    key: str
    type: CustomFieldType | None
    value: Any


def merged_values(
    current: Mapping[str, Any] | None,
    given: Sequence[GivenValue],
    definitions: Mapping[str, Definition],
) -> tuple[dict[str, Any], list[Refusal]]:
    """The record's values once ``given`` are applied in order, and every
    reason one is refused (each naming its position: ``customFields.2.value``)."""
    values = dict(current or {})
    found: list[Refusal] = []
    seen: set[str] = set()
    for i, entry in enumerate(given):
        key, raw = entry.key, entry.value
        path = ("customFields", str(i))
        definition = definitions.get(key)
        if definition is None:
            found.append(_invalid((*path, "key"), f"No custom field {key!r} here."))
            continue
        if key in seen:
            found.append(_invalid((*path, "key"), f"{key!r} is given twice."))
            continue
        seen.add(key)
        if definition.archived and raw is not None:
            found.append(
                _invalid(
                    (*path, "key"),
                    f"{definition.label} ({key}) is archived: it takes no new value.",
                )
            )
            continue
        if entry.type is not None and entry.type is not definition.type:
            found.append(
                _invalid(
                    (*path, "value"),
                    f"{definition.label} ({key}) is a {definition.type.value} field, "
                    f"not {entry.type.value}.",
                )
            )
            continue
        value, why = stored_value(definition, raw)
        if why is not None:
            found.append(_invalid((*path, "value"), f"{definition.label}: {why}"))
        elif value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values, found
