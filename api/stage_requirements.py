"""Stage entry requirements on the API (D3 rule 5 as data): `stageRequirements`,
its history, the field catalogue, and updateStageRequirements.

An edit gives the whole table as it should be (every stage's requirements and
the named conditions): what is left out requires nothing. It applies to the
next move; refusals of a requirement name the version that made them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Annotated

import strawberry

from api.context import Info
from api.enums import OpportunityStageGQL, PipelineGQL, register_enum
from api.errors import UserError
from api.inputs import given_twice, mutate
from api.relay import to_one
from api.scoring import MAX_HISTORY, table_history, table_version
from api.users import UserNode
from domain.enums import OpportunityStage, RecordType
from domain.errors import Refusal, refuse_if
from domain.rules import stage_requirements as rules
from domain.rules.permissions import RULE_TABLE_EDITORS, role_list
from domain.services import stage_requirements as service
from domain.services.custom_fields import definition_of, definition_rows

RequirementCheckGQL = register_enum(
    rules.Check,
    "RequirementCheck",
    "What a stage requirement asks of its field.",
    {
        "RECORDED": "Recorded: not empty (a refusal is MISSING_FIELD).",
        "TRUE": "A yes/no field answered yes (REQUIREMENT_NOT_MET).",
        "EQUALS": "A choice field holds `value` (REQUIREMENT_NOT_MET).",
    },
)
ConditionTestGQL = register_enum(
    rules.TermTest,
    "ConditionTest",
    "How a condition term tests its field.",
    {
        "TRUE": "The field is set / yes.",
        "AT_LEAST": "An amount field is at least `values[0]`.",
        "ANY_OF": "A choice field holds one of `values`.",
        "CONTAINS": "A list field holds one of `values`.",
    },
)
FieldKindGQL = register_enum(
    rules.FieldKind,
    "RequirementFieldKind",
    "What a catalogue field holds.",
    {"RECORD": "A related record.", "CHOICES": "A list of choices."},
)


@strawberry.type(description="A field requirements and conditions may name.")
class RequirementField:
    """A catalogue entry."""

    name: str = strawberry.field(description="Its name (as in GraphQL).")
    kind: FieldKindGQL = strawberry.field(description="What it holds.")  # type: ignore[valid-type]
    description: str = strawberry.field(description="What it is.")
    choices: list[str] = strawberry.field(description="Its choices (choice fields).")


@strawberry.type(
    description="One test of a condition: a field tested, or a named condition."
)
class ConditionTerm:
    """A condition term."""

    field: str | None = strawberry.field(description="The field tested.")
    test: ConditionTestGQL = strawberry.field(description="How.")  # type: ignore[valid-type]
    values: list[str] = strawberry.field(description="What it is tested against.")
    condition: str | None = strawberry.field(
        description="A named condition of the table (instead of a field)."
    )

    @classmethod
    def of(cls, term: rules.Term) -> ConditionTerm:
        """Domain term -> GraphQL object."""
        return cls(
            field=term.field,
            test=term.test,
            values=list(term.values),
            condition=term.condition,
        )


@strawberry.type(description="A named condition: true when any of its terms is.")
class NamedCondition:
    """A named condition."""

    name: str = strawberry.field(description="Its name.")
    any_of: list[ConditionTerm] = strawberry.field(description="Its terms.")


@strawberry.type(description="One requirement of entering a stage.")
class StageRequirement:
    """A requirement."""

    field: str = strawberry.field(description="The catalogue field.")
    check: RequirementCheckGQL = strawberry.field(description="What it must hold.")  # type: ignore[valid-type]
    value: str | None = strawberry.field(description="The value EQUALS asks.")
    when: ConditionTerm | None = strawberry.field(
        description="Only when this holds (null: always)."
    )
    message: str = strawberry.field(
        description="The refusal's message ({value}: the field's value, "
        "{largeDealIacv}: the large-deal threshold)."
    )


@strawberry.type(description="The requirements of entering one stage.")
class StageRequirementsOfStage:
    """A stage's requirements."""

    stage: OpportunityStageGQL = strawberry.field(description="The stage.")  # type: ignore[valid-type]
    requirements: list[StageRequirement] = strawberry.field(
        description="In the order refusals list them."
    )


