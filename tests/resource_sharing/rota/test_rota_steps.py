"""The built-in filters and scorers: one test each through the rota, then each step alone."""

from __future__ import annotations

from dataclasses import dataclass
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
    PartnerTerms,
    Service,
)
from resource_sharing.iso18626 import ServiceType
from resource_sharing.records import AgencyId, BorrowingRequest, Citation, Identifier, Money
from resource_sharing.rota import (
    DEFAULT_FILTERS,
    DEFAULT_SCORERS,
    NO_FACTS,
    AlreadyTriedFilter,
    BalanceStats,
    CapacityFilter,
    ClosedFilter,
    DeflectionFilter,
    Drop,
    DropReason,
    FillStats,
    Holding,
    HoldingsAnswer,
    InactiveFilter,
    NotHeldFilter,
    OwnInstitutionFilter,
    PartnerFacts,
    Rota,
    RotaContext,
    RotaJob,
    RotaPolicy,
    RotaTemplate,
    ServiceFilter,
    TierScorer,
    accepted_services,
    build_rota,
)
from tests.strategies.rota import HOME, TODAY, agency, attempt, facts, partners, request

A, B, C = agency(1), agency(2), agency(3)


def rota_of(partners: list[Partner], context: RotaContext | None = None, **req: object) -> Rota:
    return build_rota(request(**req), Directory.of(partners), context or RotaContext(TODAY))


def dropped(
    partners: list[Partner], context: RotaContext | None = None, **req: object
) -> dict[AgencyId, DropReason]:
    rota = rota_of(partners, context, **req)
    return {a: d.reason for a, d in rota.explanation.dropped().items()}


# --- filters -------------------------------------------------------------------------


def test_inactive_partners_are_dropped() -> None:
    assert dropped([Partner(A, active=False), Partner(B)]) == {A: DropReason.INACTIVE}


def test_partners_closed_for_lending_on_the_date_are_dropped() -> None:
    closed = Closure(date(2025, 3, 1), date(2025, 3, 9), note="stocktaking")
    borrowing_only = Closure(date(2025, 3, 1), date(2025, 3, 9), lending=False, borrowing=True)
    over = Closure(date(2025, 2, 1), date(2025, 3, 2))
    rota = rota_of(
        [
            Partner(A, closures=(closed,)),
            Partner(B, closures=(borrowing_only,)),
            Partner(C, closures=(over,)),
        ]
    )
    drops = rota.explanation.dropped()
    assert set(drops) == {A}
    assert drops[A].reason is DropReason.CLOSED
    assert "stocktaking" in drops[A].detail


@pytest.mark.parametrize(
    ("service_type", "services", "supplies"),
    [
        (ServiceType.LOAN, {Service.COPY, Service.DIGITAL}, False),
        (ServiceType.LOAN, {Service.LOAN}, True),
        (ServiceType.COPY, {Service.DIGITAL}, True),
        (ServiceType.COPY, {Service.LOAN}, False),
        (ServiceType.COPY_OR_LOAN, {Service.LOAN}, True),
    ],
)
def test_partners_not_supplying_the_service_are_dropped(
    service_type: ServiceType, services: set[Service], supplies: bool
) -> None:
    drops = dropped([Partner(A, services=frozenset(services))], service_type=service_type)
    assert drops == ({} if supplies else {A: DropReason.SERVICE_NOT_SUPPLIED})


def test_the_context_can_narrow_the_services_to_digital_delivery() -> None:
    context = RotaContext(TODAY, services=frozenset({Service.DIGITAL}))
    partners = [
        Partner(A, services=frozenset({Service.COPY})),
        Partner(B, services=frozenset(Service)),
    ]
    assert dropped(partners, context, service_type=ServiceType.COPY) == {
        A: DropReason.SERVICE_NOT_SUPPLIED
    }


def test_our_own_institution_and_its_other_symbols_are_dropped() -> None:
    other_symbol = AgencyId("HOME", "OCLC")
    context = RotaContext(TODAY, own_agencies=frozenset({other_symbol}))
    drops = dropped([Partner(HOME), Partner(other_symbol), Partner(A)], context)
    assert drops == {HOME: DropReason.OWN_INSTITUTION, other_symbol: DropReason.OWN_INSTITUTION}


def test_partners_already_tried_are_dropped_unless_staff_re_request_them() -> None:
    partners = [Partner(A), Partner(B), Partner(C)]
    attempts = (attempt(1, A), attempt(2, B))
    rota = rota_of(partners, attempts=attempts)
    assert rota.explanation.dropped()[B].detail == "already asked (attempt 2)"
    assert set(rota.explanation.dropped()) == {A, B}
    again = RotaContext(TODAY, rerequest=frozenset({B}))
    assert dropped(partners, again, attempts=attempts) == {A: DropReason.ALREADY_TRIED}


