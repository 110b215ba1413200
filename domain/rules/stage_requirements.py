"""Stage entry requirements as data (D3 rule 5; issue "rules a sales-ops team
edits itself", item 1).

A *stage requirements table* says, per stage, which opportunity fields must be
recorded (or hold a value) to enter it, under which condition, and the message
a refusal gives. The handbook's requirements are the seeded version
(``HANDBOOK_REQUIREMENTS``); sales ops edit further versions. The opportunity
machine's entry guards evaluate the table in force for every stage entered or
passed over, so ``availableTransitions``, ``moveOpportunityStage``, imports and
dry runs obey one version.

The vocabulary is small and closed:

- a **field** comes from ``FIELDS``, the catalogue of opportunity facts a
  requirement may name (its GraphQL name, its kind);
- a **check** says what the field must hold: ``RECORDED`` (not empty; a
  refusal is MISSING_FIELD), ``TRUE`` (a yes/no field answered yes) or
  ``EQUALS`` a value of a choice field (both REQUIREMENT_NOT_MET);
- a **condition** limits a requirement to some deals: a test of a field
  (``TRUE``, ``AT_LEAST`` a number, ``ANY_OF`` choices, ``CONTAINS`` a choice
  of a list field) or a named condition of the table, which is *any of* its
  terms and may name other conditions (never in a cycle).

Messages may say ``{value}`` (the field's current value) and
``{largeDealIacv}`` (the large-deal threshold setting).

Decisions where the issue is silent: ``PRE_OPPORTUNITY`` takes no
requirements, since no move enters it (an opportunity starts there; only an
override of a final stage returns there); a stage missing from the table
requires nothing. Pipelines (item 2): the table's stages apply in every
pipeline that has them, unless the table gives a pipeline its own
requirements for a stage (``pipelines``), which then replace them there —
e.g. a renewal's PROPOSAL asking for nothing technical.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from domain.enums import (
    ClosedLostReason,
    CustomFieldType,
    ErrorCode,
    OpportunityStage,
    OpportunityType,
    Pipeline,
    RecordType,
    ReferenceableCustomer,
    RestrictedPartyScreening,
    SalesSegment,
)
from domain.errors import Refusal
from domain.rules.custom_fields import Definition
from domain.rules.pipelines import PIPELINES

Stage = OpportunityStage


class FieldKind(StrEnum):
    """What a catalogue field holds."""

    TEXT = "TEXT"
    BOOLEAN = "BOOLEAN"
    RECORD = "RECORD"  # a related record (its id)
    MONEY = "MONEY"
    CHOICE = "CHOICE"
    CHOICES = "CHOICES"  # a list of choices


class Check(StrEnum):
    """What a requirement asks of its field."""

    RECORDED = "RECORDED"
    TRUE = "TRUE"
    EQUALS = "EQUALS"


class TermTest(StrEnum):
    """How a condition term tests its field."""

    TRUE = "TRUE"
    AT_LEAST = "AT_LEAST"
    ANY_OF = "ANY_OF"
    CONTAINS = "CONTAINS"


@dataclass(frozen=True, slots=True)
class CatalogueField:
    """A fact of an opportunity that requirements and conditions may name."""

    name: str  # as in GraphQL (and in refusals' ``field``)
    kind: FieldKind
    description: str
    choices: tuple[str, ...] = ()
    # The input field a refusal points at, when it is not ``name``.
    refusal_field: str | None = None


# A custom field of opportunities (issue 14 item 3) is named ``custom.<key>``.
CUSTOM_PREFIX = "custom."
_CUSTOM_KINDS = {
    CustomFieldType.TEXT: FieldKind.TEXT,
    CustomFieldType.DATE: FieldKind.TEXT,
    CustomFieldType.NUMBER: FieldKind.MONEY,
    CustomFieldType.MONEY: FieldKind.MONEY,
    CustomFieldType.BOOLEAN: FieldKind.BOOLEAN,
    CustomFieldType.CHOICE: FieldKind.CHOICE,
}


def catalogue(custom: Iterable[Definition] = ()) -> Mapping[str, CatalogueField]:
    """The fields requirements may name: ``FIELDS`` and the opportunities'
    custom fields (``custom.<key>``; a NUMBER or MONEY one compares like an
    amount, a DATE one is recorded or not)."""
    found = dict(FIELDS)
    for d in custom:
        if d.record_type is RecordType.OPPORTUNITY:
            name = CUSTOM_PREFIX + d.key
            found[name] = CatalogueField(
                name,
                _CUSTOM_KINDS[d.type],
                f"Custom field: {d.label}.",
                d.choices,
                refusal_field=None,
            )
    return MappingProxyType(found)


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


FIELDS: Mapping[str, CatalogueField] = MappingProxyType(
    {
        f.name: f
        for f in (
            CatalogueField(
                "contact",
                FieldKind.RECORD,
                "A contact: the primary contact or any contact role.",
                refusal_field="primaryContactId",
            ),
            CatalogueField("primaryContactId", FieldKind.RECORD, "Primary contact."),
            CatalogueField("businessProblem", FieldKind.TEXT, "Business problem."),
            CatalogueField(
                "technicalRequirementsConfirmed",
                FieldKind.BOOLEAN,
                "Technical requirements confirmed.",
            ),
            CatalogueField("pocRan", FieldKind.BOOLEAN, "A POC ran."),
            CatalogueField("pocNotes", FieldKind.TEXT, "POC notes."),
            CatalogueField(
                "pocSuccessCriteria", FieldKind.TEXT, "POC success criteria."
            ),
            CatalogueField("billToContactId", FieldKind.RECORD, "Bill-to contact."),
            CatalogueField("soldToContactId", FieldKind.RECORD, "Sold-to contact."),
            CatalogueField(
                "poWillBeIssued", FieldKind.BOOLEAN, "Whether a PO will be issued."
            ),
            CatalogueField(
                "purchasingPlan", FieldKind.TEXT, "Purchasing (close) plan."
            ),
            CatalogueField(
                "businessTermsAgreed", FieldKind.BOOLEAN, "Business terms agreed."
            ),
            CatalogueField(
                "referenceableCustomer",
                FieldKind.CHOICE,
                "Referenceable-customer answer.",
                _choices(ReferenceableCustomer),
            ),
            CatalogueField(
                "signedOrderFormReceived",
                FieldKind.BOOLEAN,
                "Signed order form received.",
            ),
            CatalogueField("poReceived", FieldKind.BOOLEAN, "PO received."),
            CatalogueField(
                "restrictedPartyScreening",
                FieldKind.CHOICE,
                "Restricted-party screening result.",
                _choices(RestrictedPartyScreening),
            ),
            CatalogueField("financeApproved", FieldKind.BOOLEAN, "Finance approval."),
            CatalogueField("closedWonDetails", FieldKind.TEXT, "Closed-won details."),
            CatalogueField(
                "closedLostReasons",
                FieldKind.CHOICES,
                "Closed-lost reasons.",
                _choices(ClosedLostReason),
            ),
            CatalogueField("closedLostDetail", FieldKind.TEXT, "Closed-lost detail."),
            CatalogueField(
                "mergedIntoId", FieldKind.RECORD, "The merged-into opportunity."
            ),
            CatalogueField(
                "duplicateOfId", FieldKind.RECORD, "The duplicate-of opportunity."
            ),
            CatalogueField("edition", FieldKind.TEXT, "Edition."),
            CatalogueField("incrementalAcv", FieldKind.MONEY, "IACV (USD)."),
            CatalogueField(
                "type", FieldKind.CHOICE, "Opportunity type.", _choices(OpportunityType)
            ),
            CatalogueField(
                "accountSegment",
                FieldKind.CHOICE,
                "The account's sales segment.",
                _choices(SalesSegment),
            ),
            CatalogueField(
                "accountIsNamed", FieldKind.BOOLEAN, "The account is a named account."
            ),
            CatalogueField(
                "largeDeal",
                FieldKind.BOOLEAN,
                "A large deal: named or LARGE/STRATEGIC account, or IACV at or over "
                "the large-deal threshold setting.",
            ),
        )
    }
)

# The stages a requirement may name: every stage a move enters.
REQUIRABLE_STAGES = tuple(s for s in Stage if s is not Stage.PRE_OPPORTUNITY)
PLACEHOLDERS = frozenset({"value", "largeDealIacv"})


@dataclass(frozen=True, slots=True)
class Term:
    """One test of a condition: ``field`` tested by ``test`` (with ``values``),
    or the named ``condition`` of the table."""

    field: str | None = None
    test: TermTest = TermTest.TRUE
    values: tuple[str, ...] = ()
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A named condition: true when any of its terms is."""

    name: str
    any_of: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Requirement:
    """``field`` must pass ``check`` (``value`` for EQUALS) when ``when`` holds."""

    field: str
    check: Check
    message: str
    value: str | None = None
    when: Term | None = None


