"""The generic machine: its table drives behaviour, description and diagram."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from domain.enums import STAGE_LABELS, ErrorCode, LeadStatus, OpportunityStage
from domain.errors import Refusal
from domain.lifecycle.lead import LEAD_MACHINE
from domain.lifecycle.machine import (
    Guard,
    StateInfo,
    StateMachine,
    TransitionRule,
    guard,
)
from domain.lifecycle.opportunity import OPPORTUNITY_MACHINE

MACHINES: list[StateMachine[Any, Any, Any]] = [LEAD_MACHINE, OPPORTUNITY_MACHINE]
ARROW = re.compile(r"^    (\w+) --> (\w+): (.+)$")


class Door(StrEnum):
    """A toy machine's states."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"
    LOCKED = "LOCKED"
    GONE = "GONE"


@dataclass(frozen=True)
class DoorFacts:
    """What the toy guards know."""

    has_key: bool
    is_shut: bool


@dataclass(frozen=True)
class DoorRequest:
    """What the toy caller asks."""

    to: Door


@guard(codes=(ErrorCode.MISSING_FIELD,), description="A key is at hand.")
def has_key(facts: DoorFacts, request: DoorRequest) -> list[Refusal]:
    """Locking needs a key."""
    return [] if facts.has_key else [Refusal.on("key", ErrorCode.MISSING_FIELD, "k")]


@guard(codes=(ErrorCode.REQUIREMENT_NOT_MET,), description="The door is shut.")
def is_shut(facts: DoorFacts, request: DoorRequest) -> list[Refusal]:
    """Locking needs a shut door."""
    if facts.is_shut:
        return []
    return [Refusal.on("shut", ErrorCode.REQUIREMENT_NOT_MET, "s")]


@guard(codes=(ErrorCode.NOT_FOUND,), description="Emits a code it does not declare.")
def liar(facts: DoorFacts, request: DoorRequest) -> list[Refusal]:
    """A broken guard."""
    return [Refusal.on(None, ErrorCode.FORBIDDEN, "x")]


def make_door(
    rules: list[TransitionRule[Door, DoorFacts, DoorRequest]] | None = None,
) -> StateMachine[Door, DoorFacts, DoorRequest]:
    """A four-state toy machine; GONE is final and unreachable from it."""
    return StateMachine(
        name="door",
        states=[
            StateInfo(Door.OPEN, "Open", False, "open"),
            StateInfo(Door.CLOSED, "Closed", False, "closed"),
            StateInfo(Door.LOCKED, "Locked", False, "locked"),
            StateInfo(Door.GONE, "Gone", True, "removed"),
        ],
        rules=rules
        if rules is not None
        else [
            TransitionRule((Door.OPEN,), Door.CLOSED, (), "Shut it."),
            TransitionRule((Door.CLOSED,), Door.LOCKED, (has_key, is_shut), "Lock."),
            TransitionRule((Door.LOCKED, Door.CLOSED), Door.OPEN, (has_key,), "Open."),
            TransitionRule((Door.OPEN,), Door.GONE, (), "Take it off: the end."),
        ],
        initial=Door.CLOSED,
    )


def table_pairs(machine: StateMachine[Any, Any, Any]) -> list[tuple[str, str]]:
    """Every (source, dest) of a machine's table."""
    return [(s.value, rule.dest.value) for rule in machine.rules for s in rule.sources]


# ---- the generic mechanism -----------------------------------------------------


def test_one_condition_collects_every_failing_guard_of_a_rule() -> None:
    door = make_door()
    facts = DoorFacts(has_key=False, is_shut=False)
    request = DoorRequest(to=Door.LOCKED)
    expected = [
        Refusal.on("key", ErrorCode.MISSING_FIELD, "k"),
        Refusal.on("shut", ErrorCode.REQUIREMENT_NOT_MET, "s"),
    ]
    assert door.check(Door.CLOSED, Door.LOCKED, facts, request) == expected
    assert door.apply(Door.CLOSED, Door.LOCKED, facts, request) == expected


def test_apply_moves_when_every_guard_passes_and_keeps_nothing_of_the_call() -> None:
    door = make_door()
    facts = DoorFacts(has_key=True, is_shut=True)
    assert door.apply(Door.CLOSED, Door.LOCKED, facts, DoorRequest(Door.LOCKED)) == []
    # the shared machine holds its one binding, with no reference to the call's
    # facts or request
    [binding] = door._machine.models
    assert (binding.facts, binding.request) == (None, None)


