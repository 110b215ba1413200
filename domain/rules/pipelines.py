"""Pipelines as data (issue 14 item 2): which stages each pipeline has.

A pipeline is a subset of the stage catalogue, in D3's order. Its moves are
derived from its stages by D3's reachability (``domain.lifecycle.opportunity``
builds one machine per pipeline) and its requirements are the stage
requirements table's — a stage's general requirements, or the pipeline's own
for that stage where the table gives them (``domain.rules.stage_requirements``).

Decisions (the handbook names the opportunity types — New Business, Add-On
Business, Renewal — but gives one stage list): a renewal is neither sourced
nor scoped: the account manager accepts it, reviews the customer's use
(1-Discovery), quotes (4-Proposal), negotiates and closes; there is no "no
opportunity" for a subscription that exists, so it is lost (churn), never
unqualified — and it may be lost from 0-Pending Acceptance (a move D3 does
not derive: the pipeline's override); a duplicate renewal is 10-Duplicate
(the handbook's example). An
add-on is an existing customer buying more: no 00-Pre Opportunity (the
customer is known) and no 2-Scoping (the solution in use is the scope); a
technical evaluation stays for tier upgrades that run a POC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from domain.enums import OpportunityStage, Pipeline

Stage = OpportunityStage
# D3's order; CLOSED_WON ends the forward order, the other closed stages are
# reached from it, not passed over.
_ORDER = tuple(Stage)
_LAST_FORWARD = _ORDER.index(Stage.CLOSED_WON)
_STARTS = (Stage.PRE_OPPORTUNITY, Stage.PENDING_ACCEPTANCE)


@dataclass(frozen=True, slots=True)
class PipelineDefinition:
    """A pipeline: its stages (in D3's order) and what it is for."""

    pipeline: Pipeline
    label: str
    stages: tuple[Stage, ...]
    description: str
    # Moves the pipeline allows (True) or forbids (False) against what D3's
    # reachability derives; each keeps the guards D3's rules give the pair.
    overrides: Mapping[tuple[Stage, Stage], bool] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        if list(self.stages) != [s for s in _ORDER if s in self.stages]:
            raise ValueError(f"{self.pipeline}: stages out of D3's order")
        if Stage.PENDING_ACCEPTANCE not in self.stages:
            raise ValueError(f"{self.pipeline}: every deal passes 0-Pending Acceptance")
        for source, dest in self.overrides:
            if source == dest or not {source, dest} <= set(self.stages):
                raise ValueError(f"{self.pipeline}: override {source}->{dest}")

    @property
    def forward(self) -> tuple[Stage, ...]:
        """The forward order a move passes over: its open stages, then
        CLOSED_WON."""
        return tuple(s for s in self.stages if _ORDER.index(s) <= _LAST_FORWARD)

    @property
    def start_stages(self) -> tuple[Stage, ...]:
        """Where a new deal of this pipeline may start (D3 rule 1)."""
        return tuple(s for s in _STARTS if s in self.stages)


PIPELINES: dict[Pipeline, PipelineDefinition] = {
    d.pipeline: d
    for d in (
        PipelineDefinition(
            Pipeline.NEW_BUSINESS,
            "New Business",
            _ORDER,
            "Every stage of D3: sourced, accepted, qualified, closed.",
        ),
        PipelineDefinition(
            Pipeline.RENEWAL,
            "Renewal",
            (
                Stage.PENDING_ACCEPTANCE,
                Stage.DISCOVERY,
                Stage.PROPOSAL,
                Stage.NEGOTIATING,
                Stage.AWAITING_SIGNATURE,
                Stage.CLOSED_WON,
                Stage.CLOSED_LOST,
                Stage.DUPLICATE,
            ),
            "A subscription up for renewal: accepted, reviewed, quoted, "
            "negotiated, signed — or lost (churn), even before it was accepted.",
            # A customer may say they will not renew before anyone accepted the
            # renewal: it is lost (churn) from 0-Pending Acceptance, with the
            # closed-lost requirements, where D3 only unqualifies.
            MappingProxyType({(Stage.PENDING_ACCEPTANCE, Stage.CLOSED_LOST): True}),
        ),
        PipelineDefinition(
            Pipeline.ADD_ON,
            "Add-On Business",
            (
                Stage.PENDING_ACCEPTANCE,
                Stage.DISCOVERY,
                Stage.TECHNICAL_EVALUATION,
                Stage.PROPOSAL,
                Stage.NEGOTIATING,
                Stage.AWAITING_SIGNATURE,
                Stage.CLOSED_WON,
                Stage.CLOSED_LOST,
                Stage.UNQUALIFIED,
                Stage.DUPLICATE,
            ),
            "An existing customer buying more seats or a higher tier.",
        ),
    )
}
