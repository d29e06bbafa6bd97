"""The pipeline's steps as Protocols, and the built-in filters and scorers.

A step looks at one candidate at a time: a filter screens one partner and returns why it
must not be asked (a :class:`Drop`) or ``None``; a scorer returns one number for it,
higher is better. What a step needs that depends on the request alone (the holders of the
item, the lenders already tried, the services accepted) is derived once per rota by the
:class:`RotaJob` every step receives, never once per candidate; and a filter that can drop
nobody for the job (nothing was tried yet, no locate was done) says so once, through
``applies``, and is not asked about each candidate.

Built-in scorers return values in ``[0, 1]`` except the tier scorer, which returns
``-tier``; with the default weights the tier always dominates and the others only order
partners within a tier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import Protocol, final

import attrs

from resource_sharing.directory import Partner, Service
from resource_sharing.records import AgencyId, BorrowingRequest
from resource_sharing.rota._model import (
    Drop,
    DropReason,
    PartnerFacts,
    RotaContext,
    accepted_services,
)

__all__ = [
    "DEFAULT_FILTERS",
    "DEFAULT_SCORERS",
    "AlreadyTriedFilter",
    "CapacityFilter",
    "ClosedFilter",
    "DeflectionFilter",
    "FillRateScorer",
    "Filter",
    "InactiveFilter",
    "LoadScorer",
    "LoanToBorrowScorer",
    "NotHeldFilter",
    "OwnInstitutionFilter",
    "RotaJob",
    "Scorer",
    "ServiceFilter",
    "TierScorer",
    "TurnaroundScorer",
]

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


@final
@attrs.frozen(hash=False)
class RotaJob:
    """What every step sees besides the candidate: the request, the facts, the tiers.

    The derived properties are computed on first use and kept for the rest of the rota.
    """

    request: BorrowingRequest
    """The request the rota is for."""
    context: RotaContext
    """The facts passed in."""
    tiers: Mapping[AgencyId, int] = attrs.field(factory=dict)
    """Each template or staff-rota candidate's tier; a partner not listed is in tier 0."""
    candidates: Mapping[AgencyId, Partner] = attrs.field(factory=dict)
    """The candidates the directory knows, the ones the filters screen."""

    @cached_property
    def services(self) -> frozenset[Service]:
        """The services a lender may supply the request with (:func:`accepted_services`)."""
        return accepted_services(self.request, self.context)

    @cached_property
    def ours(self) -> frozenset[AgencyId]:
        """The request's agency and the context's other symbols of our institution."""
        return self.context.own_agencies | {self.request.agency}

    @cached_property
    def tried(self) -> Mapping[AgencyId, int]:
        """The lenders already asked (not re-requested by staff), with the last attempt number."""
        again = self.context.rerequest
        return {a.lender: a.number for a in self.request.attempts if a.lender not in again}

    @cached_property
    def holders(self) -> Mapping[AgencyId, bool] | None:
        """Who holds the item and whether a copy is available; ``None``: no locate was done."""
        answer = self.context.holdings
        return None if answer is None else answer.holders(self.request.citation)

    @cached_property
    def publication_age(self) -> int | None:
        """Whole years since the citation's publication year; ``None``: no readable year."""
        year = _YEAR.search(self.request.citation.publication_date or "")
        return None if year is None else self.context.today.year - int(year.group(1))


