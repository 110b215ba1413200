"""The two state machines as data, with their guards (pure, no I/O).

``machine`` is the one generic mechanism; ``lead`` (D2) and ``opportunity``
(D3) each declare a table and build their machine once per process.
"""

from domain.lifecycle.lead import (
    LEAD_MACHINE,
    LeadFacts,
    LeadTransitionRequest,
    path_for_automatic_mql,
)
from domain.lifecycle.machine import (
    Guard,
    MachineDescription,
    StateInfo,
    StateMachine,
    TransitionOption,
    TransitionRule,
    guard,
)
from domain.lifecycle.opportunity import (
    OPPORTUNITY_MACHINE,
    OpportunityFacts,
    StageMoveRequest,
    creation_refusals,
    stage_effects,
    stage_events,
    terms_modification_refusals,
)

__all__ = [
    "LEAD_MACHINE",
    "OPPORTUNITY_MACHINE",
    "Guard",
    "LeadFacts",
    "LeadTransitionRequest",
    "MachineDescription",
    "OpportunityFacts",
    "StageMoveRequest",
    "StateInfo",
    "StateMachine",
    "TransitionOption",
    "TransitionRule",
    "creation_refusals",
    "guard",
    "path_for_automatic_mql",
    "stage_effects",
    "stage_events",
    "terms_modification_refusals",
]
