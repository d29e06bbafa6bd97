"""Builders and hypothesis strategies for the rota tests (directories, requests, facts)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

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
from resource_sharing.records import (
    AgencyId,
    Attempt,
    BorrowingRequest,
    Citation,
    Identifier,
    Money,
    PatronRef,
)
from resource_sharing.rota import (
    BalanceStats,
    FillStats,
    Holding,
    HoldingsAnswer,
    PartnerFacts,
    RotaContext,
    RotaTemplate,
)

TODAY = date(2025, 3, 3)
HOME = AgencyId("US-HOME")


def agency(n: int) -> AgencyId:
    """The n-th test agency, ``ISIL:XX-000n``."""
    return AgencyId(f"XX-{n:04d}")


def request(**changes: object) -> BorrowingRequest:
    """A loan request from US-HOME for a book; keyword arguments replace fields."""
    fields: dict[str, object] = {
        "id": "req-1",
        "agency": HOME,
        "patron": PatronRef("p1", group="staff"),
        "citation": Citation(
            title="On the Origin",
            publication_type="Book",
            publication_date="1999",
            item_ids=(Identifier("ISBN", "0-306-40615-2 (pbk.)"),),
        ),
        "created_at": datetime(2025, 3, 3, 9, tzinfo=UTC),
    }
    fields.update(changes)
    return BorrowingRequest(**fields)  # type: ignore[arg-type]


def attempt(number: int, lender: AgencyId) -> Attempt:
    """A finished attempt with this lender."""
    return Attempt(number, lender, f"req-1/{number}", datetime(2025, 3, 1, tzinfo=UTC))


agency_numbers = st.integers(min_value=0, max_value=40)

partners = st.builds(
    Partner,
    agency=agency_numbers.map(agency),
    active=st.booleans(),
    closures=st.lists(
        st.builds(
            Closure,
            start=st.dates(date(2025, 2, 25), date(2025, 3, 3)),
            end=st.dates(date(2025, 3, 3), date(2025, 3, 9)),
            lending=st.booleans(),
        ),
        max_size=1,
    ).map(tuple),
    services=st.frozensets(st.sampled_from(Service), min_size=1),
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

directories = st.lists(partners, max_size=25, unique_by=lambda p: p.agency).map(Directory.of)

facts = st.builds(
    PartnerFacts,
    open_requests=st.integers(0, 6),
    sent_today=st.integers(0, 6),
    sent_this_week=st.integers(0, 12),
    turnaround_days=st.none() | st.sampled_from([0.5, 1.0, 2.0, 4.0]),
    fill=st.none() | st.integers(0, 5).map(lambda n: FillStats(n + 2, n)),
    balance=st.none() | st.builds(BalanceStats, st.integers(0, 9), st.integers(0, 9)),
)


Scenario = tuple[BorrowingRequest, Directory, RotaContext, tuple[RotaTemplate, ...]]
"""A request, a directory, a context and templates: the inputs of one rota."""


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A request, a directory, facts about some partners and some templates over them."""
    directory = draw(directories)
    known = [p.agency for p in directory]
    pool = known + [agency(n) for n in range(41, 44)]  # a few unknown to the directory
    tried = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)) if pool else []
    holders = draw(st.none() | st.lists(st.sampled_from(pool), unique=True)) if pool else None
    holdings = None
    if holders is not None:
        availability: list[bool] = draw(
            st.lists(st.booleans(), min_size=len(holders), max_size=len(holders))
        )
        holdings = HoldingsAnswer(
            tuple(Holding(a, available=ok) for a, ok in zip(holders, availability, strict=True))
        )
    context = RotaContext(
        today=TODAY,
        holdings=holdings,
        facts=draw(st.dictionaries(st.sampled_from(pool), facts)) if pool else {},
    )
    the_request = request(
        service_type=draw(st.sampled_from(ServiceType)),
        max_cost=draw(st.none() | st.integers(0, 30).map(lambda n: Money(Decimal(n), "USD"))),
        attempts=tuple(attempt(i, a) for i, a in enumerate(tried, 1)),
    )
    templates: list[RotaTemplate] = []
    use_template: bool = draw(st.booleans())
    if pool and use_template:
        tiers = draw(st.lists(st.lists(st.sampled_from(pool), min_size=1, max_size=4), max_size=4))
        templates.append(RotaTemplate("t", tuple(tuple(t) for t in tiers)))
    return the_request, directory, context, tuple(templates)