class Filter(Protocol):
    """A pipeline step that drops candidates which must not be asked."""

    @property
    def name(self) -> str:
        """The filter's name in the explanation."""
        ...

    def applies(self, job: RotaJob) -> bool:
        """False when it would keep every candidate of this job (then it is skipped)."""
        ...

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Why this partner must not be asked for the job, or ``None`` to keep it."""
        ...


class Scorer(Protocol):
    """A pipeline step that values a kept candidate; the weighted sum orders the rota."""

    @property
    def name(self) -> str:
        """The scorer's name (a column of the explanation)."""
        ...

    @property
    def weight(self) -> float:
        """How much one unit of its value counts in the total."""
        ...

    def score(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> float:
        """A finite number for this partner (higher is better)."""
        ...


_OWN = Drop(DropReason.OWN_INSTITUTION, "our own institution")
_INACTIVE = Drop(DropReason.INACTIVE, "the partner is inactive")
_NOT_HELD = Drop(DropReason.NOT_HELD, "holds no matching record")
_UNAVAILABLE = Drop(DropReason.NOT_HELD, "holds it, but no copy is available")


@final
@attrs.frozen
class OwnInstitutionFilter:
    """Drops the borrowing institution itself (and its other symbols)."""

    name: str = "own"
    """The filter's name in the explanation."""

    def applies(self, job: RotaJob) -> bool:
        """Only when one of our agencies is among the candidates."""
        return any(agency in job.candidates for agency in job.ours)

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Drop the partner if it is us."""
        return _OWN if partner.agency in job.ours else None


@final
@attrs.frozen
class InactiveFilter:
    """Drops partners marked inactive in the directory."""

    name: str = "inactive"
    """The filter's name in the explanation."""

    def applies(self, job: RotaJob) -> bool:
        """Always: any candidate may be dropped."""
        return True

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Drop the partner if it is inactive."""
        return None if partner.active else _INACTIVE


@final
@attrs.frozen
class AlreadyTriedFilter:
    """Drops partners already asked for this request, unless staff re-requested them."""

    name: str = "tried"
    """The filter's name in the explanation."""

    def applies(self, job: RotaJob) -> bool:
        """Only when a lender was asked already."""
        return bool(job.tried)

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Drop the partner if an earlier attempt asked it."""
        tried = job.tried
        number = tried.get(partner.agency) if tried else None
        if number is None:
            return None
        return Drop(DropReason.ALREADY_TRIED, f"already asked (attempt {number})")


@final
@attrs.frozen
class ClosedFilter:
    """Drops partners with a temporary closure for lending covering the rota's date.

    Regular closed weekdays do not drop a partner: the request waits for it to open, and its
    answer deadline is counted in its calendar.
    """

    name: str = "closed"
    """The filter's name in the explanation."""

    def applies(self, job: RotaJob) -> bool:
        """Always: any candidate may be dropped."""
        return True

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Drop the partner if it is closed for lending on ``context.today``."""
        for closure in partner.closures:
            if closure.lending and closure.covers(job.context.today):
                note = f" ({closure.note})" if closure.note else ""
                text = f"closed for lending {closure.start!s}..{closure.end!s}{note}"
                return Drop(DropReason.CLOSED, text)
        return None


@final
@attrs.frozen
class ServiceFilter:
    """Drops partners that supply none of the services the request accepts."""

    name: str = "service"
    """The filter's name in the explanation."""

    def applies(self, job: RotaJob) -> bool:
        """Always: any candidate may be dropped."""
        return True

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Drop the partner if its services miss every accepted one."""
        wanted = job.services
        if not partner.services.isdisjoint(wanted):
            return None
        names = ", ".join(sorted(s.value for s in wanted)) or "nothing"
        return Drop(DropReason.SERVICE_NOT_SUPPLIED, f"does not supply {names}")


@final
@attrs.frozen
class NotHeldFilter:
    """Drops partners the holdings answer does not list as holding the item.

    Without a holdings answer nobody is dropped. With ``require_available`` a holder whose
    copies are all unavailable is dropped too (Rapido's availability check).
    """

    name: str = "holdings"
    """The filter's name in the explanation."""
    require_available: bool = False
    """Also drop holders with no copy available for resource sharing."""

    def applies(self, job: RotaJob) -> bool:
        """Only when a locate was done."""
        return job.holders is not None

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Drop the partner if it has no matching holding (or no available copy)."""
        holders = job.holders
        if holders is None:
            return None
        available = holders.get(partner.agency)
        if available is None:
            return _NOT_HELD
        return _UNAVAILABLE if self.require_available and not available else None


@final
@attrs.frozen
class DeflectionFilter:
    """Drops partners whose deflection policy refuses the request unseen.

    Checks, in order: the publication type (format), the publication age, and the partner's
    cost against the borrower's maximum (a cost in another currency than the maximum is
    deflected too: it cannot be shown to be within it).
    """

    name: str = "deflection"
    """The filter's name in the explanation."""

    def applies(self, job: RotaJob) -> bool:
        """Always: any candidate may be dropped."""
        return True

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Drop the partner if it deflects the request's format, age or cost."""
        rule = partner.deflection
        if rule.publication_types:
            kind = job.request.citation.publication_type
            if kind and kind.casefold() in {t.casefold() for t in rule.publication_types}:
                return Drop(DropReason.DEFLECTED_FORMAT, f"deflects {kind}")
        if (age := job.publication_age) is not None:
            if rule.newer_than_years is not None and age < rule.newer_than_years:
                text = f"deflects material under {rule.newer_than_years} years old (this is {age})"
                return Drop(DropReason.DEFLECTED_AGE, text)
            if rule.older_than_years is not None and age > rule.older_than_years:
                text = f"deflects material over {rule.older_than_years} years old (this is {age})"
                return Drop(DropReason.DEFLECTED_AGE, text)
        cost = partner.terms.cost
        if cost is None or (limit := job.request.max_cost) is None:
            return None
        if cost.currency != limit.currency:
            text = f"charges in {cost.currency}; the maximum is in {limit.currency}"
        elif cost.amount > limit.amount:
            text = f"charges {cost.amount} {cost.currency}, more than the maximum {limit.amount}"
        else:
            return None
        return Drop(DropReason.DEFLECTED_COST, text)


@final
@attrs.frozen
class CapacityFilter:
    """Drops partners whose declared capacity for new requests is used up."""

    name: str = "capacity"
    """The filter's name in the explanation."""

    def applies(self, job: RotaJob) -> bool:
        """Always: any candidate may be dropped."""
        return True

    def screen(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> Drop | None:
        """Drop the partner if it is at or over its daily or weekly limit."""
        capacity = partner.capacity
        if capacity.per_day is not None and facts.sent_today >= capacity.per_day:
            text = (
                f"{facts.sent_today} new requests today; declared capacity {capacity.per_day} a day"
            )
        elif capacity.per_week is not None and facts.sent_this_week >= capacity.per_week:
            text = (
                f"{facts.sent_this_week} new requests this week;"
                f" declared capacity {capacity.per_week} a week"
            )
        else:
            return None
        return Drop(DropReason.CAPACITY_REACHED, text)


@final
@attrs.frozen
class TierScorer:
    """Template order: ``-tier``, so earlier tiers (pods, ordered positions) come first."""

    name: str = "tier"
    """The scorer's name (a column of the explanation)."""
    weight: float = 100.0
    """Large enough to dominate the other built-ins, which score in ``[0, 1]``."""

    def score(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> float:
        """Minus the partner's tier."""
        return float(-job.tiers.get(partner.agency, 0)) if job.tiers else 0.0


@final
@attrs.frozen
class TurnaroundScorer:
    """Faster lenders first (OCLC smart lender strings): ``1 / (1 + days)``.

    Days are the observed turnaround when the context has it, else the partner's declared
    delivery days.
    """

    name: str = "turnaround"
    """The scorer's name (a column of the explanation)."""
    weight: float = 1.0
    """How much one unit of its value counts in the total."""

    def score(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> float:
        """``1 / (1 + days)``."""
        days = facts.turnaround_days
        return 1.0 / (1.0 + (partner.terms.delivery_days if days is None else days))


@final
@attrs.frozen
class LoadScorer:
    """Less loaded lenders first (queue depth, Alma consortium balancing): ``1 / (1 + open)``."""

    name: str = "load"
    """The scorer's name (a column of the explanation)."""
    weight: float = 1.0
    """How much one unit of its value counts in the total."""

    def score(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> float:
        """``1 / (1 + our open requests with it)``."""
        return 1.0 / (1.0 + facts.open_requests)


@final
@attrs.frozen
class LoanToBorrowScorer:
    """Lenders lending less than their target ratio first (ReShare load balancing).

    ReShare scores ``borrowing x (L/B) - lending``; here that deficit ``d`` is squashed into
    ``[0, 1]`` as ``0.5 + d / (2 (1 + |d|))``. A partner without statistics is at parity
    (0.5).
    """

    name: str = "balance"
    """The scorer's name (a column of the explanation)."""
    weight: float = 1.0
    """How much one unit of its value counts in the total."""

    def score(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> float:
        """The squashed lending deficit."""
        stats = facts.balance
        if stats is None:
            return 0.5
        deficit = stats.borrowing * stats.target_ratio - stats.lending
        return 0.5 + deficit / (2.0 + 2.0 * abs(deficit))


@final
@attrs.frozen
class FillRateScorer:
    """Lenders that fill our requests more often first: ``(filled + 1) / (asked + 2)``.

    The Laplace estimate keeps a partner with one lucky fill from outranking a steady one,
    and gives a partner never asked 0.5.
    """

    name: str = "fill_rate"
    """The scorer's name (a column of the explanation)."""
    weight: float = 1.0
    """How much one unit of its value counts in the total."""

    def score(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> float:
        """The smoothed fill rate."""
        stats = facts.fill
        return 0.5 if stats is None else (stats.filled + 1) / (stats.asked + 2)


DEFAULT_FILTERS: tuple[Filter, ...] = (
    OwnInstitutionFilter(),
    InactiveFilter(),
    AlreadyTriedFilter(),
    ClosedFilter(),
    ServiceFilter(),
    NotHeldFilter(),
    DeflectionFilter(),
    CapacityFilter(),
)
"""The built-in filters, cheapest and most decisive first; the first to drop names the reason."""

DEFAULT_SCORERS: tuple[Scorer, ...] = (
    TierScorer(),
    TurnaroundScorer(),
    LoadScorer(),
    LoanToBorrowScorer(),
    FillRateScorer(),
)
"""The built-in scorers; the tier dominates and the others order partners within a tier."""
