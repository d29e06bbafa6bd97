"""The candidate pool's columns: extracted once, shared by the steps, carried on keep."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from resource_sharing.directory import (
    Capacity,
    Closure,
    Deflection,
    Directory,
    Partner,
    PartnerTerms,
    Service,
)
from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId, Money
from resource_sharing.rota import (
    NO_FACTS,
    BalanceStats,
    Candidates,
    DropReason,
    FillStats,
    PartnerFacts,
    RotaContext,
    RotaJob,
    RotaPolicy,
    build_rota,
)
from resource_sharing.rota._pipeline import DEFAULT_FILTERS
from strategies_rota import TODAY, agency, request

A, B, C = agency(1), agency(2), agency(3)


def pool_of(partners: list[Partner], facts: list[PartnerFacts] | None = None) -> Candidates:
    return Candidates(partners, facts or [NO_FACTS] * len(partners), [0] * len(partners))


def test_typed_columns_hold_each_candidates_attribute_in_order() -> None:
    closure = Closure(date(2025, 3, 1), date(2025, 3, 9))
    cost = Money(Decimal(5), "USD")
    partners = [
        Partner(
            A,
            active=False,
            closures=(closure,),
            services=frozenset({Service.COPY}),
            terms=PartnerTerms(delivery_days=7, cost=cost),
            capacity=Capacity(per_day=2, per_week=9),
            deflection=Deflection(frozenset({"Book"}), newer_than_years=3, older_than_years=90),
        ),
        Partner(B),
    ]
    fill, balance = FillStats(4, 3), BalanceStats(2, 1)
    facts = [PartnerFacts(1, 2, 3, 1.5, fill, balance), NO_FACTS]
    pool = pool_of(partners, facts)
    assert pool.agencies == [A, B]
    assert pool.agency_values == [A.value, B.value]
    assert pool.active == [False, True]
    assert pool.closures == [(closure,), ()]
    assert pool.services == [frozenset({Service.COPY}), Partner(B).services]
    assert pool.deflected_types == [frozenset({"Book"}), frozenset()]
    assert pool.deflected_newer_than == [3, None]
    assert pool.deflected_older_than == [90, None]
    assert pool.costs == [cost, None]
    assert pool.delivery_days == [7, PartnerTerms().delivery_days]
    assert pool.capacity_per_day == [2, None]
    assert pool.capacity_per_week == [9, None]
    assert pool.open_requests == [1, 0]
    assert pool.sent_today == [2, 0]
    assert pool.sent_this_week == [3, 0]
    assert pool.turnaround_days == [1.5, None]
    assert pool.fills == [fill, None]
    assert pool.balances == [balance, None]


def test_a_column_is_extracted_once_and_shared() -> None:
    pool = pool_of([Partner(A), Partner(B)])
    assert pool.active is pool.active
    calls: list[int] = []

    def extract(candidates: Candidates) -> list[str]:
        calls.append(1)
        return [p.name for p in candidates.partners]

    first = pool.column("test.name", extract)
    assert pool.column("test.name", extract) is first
    assert calls == [1]


def test_a_column_of_the_wrong_length_is_refused() -> None:
    pool = pool_of([Partner(A), Partner(B)])
    with pytest.raises(InvalidInput, match="gave 1 values for 2"):
        pool.column("test.short", lambda candidates: [1])


def test_keep_drops_positions_and_carries_only_the_named_columns() -> None:
    pool = pool_of([Partner(A), Partner(B, active=False), Partner(C)])
    assert pool.agencies == [A, B, C]
    assert pool.active == [True, False, True]
    pool.column("test.index", lambda candidates: [0, 1, 2])
    kept = pool.keep({1, 7, -1}, carry=("agencies", "test.index", "never.made"))
    assert kept.partners == [Partner(A), Partner(C)]
    assert kept.tiers == [0, 0]
    # Carried: the compressed list, not a new extraction.
    assert kept.column("test.index", lambda candidates: [9, 9]) == [0, 2]
    assert kept.agencies == [A, C]
    # Not carried: extracted again from the kept partners.
    assert kept.active == [True, True]
    assert kept.column("never.made", lambda candidates: [5, 6]) == [5, 6]


def test_custom_steps_still_get_the_pool_and_can_share_its_columns() -> None:
    seen: list[list[bool]] = []

    class Shy:
        name = "shy"

        def screen(self, candidates: Candidates, job: RotaJob) -> list[tuple[int, object]]:
            seen.append(list(candidates.active))
            return []

    policy = RotaPolicy(filters=(*DEFAULT_FILTERS, Shy()))  # type: ignore[arg-type]
    rota = build_rota(
        request(), Directory.of([Partner(A, active=False), Partner(B)]), RotaContext(TODAY), policy
    )
    assert rota.agencies == (B,)
    assert seen == [[False, True]]


def test_equal_verdicts_share_one_drop_and_read_the_same() -> None:
    full = Capacity(per_day=2)
    partners = [Partner(agency(i), capacity=full) for i in range(1, 5)]
    facts = {p.agency: PartnerFacts(sent_today=2 + (i == 3)) for i, p in enumerate(partners)}
    rota = build_rota(request(), Directory.of(partners), RotaContext(TODAY, facts=facts))
    dropped = rota.explanation.dropped()
    assert {d.reason for d in dropped.values()} == {DropReason.CAPACITY_REACHED}
    details = [dropped[p.agency].detail for p in partners]
    assert details == [
        "2 new requests today; declared capacity 2 a day",
        "2 new requests today; declared capacity 2 a day",
        "2 new requests today; declared capacity 2 a day",
        "3 new requests today; declared capacity 2 a day",
    ]


def test_the_order_follows_the_reported_totals_on_a_mixed_directory() -> None:
    rng = random.Random(3)
    partners = []
    facts: dict[AgencyId, PartnerFacts] = {}
    for i in range(300):
        roll = rng.random()
        partner = Partner(
            agency(i + 1),
            active=roll > 0.05,
            terms=PartnerTerms(
                delivery_days=rng.randint(1, 9),
                cost=Money(Decimal(rng.randint(0, 30)), "USD") if roll < 0.3 else None,
            ),
            capacity=Capacity(per_day=rng.randint(1, 12)) if roll > 0.8 else Capacity(),
        )
        partners.append(partner)
        if roll < 0.7:  # some partners have no facts: declared delivery days, neutral scores
            asked = rng.randint(0, 40)
            facts[partner.agency] = PartnerFacts(
                open_requests=rng.randint(0, 5),
                sent_today=rng.randint(0, 10),
                turnaround_days=rng.choice([None, rng.uniform(0.5, 9)]),
                fill=FillStats(asked, rng.randint(0, asked)),
                balance=BalanceStats(rng.randint(0, 50), rng.randint(0, 50)),
            )
    rota = build_rota(
        request(max_cost=Money(Decimal(20), "USD")),
        Directory.of(partners),
        RotaContext(TODAY, facts=facts),
    )
    reports = [r for r in rota.explanation.reports() if r.kept]
    assert [r.agency for r in reports] == list(rota.agencies)
    keys = [(-(r.total or 0.0), r.agency.type, r.agency.value) for r in reports]
    assert keys == sorted(keys)
    assert len(rota.agencies) + len(rota.explanation.dropped()) == len(partners)
