"""What both state machines share on the API: history records, transition
options ("what may I do next, and why not") and the `stateMachines`
description generated from the same tables the domain enforces (A4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api.context import Info
from api.enums import OpportunityStageGQL, PipelineGQL
from api.errors import UserError, user_errors
from api.relay import to_one
from api.users import UserNode
from domain.enums import RecordType
from domain.lifecycle.lead import LEAD_MACHINE
from domain.lifecycle.machine import MachineDescription
from domain.lifecycle.opportunity import OPPORTUNITY_MACHINE, machine_for
from domain.records import TransitionRecord
from domain.rules.permissions import STAGE_OVERRIDE_ROLES, role_names
from domain.rules.pipelines import PIPELINES
from domain.services.ledger import histories


@strawberry.type(
    name="TransitionRecord",
    description="One status/stage change, from the append-only ledger.",
)
class TransitionRecordNode:
    """A ledger row."""

    from_: str | None = strawberry.field(
        name="from", description="State left (null when the record was created)."
    )
    to: str = strawberry.field(description="State entered.")
    at: datetime = strawberry.field(description="When it happened (UTC).")
    reason: str | None = strawberry.field(description="Why (required for some moves).")
    note: str | None = strawberry.field(description="Free-text note.")
    override: bool = strawberry.field(
        description=f"A {role_names(STAGE_OVERRIDE_ROLES)} override of a pipeline "
        "rule, recorded as such."
    )
    seconds_in_from: int | None = strawberry.field(
        description="Time spent in the state left, in seconds."
    )
    actor_id: strawberry.Private[int | None]

    actor = to_one(
        UserNode,
        "actor_id",
        description="Who made the change (null for automation).",
    )

    @classmethod
    def from_row(cls, row: TransitionRecord) -> TransitionRecordNode:
        """Ledger row -> GraphQL object."""
        return cls(
            from_=row.from_state,
            to=row.to_state,
            at=row.at,
            reason=row.reason,
            note=row.note,
            override=row.override,
            seconds_in_from=row.seconds_in_from,
            actor_id=row.actor_id,
        )


async def history_of(
    info: Info, record_type: RecordType, record_id: int
) -> list[TransitionRecordNode]:
    """A record's history, batched across a page through a DataLoader."""
    loader = info.context.loader(
        ("history", record_type), lambda s, ids: histories(s, record_type, ids)
    )
    return [TransitionRecordNode.from_row(r) for r in await loader.load(record_id)]


@strawberry.interface(
    description="A state reachable from the current one: whether the move is "
    "allowed now and, if not, every reason it is blocked."
)
class TransitionOption:
    """One possible next state."""

    label: str = strawberry.field(description="Human label of the target state.")
    allowed: bool = strawberry.field(
        description="True when the move would succeed now."
    )
    blocked_by: list[UserError] = strawberry.field(
        description="Every failing guard (empty when allowed). The mutation refuses "
        "with exactly these."
    )


def blocked(refusals: list[Any]) -> list[UserError]:
    """Refusals as API errors."""
    return user_errors(refusals)


# --- stateMachines -----------------------------------------------------------------


@strawberry.type(description="A state of a machine.")
class MachineState:
    """A state."""

    state: str = strawberry.field(description="Enum value.")
    label: str = strawberry.field(description="Human label (handbook name).")
    final: bool = strawberry.field(description="Nothing leaves a final state.")
    description: str = strawberry.field(description="What the state means.")


@strawberry.type(description="A named guard of a transition.")
class MachineGuard:
    """A guard."""

    name: str = strawberry.field(description="The rule's name in the code.")
    codes: list[str] = strawberry.field(description="ErrorCodes it may refuse with.")
    description: str = strawberry.field(description="What must hold.")


@strawberry.type(description="A row of the machine's transition table.")
class MachineTransition:
    """A transition rule."""

    from_: list[str] = strawberry.field(name="from", description="Source states.")
    to: str = strawberry.field(description="Target state.")
    description: str = strawberry.field(description="What the move means.")
    automatic: bool = strawberry.field(description="Made by automation when it can.")
    guards: list[MachineGuard] = strawberry.field(description="What must hold.")


@strawberry.type(description="A state machine, generated from its definition.")
class StateMachine:
    """States, transitions and a diagram."""

    name: str = strawberry.field(description="Which machine: lead or opportunity.")
    initial: str = strawberry.field(description="The state records start in.")
    states: list[MachineState] = strawberry.field(description="Every state.")
    transitions: list[MachineTransition] = strawberry.field(
        description="The transition table."
    )
    mermaid: str = strawberry.field(description="Mermaid stateDiagram-v2 text.")


def _machine(d: MachineDescription) -> StateMachine:
    return StateMachine(
        name=d.name,
        initial=str(d.initial),
        states=[
            MachineState(
                state=str(s.state),
                label=s.label,
                final=s.final,
                description=s.description,
            )
            for s in d.states
        ],
        transitions=[
            MachineTransition(
                from_=[str(s) for s in t.sources],
                to=str(t.dest),
                description=t.description,
                automatic=t.automatic,
                guards=[
                    MachineGuard(
                        name=g.name,
                        codes=[str(c) for c in g.codes],
                        description=g.description,
                    )
                    for g in t.guards
                ],
            )
            for t in d.transitions
        ],
        mermaid=d.mermaid,
    )


@strawberry.type(
    description="A pipeline (issue 14): its stages, in order, and its machine — "
    "moves derived from its stages by D3's reachability."
)
class OpportunityPipelineMachine:
    """One pipeline's machine."""

    pipeline: PipelineGQL = strawberry.field(description="The pipeline.")  # type: ignore[valid-type]
    label: str = strawberry.field(description="Its name for people.")
    description: str = strawberry.field(description="What it is for.")
    stages: list[OpportunityStageGQL] = strawberry.field(  # type: ignore[valid-type]
        description="Its stages, in D3's order."
    )
    machine: StateMachine = strawberry.field(
        description="Its states, moves with guard codes, and Mermaid diagram."
    )


@strawberry.type(description="The lead and opportunity state machines.")
class StateMachines:
    """Both machines."""

    lead: StateMachine = strawberry.field(description="Lead lifecycle (D2).")
    opportunity: StateMachine = strawberry.field(
        description="Opportunity stages (D3): the NEW_BUSINESS pipeline."
    )
    opportunity_pipelines: list[OpportunityPipelineMachine] = strawberry.field(
        description="Every pipeline, NEW_BUSINESS first, each with its machine."
    )


@strawberry.type
class MachineQueries:
    """Root field describing the machines."""

    @strawberry.field(
        description="Both state machines: states, transitions with guard codes, and "
        "a Mermaid diagram — generated from the tables the API enforces."
    )
    def state_machines(self) -> StateMachines:
        """Describe the machines."""
        return StateMachines(
            lead=_machine(LEAD_MACHINE.describe()),
            opportunity=_machine(OPPORTUNITY_MACHINE.describe()),
            opportunity_pipelines=[
                OpportunityPipelineMachine(
                    pipeline=definition.pipeline,
                    label=definition.label,
                    description=definition.description,
                    stages=list(definition.stages),
                    machine=_machine(machine_for(definition.pipeline).describe()),
                )
                for definition in PIPELINES.values()
            ],
        )
