"""Stage entry requirements as data: the seeded table is the handbook's, an
edited one changes what the machine refuses, and invalid tables are refused
naming the entry."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType

from domain.enums import ErrorCode
from domain.lifecycle.opportunity import (
    OPPORTUNITY_MACHINE,
    StageMoveRequest,
)
from domain.rules.stage_requirements import (
    HANDBOOK_REQUIREMENTS,
    Check,
    Condition,
    Requirement,
    StageRequirements,
    Term,
    TermTest,
    from_document,
    to_document,
    validate,
)
from tests.domain.test_opportunity_machine import Stage, make_facts


def with_stage(
    table: StageRequirements, stage: Stage, *requirements: Requirement
) -> StageRequirements:
    """``table`` with ``stage``'s requirements replaced."""
    return replace(
        table, stages=MappingProxyType({**table.stages, stage: tuple(requirements)})
    )


def refusals(facts, to: Stage) -> list[tuple[ErrorCode, tuple[str, ...], str]]:  # type: ignore[no-untyped-def]
    return [
        (r.code, r.field, r.message)
        for r in OPPORTUNITY_MACHINE.check(
            facts.stage, to, facts, StageMoveRequest(to=to)
        )
    ]


def test_the_seeded_table_is_valid_and_survives_storage() -> None:
    assert validate(HANDBOOK_REQUIREMENTS) == []
    stored = from_document(to_document(HANDBOOK_REQUIREMENTS), version=1)
    assert stored == HANDBOOK_REQUIREMENTS


def test_an_added_requirement_is_obeyed_by_the_machine_with_its_message() -> None:
    edition = Requirement(
        "edition",
        Check.RECORDED,
        "Record the edition before the proposal.",
        when=Term("incrementalAcv", TermTest.AT_LEAST, ("10000",)),
    )
    table = with_stage(
        HANDBOOK_REQUIREMENTS,
        Stage.PROPOSAL,
        *HANDBOOK_REQUIREMENTS.of(Stage.PROPOSAL),
        edition,
    )
    small = make_facts(
        stage=Stage.TECHNICAL_EVALUATION, edition=None, stage_requirements=table
    )
    assert refusals(small, Stage.PROPOSAL) == [
        (
            ErrorCode.MISSING_FIELD,
            ("edition",),
            "Record the edition before the proposal. (stage requirements v1)",
        )
    ]
    # the seeded table does not ask it; the condition limits it to IACV >= 10,000
    assert (
        refusals(
            replace(small, stage_requirements=HANDBOOK_REQUIREMENTS), Stage.PROPOSAL
        )
        == []
    )
    assert (
        refusals(replace(small, incremental_acv=Decimal("9999")), Stage.PROPOSAL) == []
    )
    # passed over on the way to CLOSED_WON, it applies too
    assert ("edition",) in [f for _, f, _ in refusals(small, Stage.CLOSED_WON)]


def test_a_removed_requirement_no_longer_refuses() -> None:
    facts = make_facts(
        stage=Stage.TECHNICAL_EVALUATION, technical_requirements_confirmed=False
    )
    assert [f for _, f, _ in refusals(facts, Stage.PROPOSAL)] == [
        ("technicalRequirementsConfirmed",)
    ]
    lenient = with_stage(HANDBOOK_REQUIREMENTS, Stage.PROPOSAL)
    assert refusals(replace(facts, stage_requirements=lenient), Stage.PROPOSAL) == []


def test_named_conditions_may_name_each_other() -> None:
    table = replace(
        with_stage(
            HANDBOOK_REQUIREMENTS,
            Stage.SCOPING,
            Requirement(
                "businessProblem",
                Check.RECORDED,
                "Big or renewal deals need the business problem: {value}.",
                when=Term(condition="watched"),
            ),
        ),
        conditions=MappingProxyType(
            {
                "watched": Condition(
                    "watched",
                    (
                        Term(condition="big"),
                        Term("type", TermTest.ANY_OF, ("RENEWAL",)),
                    ),
                ),
                "big": Condition("big", (Term("largeDeal"),)),
            }
        ),
    )
    assert validate(table) == []
    facts = make_facts(
        stage=Stage.DISCOVERY, business_problem=" ", stage_requirements=table
    )
    assert refusals(facts, Stage.SCOPING) == [
        (
            ErrorCode.MISSING_FIELD,
            ("businessProblem",),
            "Big or renewal deals need the business problem:  . (stage requirements v1)",
        )
    ]


def test_invalid_tables_are_refused_naming_the_entry() -> None:
    bad = replace(
        with_stage(
            with_stage(
                HANDBOOK_REQUIREMENTS,
                Stage.PROPOSAL,
                Requirement("shoeSize", Check.RECORDED, "Record it."),
                Requirement("pocNotes", Check.TRUE, "Yes?"),
                Requirement(
                    "restrictedPartyScreening", Check.EQUALS, "x", value="MAYBE"
                ),
                Requirement(
                    "pocNotes", Check.RECORDED, "{owner} must", when=Term(condition="a")
                ),
                Requirement("pocNotes", Check.RECORDED, " "),
            ),
            Stage.PRE_OPPORTUNITY,
            Requirement("pocNotes", Check.RECORDED, "Never checked."),
        ),
        conditions=MappingProxyType(
            {
                "a": Condition("a", (Term(condition="b"),)),
                "b": Condition(
                    "b",
                    (Term(condition="a"), Term("edition", TermTest.AT_LEAST, ("1",))),
                ),
            }
        ),
    )
    found = {(r.field, r.code) for r in validate(bad)}
    assert found == {
        (("conditions", "b", "anyOf", "1", "test"), ErrorCode.INVALID_INPUT),
        (("conditions", "a"), ErrorCode.INVALID_INPUT),  # the cycle a -> b -> a
        (("stages", "PROPOSAL", "0", "field"), ErrorCode.INVALID_INPUT),
        (("stages", "PROPOSAL", "1", "check"), ErrorCode.INVALID_INPUT),
        (("stages", "PROPOSAL", "2", "value"), ErrorCode.INVALID_INPUT),
        (("stages", "PROPOSAL", "3", "message"), ErrorCode.INVALID_INPUT),
        (("stages", "PROPOSAL", "4", "message"), ErrorCode.INVALID_INPUT),
        (("stages", "PRE_OPPORTUNITY"), ErrorCode.INVALID_INPUT),
    }
    cycle = [r.message for r in validate(bad) if r.field == ("conditions", "a")]
    assert cycle == ["Conditions name each other in a cycle: a -> b -> a."]


def test_every_catalogue_field_reads_a_fact_of_the_right_kind() -> None:
    from domain.lifecycle.opportunity import requirement_value
    from domain.rules.stage_requirements import FIELDS, FieldKind

    facts = make_facts(edition="premium", closed_lost_reasons=())
    expected = {
        FieldKind.BOOLEAN: bool,
        FieldKind.TEXT: str,
        FieldKind.MONEY: Decimal,
        FieldKind.CHOICES: tuple,
    }
    for name, field in FIELDS.items():
        value = requirement_value(facts, name)
        if field.kind in expected and value is not None:
            assert isinstance(value, expected[field.kind]), name
        if field.kind is FieldKind.CHOICE and value is not None:
            assert str(getattr(value, "value", value)) in field.choices, name