def test_apply_runs_each_guard_once_and_fires_only_an_allowed_move(monkeypatch) -> None:
    calls: list[str] = []

    @guard(codes=(ErrorCode.MISSING_FIELD,), description="Counted key check.")
    def counted_key(facts: DoorFacts, request: DoorRequest) -> list[Refusal]:
        """has_key, counted."""
        calls.append("key")
        return has_key(facts, request)

    door = make_door(
        [TransitionRule((Door.CLOSED,), Door.LOCKED, (counted_key, is_shut), "Lock.")]
    )
    fired: list[str] = []
    event = door._machine.events["go_LOCKED"]
    real = event._trigger
    monkeypatch.setattr(
        event, "_trigger", lambda *a, **k: fired.append("go") or real(*a, **k)
    )
    request = DoorRequest(Door.LOCKED)
    refused = door.apply(Door.CLOSED, Door.LOCKED, DoorFacts(False, True), request)
    assert [r.code for r in refused] == [ErrorCode.MISSING_FIELD]
    assert (calls, fired) == (["key"], [])
    assert door.apply(Door.CLOSED, Door.LOCKED, DoorFacts(True, True), request) == []
    assert (calls, fired) == (["key", "key"], ["go"])


def test_reachable_follows_the_declared_state_order_and_skips_self() -> None:
    door = make_door()
    assert door.reachable(Door.OPEN) == [Door.CLOSED, Door.GONE]
    assert door.reachable(Door.CLOSED) == [Door.OPEN, Door.LOCKED]
    assert door.reachable(Door.GONE) == []


def test_an_unreachable_destination_is_one_invalid_transition_refusal() -> None:
    door = make_door()
    facts = DoorFacts(has_key=True, is_shut=True)
    refusals = door.check(Door.LOCKED, Door.GONE, facts, DoorRequest(Door.GONE))
    assert refusals == [
        Refusal.on(
            "to",
            ErrorCode.INVALID_TRANSITION,
            "Cannot move from Locked to Gone; from Locked: Open.",
        )
    ]


def test_leaving_a_final_state_without_a_rule_is_final_state() -> None:
    door = make_door()
    facts = DoorFacts(has_key=True, is_shut=True)
    refusals = door.apply(Door.GONE, Door.OPEN, facts, DoorRequest(Door.OPEN))
    assert [r.code for r in refusals] == [ErrorCode.FINAL_STATE]


def test_options_take_one_shared_request_and_retarget_it() -> None:
    door = make_door()
    facts = DoorFacts(has_key=False, is_shut=True)
    options = door.options(Door.CLOSED, facts, DoorRequest(Door.OPEN))
    assert [(o.to, o.allowed, [r.code for r in o.blocked_by]) for o in options] == [
        (Door.OPEN, False, [ErrorCode.MISSING_FIELD]),
        (Door.LOCKED, False, [ErrorCode.MISSING_FIELD]),
    ]