@strawberry.type(description="A pipeline's own requirements for some of its stages.")
class PipelineStageRequirements:
    """A pipeline's own requirements."""

    pipeline: PipelineGQL = strawberry.field(description="The pipeline.")  # type: ignore[valid-type]
    stages: list[StageRequirementsOfStage] = strawberry.field(
        description="Its stages with their own requirements."
    )


def _stages_of(
    stages: Mapping[OpportunityStage, tuple[rules.Requirement, ...]],
) -> list[StageRequirementsOfStage]:
    return [
        StageRequirementsOfStage(
            stage=stage,
            requirements=[
                StageRequirement(
                    field=r.field,
                    check=r.check,
                    value=r.value,
                    when=ConditionTerm.of(r.when) if r.when else None,
                    message=r.message,
                )
                for r in requirements
            ],
        )
        for stage, requirements in stages.items()
    ]


@strawberry.type(
    name="StageRequirements",
    description="A version of the stage entry requirements (D3 rule 5): checked "
    "on entering a stage and on passing over it, by every path.",
)
class StageRequirementsNode:
    """A version of the table."""

    version: int = strawberry.field(description="Its version (1: the handbook's).")
    stages: list[StageRequirementsOfStage] = strawberry.field(
        description="Per stage its requirements (a stage not listed requires nothing)."
    )
    conditions: list[NamedCondition] = strawberry.field(
        description="The named conditions requirements may use."
    )
    pipelines: list[PipelineStageRequirements] = strawberry.field(
        description="Per pipeline, the stages it requires otherwise: there they "
        "replace the stage's requirements above (issue 14 item 2)."
    )
    changed_at: datetime = strawberry.field(description="When this version was made.")
    note: str | None = strawberry.field(description="Why it was changed, if given.")
    changed_by_id: strawberry.Private[int | None]

    changed_by = to_one(
        UserNode,
        "changed_by_id",
        description="Who made this version (null: seeded).",
    )

    @classmethod
    def from_stored(
        cls, stored: service.StoredStageRequirements
    ) -> StageRequirementsNode:
        """Stored version -> GraphQL object."""
        table, row = stored.table, stored.version
        return cls(
            version=row.version,
            stages=_stages_of(table.stages),
            pipelines=[
                PipelineStageRequirements(pipeline=p, stages=_stages_of(stages))
                for p, stages in table.pipelines.items()
            ],
            conditions=[
                NamedCondition(
                    name=c.name, any_of=[ConditionTerm.of(t) for t in c.any_of]
                )
                for c in table.conditions.values()
            ],
            changed_at=row.changed_at,
            note=row.note,
            changed_by_id=row.changed_by_id,
        )


@strawberry.type
class StageRequirementQueries:
    """Root fields about the stage requirements."""

    @strawberry.field(
        description="The stage entry requirements: the version in force, or the "
        "given one (null when there is no such version)."
    )
    async def stage_requirements(
        self,
        info: Info,
        version: Annotated[
            int | None,
            strawberry.argument(
                description="A past version (default: the one in force)."
            ),
        ] = None,
    ) -> StageRequirementsNode | None:
        """One version of the table."""
        return await table_version(
            info,
            version,
            service.STAGE_REQUIREMENTS_TABLE,
            service.stage_requirements_versions,
            StageRequirementsNode.from_stored,
        )

    @strawberry.field(
        description="The versions of the stage requirements, newest (in force) first."
    )
    async def stage_requirements_history(
        self,
        info: Info,
        first: Annotated[
            int,
            strawberry.argument(description=f"How many versions (1 to {MAX_HISTORY})."),
        ] = 50,
    ) -> list[StageRequirementsNode]:
        """The history of the table."""
        return await table_history(
            info,
            first,
            service.stage_requirements_versions,
            StageRequirementsNode.from_stored,
        )

    @strawberry.field(
        description="The opportunity fields stage requirements and conditions may "
        "name, the opportunities' custom fields (`custom.<key>`) included."
    )
    async def requirement_fields(self, info: Info) -> list[RequirementField]:
        """The catalogue."""
        rows = await info.context.read(
            lambda s: definition_rows(s, RecordType.OPPORTUNITY)
        )
        return [
            RequirementField(
                name=f.name,
                kind=f.kind,
                description=f.description,
                choices=list(f.choices),
            )
            for f in rules.catalogue(definition_of(r) for r in rows).values()
        ]