def test_partners_not_holding_the_item_are_dropped_matching_normalised_identifiers() -> None:
    holdings = HoldingsAnswer(
        (
            Holding(A, (Identifier("ISBN", "978-0-306-40615-7"),)),  # the same book as "(pbk.)"
            Holding(B, (Identifier("ISBN", "9780804429573"),)),  # another book
            Holding(C),  # the locate matched without identifiers
        )
    )
    partners = [Partner(A), Partner(B), Partner(C), Partner(agency(4))]
    drops = dropped(partners, RotaContext(TODAY, holdings=holdings))
    assert drops == {B: DropReason.NOT_HELD, agency(4): DropReason.NOT_HELD}


def test_no_holdings_answer_drops_nobody() -> None:
    assert dropped([Partner(A)], RotaContext(TODAY, holdings=None)) == {}


def test_unavailable_holders_are_dropped_only_when_availability_is_required() -> None:
    holdings = HoldingsAnswer((Holding(A, available=False), Holding(B)))
    context = RotaContext(TODAY, holdings=holdings)
    strict = tuple(
        NotHeldFilter(require_available=True) if isinstance(f, NotHeldFilter) else f
        for f in DEFAULT_FILTERS
    )
    lenient = build_rota(request(), Directory.of([Partner(A), Partner(B)]), context)
    assert lenient.agencies == (A, B)
    rota = build_rota(
        request(), Directory.of([Partner(A), Partner(B)]), context, RotaPolicy(filters=strict)
    )
    assert rota.agencies == (B,)
    assert "no copy is available" in rota.explanation.dropped()[A].detail


def test_deflection_by_format_age_and_cost() -> None:
    usd = "USD"
    partners = [
        Partner(A, deflection=Deflection(publication_types=frozenset({"book"}))),
        Partner(B, deflection=Deflection(newer_than_years=30)),
        Partner(C, terms=PartnerTerms(cost=Money(Decimal("20"), usd))),
        Partner(agency(4), terms=PartnerTerms(cost=Money(Decimal("5"), "EUR"))),
        Partner(agency(5), terms=PartnerTerms(cost=Money(Decimal("10"), usd))),
        Partner(agency(6), deflection=Deflection(older_than_years=20)),
    ]
    drops = dropped(partners, max_cost=Money(Decimal("10"), usd))
    assert drops == {
        A: DropReason.DEFLECTED_FORMAT,
        B: DropReason.DEFLECTED_AGE,  # published 1999, 26 years before 2025
        C: DropReason.DEFLECTED_COST,
        agency(4): DropReason.DEFLECTED_COST,  # another currency cannot be shown to be within
        agency(6): DropReason.DEFLECTED_AGE,
    }


def test_deflection_ignores_what_the_citation_does_not_say() -> None:
    partners = [
        Partner(A, deflection=Deflection(publication_types=frozenset({"Book"}))),
        Partner(B, deflection=Deflection(newer_than_years=30)),
        Partner(C, terms=PartnerTerms(cost=Money(Decimal("20"), "USD"))),
    ]
    assert dropped(partners, citation=Citation(title="x")) == {}


def test_partners_at_declared_capacity_are_dropped() -> None:
    partners = [
        Partner(A, capacity=Capacity(per_day=3)),
        Partner(B, capacity=Capacity(per_week=10)),
        Partner(C, capacity=Capacity(per_day=3, per_week=10)),
    ]
    facts = {
        A: PartnerFacts(sent_today=3),
        B: PartnerFacts(sent_today=3, sent_this_week=10),
        C: PartnerFacts(sent_today=2, sent_this_week=9),
    }
    rota = rota_of(partners, RotaContext(TODAY, facts=facts))
    drops = rota.explanation.dropped()
    assert {a: d.reason for a, d in drops.items()} == {
        A: DropReason.CAPACITY_REACHED,
        B: DropReason.CAPACITY_REACHED,
    }
    assert "a week" in drops[B].detail


def test_unknown_partners_in_a_template_are_dropped() -> None:
    policy = RotaPolicy(templates=(RotaTemplate.ordered("t", (A, B)),), default_templates=("t",))
    rota = build_rota(request(), Directory.of([Partner(A)]), RotaContext(TODAY), policy)
    assert rota.explanation.dropped()[B].reason is DropReason.UNKNOWN_PARTNER


