"""Properties of both lifecycles under random event sequences (hypothesis).

Random sequences of every kind of event, legal or not, with drawn policies and time
passing: the request is always in a state of its table; a refused event (an
IllegalTransition or a PeerError) changes nothing; a terminal state takes nothing but
notes and status requests, and never leaves; deadlines are only those the state keeps;
and applying the same events again gives the same outcomes.
"""

from __future__ import annotations

import copy
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.borrowing import BORROWING, handle_borrowing
from resource_sharing.errors import IllegalTransition, PeerError
from resource_sharing.lending import LENDING, handle_lending
from resource_sharing.lifecycle import Lifecycle, Outcome
from tests.resource_sharing.builders_lifecycle import BS, LS, borrowing_in, lending_in
from tests.strategies.lifecycle import (
    LENDING_MAKERS,
    borrowing_contexts,
    borrowing_makers,
    lending_contexts,
    step_gaps,
)

QUERIES = {
    "borrowing": {"lender_note"},
    "lending": {"borrower_note", "borrower_status_request"},
}
"""What a terminal state may still take (as self-loops)."""


def _run(
    lifecycle: Lifecycle[Any, Any, Any],
    handle: Any,
    request: Any,
    makers: list[Any],
    gaps: list[Any],
    ctx: Any,
) -> list[Outcome[Any] | str]:
    """Apply the events, checking every step; returns what each step gave."""
    results: list[Outcome[Any] | str] = []
    for make, gap in zip(makers, gaps, strict=False):
        ctx = attrs.evolve(ctx, now=ctx.now + gap)
        event = make(request)
        before = request
        snapshot = copy.deepcopy(request)
        info = lifecycle.info(request.state)
        refused: IllegalTransition | PeerError | None = None
        try:
            outcome = handle(request, event, ctx)
        except (IllegalTransition, PeerError) as error:
            refused = error
        if refused is not None:
            assert request is before
            assert request == snapshot  # nothing changed
            if isinstance(refused, IllegalTransition):
                assert refused.state == request.state.value
                assert set(refused.allowed) == lifecycle.allowed(request.state)
            results.append(repr(refused))
            continue
        new = outcome.record
        assert new.state in lifecycle.states
        if not outcome.applied:
            assert new is request
        if info.terminal and outcome.applied:
            assert new.state is request.state
            assert outcome.trigger in QUERIES[lifecycle.name]
        kept = lifecycle.info(new.state).timers
        assert all(d.kind in kept for d in new.deadlines), (new.state, new.deadlines)
        results.append(outcome)
        request = new
    return results


@given(
    start=st.sampled_from(BS),
    ctx=borrowing_contexts(),
    makers=st.lists(borrowing_makers(), max_size=40),
    gaps=st.lists(step_gaps, min_size=40, max_size=40),
)
def test_borrowing_random_sequences(
    start: BS, ctx: Any, makers: list[Any], gaps: list[Any]
) -> None:
    request = borrowing_in(start)
    first = _run(BORROWING, handle_borrowing, request, makers, gaps, ctx)
    second = _run(BORROWING, handle_borrowing, request, makers, gaps, ctx)
    assert first == second  # deterministic: same events, same outcomes


@given(
    start=st.sampled_from(LS),
    ctx=lending_contexts(),
    makers=st.lists(st.sampled_from(LENDING_MAKERS), max_size=40),
    gaps=st.lists(step_gaps, min_size=40, max_size=40),
)
def test_lending_random_sequences(start: LS, ctx: Any, makers: list[Any], gaps: list[Any]) -> None:
    request = lending_in(start)
    first = _run(LENDING, handle_lending, request, makers, gaps, ctx)
    second = _run(LENDING, handle_lending, request, makers, gaps, ctx)
    assert first == second


def test_terminal_states_only_take_queries() -> None:
    for lifecycle in (BORROWING, LENDING):
        terminal = [s for s, info in lifecycle.states.items() if info.terminal]
        assert terminal
        for state in terminal:
            assert lifecycle.allowed(state) == QUERIES[lifecycle.name]
            for edge in lifecycle.edges:
                if edge.source is state:
                    assert edge.dest is state
