"""The machinery both lifecycles share: a typed table of edges, built once.

Theory of operation
-------------------
A lifecycle is *data*: a mapping of states to :class:`StateInfo` (label, terminal,
task list, operator instruction, ISO status, timers) and a sequence of :class:`Edge`
rows ``(source, trigger, dest, guard, action)``. From that one table this module derives

- the hot-path lookup ``(state, trigger) -> edges``, a plain dict built at import;
- one shared ``transitions.Machine`` per lifecycle (never one per request, and never
  ``add_model``): it validates the table and gives integrators transitions' tooling;
- the exports (JSON with a stable schema, Mermaid, DOT) and the table checks.

Applying an event (:meth:`Lifecycle.step`) is pure: find the edges for the record's state
and the event's trigger, take the first whose guard accepts, run its action to get the
field changes and effects, and build the new record with one ``attrs.evolve``. Several
edges for one ``(state, trigger)`` are allowed only when each but the last has a guard:
they are tried in table order. Anything else raises :class:`IllegalTransition` and
changes nothing.

Entering a state whose task list differs from the old one's adds the request to the new
list and removes it from the old; deadlines whose kind the new state does not keep are
dropped, so a timer can never fire in a state it was not set for.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, cast, final

import attrs
from transitions import Machine

from resource_sharing.effects import AddTask, Effect, RemoveTask, TaskList
from resource_sharing.errors import IllegalTransition
from resource_sharing.records import Deadline, TimerKind

__all__ = [
    "EXPORT_SCHEMA_VERSION",
    "Action",
    "Edge",
    "Guard",
    "Lifecycle",
    "NotModelled",
    "Outcome",
    "StateInfo",
    "evolve",
]

EXPORT_SCHEMA_VERSION = 1
"""Version of the JSON export's schema; bumped on any incompatible change."""


class _Record(Protocol):
    """What the engine needs of a request record."""

    @property
    def id(self) -> str: ...

    @property
    def state(self) -> Any: ...

    @property
    def deadlines(self) -> tuple[Deadline, ...]: ...


R = TypeVar("R", bound=_Record)
E = TypeVar("E")
TriggerT = TypeVar("TriggerT", bound=StrEnum)
C = TypeVar("C")

Guard = Callable[[Any, Any, Any], bool]
"""``(record, event, context) -> bool``: may this edge be taken?"""

Action = Callable[[Any, Any, Any], tuple[dict[str, Any], tuple[Effect, ...]]]
"""``(record, event, context) -> (field changes, effects)``; never mutates anything."""


@final
@attrs.frozen
class StateInfo:
    """What a state means to staff and to the protocol."""

    label: str
    """The label staff know (the Alma wording)."""
    terminal: bool = False
    """No further event changes a request in this state."""
    needs_attention: bool = False
    """A person must act before the request can move on."""
    task_list: TaskList | None = None
    """The staff list that shows requests in this state."""
    instruction: str | None = None
    """The operator's instruction, a template over the request's fields."""
    iso_status: str | None = None
    """The ISO 18626 status this state corresponds to."""
    timers: frozenset[TimerKind] = frozenset()
    """The deadlines that stay armed in this state."""


@final
@attrs.frozen
class Edge:
    """One row of a lifecycle table."""

    source: StrEnum
    """The state it leaves."""
    trigger: StrEnum
    """The event kind that takes it."""
    dest: StrEnum
    """The state it enters."""
    guard: Guard | None = None
    """Taken only when this returns True (None: always)."""
    action: Action | None = None
    """Computes the field changes and effects."""

    @property
    def guard_name(self) -> str | None:
        """The guard's name, for exports and diagrams."""
        return _name_of(self.guard)

    @property
    def action_name(self) -> str | None:
        """The action's name, for exports."""
        return _name_of(self.action)


@final
@attrs.frozen
class NotModelled:
    """A term of the field (an Alma status, an ISO code) and how the table treats it."""

    name: str
    """The term, as the field spells it."""
    kind: str
    """Where it comes from: ``alma``, ``iso18626-status``, ``iso18626-action``, ``seed``."""
    treatment: str
    """The state or trigger that models it, or why it is deliberately not modelled."""
    modelled: bool = False
    """True when ``treatment`` names the state or trigger that models it."""


@final
@attrs.frozen
class Outcome(Generic[R]):
    """The result of applying one event: the new record and the effects to carry out."""

    record: R
    """The new record (the same object when nothing was applied)."""
    effects: tuple[Effect, ...] = ()
    """What the outside world must do."""
    trigger: str = ""
    """The trigger that was applied."""
    applied: bool = True
    """False when the event was answered but deliberately not applied (e.g. a
    message from a superseded rota attempt)."""