def test_a_guard_emitting_an_undeclared_code_is_a_bug() -> None:
    door = make_door([TransitionRule((Door.OPEN,), Door.CLOSED, (liar,), "Shut.")])
    facts = DoorFacts(has_key=True, is_shut=True)
    with pytest.raises(ValueError, match="undeclared code"):
        door.check(Door.OPEN, Door.CLOSED, facts, DoorRequest(Door.CLOSED))


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        (
            [
                TransitionRule((Door.OPEN,), Door.CLOSED, (), "a"),
                TransitionRule((Door.OPEN, Door.LOCKED), Door.CLOSED, (), "b"),
            ],
            "two rules",
        ),
        ([TransitionRule((Door.OPEN,), Door.OPEN, (), "a")], "self-loop"),
    ],
    ids=["duplicate-pair", "self-loop"],
)
def test_an_ambiguous_table_is_refused_when_the_machine_is_built(
    rules: list[TransitionRule[Door, DoorFacts, DoorRequest]], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        make_door(rules)


def test_guards_are_named_after_their_function() -> None:
    assert isinstance(has_key, Guard)
    assert (has_key.name, has_key.codes, has_key.description) == (
        "has_key",
        (ErrorCode.MISSING_FIELD,),
        "A key is at hand.",
    )


def test_the_toy_diagram_is_exact() -> None:
    assert make_door().mermaid() == (
        "stateDiagram-v2\n"
        '    state "Open" as OPEN\n'
        '    state "Closed" as CLOSED\n'
        '    state "Locked" as LOCKED\n'
        '    state "Gone" as GONE\n'
        "    [*] --> CLOSED\n"
        "    OPEN --> CLOSED: Shut it.\n"
        "    CLOSED --> LOCKED: MISSING_FIELD, REQUIREMENT_NOT_MET\n"
        "    LOCKED --> OPEN: MISSING_FIELD\n"
        "    CLOSED --> OPEN: MISSING_FIELD\n"
        "    OPEN --> GONE: Take it off - the end.\n"
        "    GONE --> [*]\n"
    )


def test_the_lifecycle_package_imports_no_database_or_web_library() -> None:
    probe = (
        "import sys, domain.lifecycle; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlmodel', 'sqlalchemy', 'strawberry', 'starlette'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == "[]"


# ---- the two real machines -----------------------------------------------------


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_mermaid_has_one_arrow_per_table_pair(
    machine: StateMachine[Any, Any, Any],
) -> None:
    text = machine.mermaid()
    arrows = [m.group(1, 2) for m in map(ARROW.match, text.splitlines()) if m]
    assert text.startswith("stateDiagram-v2\n")
    assert sorted(arrows) == sorted(table_pairs(machine))
    assert len(set(arrows)) == len(arrows)
    assert f"    [*] --> {machine.initial.value}" in text.splitlines()
    for info in machine.states:
        assert f'    state "{info.label}" as {info.state.value}' in text
        ending = f"    {info.state.value} --> [*]"
        assert (ending in text.splitlines()) is info.final


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_describe_lists_every_state_and_every_rule_with_its_guard_codes(
    machine: StateMachine[Any, Any, Any],
) -> None:
    described = machine.describe()
    assert described.mermaid == machine.mermaid()
    assert [s.state for s in described.states] == [
        i.state.value for i in machine.states
    ]
    assert [s.initial for s in described.states].count(True) == 1
    pairs = [(src, t.dest) for t in described.transitions for src in t.sources]
    assert pairs == table_pairs(machine)
    for transition, rule in zip(described.transitions, machine.rules, strict=True):
        assert [g.name for g in transition.guards] == [g.name for g in rule.guards]
        assert [g.codes for g in transition.guards] == [
            list(g.codes) for g in rule.guards
        ]
        assert all(g.description for g in transition.guards)
        assert transition.description


def test_the_lead_machine_describes_d2_labels_and_final_statuses() -> None:
    states = {s.state: s for s in LEAD_MACHINE.describe().states}
    assert {k: (s.label, s.final) for k, s in states.items()} == {
        "RAW": ("Raw", False),
        "INQUIRY": ("Inquiry", False),
        "MQL": ("MQL", False),
        "ACCEPTED": ("Accepted", False),
        "QUALIFYING": ("Qualifying", False),
        "QUALIFIED": ("Qualified", True),
        "UNQUALIFIED": ("Unqualified", True),
        "NURTURE": ("Nurture", False),
        "BAD_DATA": ("Bad Data", False),
        "WEB_PORTAL_PURCHASE": ("Web Portal Purchase", True),
    }
    assert all(s.description for s in states.values())
    assert states["RAW"].initial
    assert len(LeadStatus) == len(states)


def test_the_opportunity_machine_describes_d3_labels_and_final_stages() -> None:
    states = OPPORTUNITY_MACHINE.describe().states
    assert [(s.state, s.label) for s in states] == [
        (stage.value, STAGE_LABELS[stage]) for stage in OpportunityStage
    ]
    assert {s.state for s in states if s.final} == {
        "CLOSED_WON",
        "UNQUALIFIED",
        "DUPLICATE",
    }
    assert [s.state for s in states if s.initial] == ["PENDING_ACCEPTANCE"]


def test_the_opportunity_description_shows_requirements_passed_over() -> None:
    described = OPPORTUNITY_MACHINE.describe()
    [row] = [
        t
        for t in described.transitions
        if t.dest == "PROPOSAL" and "PENDING_ACCEPTANCE" in t.sources
    ]
    assert [g.name for g in row.guards] == [
        "sales_owner_decides",
        "sao_criteria_confirmed",
        # stages that require nothing in the seeded table keep their guard: a
        # sales-ops edit of the table may give them requirements
        "scoping_requirements_met",
        "technical_evaluation_requirements_met",
        "proposal_requirements_met",
    ]
