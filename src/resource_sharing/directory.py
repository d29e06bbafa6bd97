"""The partner directory: who we lend to and borrow from, and on what terms.

Protocol settings are opaque to the core (an endpoint URL, an ISO 18626 version string):
adapters read them, the core only carries them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import final

import attrs

from resource_sharing.calendar import Calendar
from resource_sharing.records import AgencyId, Money

__all__ = [
    "Capacity",
    "Closure",
    "Deflection",
    "Directory",
    "Partner",
    "PartnerTerms",
    "ProtocolSettings",
    "Service",
]


class Service(StrEnum):
    """What a partner supplies."""

    LOAN = "loan"
    """Returnable physical loans."""
    COPY = "copy"
    """Physical (non-returnable) copies."""
    DIGITAL = "digital"
    """Digital delivery of copies."""


@final
@attrs.frozen
class Closure:
    """A temporary closure of a partner for lending and/or borrowing (dates inclusive)."""

    start: date
    """First closed day."""
    end: date
    """Last closed day."""
    lending: bool = True
    """Closed for lending (it will not supply)."""
    borrowing: bool = False
    """Closed for borrowing (it will not ask)."""
    note: str | None = None
    """Why, for staff."""

    def covers(self, day: date) -> bool:
        """True when the closure includes this day."""
        return self.start <= day <= self.end


@final
@attrs.frozen
class PartnerTerms:
    """The terms a lender lends on (used for due dates, renewals and expiry)."""

    loan_period_days: int = 28
    """How long the borrower may keep the item."""
    delivery_days: int = 3
    """Days in transit to the borrower."""
    return_days: int = 3
    """Days in transit back."""
    cost: Money | None = None
    """What the lender charges per request, if anything."""
    renewals_allowed: bool = True
    """Whether renewals are considered at all."""
    max_renewals: int = 1
    """Renewals granted at most."""
    renewal_period_days: int = 28
    """How much a renewal adds."""
    auto_renew: bool = True
    """Renewals are decided automatically (else by staff)."""
    max_loan_days: int | None = None
    """The longest total loan, renewals included (None: no limit)."""
    answer_days: int = 4
    """Business days the lender has to answer before the rota moves on."""
    max_renewal_date: date | None = None
    """No renewal may run past this date (the lender's maximum renew date; None: none)."""
    truncate_renewals: bool = False
    """Cap a renewal that would pass a limit at that limit, instead of refusing it."""
    renew_overdue: bool = True
    """A loan the lender has reported Overdue may still be renewed: the borrower sends a
    Renew for it and the lender considers one (many lenders expect exactly that); False:
    an overdue loan must come back."""


@final
@attrs.frozen
class Deflection:
    """Requests a lender refuses unseen (OCLC deflection): the rota does not ask it.

    Publication age is counted in whole years from the citation's publication year to the
    year the rota is built; a citation without a readable year is never deflected for age.
    """

    publication_types: frozenset[str] = frozenset()
    """Publication types (formats) it does not lend, compared case-insensitively."""
    newer_than_years: int | None = None
    """It does not lend material published fewer than this many years ago."""
    older_than_years: int | None = None
    """It does not lend material published more than this many years ago."""


@final
@attrs.frozen
class Capacity:
    """A partner's declared capacity for new requests."""

    per_day: int | None = None
    """Most new requests a day (None: no limit)."""
    per_week: int | None = None
    """Most new requests a week (None: no limit)."""


@final
@attrs.frozen
class ProtocolSettings:
    """How to reach a partner: opaque to the core, read by the transport adapters."""

    iso18626_version: str = "1.2"
    """The ISO 18626 schema version the partner speaks (``1.2`` or ``2021-2``)."""
    endpoint: str | None = None
    """Where its messages go (an HTTP URL for the HTTP transport)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra HTTP headers for this partner."""


@final
@attrs.frozen
class Partner:
    """One institution in the directory."""

    agency: AgencyId
    """Its identifier."""
    name: str = ""
    """Its display name."""
    address: str = ""
    """Its postal address for parcels and slips, one line per line."""
    active: bool = True
    """Inactive partners are never asked."""
    closures: tuple[Closure, ...] = ()
    """Temporary closures."""
    services: frozenset[Service] = frozenset({Service.LOAN, Service.COPY})
    """What it supplies."""
    terms: PartnerTerms = attrs.field(factory=PartnerTerms)
    """Its lending terms."""
    capacity: Capacity = attrs.field(factory=Capacity)
    """Its declared capacity."""
    calendar: Calendar = attrs.field(factory=Calendar)
    """Its opening days and time zone."""
    protocol: ProtocolSettings = attrs.field(factory=ProtocolSettings)
    """How to reach it."""
    deflection: Deflection = attrs.field(factory=Deflection)
    """The requests it deflects (the rota leaves it out for them)."""

    def closed_for_lending(self, day: date) -> bool:
        """True when a closure stops it lending on this day."""
        return any(c.lending and c.covers(day) for c in self.closures)

    def lending_calendar(self) -> Calendar:
        """Its calendar with the days a closure stops it lending added as closed days.

        Deadlines a lender must meet (answer expiry) are counted in this calendar, so a
        temporary closure pushes them back instead of expiring the request.
        """
        closed = {
            day
            for closure in self.closures
            if closure.lending
            for day in _days(closure.start, closure.end)
        }
        if not closed:
            return self.calendar
        return attrs.evolve(self.calendar, closed_dates=self.calendar.closed_dates | closed)


_LONGEST_CLOSURE_DAYS = 366  # a closure longer than a year is a deactivation, not a closure


def _days(start: date, end: date) -> list[date]:
    count = min((end - start).days, _LONGEST_CLOSURE_DAYS)
    return [start + timedelta(days=n) for n in range(count + 1)]


def _read_only(partners: Mapping[AgencyId, Partner]) -> Mapping[AgencyId, Partner]:
    """A private, read-only copy: a directory never changes under what it has derived."""
    return MappingProxyType(dict(partners))


@final
@attrs.frozen
class Directory:
    """The partners we know, by agency.

    A directory is immutable: it keeps a read-only copy of the mapping it is given, so
    changing that mapping afterwards does not change the directory. To change a partner,
    build a new directory.
    """

    partners: Mapping[AgencyId, Partner] = attrs.field(factory=dict, converter=_read_only)
    """Every partner, keyed by agency id (read-only)."""

    @classmethod
    def of(cls, partners: Iterable[Partner]) -> Directory:
        """A directory of these partners."""
        return cls({p.agency: p for p in partners})

    def get(self, agency: AgencyId) -> Partner | None:
        """The partner with this agency id, if known."""
        return self.partners.get(agency)

    def __iter__(self) -> Iterator[Partner]:
        return iter(self.partners.values())

    def __len__(self) -> int:
        return len(self.partners)