@strawberry.input(description="A condition term: a field tested, or a named condition.")
class ConditionTermInput:
    """A condition term."""

    field: str | None = strawberry.field(
        default=None, description="The catalogue field tested."
    )
    test: ConditionTestGQL = strawberry.field(  # type: ignore[valid-type]
        default=rules.TermTest.TRUE, description="How (default TRUE)."
    )
    values: list[str] | None = strawberry.field(
        default=None, description="What it is tested against."
    )
    condition: str | None = strawberry.field(
        default=None, description="A named condition (instead of a field)."
    )

    def term(self) -> rules.Term:
        """The domain term."""
        return rules.Term(
            field=self.field,
            test=self.test,
            values=tuple(self.values or ()),
            condition=self.condition,
        )


@strawberry.input(description="A named condition of the table.")
class NamedConditionInput:
    """A named condition."""

    name: str = strawberry.field(description="Its name (requirements refer to it).")
    any_of: list[ConditionTermInput] = strawberry.field(
        description="True when any of these is."
    )


@strawberry.input(description="One requirement of entering a stage.")
class StageRequirementInput:
    """A requirement."""

    field: str = strawberry.field(
        description="The catalogue field (requirementFields)."
    )
    check: RequirementCheckGQL = strawberry.field(description="What it must hold.")  # type: ignore[valid-type]
    message: str = strawberry.field(
        description="The refusal's message ({value}, {largeDealIacv} allowed)."
    )
    value: str | None = strawberry.field(
        default=None, description="The choice EQUALS asks."
    )
    when: ConditionTermInput | None = strawberry.field(
        default=None, description="Only when this holds."
    )


@strawberry.input(description="The requirements of entering one stage.")
class StageRequirementsOfStageInput:
    """A stage's requirements."""

    stage: OpportunityStageGQL = strawberry.field(description="The stage.")  # type: ignore[valid-type]
    requirements: list[StageRequirementInput] = strawberry.field(
        description="In the order refusals should list them."
    )


@strawberry.input(description="A pipeline's own requirements for some of its stages.")
class PipelineStageRequirementsInput:
    """A pipeline's own requirements."""

    pipeline: PipelineGQL = strawberry.field(description="The pipeline.")  # type: ignore[valid-type]
    stages: list[StageRequirementsOfStageInput] = strawberry.field(
        description="Its stages (each one of the pipeline's) with their own "
        "requirements."
    )


def _requirements_of(
    given: list[StageRequirementsOfStageInput],
) -> Mapping[OpportunityStage, tuple[rules.Requirement, ...]]:
    return MappingProxyType(
        {
            s.stage: tuple(
                rules.Requirement(
                    field=r.field,
                    check=r.check,
                    message=r.message,
                    value=r.value,
                    when=r.when.term() if r.when else None,
                )
                for r in s.requirements
            )
            for s in given
        }
    )