def test_the_first_filter_to_drop_names_the_reason() -> None:
    drops = dropped([Partner(A, active=False, services=frozenset({Service.COPY}))])
    assert drops == {A: DropReason.INACTIVE}


# --- scorers -------------------------------------------------------------------------


def components(rota: Rota, agency_id: AgencyId) -> dict[str, float]:
    report = rota.explanation.report(agency_id)
    assert report is not None
    return {c.scorer: c.value for c in report.components}


def test_tier_scorer_puts_earlier_tiers_first_whatever_the_other_scores() -> None:
    template = RotaTemplate.pods("pods", (B,), (A,))
    policy = RotaPolicy(templates=(template,), default_templates=("pods",))
    facts = {A: PartnerFacts(turnaround_days=0.0), B: PartnerFacts(open_requests=50)}
    rota = build_rota(
        request(), Directory.of([Partner(A), Partner(B)]), RotaContext(TODAY, facts=facts), policy
    )
    assert rota.agencies == (B, A)
    assert components(rota, A)["tier"] == -1.0


def test_turnaround_scorer_prefers_faster_lenders_observed_or_declared() -> None:
    partners = [
        Partner(A, terms=PartnerTerms(delivery_days=1)),
        Partner(B, terms=PartnerTerms(delivery_days=9)),
        Partner(C, terms=PartnerTerms(delivery_days=9)),
    ]
    facts = {C: PartnerFacts(turnaround_days=0.0)}
    rota = rota_of(partners, RotaContext(TODAY, facts=facts))
    assert rota.agencies == (C, A, B)
    assert components(rota, A)["turnaround"] == pytest.approx(0.5)


def test_load_scorer_prefers_lenders_with_fewer_of_our_open_requests() -> None:
    facts = {A: PartnerFacts(open_requests=5), B: PartnerFacts(open_requests=1)}
    rota = rota_of([Partner(A), Partner(B), Partner(C)], RotaContext(TODAY, facts=facts))
    assert rota.agencies == (C, B, A)
    assert components(rota, B)["load"] == pytest.approx(0.5)


def test_loan_to_borrow_scorer_prefers_lenders_below_their_target() -> None:
    facts = {
        A: PartnerFacts(balance=BalanceStats(lending=50, borrowing=10)),  # lends too much
        B: PartnerFacts(balance=BalanceStats(lending=5, borrowing=20)),  # lends too little
        C: PartnerFacts(balance=BalanceStats(lending=10, borrowing=5, target_ratio=2.0)),  # parity
    }
    rota = rota_of([Partner(A), Partner(B), Partner(C)], RotaContext(TODAY, facts=facts))
    assert rota.agencies == (B, C, A)
    assert components(rota, C)["balance"] == pytest.approx(0.5)


def test_fill_rate_scorer_prefers_lenders_that_fill_more() -> None:
    facts = {A: PartnerFacts(fill=FillStats(10, 1)), B: PartnerFacts(fill=FillStats(10, 9))}
    rota = rota_of([Partner(A), Partner(B), Partner(C)], RotaContext(TODAY, facts=facts))
    assert rota.agencies == (B, C, A)
    assert components(rota, C)["fill_rate"] == 0.5


def test_equal_scores_are_ordered_by_agency_id() -> None:
    rota = rota_of([Partner(C), Partner(A), Partner(B)])
    assert rota.agencies == (A, B, C)


# --- each step alone, one partner at a time ------------------------------------------

requests = st.builds(
    request,
    service_type=st.sampled_from(ServiceType),
    max_cost=st.none() | st.sampled_from([Money(Decimal(9), "USD"), Money(Decimal(9), "EUR")]),
    attempts=st.sampled_from([(), (attempt(1, A),), (attempt(1, A), attempt(2, B))]),
)


@given(partners, facts, requests)
def test_each_filter_drops_exactly_the_partners_its_rule_names(
    partner: Partner, fact: PartnerFacts, req: BorrowingRequest
) -> None:
    job = RotaJob(req, RotaContext(TODAY, holdings=HoldingsAnswer((Holding(A),))))

    def drops(step: object) -> bool:
        return step.screen(partner, fact, job) is not None  # type: ignore[attr-defined]

    capacity = partner.capacity
    assert drops(OwnInstitutionFilter()) == (partner.agency == HOME)
    assert drops(InactiveFilter()) == (not partner.active)
    assert drops(AlreadyTriedFilter()) == (partner.agency in req.tried())
    assert drops(ClosedFilter()) == partner.closed_for_lending(TODAY)
    assert drops(ServiceFilter()) == (not partner.services & accepted_services(req, job.context))
    assert drops(NotHeldFilter()) == (partner.agency != A)
    assert drops(CapacityFilter()) == (
        (capacity.per_day is not None and fact.sent_today >= capacity.per_day)
        or (capacity.per_week is not None and fact.sent_this_week >= capacity.per_week)
    )
    rule, cost, limit = partner.deflection, partner.terms.cost, req.max_cost
    age = TODAY.year - 1999  # the request's publication date
    assert drops(DeflectionFilter()) == (
        "book" in {t.casefold() for t in rule.publication_types}
        or (rule.newer_than_years is not None and age < rule.newer_than_years)
        or (rule.older_than_years is not None and age > rule.older_than_years)
        or (
            cost is not None
            and limit is not None
            and (cost.currency != limit.currency or cost.amount > limit.amount)
        )
    )