@dataclass(frozen=True, slots=True)
class StageRequirements:
    """A version of the table: per stage its requirements, in refusal order,
    the named conditions they use, and per pipeline the stages it requires
    otherwise (issue 14 item 2: a pipeline's own requirements for a stage
    replace the general ones there)."""

    stages: Mapping[Stage, tuple[Requirement, ...]]
    conditions: Mapping[str, Condition] = field(
        default_factory=lambda: MappingProxyType({})
    )
    version: int = 1
    pipelines: Mapping[Pipeline, Mapping[Stage, tuple[Requirement, ...]]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def of(
        self, stage: Stage, pipeline: Pipeline = Pipeline.NEW_BUSINESS
    ) -> tuple[Requirement, ...]:
        """The requirements of entering ``stage`` in ``pipeline``: the
        pipeline's own for that stage if the table gives them, else the
        stage's."""
        own = self.pipelines.get(pipeline, {})
        if stage in own:
            return own[stage]
        return self.stages.get(stage, ())

    def refusals(
        self,
        stage: Stage,
        value_of: Callable[[str], Any],
        large_deal_iacv: Decimal,
        pipeline: Pipeline = Pipeline.NEW_BUSINESS,
    ) -> list[Refusal]:
        """Every requirement of entering ``stage`` in ``pipeline`` that the
        facts (read by ``value_of(field name)``) fail, in the table's order;
        each message ends naming the table's version."""
        refusals = []
        for requirement in self.of(stage, pipeline):
            if requirement.when is not None and not self._holds(
                requirement.when, value_of
            ):
                continue
            value = value_of(requirement.field)
            if _passes(requirement, value):
                continue
            known = FIELDS.get(requirement.field)
            where = (
                ((known.refusal_field or known.name),)
                if known is not None
                else ("customFields", requirement.field.removeprefix(CUSTOM_PREFIX))
            )
            refusals.append(
                Refusal(
                    ErrorCode.MISSING_FIELD
                    if requirement.check is Check.RECORDED
                    else ErrorCode.REQUIREMENT_NOT_MET,
                    requirement.message.format(
                        value=_shown(value), largeDealIacv=large_deal_iacv
                    )
                    + f" (stage requirements v{self.version})",
                    where,
                )
            )
        return refusals

    def _holds(self, term: Term, value_of: Callable[[str], Any]) -> bool:
        if term.condition is not None:
            return any(
                self._holds(t, value_of) for t in self.conditions[term.condition].any_of
            )
        assert term.field is not None
        value = value_of(term.field)
        if term.test is TermTest.TRUE:
            return bool(value)
        if term.test is TermTest.AT_LEAST:
            return value is not None and Decimal(value) >= Decimal(term.values[0])
        if term.test is TermTest.ANY_OF:
            return _shown(value) in term.values
        return any(_shown(v) in term.values for v in value or ())  # CONTAINS


def _shown(value: Any) -> str:
    """A value as a message and a choice compare it."""
    if isinstance(value, StrEnum):
        return value.value
    return "" if value is None else str(value)


def _passes(requirement: Requirement, value: Any) -> bool:
    if requirement.check is Check.RECORDED:
        if isinstance(value, str):
            return bool(value.strip())
        if isinstance(value, tuple | list | frozenset | set):
            return bool(value)
        return value is not None
    if requirement.check is Check.TRUE:
        return value is True
    return _shown(value) == requirement.value  # EQUALS


# ---- the handbook's version (D3 rule 5, and rules 2 and 3) ---------------------

_LARGE = Term("largeDeal")

HANDBOOK_REQUIREMENTS = StageRequirements(
    stages=MappingProxyType(
        {
            Stage.PENDING_ACCEPTANCE: (
                Requirement("contact", Check.RECORDED, "Record a contact."),
                Requirement(
                    "businessProblem", Check.RECORDED, "Record the business problem."
                ),
            ),
            Stage.DISCOVERY: (
                Requirement(
                    "primaryContactId",
                    Check.RECORDED,
                    "Sales acceptance needs the right person: record the primary "
                    "contact.",
                ),
                Requirement(
                    "businessProblem",
                    Check.RECORDED,
                    "Sales acceptance needs the business problem to be recorded.",
                ),
            ),
            Stage.PROPOSAL: (
                Requirement(
                    "technicalRequirementsConfirmed",
                    Check.TRUE,
                    "Confirm the technical requirements before the proposal.",
                ),
                Requirement(
                    "pocNotes",
                    Check.RECORDED,
                    "A POC ran: record its notes.",
                    when=Term("pocRan"),
                ),
                Requirement(
                    "pocSuccessCriteria",
                    Check.RECORDED,
                    "A POC ran: record its success criteria.",
                    when=Term("pocRan"),
                ),
            ),
            Stage.NEGOTIATING: (
                Requirement(
                    "billToContactId", Check.RECORDED, "Record the bill-to contact."
                ),
                Requirement(
                    "soldToContactId", Check.RECORDED, "Record the sold-to contact."
                ),
                Requirement(
                    "poWillBeIssued",
                    Check.RECORDED,
                    "Record whether a PO will be issued.",
                ),
                Requirement(
                    "purchasingPlan",
                    Check.RECORDED,
                    "Record the purchasing (close) plan.",
                ),
            ),
            Stage.AWAITING_SIGNATURE: (
                Requirement(
                    "businessTermsAgreed",
                    Check.TRUE,
                    "The business terms are not agreed yet.",
                ),
                Requirement(
                    "referenceableCustomer",
                    Check.RECORDED,
                    "Record whether the customer is referenceable (yes, no, later).",
                ),
            ),
            Stage.CLOSED_WON: (
                Requirement(
                    "signedOrderFormReceived",
                    Check.TRUE,
                    "The signed order form is missing.",
                ),
                Requirement(
                    "poReceived",
                    Check.TRUE,
                    "A PO will be issued and has not been received.",
                    when=Term("poWillBeIssued"),
                ),
                Requirement(
                    "restrictedPartyScreening",
                    Check.EQUALS,
                    "Restricted-party screening is {value}, not CLEARED.",
                    value=RestrictedPartyScreening.CLEARED.value,
                ),
                Requirement("financeApproved", Check.TRUE, "Finance has not approved."),
                Requirement(
                    "closedWonDetails",
                    Check.RECORDED,
                    "Named or Large accounts and deals of IACV {largeDealIacv} USD "
                    "or more need closed-won details.",
                    when=_LARGE,
                ),
            ),
            Stage.CLOSED_LOST: (
                Requirement(
                    "closedLostReasons",
                    Check.RECORDED,
                    "Give at least one closed-lost reason.",
                ),
                Requirement(
                    "closedLostDetail",
                    Check.RECORDED,
                    "Describe why the opportunity was lost.",
                ),
                Requirement(
                    "mergedIntoId",
                    Check.RECORDED,
                    "Merged into another opportunity: name that opportunity.",
                    when=Term(
                        "closedLostReasons",
                        TermTest.CONTAINS,
                        (ClosedLostReason.MERGED_INTO_ANOTHER_OPPORTUNITY.value,),
                    ),
                ),
            ),
            Stage.DUPLICATE: (
                Requirement(
                    "duplicateOfId",
                    Check.RECORDED,
                    "Name the opportunity this one duplicates.",
                ),
            ),
        }
    )
)


# ---- validation of an edited table ------------------------------------------------


def _invalid(path: Iterable[str], message: str) -> Refusal:
    return Refusal(ErrorCode.INVALID_INPUT, message, tuple(path))


def _term_refusals(
    term: Term,
    path: tuple[str, ...],
    conditions: Mapping[str, Condition],
    fields: Mapping[str, CatalogueField],
) -> list[Refusal]:
    if term.condition is not None:
        if term.field is not None:
            return [_invalid(path, "A term names a field or a condition, not both.")]
        if term.condition not in conditions:
            return [
                _invalid(
                    (*path, "condition"), f"No condition is named {term.condition!r}."
                )
            ]
        return []
    kind = fields.get(term.field or "")
    if kind is None:
        return [_invalid((*path, "field"), f"{term.field!r} is no catalogue field.")]
    if term.test is TermTest.TRUE:
        return []
    if term.test is TermTest.AT_LEAST:
        if kind.kind is not FieldKind.MONEY or len(term.values) != 1:
            return [
                _invalid(
                    (*path, "test"),
                    f"AT_LEAST compares an amount field with one number; "
                    f"{term.field} is {kind.kind.value}.",
                )
            ]
        try:
            Decimal(term.values[0])
        except InvalidOperation:
            return [_invalid((*path, "values"), f"{term.values[0]!r} is no number.")]
        return []
    wanted = FieldKind.CHOICE if term.test is TermTest.ANY_OF else FieldKind.CHOICES
    if kind.kind is not wanted:
        return [
            _invalid(
                (*path, "test"),
                f"{term.test.value} needs a {wanted.value} field; {term.field} is "
                f"{kind.kind.value}.",
            )
        ]
    unknown = [v for v in term.values if v not in kind.choices]
    if unknown or not term.values:
        return [
            _invalid(
                (*path, "values"),
                f"{term.field} takes {', '.join(kind.choices)}"
                + (
                    f"; not {', '.join(unknown)}."
                    if unknown
                    else "; give at least one."
                ),
            )
        ]
    return []


def _cycle(conditions: Mapping[str, Condition]) -> list[str] | None:
    """A cycle of conditions naming each other (its names in order), if any."""
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(name: str, path: list[str]) -> list[str] | None:
        if state.get(name) == 1:
            return [*path[path.index(name) :], name]
        if state.get(name) == 2 or name not in conditions:
            return None
        state[name] = 1
        for term in conditions[name].any_of:
            if term.condition is not None:
                found = visit(term.condition, [*path, name])
                if found:
                    return found
        state[name] = 2
        return None

    for name in conditions:
        found = visit(name, [])
        if found:
            return found
    return None


def validate(
    table: StageRequirements, fields: Mapping[str, CatalogueField] = FIELDS
) -> list[Refusal]:
    """Every reason ``table`` cannot be in force, each naming its entry;
    ``fields``: what requirements may name (``catalogue``)."""
    refusals: list[Refusal] = []
    for name, condition in table.conditions.items():
        path = ("conditions", name)
        if not condition.any_of:
            refusals.append(_invalid(path, f"Condition {name!r} has no term."))
        for i, term in enumerate(condition.any_of):
            refusals += _term_refusals(
                term, (*path, "anyOf", str(i)), table.conditions, fields
            )
    cycle = _cycle(table.conditions)
    if cycle:
        refusals.append(
            _invalid(
                ("conditions", cycle[0]),
                "Conditions name each other in a cycle: " + " -> ".join(cycle) + ".",
            )
        )
    refusals += _stages_refusals(table.stages, ("stages",), table.conditions, fields)
    for pipeline, stages in table.pipelines.items():
        path = ("pipelines", pipeline.value)
        definition = PIPELINES[pipeline]
        for stage in stages:
            if stage not in definition.stages:
                refusals.append(
                    _invalid(
                        (*path, stage.value),
                        f"{stage.value} is not a stage of the {definition.label} "
                        "pipeline: a requirement there would never be asked.",
                    )
                )
        refusals += _stages_refusals(
            {s: r for s, r in stages.items() if s in definition.stages},
            path,
            table.conditions,
            fields,
        )
    return refusals


def _stages_refusals(
    stages: Mapping[Stage, tuple[Requirement, ...]],
    prefix: tuple[str, ...],
    conditions: Mapping[str, Condition],
    fields: Mapping[str, CatalogueField],
) -> list[Refusal]:
    """Every invalid requirement of these stages, each named under ``prefix``."""
    refusals: list[Refusal] = []
    for stage, requirements in stages.items():
        path = (*prefix, stage.value)
        if stage not in REQUIRABLE_STAGES and requirements:
            refusals.append(
                _invalid(
                    path,
                    f"No move enters {stage.value} (an opportunity starts there): "
                    "it takes no requirements.",
                )
            )
            continue
        for i, requirement in enumerate(requirements):
            refusals += _requirement_refusals(
                requirement, (*path, str(i)), conditions, fields
            )
    return refusals


def _requirement_refusals(
    requirement: Requirement,
    path: tuple[str, ...],
    conditions: Mapping[str, Condition],
    fields: Mapping[str, CatalogueField],
) -> list[Refusal]:
    refusals: list[Refusal] = []
    kind = fields.get(requirement.field)
    if kind is None:
        refusals.append(
            _invalid((*path, "field"), f"{requirement.field!r} is no catalogue field.")
        )
    elif requirement.check is Check.TRUE and kind.kind is not FieldKind.BOOLEAN:
        refusals.append(
            _invalid(
                (*path, "check"),
                f"TRUE needs a yes/no field; {requirement.field} is {kind.kind.value}.",
            )
        )
    elif requirement.check is Check.EQUALS and (
        kind.kind is not FieldKind.CHOICE or requirement.value not in kind.choices
    ):
        refusals.append(
            _invalid(
                (*path, "value"),
                f"EQUALS needs one of {requirement.field}'s choices"
                + (
                    f" ({', '.join(kind.choices)})."
                    if kind.choices
                    else "; it has none."
                ),
            )
        )
    if not requirement.message.strip():
        refusals.append(_invalid((*path, "message"), "Give the refusal's message."))
    else:
        used = {
            name
            for _, name, _, _ in string.Formatter().parse(requirement.message)
            if name is not None
        }
        if used - PLACEHOLDERS:
            refusals.append(
                _invalid(
                    (*path, "message"),
                    "A message may only say "
                    + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
                    + f"; not {', '.join(sorted(used - PLACEHOLDERS))}.",
                )
            )
    if requirement.when is not None:
        refusals += _term_refusals(
            requirement.when, (*path, "when"), conditions, fields
        )
    return refusals


# ---- stored form ------------------------------------------------------------------


def _term_document(term: Term) -> dict[str, Any]:
    if term.condition is not None:
        return {"condition": term.condition}
    return {"field": term.field, "test": term.test.value, "values": list(term.values)}


def to_document(table: StageRequirements) -> dict[str, Any]:
    """The table as JSON-ready data (as a version row stores it)."""
    return {
        "conditions": [
            {"name": c.name, "anyOf": [_term_document(t) for t in c.any_of]}
            for c in table.conditions.values()
        ],
        "stages": _stages_document(table.stages),
        **(
            {
                "pipelines": [
                    {"pipeline": pipeline.value, "stages": _stages_document(stages)}
                    for pipeline, stages in table.pipelines.items()
                ]
            }
            if table.pipelines
            else {}
        ),
    }


def _stages_document(
    stages: Mapping[Stage, tuple[Requirement, ...]],
) -> list[dict[str, Any]]:
    return [
        {
            "stage": stage.value,
            "requirements": [
                {
                    "field": r.field,
                    "check": r.check.value,
                    "value": r.value,
                    "message": r.message,
                    "when": _term_document(r.when) if r.when else None,
                }
                for r in requirements
            ],
        }
        for stage, requirements in stages.items()
    ]


def _term_of(data: Mapping[str, Any]) -> Term:
    if data.get("condition") is not None:
        return Term(condition=data["condition"])
    return Term(
        field=data.get("field"),
        test=TermTest(data.get("test") or TermTest.TRUE),
        values=tuple(data.get("values") or ()),
    )


def _stages_of(
    stages: Iterable[Mapping[str, Any]],
) -> Mapping[Stage, tuple[Requirement, ...]]:
    return MappingProxyType(
        {
            Stage(s["stage"]): tuple(
                Requirement(
                    field=r["field"],
                    check=Check(r["check"]),
                    message=r["message"],
                    value=r.get("value"),
                    when=_term_of(r["when"]) if r.get("when") else None,
                )
                for r in s["requirements"]
            )
            for s in stages
        }
    )


def from_document(data: Mapping[str, Any], version: int) -> StageRequirements:
    """A stored table back (``to_document``'s inverse)."""
    return StageRequirements(
        stages=_stages_of(data.get("stages", ())),
        pipelines=MappingProxyType(
            {
                Pipeline(p["pipeline"]): _stages_of(p.get("stages", ()))
                for p in data.get("pipelines", ())
            }
        ),
        conditions=MappingProxyType(
            {
                c["name"]: Condition(
                    c["name"], tuple(_term_of(t) for t in c.get("anyOf", ()))
                )
                for c in data.get("conditions", ())
            }
        ),
        version=version,
    )