_Evolver = Callable[[Any, dict[str, Any]], Any]
_EVOLVERS: dict[type, _Evolver] = {}


def evolve(record: Any, changes: dict[str, Any]) -> Any:
    """``attrs.evolve(record, **changes)``, through a per-class function built once.

    Lifecycle actions use it on the hot path; it runs the class's own ``__init__``.
    """
    cls = type(record)
    evolver = _EVOLVERS.get(cls)
    if evolver is None:
        evolver = _EVOLVERS[cls] = _make_evolver(cls)
    return evolver(record, changes)


def _make_evolver(cls: type) -> _Evolver:
    """A function doing what ``attrs.evolve`` does for ``cls``, without its introspection.

    ``attrs.evolve`` looks up the class's fields and builds a keyword dict on every call;
    on the hot path (one or two per event) that is most of the cost of a step. This
    generates ``cls(changes.get("a", record.a), ...)`` once: the class's own ``__init__``
    still runs (validators, converters, post-init), and an unknown key is still a
    TypeError. Classes with fields that ``__init__`` does not take positionally keep
    ``attrs.evolve``.
    """
    fields = attrs.fields(cls)
    if any(not f.init or f.kw_only for f in fields):
        return lambda record, changes: attrs.evolve(record, **changes)
    names = frozenset(f.alias for f in fields)
    args = ", ".join(f"get({f.alias!r}, record.{f.name})" for f in fields)
    source = (
        "def evolve(record, changes):\n"
        "    if not names.issuperset(changes):\n"
        "        raise TypeError(f'{cls.__name__}: unknown fields {set(changes) - names}')\n"
        "    get = changes.get\n"
        f"    return cls({args})\n"
    )
    namespace: dict[str, Any] = {"cls": cls, "names": names}
    exec(compile(source, f"<evolve {cls.__qualname__}>", "exec"), namespace)
    return cast(_Evolver, namespace["evolve"])


def _name_of(fn: Callable[..., Any] | None) -> str | None:
    if fn is None:
        return None
    return getattr(fn, "__name__", repr(fn)).lstrip("_")