@given(partners, facts, requests, st.booleans())
def test_a_filter_that_does_not_apply_to_a_job_keeps_every_candidate(
    partner: Partner, fact: PartnerFacts, req: BorrowingRequest, located: bool
) -> None:
    holdings = HoldingsAnswer((Holding(A),)) if located else None
    job = RotaJob(req, RotaContext(TODAY, holdings=holdings), candidates={partner.agency: partner})
    for step in DEFAULT_FILTERS:
        if not step.applies(job):
            assert step.screen(partner, fact, job) is None, step.name
    assert NotHeldFilter().applies(job) is located
    assert AlreadyTriedFilter().applies(job) is bool(req.tried())
    assert OwnInstitutionFilter().applies(job) is (partner.agency == HOME)


@given(partners, facts, st.dictionaries(st.sampled_from([A, B, C]), st.integers(0, 3)))
def test_each_scorer_gives_one_finite_number_in_its_range(
    partner: Partner, fact: PartnerFacts, tiers: dict[AgencyId, int]
) -> None:
    job = RotaJob(request(), RotaContext(TODAY), tiers)
    for step in DEFAULT_SCORERS:
        value = step.score(partner, fact, job)
        if isinstance(step, TierScorer):
            assert value == -tiers.get(partner.agency, 0)
        else:
            assert 0.0 <= value <= 1.0, step.name


def test_a_partner_without_facts_scores_neutral() -> None:
    job = RotaJob(request(), RotaContext(TODAY))
    values = {s.name: s.score(Partner(A), NO_FACTS, job) for s in DEFAULT_SCORERS}
    assert values == {
        "tier": 0.0,
        "turnaround": 1 / (1 + PartnerTerms().delivery_days),
        "load": 1.0,
        "balance": 0.5,
        "fill_rate": 0.5,
    }


def test_the_job_derives_what_depends_on_the_request_alone() -> None:
    attempts = (attempt(1, A), attempt(2, B), attempt(3, A))
    context = RotaContext(TODAY, rerequest=frozenset({B}), own_agencies=frozenset({C}))
    job = RotaJob(request(attempts=attempts, service_type=ServiceType.COPY), context)
    assert job.tried == {A: 3}
    assert job.ours == {HOME, C}
    assert job.services == {Service.COPY, Service.DIGITAL}
    assert job.holders is None
    assert job.publication_age == 26


@dataclass(frozen=True)
class Embargo:
    """A custom filter: no requests to partners whose name says so."""

    name: str = "embargo"

    def applies(self, job: RotaJob) -> bool:
        return True

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        if "embargo" in partner.name:
            return Drop(DropReason.DEFLECTED_FORMAT, "under embargo")
        return None


@dataclass(frozen=True)
class Nearby:
    """A custom scorer: partners in the same region (agency prefix) as the borrower first."""

    name: str = "nearby"
    weight: float = 2.0

    def score(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> float:
        return 1.0 if partner.agency.value[:2] == job.request.agency.value[:2] else 0.0


def test_custom_filters_and_scorers_join_the_built_in_ones() -> None:
    near, far, shut = AgencyId("US-NEAR"), AgencyId("CA-FAR"), AgencyId("US-SHUT")
    policy = RotaPolicy(filters=(*DEFAULT_FILTERS, Embargo()), scorers=(*DEFAULT_SCORERS, Nearby()))
    directory = Directory.of([Partner(far), Partner(near), Partner(shut, name="embargo 2025")])
    rota = build_rota(request(), directory, RotaContext(TODAY), policy)
    assert rota.agencies == (near, far)
    assert rota.explanation.dropped()[shut].detail == "under embargo"
    report = rota.explanation.report(near)
    assert report is not None
    assert report.components[-1].scorer == "nearby"
    assert report.components[-1].contribution == 2.0
