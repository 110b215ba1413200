"""The one mechanism both state machines use: a table of guarded transitions.

A machine is declared as data: its states (``StateInfo``) and a table of
``TransitionRule`` rows, each naming its guards. From that single table come

* the behaviour: one ``transitions.Machine`` built once per process, with one
  condition per transition that runs *every* guard of the row and keeps all
  the refusals (``transitions`` stops at the first failed condition and only
  reports ``False``, so the reasons are collected on the bound wrapper);
* the pre-flight answer (``check`` / ``options``) from the very same guards;
* the description for the API (``describe``) and the Mermaid diagram.

Guards are plain named functions ``(facts, request) -> list[Refusal]`` that
declare the codes they may emit. ``facts`` is a frozen snapshot the service
builds from the database; ``request`` is what the caller asked for. Nothing
here does I/O.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, cast

from transitions import Machine, MachineError

from domain.enums import ErrorCode
from domain.errors import Refusal


class Targeted(Protocol):
    """A transition request: it names the state it wants to reach."""

    @property
    def to(self) -> StrEnum:
        """The requested destination state."""
        ...


S = TypeVar("S", bound=StrEnum)
F = TypeVar("F")
R = TypeVar("R", bound=Targeted)


@dataclass(frozen=True)  # no slots: typing sets __orig_class__ on generics
class StateInfo(Generic[S]):
    """One state of a machine: its value, human label, finality and meaning."""

    state: S
    label: str
    final: bool
    description: str


@dataclass(frozen=True)  # no slots: typing sets __orig_class__ on generics
class Guard(Generic[F, R]):
    """A named rule: returns every reason it fails, never a bare ``False``."""

    name: str
    check: Callable[[F, R], list[Refusal]]
    codes: tuple[ErrorCode, ...]
    description: str

    def __call__(self, facts: F, request: R) -> list[Refusal]:
        """Run the rule and verify it only emits the codes it declares."""
        refusals = self.check(facts, request)
        for refusal in refusals:
            if refusal.code not in self.codes:
                # describe() promises clients these codes; a stray one is a bug
                raise ValueError(
                    f"guard {self.name} emitted undeclared code {refusal.code}"
                )
        return refusals


def guard(
    *, codes: tuple[ErrorCode, ...], description: str
) -> Callable[[Callable[[F, R], list[Refusal]]], Guard[F, R]]:
    """Turn a ``(facts, request) -> list[Refusal]`` function into a ``Guard``."""

    def wrap(check: Callable[[F, R], list[Refusal]]) -> Guard[F, R]:
        return Guard(
            name=check.__name__, check=check, codes=codes, description=description
        )

    return wrap


@dataclass(frozen=True)  # no slots: typing sets __orig_class__ on generics
class TransitionRule(Generic[S, F, R]):
    """One row of a machine's table: sources → dest, allowed when all guards pass."""

    sources: tuple[S, ...]
    dest: S
    guards: tuple[Guard[F, R], ...]
    description: str
    # What makes the move happen by itself (None: it happens only when asked).
    automatic: StrEnum | None = None


@dataclass(frozen=True)  # no slots: typing sets __orig_class__ on generics
class TransitionOption(Generic[S]):
    """A reachable destination and every reason it is blocked (empty = allowed)."""

    to: S
    allowed: bool
    blocked_by: list[Refusal]


@dataclass(frozen=True, slots=True)
class GuardDescription:
    """A guard as the API shows it: name, codes it may emit, description."""

    name: str
    codes: list[ErrorCode]
    description: str


@dataclass(frozen=True, slots=True)
class TransitionDescription:
    """A table row as the API shows it."""

    sources: list[str]
    dest: str
    description: str
    automatic: bool
    guards: list[GuardDescription]


@dataclass(frozen=True, slots=True)
class StateDescription:
    """A state as the API shows it."""

    state: str
    label: str
    final: bool
    initial: bool
    description: str


@dataclass(frozen=True, slots=True)
class MachineDescription:
    """A whole machine as the API shows it, including its Mermaid diagram."""

    name: str
    initial: str
    states: list[StateDescription]
    transitions: list[TransitionDescription]
    mermaid: str


class _Binding:
    """The light object a call binds to the shared machine (never a record)."""

    def __init__(self, facts: object, request: object) -> None:
        self.facts = facts
        self.request = request
        self.refusals: list[Refusal] = []
        self.state: str = ""


def _trigger_name(state: StrEnum) -> str:
    return f"go_{state.value}"