class Lifecycle(Generic[R, E, C]):
    """A lifecycle table with its lookup, its shared machine, its exports and checks."""

    def __init__(
        self,
        name: str,
        *,
        states: Mapping[Any, StateInfo],
        initial: StrEnum,
        edges: Sequence[Edge],
        triggers: Iterable[StrEnum],
        render: Callable[[Any, str], str],
        desk: Callable[[Any], str | None] = lambda record: None,
        coverage: Sequence[NotModelled] = (),
        timer_triggers: Mapping[TimerKind, StrEnum] | None = None,
    ) -> None:
        self.name = name
        """``borrowing`` or ``lending``."""
        self.states: Mapping[Any, StateInfo] = dict(states)
        """Every state with its metadata."""
        self.initial = initial
        """The state a new request starts in."""
        self.edges: tuple[Edge, ...] = tuple(edges)
        """Every edge, in table order."""
        self.triggers: tuple[StrEnum, ...] = tuple(triggers)
        """Every trigger the table knows."""
        self.coverage: tuple[NotModelled, ...] = tuple(coverage)
        """How the field's vocabulary maps onto this table."""
        self._render = render
        self.timer_triggers: Mapping[TimerKind, StrEnum] = dict(timer_triggers or {})
        """The trigger each timer kind fires (for the table check)."""
        self._desk = desk
        lookup: dict[tuple[Any, Any], list[Edge]] = {}
        for edge in self.edges:
            if edge.source not in self.states or edge.dest not in self.states:
                raise ValueError(f"{name}: edge {edge} names an unknown state")
            lookup.setdefault((edge.source, edge.trigger), []).append(edge)
        self._lookup: dict[tuple[Any, Any], tuple[Edge, ...]] = {
            key: tuple(group) for key, group in lookup.items()
        }
        allowed: dict[Any, set[str]] = {state: set() for state in self.states}
        for source, trigger in self._lookup:
            allowed[source].add(trigger.value)
        self._allowed = {state: frozenset(names) for state, names in allowed.items()}
        self.machine = self._build_machine()
        """The one shared ``transitions.Machine`` of this lifecycle (no models attached)."""

    # -- the hot path ------------------------------------------------------------------

    def step(self, record: R, trigger: StrEnum, event: E, context: C) -> Outcome[R]:
        """Apply ``event`` (of kind ``trigger``) to ``record``; raise if it cannot apply."""
        state = record.state
        edges = self._lookup.get((state, trigger))
        if edges is None:
            raise IllegalTransition(self.name, state.value, trigger.value, self._allowed[state])
        chosen: Edge | None = None
        for edge in edges:
            if edge.guard is None or edge.guard(record, event, context):
                chosen = edge
                break
        if chosen is None:
            refused = ", ".join(str(edge.guard_name) for edge in edges)
            raise IllegalTransition(
                self.name,
                state.value,
                trigger.value,
                self._allowed[state],
                reason=f"no guard accepted it: {refused}",
            )
        name: str = trigger._value_  # the plain attribute, not the slower ``.value`` property
        if chosen.action is not None:
            changes, effects = chosen.action(record, event, context)
        else:
            changes, effects = {}, ()
        dest = chosen.dest
        if dest is state:
            if not changes:  # a note: nothing to rebuild (the record is frozen)
                return Outcome(record, effects, name)
            return Outcome(cast(R, evolve(record, changes)), effects, name)
        changes = {**changes, "state": dest}  # never write into the action's dict
        old_info = self.states[state]
        new_info = self.states[dest]
        deadlines = changes.get("deadlines", record.deadlines)
        if deadlines:
            kept = tuple(d for d in deadlines if d.kind in new_info.timers)
            if kept != deadlines:
                changes["deadlines"] = kept
        new_record = cast(R, evolve(record, changes))
        if old_info.task_list is not new_info.task_list:
            effects = self._task_effects(new_record, old_info, new_info) + effects
        return Outcome(new_record, effects, name)

    def _task_effects(self, record: R, old: StateInfo, new: StateInfo) -> tuple[Effect, ...]:
        """Move the (already updated) record from the old state's task list to the new one's."""
        out: list[Effect] = []
        if old.task_list is not None:
            out.append(RemoveTask(old.task_list, record.id))
        if new.task_list is not None:
            instruction = self.instruction(record) or new.label
            out.append(AddTask(new.task_list, record.id, instruction, self._desk(record)))
        return tuple(out)

    def take_timer(
        self, record: R, kind: TimerKind, triggers: Mapping[TimerKind, TriggerT]
    ) -> tuple[R, TriggerT]:
        """The record without its ``kind`` deadline, and the trigger that deadline fires.

        Raises :class:`IllegalTransition` when this side never sets such a timer or the
        record has none set, so a timer fires at most once.
        """
        trigger = triggers.get(kind)  # None: a kind this side never sets
        if trigger is None or not any(d.kind is kind for d in record.deadlines):
            raise IllegalTransition(
                self.name,
                record.state.value,
                (trigger or kind).value,
                self._allowed[record.state],
                reason=f"no {kind.value} deadline is set",
            )
        kept = tuple(d for d in record.deadlines if d.kind is not kind)
        return cast(R, evolve(record, {"deadlines": kept})), trigger

    # -- queries -----------------------------------------------------------------------

    def allowed(self, state: Any) -> frozenset[str]:
        """The triggers a request in ``state`` accepts."""
        return self._allowed[state]

    def edges_for(self, state: Any, trigger: StrEnum) -> tuple[Edge, ...]:
        """The edges for this state and trigger, in the order they are tried."""
        return self._lookup.get((state, trigger), ())

    def info(self, state: Any) -> StateInfo:
        """The metadata of a state."""
        return self.states[state]

    def instruction(self, record: Any) -> str | None:
        """The operator instruction for the record's state, filled in from the record."""
        template = self.states[record.state].instruction
        if template is None:
            return None
        return self._render(record, template)

    # -- derived views -----------------------------------------------------------------

    def _build_machine(self) -> Machine:
        machine = Machine(
            model=None,
            states=[state.value for state in self.states],
            initial=self.initial.value,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        for edge in self.edges:
            machine.add_transition(
                trigger=edge.trigger.value,
                source=edge.source.value,
                dest=edge.dest.value,
                conditions=[str(edge.guard_name)] if edge.guard is not None else None,
            )
        return machine

    def to_dict(self) -> dict[str, Any]:
        """The table as plain data (the JSON export; see docs/lifecycles.md)."""
        return {
            "schema_version": EXPORT_SCHEMA_VERSION,
            "lifecycle": self.name,
            "initial": self.initial.value,
            "states": [
                {
                    "name": state.value,
                    "label": info.label,
                    "terminal": info.terminal,
                    "needs_attention": info.needs_attention,
                    "task_list": info.task_list.value if info.task_list else None,
                    "instruction": info.instruction,
                    "iso_status": info.iso_status,
                    "timers": sorted(kind.value for kind in info.timers),
                    "accepts": sorted(self._allowed[state]),
                }
                for state, info in self.states.items()
            ],
            "triggers": [trigger.value for trigger in self.triggers],
            "edges": [
                {
                    "source": edge.source.value,
                    "trigger": edge.trigger.value,
                    "dest": edge.dest.value,
                    "guard": edge.guard_name,
                    "action": edge.action_name,
                }
                for edge in self.edges
            ],
            "coverage": [
                {
                    "name": item.name,
                    "kind": item.kind,
                    "modelled": item.modelled,
                    "treatment": item.treatment,
                }
                for item in self.coverage
            ],
        }

    def to_mermaid(self) -> str:
        """The table as a Mermaid ``stateDiagram-v2``."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for edge in self.edges:
            label = edge.trigger.value
            if edge.guard is not None:
                label += f" [{edge.guard_name}]"
            lines.append(f"    {edge.source.value} --> {edge.dest.value}: {label}")
        for state, info in self.states.items():
            if info.terminal:
                lines.append(f"    {state.value} --> [*]")
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """The states as docs/lifecycles.md tabulates them, with the guard and edge counts."""
        lines = [
            "| state | staff label | task list | attention | terminal | ISO status | timers "
            "| operator instruction |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for state, info in self.states.items():
            cells = (
                f"`{state.value}`",
                info.label,
                info.task_list.value if info.task_list else "",
                "yes" if info.needs_attention else "",
                "yes" if info.terminal else "",
                info.iso_status or "",
                ", ".join(sorted(kind.value for kind in info.timers)),
                info.instruction or "",
            )
            lines.append("| " + " | ".join(cells) + " |")
        guards = sorted({str(edge.guard_name) for edge in self.edges if edge.guard is not None})
        lines += [
            "",
            f"Guards ({len(guards)}): " + ", ".join(f"`{name}`" for name in guards) + ".",
            "",
            f"Edges: {len(self.edges)}; triggers: {len(self.triggers)}; "
            f"coverage rows: {len(self.coverage)}.",
        ]
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        """The table as a Graphviz DOT digraph."""
        lines = [f'digraph "{self.name}" {{', "    rankdir=LR;"]
        for state, info in self.states.items():
            shape = "doublecircle" if info.terminal else "box"
            label = f"{state.value}\\n{info.label}".replace('"', "'")
            lines.append(f'    "{state.value}" [shape={shape}, label="{label}"];')
        for edge in self.edges:
            label = edge.trigger.value
            if edge.guard is not None:
                label += f"\\n[{edge.guard_name}]"
            lines.append(f'    "{edge.source.value}" -> "{edge.dest.value}" [label="{label}"];')
        lines.append("}")
        return "\n".join(lines) + "\n"

    # -- checks ------------------------------------------------------------------------

    def reachable(self) -> frozenset[Any]:
        """The states reachable from the initial state."""
        seen = {self.initial}
        queue = deque([self.initial])
        successors: dict[Any, set[Any]] = {}
        for edge in self.edges:
            successors.setdefault(edge.source, set()).add(edge.dest)
        while queue:
            for nxt in successors.get(queue.popleft(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return frozenset(seen)

    def can_end(self) -> frozenset[Any]:
        """The states from which some terminal state can be reached."""
        ending = {state for state, info in self.states.items() if info.terminal}
        changed = True
        while changed:
            changed = False
            for edge in self.edges:
                if edge.dest in ending and edge.source not in ending:
                    ending.add(edge.source)
                    changed = True
        return frozenset(ending)

    def check(self) -> list[str]:
        """Every problem with the table (an empty list when it is sound)."""
        problems: list[str] = []
        for state in sorted(set(self.states) - self.reachable()):
            problems.append(f"state {state.value} is unreachable from {self.initial.value}")
        for state in sorted(set(self.states) - self.can_end()):
            problems.append(f"state {state.value} can never reach a terminal state")
        for (state, trigger), edges in self._lookup.items():
            guards = [edge.guard_name for edge in edges]
            if None in guards[:-1]:
                problems.append(
                    f"{state.value} --{trigger.value}: an unguarded edge hides the ones after it"
                )
            named = [g for g in guards if g is not None]
            if len(named) != len(set(named)):
                problems.append(f"{state.value} --{trigger.value}: a guard is used twice")
        for state, info in self.states.items():
            if info.terminal:
                for edge in self.edges:
                    if edge.source is state and edge.dest is not state:
                        problems.append(
                            f"terminal state {state.value} leaves on {edge.trigger.value}"
                        )
        for state, info in self.states.items():
            for kind in info.timers:
                trigger = self.timer_triggers.get(kind)
                if trigger is None or (state, trigger) not in self._lookup:
                    problems.append(
                        f"state {state.value} keeps a {kind.value} timer it cannot fire"
                    )
        used = {edge.trigger for edge in self.edges}
        for trigger in self.triggers:
            if trigger not in used:
                problems.append(f"trigger {trigger.value} has no edge")
        return problems
