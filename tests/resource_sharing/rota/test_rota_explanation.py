"""The rota's explanation and entries: every candidate reported, in order, with its totals."""

from __future__ import annotations

import random
from decimal import Decimal

from resource_sharing.directory import Capacity, Directory, Partner, PartnerTerms
from resource_sharing.records import AgencyId, Money
from resource_sharing.rota import (
    BalanceStats,
    DropReason,
    FillStats,
    PartnerFacts,
    RotaContext,
    build_rota,
)
from tests.strategies.rota import TODAY, agency, request


def test_equal_verdicts_read_the_same() -> None:
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
    assert len(rota.explanation) == len(partners)


def test_the_entries_are_made_once_when_first_asked_for() -> None:
    ids = [AgencyId("B"), AgencyId("A")]
    rota = build_rota(request(), Directory.of(Partner(a) for a in ids), RotaContext(TODAY))
    assert rota.entries is rota.entries
    assert [(e.agency, e.reason, e.fallback) for e in rota.entries] == [
        (AgencyId("A"), "directory", False),
        (AgencyId("B"), "directory", False),
    ]


def test_one_report_matches_the_same_candidate_in_all_reports() -> None:
    partners = [Partner(agency(i), active=i != 2) for i in range(1, 5)]
    facts = {agency(3): PartnerFacts(open_requests=4)}
    rota = build_rota(request(), Directory.of(partners), RotaContext(TODAY, facts=facts))
    everyone = {r.agency: r for r in rota.explanation.reports()}
    assert set(everyone) == rota.explanation.candidates
    for partner in partners:
        assert rota.explanation.report(partner.agency) == everyone[partner.agency]
    dropped = everyone[agency(2)]
    assert dropped.drop is not None
    assert dropped.components == ()
    assert dropped.rank is None