def dedupe(refusals: Sequence[Refusal]) -> list[Refusal]:
    """Keep the first refusal per (code, field): two guards may ask the same thing."""
    seen: set[tuple[ErrorCode, tuple[str, ...]]] = set()
    kept: list[Refusal] = []
    for refusal in refusals:
        key = (refusal.code, refusal.field)
        if key not in seen:
            seen.add(key)
            kept.append(refusal)
    return kept


class StateMachine(Generic[S, F, R]):
    """A state machine defined by a table of guarded rules; build once per process."""

    def __init__(
        self,
        name: str,
        states: Sequence[StateInfo[S]],
        rules: Sequence[TransitionRule[S, F, R]],
        initial: S,
        catalogue_labels: Mapping[S, str] | None = None,
    ) -> None:
        """``catalogue_labels``: the labels of states of the same kind this
        machine does not have (a pipeline's machine is asked about every
        stage), for its refusals."""
        self.name = name
        self._catalogue_labels = catalogue_labels
        self.states: list[StateInfo[S]] = list(states)
        self.rules: list[TransitionRule[S, F, R]] = list(rules)
        self.initial = initial
        self._info = {info.state: info for info in self.states}
        if len(self._info) != len(self.states):
            raise ValueError(f"{name}: duplicate state")
        if initial not in self._info:
            raise ValueError(f"{name}: unknown initial state {initial}")
        self._by_value: dict[str, S] = {s.value: s for s in self._info}
        self._rule_for: dict[tuple[S, S], TransitionRule[S, F, R]] = {}
        for rule in self.rules:
            for source in rule.sources:
                if source not in self._info or rule.dest not in self._info:
                    raise ValueError(f"{name}: unknown state in {rule}")
                if source == rule.dest:
                    raise ValueError(f"{name}: self-loop on {source}")
                if (source, rule.dest) in self._rule_for:
                    raise ValueError(f"{name}: two rules for {source}->{rule.dest}")
                self._rule_for[(source, rule.dest)] = rule
        self._lock = threading.Lock()
        self._machine = Machine(
            model=None,
            states=[s.value for s in self._info],
            transitions=[
                {
                    "trigger": _trigger_name(rule.dest),
                    "source": [s.value for s in rule.sources],
                    "dest": rule.dest.value,
                    "conditions": [self._verdict],
                }
                for rule in self.rules
            ],
            initial=initial.value,
            auto_transitions=False,
            send_event=True,
        )
        self._binding = _Binding(None, None)
        self._machine.add_model(self._binding, initial=initial.value)

    @staticmethod
    def _verdict(event: Any) -> bool:
        # The one condition of every row: the verdict ``apply`` reached by
        # running the row's guards once, just before firing (transitions only
        # hears True or False; the reasons stay with the caller).
        return not cast(_Binding, event.model).refusals

    @staticmethod
    def _run_guards(
        rule: TransitionRule[S, F, R], facts: F, request: R
    ) -> list[Refusal]:
        found: list[Refusal] = []
        for g in rule.guards:
            found.extend(g(facts, request))
        return dedupe(found)

    def label(self, state: S) -> str:
        """The human label of a state."""
        return self._info[state].label

    def info(self, state: S) -> StateInfo[S]:
        """The declared information about a state."""
        return self._info[state]

    def is_final(self, state: S) -> bool:
        """Whether the state is declared final."""
        return self._info[state].final

    def rule(self, current: S, to: S) -> TransitionRule[S, F, R] | None:
        """The table row governing current→to, if the table has one."""
        return self._rule_for.get((current, to))

    def automatic_rules(
        self, current: S, trigger: StrEnum
    ) -> list[TransitionRule[S, F, R]]:
        """The rows that move ``current`` by themselves on ``trigger``."""
        return [
            rule
            for rule in self.rules
            if rule.automatic == trigger and current in rule.sources
        ]

    def reachable(self, current: S) -> list[S]:
        """Destinations the table allows from ``current``, in declared state order."""
        return [s for s in self._info if (current, s) in self._rule_for]

    def _unreachable(self, current: S, to: S) -> Refusal:
        here = self.label(current)
        possible = [self.label(s) for s in self.reachable(current)]
        if self.is_final(current) and not possible:
            return Refusal.on(
                "to", ErrorCode.FINAL_STATE, f"{here} is final: it cannot change."
            )
        listed = ", ".join(possible) if possible else "nothing"
        if to not in self._info:
            labels = self._catalogue_labels
            there = labels.get(to, to.value) if labels else to.value
            message = (
                f"{there} is not a state of the {self.name} machine; from {here}: "
                f"{listed}."
            )
        elif current == to:
            message = f"Already in {here}."
        else:
            message = (
                f"Cannot move from {here} to {self.label(to)}; from {here}: {listed}."
            )
        return Refusal.on("to", ErrorCode.INVALID_TRANSITION, message)

    @staticmethod
    def _same_target(to: S, request: R) -> None:
        if request.to != to:
            raise ValueError(f"request is for {request.to}, not {to}")

    def check(self, current: S, to: S, facts: F, request: R) -> list[Refusal]:
        """Every reason current→to is refused for these facts; empty = allowed."""
        self._same_target(to, request)
        rule = self._rule_for.get((current, to))
        if rule is None:
            return [self._unreachable(current, to)]
        return self._run_guards(rule, facts, request)

    def options(
        self,
        current: S,
        facts: F,
        request_for_to: Callable[[S], R] | R,
    ) -> list[TransitionOption[S]]:
        """One option per reachable destination, each with every blocking reason."""
        options: list[TransitionOption[S]] = []
        for to in self.reachable(current):
            request = self._request_for(request_for_to, to)
            refusals = self.check(current, to, facts, request)
            options.append(
                TransitionOption(to=to, allowed=not refusals, blocked_by=refusals)
            )
        return options

    @staticmethod
    def _request_for(request_for_to: Callable[[S], R] | R, to: S) -> R:
        if callable(request_for_to):
            return cast(Callable[[S], R], request_for_to)(to)
        request = cast(R, request_for_to)
        if request.to == to:
            return request
        if not dataclasses.is_dataclass(request):
            raise TypeError("a shared request must be a dataclass with a 'to' field")
        return cast(R, dataclasses.replace(cast(Any, request), to=to))

    def apply(self, current: S, to: S, facts: F, request: R) -> list[Refusal]:
        """Run the row's guards once and, when they allow it, fire the
        transition on a bound wrapper; the refusals, empty when moved. A refused
        move is not fired: the machine, whose condition is this same verdict,
        would stay where it is (measured: firing costs more than the guards, and
        automation asks far more often than it moves)."""
        self._same_target(to, request)
        rule = self._rule_for.get((current, to))
        if rule is None:
            return [self._unreachable(current, to)]
        refusals = self._run_guards(rule, facts, request)
        if refusals:
            return refusals
        with self._lock:
            # One binding, added once, serves every call in turn (under the
            # lock): ``add_model`` binds every trigger and state of the table to
            # the model (measured 0.3 ms a call), setting its state costs nothing.
            binding = self._binding
            binding.facts, binding.request, binding.refusals = facts, request, []
            self._machine.set_state(current.value, model=binding)
            try:
                moved = bool(getattr(binding, _trigger_name(to))())
            except MachineError:  # pragma: no cover - reachability was checked
                return [self._unreachable(current, to)]
            finally:
                # the binding keeps no facts between calls
                binding.facts = binding.request = None
            state = binding.state
        if not moved or self._by_value[state] != to:
            raise RuntimeError(f"{self.name}: machine and guards disagree")
        return []

    def mermaid(self) -> str:
        """A Mermaid ``stateDiagram-v2`` generated from the table."""
        lines = ["stateDiagram-v2"]
        for info in self.states:
            lines.append(f'    state "{info.label}" as {info.state.value}')
        lines.append(f"    [*] --> {self.initial.value}")
        for rule in self.rules:
            label = self._arrow_label(rule)
            for source in rule.sources:
                lines.append(f"    {source.value} --> {rule.dest.value}: {label}")
        for info in self.states:
            if info.final:
                lines.append(f"    {info.state.value} --> [*]")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _arrow_label(rule: TransitionRule[S, F, R]) -> str:
        codes: list[str] = []
        for g in rule.guards:
            codes.extend(c.value for c in g.codes if c.value not in codes)
        # a colon would end the Mermaid label early
        text = ", ".join(codes) if codes else rule.description
        return text.replace(":", " -")

    def describe(self) -> MachineDescription:
        """States, transitions (with guard codes) and diagram, for the API."""
        return MachineDescription(
            name=self.name,
            initial=self.initial.value,
            states=[
                StateDescription(
                    state=info.state.value,
                    label=info.label,
                    final=info.final,
                    initial=info.state == self.initial,
                    description=info.description,
                )
                for info in self.states
            ],
            transitions=[
                TransitionDescription(
                    sources=[s.value for s in rule.sources],
                    dest=rule.dest.value,
                    description=rule.description,
                    automatic=rule.automatic is not None,
                    guards=[
                        GuardDescription(
                            name=g.name, codes=list(g.codes), description=g.description
                        )
                        for g in rule.guards
                    ],
                )
                for rule in self.rules
            ],
            mermaid=self.mermaid(),
        )