@strawberry.input(description="updateStageRequirements input: the whole table.")
class UpdateStageRequirementsInput:
    """The next version of the table."""

    expected_version: int = strawberry.field(
        description="The version in force the edit was made on (else STALE_VERSION)."
    )
    stages: list[StageRequirementsOfStageInput] = strawberry.field(
        description="Every stage's requirements as they should be (a stage left "
        "out requires nothing)."
    )
    conditions: list[NamedConditionInput] | None = strawberry.field(
        default=None, description="The named conditions."
    )
    pipelines: list[PipelineStageRequirementsInput] | None = strawberry.field(
        default=None,
        description="Per pipeline, its own requirements for some of its stages "
        "(they replace the stage's requirements there; a pipeline left out has "
        "none of its own).",
    )
    note: str | None = strawberry.field(default=None, description="Why.")

    def table(self) -> rules.StageRequirements:
        """The domain table (refused when a stage, pipeline or condition comes
        twice)."""
        names = [c.name for c in self.conditions or ()]
        pipelines = [p.pipeline for p in self.pipelines or ()]
        refuse_if(
            given_twice("stages", [s.stage.value for s in self.stages])
            + given_twice("conditions", names)
            + given_twice("pipelines", [p.value for p in pipelines])
            + [
                r
                for i, p in enumerate(self.pipelines or ())
                for r in given_twice(
                    f"pipelines.{i}.stages", [s.stage.value for s in p.stages]
                )
            ]
        )
        return rules.StageRequirements(
            stages=_requirements_of(self.stages),
            pipelines=MappingProxyType(
                {p.pipeline: _requirements_of(p.stages) for p in self.pipelines or ()}
            ),
            conditions=MappingProxyType(
                {
                    c.name: rules.Condition(c.name, tuple(t.term() for t in c.any_of))
                    for c in self.conditions or ()
                }
            ),
        )


def input_path(refusal: Refusal, given: UpdateStageRequirementsInput) -> Refusal:
    """A refusal of the table (its stages, pipelines and conditions named)
    pointing into the input instead (their positions in its lists):
    ``stages.2.requirements.0.field`` for the first requirement of the third
    stage given, ``pipelines.0.stages.1.requirements.0`` in a pipeline's."""
    path = refusal.field
    if len(path) < 2 or path[0] not in ("stages", "conditions", "pipelines"):
        return refusal
    if path[0] == "pipelines":
        pipelines = [p.pipeline.value for p in given.pipelines or ()]
        if path[1] not in pipelines:
            return refusal
        index = pipelines.index(path[1])
        inner = _stage_path(path[2:], (given.pipelines or [])[index].stages)
        return replace(refusal, field=("pipelines", str(index), "stages", *inner))
    if path[0] == "stages":
        return replace(refusal, field=("stages", *_stage_path(path[1:], given.stages)))
    keys = [c.name for c in given.conditions or ()]
    if path[1] not in keys:
        return refusal
    return replace(refusal, field=(path[0], str(keys.index(path[1])), *path[2:]))


def _stage_path(
    path: tuple[str, ...], stages: list[StageRequirementsOfStageInput]
) -> tuple[str, ...]:
    """(STAGE, i, …) -> (position of STAGE, "requirements", i, …)."""
    keys = [s.stage.value for s in stages]
    if not path or path[0] not in keys:
        return path
    rest = ("requirements", *path[1:]) if len(path) > 1 else ()
    return (str(keys.index(path[0])), *rest)


@strawberry.type(description="Result of updateStageRequirements.")
class UpdateStageRequirementsPayload:
    """The new version, or why not."""

    stage_requirements: StageRequirementsNode | None = strawberry.field(
        description="The version now in force (null when refused)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class StageRequirementMutations:
    """Root mutations about the stage requirements."""

    @strawberry.mutation(
        description="Edit the stage entry requirements "
        f"({role_list(RULE_TABLE_EDITORS)}): a new version, in force from the next "
        "move (never retroactive)."
    )
    async def update_stage_requirements(
        self, info: Info, input: UpdateStageRequirementsInput
    ) -> UpdateStageRequirementsPayload:
        """Make a new version of the stage requirements."""
        actor = info.context.actor

        async def use_case(s):  # type: ignore[no-untyped-def]
            return await service.update_stage_requirements(
                input.table(),
                session=s,
                actor=actor,
                expected_version=input.expected_version,
                note=input.note,
            )

        stored, errors = await mutate(
            info,
            use_case,
            refusals_as=lambda found: [input_path(r, input) for r in found],
        )
        return UpdateStageRequirementsPayload(
            stage_requirements=StageRequirementsNode.from_stored(stored)
            if stored is not None
            else None,
            user_errors=errors,
        )
