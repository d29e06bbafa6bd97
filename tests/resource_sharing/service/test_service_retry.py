"""The retry policy and the outbox's ordering, as properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.effects import NotifyStaff
from resource_sharing.errors import InvalidInput
from resource_sharing.memory import MemoryStore
from resource_sharing.ports import OutboxEntry, OutboxStatus, Port
from resource_sharing.records import Side
from resource_sharing.service import DeliveryPolicy, RetryPolicy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 20),
    base_delay=st.integers(1, 600).map(lambda s: timedelta(seconds=s)),
    max_delay=st.integers(600, 86_400).map(lambda s: timedelta(seconds=s)),
    jitter=st.floats(0.0, 0.9),
)
draws = st.floats(0.0, 1.0, exclude_max=True)


@given(policies, st.integers(1, 200), draws)
def test_a_delay_is_the_doubled_base_capped_and_spread_by_the_jitter(
    policy: RetryPolicy, failures: int, draw: float
) -> None:
    doubled = policy.base_delay.total_seconds() * 2.0 ** min(failures - 1, 64)
    raw = timedelta(seconds=min(doubled, policy.max_delay.total_seconds()))
    delay = policy.delay(failures, draw)
    assert raw * (1 - policy.jitter) - timedelta(microseconds=1) <= delay
    assert delay <= raw * (1 + policy.jitter) + timedelta(microseconds=1)


@given(policies, st.integers(1, 40), draws)
def test_without_jitter_delays_never_shrink(
    policy: RetryPolicy, failures: int, draw: float
) -> None:
    steady = attrs.evolve(policy, jitter=0.0)
    assert steady.delay(failures, draw) <= steady.delay(failures + 1, draw)
    assert steady.delay(failures, draw) == steady.delay(failures, 0.0)


@given(policies, st.integers(1, 40), draws, st.booleans())
def test_it_gives_up_exactly_at_the_limit_or_at_a_refusal(
    policy: RetryPolicy, failures: int, draw: float, retryable: bool
) -> None:
    at = policy.next_attempt(T0, failures, draw, retryable=retryable)
    if not retryable or failures >= policy.max_attempts:
        assert at is None
    else:
        assert at is not None
        assert at > T0


def test_the_jitter_draw_comes_from_outside_and_bad_values_are_refused() -> None:
    policy = RetryPolicy(base_delay=timedelta(seconds=100), jitter=0.5)
    assert policy.delay(1, 0.0) == timedelta(seconds=50)
    assert policy.delay(1, 0.5) == timedelta(seconds=100)
    for bad in (
        lambda: policy.delay(0, 0.5),
        lambda: policy.delay(1, 1.0),
        lambda: RetryPolicy(max_attempts=0),
        lambda: RetryPolicy(jitter=1.0),
        lambda: RetryPolicy(base_delay=timedelta(0)),
        lambda: DeliveryPolicy(lease=timedelta(0)),
    ):
        with pytest.raises(InvalidInput):
            bad()


def test_each_port_has_its_own_policy() -> None:
    policy = DeliveryPolicy(printer=RetryPolicy(max_attempts=2))
    assert policy.for_port(Port.PRINTER).max_attempts == 2
    assert policy.for_port(Port.PEER) == policy.peer
    assert {policy.for_port(p).max_attempts for p in Port} >= {2}
    assert DeliveryPolicy().with_all(max_attempts=4).for_port(Port.NOTIFIER).max_attempts == 4


# -- the outbox keeps each stream's order, whatever fails ---------------------------------

plans = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 5)),  # (stream, minute committed)
    min_size=1,
    max_size=25,
)


@given(plans, st.lists(st.booleans(), min_size=1, max_size=200), st.integers(1, 6))
def test_deliveries_of_a_stream_follow_its_commit_order(
    plan: list[tuple[int, int]], outcomes: list[bool], limit: int
) -> None:
    """Claim, deliver or fail (retry in a minute) at random: each stream goes in order."""
    store = MemoryStore()
    entries = [
        OutboxEntry(
            id=f"e-{n:03}",
            key=f"e-{n:03}",
            side=Side.BORROWING,
            request_id=f"b-{stream}",
            port=Port.NOTIFIER,
            stream=f"s-{stream}",
            effect=NotifyStaff(f"b-{stream}", f"notice {n}"),
            created_at=T0 + timedelta(minutes=minute),
            next_attempt_at=T0 + timedelta(minutes=minute),
        )
        for n, (stream, minute) in enumerate(plan)
    ]
    with store.transaction() as uow:
        uow.outbox.enqueue(entries)
    delivered: list[OutboxEntry] = []
    now = T0 + timedelta(minutes=10)
    draws = iter(outcomes)  # then every attempt succeeds
    for _ in range(len(plan) * 20 + len(outcomes)):
        with store.transaction() as uow:
            batch = uow.outbox.claim(
                Port.NOTIFIER, now=now, limit=limit, lease=timedelta(minutes=5), owner="d"
            )
        if not batch and len(delivered) == len(entries):
            break
        held: set[str] = set()
        for entry in batch:
            with store.transaction() as uow:
                if entry.stream in held:
                    uow.outbox.update(entry, owner="d")  # given back untried
                elif next(draws, True):
                    done = attrs.evolve(entry, status=OutboxStatus.DELIVERED, attempts=1)
                    uow.outbox.update(done, owner="d")
                    delivered.append(entry)
                else:
                    later = attrs.evolve(entry, next_attempt_at=now + timedelta(minutes=1))
                    uow.outbox.update(later, owner="d")
                    held.add(entry.stream)
        now += timedelta(minutes=1)
    assert len(delivered) == len(entries)
    for stream in {e.stream for e in entries}:
        mine = [e for e in entries if e.stream == stream]
        expected = sorted(mine, key=lambda e: (e.created_at, e.id))
        assert [e.id for e in delivered if e.stream == stream] == [e.id for e in expected]
