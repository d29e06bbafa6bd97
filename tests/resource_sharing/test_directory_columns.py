"""The directory's read-only copy and its partner columns, and the rota steps reading them.

A pool of the whole directory reads the partners' fields and the position indexes
(``inactive``, ``closing``...) from :class:`PartnerColumns`; any other pool scans its own
columns. The properties here hold the two ways to the same answers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.directory import (
    Capacity,
    Closure,
    Deflection,
    Directory,
    Partner,
    PartnerColumns,
    PartnerTerms,
    Service,
)
from resource_sharing.errors import InvalidInput
from resource_sharing.iso18626 import ServiceType
from resource_sharing.records import AgencyId, Money
from resource_sharing.rota import (
    NO_FACTS,
    Candidates,
    PartnerFacts,
    RotaContext,
    RotaJob,
    build_rota,
)
from resource_sharing.rota._pipeline import DEFAULT_FILTERS
from strategies_rota import TODAY, request

MARKS = ("inactive", "closing", "deflecting", "charging", "limited")

agencies = st.builds(
    AgencyId,
    value=st.sampled_from([f"XX-{n:02d}" for n in range(30)]),
    type=st.sampled_from(["ISIL", "OCLC"]),
)
partners = st.builds(
    Partner,
    agency=agencies,
    active=st.booleans(),
    closures=st.lists(
        st.builds(
            Closure,
            start=st.dates(date(2025, 2, 25), date(2025, 3, 3)),
            end=st.dates(date(2025, 3, 3), date(2025, 3, 9)),
            lending=st.booleans(),
        ),
        max_size=2,
    ).map(tuple),
    services=st.frozensets(st.sampled_from(Service)),
    terms=st.builds(
        PartnerTerms,
        delivery_days=st.integers(0, 10),
        cost=st.none()
        | st.builds(Money, st.integers(0, 30).map(Decimal), st.sampled_from(["USD", "EUR"])),
    ),
    capacity=st.builds(
        Capacity, per_day=st.none() | st.integers(0, 5), per_week=st.none() | st.integers(0, 9)
    ),
    deflection=st.builds(
        Deflection,
        publication_types=st.frozensets(st.sampled_from(["Book", "journal"]), max_size=1),
        newer_than_years=st.none() | st.integers(0, 40),
        older_than_years=st.none() | st.integers(0, 60),
    ),
)
partner_lists = st.lists(partners, max_size=30, unique_by=lambda p: p.agency)
facts = st.builds(
    PartnerFacts,
    sent_today=st.integers(0, 6),
    sent_this_week=st.integers(6, 12),
)


def _key(partner: Partner) -> tuple[str, str]:
    return partner.agency.type, partner.agency.value


def test_a_directory_keeps_a_read_only_copy_of_its_partners() -> None:
    a, b = AgencyId("A"), AgencyId("B")
    given_map = {a: Partner(a)}
    directory = Directory(given_map)
    given_map[b] = Partner(b)
    assert b not in directory.partners
    assert len(directory) == 1
    with pytest.raises(TypeError):
        directory.partners[b] = Partner(b)  # type: ignore[index]
    assert directory == Directory.of([Partner(a)])


def test_the_columns_are_built_once_per_directory() -> None:
    directory = Directory.of([Partner(AgencyId("B")), Partner(AgencyId("A"))])
    assert directory.columns is directory.columns
    assert directory.columns.agencies == (AgencyId("A"), AgencyId("B"))
    assert Directory.of(directory).columns is not directory.columns


@given(partner_lists)
def test_columns_hold_every_partners_fields_in_agency_order(rows: list[Partner]) -> None:
    columns = Directory.of(rows).columns
    ordered = sorted(rows, key=_key)
    assert columns.partners == tuple(ordered)
    assert columns.agencies == tuple(p.agency for p in ordered)
    assert columns.agency_values == tuple(p.agency.value for p in ordered)
    assert columns.active == tuple(p.active for p in ordered)
    assert columns.closures == tuple(p.closures for p in ordered)
    assert columns.services == tuple(p.services for p in ordered)
    assert columns.costs == tuple(p.terms.cost for p in ordered)
    assert columns.delivery_days == tuple(p.terms.delivery_days for p in ordered)
    assert columns.capacity_per_day == tuple(p.capacity.per_day for p in ordered)
    assert columns.capacity_per_week == tuple(p.capacity.per_week for p in ordered)
    assert columns.deflected_types == tuple(p.deflection.publication_types for p in ordered)
    assert columns.deflected_newer_than == tuple(p.deflection.newer_than_years for p in ordered)
    assert columns.deflected_older_than == tuple(p.deflection.older_than_years for p in ordered)
    assert dict(columns.positions) == {p.agency: i for i, p in enumerate(ordered)}


@given(partner_lists)
def test_the_position_indexes_mark_exactly_the_partners_they_name(rows: list[Partner]) -> None:
    columns = PartnerColumns.of(rows)
    ordered = columns.partners
    expected = {
        "inactive": [not p.active for p in ordered],
        "closing": [bool(p.closures) for p in ordered],
        "deflecting": [p.deflection != Deflection() for p in ordered],
        "charging": [p.terms.cost is not None for p in ordered],
        "limited": [p.capacity != Capacity() for p in ordered],
    }
    for mark, flags in expected.items():
        assert getattr(columns, mark) == tuple(i for i, flag in enumerate(flags) if flag)
    for service in Service:
        lacking = tuple(i for i, p in enumerate(ordered) if service not in p.services)
        assert columns.lacking[service] == lacking


@given(partner_lists, st.lists(facts, min_size=30, max_size=30))
def test_a_directory_pool_and_a_scanned_pool_agree(
    rows: list[Partner], fact_rows: list[PartnerFacts]
) -> None:
    columns = Directory.of(rows).columns
    n = len(columns.partners)
    fact_column = fact_rows[:n]
    indexed = Candidates(columns.partners, fact_column, [0] * n, source=columns)
    scanned = Candidates(list(columns.partners), fact_column, [0] * n)
    for mark in MARKS:
        assert list(indexed.marked(mark)) == list(scanned.marked(mark)), mark
    for service in Service:
        assert list(indexed.lacking(service)) == list(scanned.lacking(service))
    assert list(indexed.costs) == list(scanned.costs)
    for service_type in ServiceType:
        the_request = request(service_type=service_type, max_cost=Money(Decimal(9), "USD"))
        job = RotaJob(the_request, RotaContext(TODAY))
        for step in DEFAULT_FILTERS:
            assert step.screen(indexed, job) == step.screen(scanned, job), step.name


@given(partner_lists, st.data())
def test_a_pool_of_some_partners_reads_the_directorys_columns_at_their_positions(
    rows: list[Partner], data: st.DataObject
) -> None:
    columns = Directory.of(rows).columns
    n = len(columns.partners)
    positions = data.draw(st.lists(st.integers(0, max(n - 1, 0)), unique=True)) if n else []
    picked = [columns.partners[i] for i in positions]
    pool = Candidates(
        picked, [NO_FACTS] * len(picked), [0] * len(picked), source=columns, positions=positions
    )
    plain = Candidates(picked, [NO_FACTS] * len(picked), [0] * len(picked))
    assert list(pool.agencies) == [p.agency for p in picked]
    assert list(pool.costs) == list(plain.costs)
    for mark in MARKS:
        assert list(pool.marked(mark)) == list(plain.marked(mark))
    gone = set(data.draw(st.lists(st.integers(0, max(len(picked) - 1, 0)))))
    kept = pool.keep(gone)
    survivors = [p for i, p in enumerate(picked) if i not in gone]
    assert list(kept.partners) == survivors
    assert list(kept.services) == [p.services for p in survivors]
    assert list(kept.marked("inactive")) == [i for i, p in enumerate(survivors) if not p.active]


def test_an_unknown_mark_and_misaligned_columns_are_refused() -> None:
    pool = Candidates([Partner(AgencyId("A"))], [NO_FACTS], [0])
    with pytest.raises(InvalidInput, match="unknown mark"):
        pool.marked("gone fishing")
    with pytest.raises(InvalidInput, match="aligned"):
        Candidates([Partner(AgencyId("A"))], [], [0])
    columns = PartnerColumns.of([Partner(AgencyId("A")), Partner(AgencyId("B"))])
    with pytest.raises(InvalidInput, match="positions"):
        Candidates([Partner(AgencyId("A"))], [NO_FACTS], [0], source=columns)


def test_equal_scores_are_ordered_by_agency_whatever_the_directory_order() -> None:
    ids = [AgencyId("Z"), AgencyId("B", "OCLC"), AgencyId("A"), AgencyId("A", "OCLC")]
    rota = build_rota(request(), Directory.of(Partner(a) for a in ids), RotaContext(TODAY))
    assert rota.agencies == (AgencyId("A"), AgencyId("Z"), AgencyId("A", "OCLC"), ids[1])


def test_the_entries_are_made_once_when_first_asked_for() -> None:
    ids = [AgencyId("B"), AgencyId("A")]
    rota = build_rota(request(), Directory.of(Partner(a) for a in ids), RotaContext(TODAY))
    assert rota.entries is rota.entries
    assert [(e.agency, e.reason, e.fallback) for e in rota.entries] == [
        (AgencyId("A"), "directory", False),
        (AgencyId("B"), "directory", False),
    ]
