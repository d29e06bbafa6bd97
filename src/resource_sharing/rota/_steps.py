"""The pipeline's steps as Protocols, and the built-in filters and scorers.

Steps work on the whole candidate list at once rather than one partner at a time: a
filter returns the positions it drops, a scorer returns one value per candidate. That keeps
the per-candidate cost of a step to one pass of a comprehension, which is what lets the rota
rank ten thousand partners at a small multiple of the cost of a plain sort (see
``benchmarks/rota.py``). Facts a step needs are computed once per call (the holders of the
item, the set of tried lenders), never once per candidate.

Built-in scorers return values in ``[0, 1]`` (higher is better) except the tier scorer,
which returns ``-tier``; with the default weights the tier always dominates and the others
only order partners within a tier.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from itertools import compress
from typing import Protocol, final

import attrs

from resource_sharing.directory import Partner
from resource_sharing.records import AgencyId, BorrowingRequest
from resource_sharing.rota._model import (
    Drop,
    DropReason,
    PartnerFacts,
    RotaContext,
    accepted_services,
)

__all__ = [
    "AlreadyTriedFilter",
    "Candidates",
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
    """What every step sees besides the candidates: the request and the facts passed in."""

    request: BorrowingRequest
    """The request the rota is for."""
    context: RotaContext
    """The facts passed in."""


@final
@attrs.frozen(hash=False)
class Candidates:
    """The candidates a step works on, as aligned columns (position ``i`` is one partner).

    Columns rather than one record per candidate: building ten thousand small records costs
    more than the whole ranking should.
    """

    partners: list[Partner]
    """The candidate partners."""
    facts: list[PartnerFacts]
    """Each one's facts from the context (:data:`NO_FACTS` when it had none)."""
    tiers: list[int]
    """Each one's tier (0 is asked first)."""

    def __len__(self) -> int:
        return len(self.partners)

    def keep(self, gone: Collection[int]) -> Candidates:
        """The candidates without the positions in ``gone``."""
        keep = [i not in gone for i in range(len(self.partners))]
        return Candidates(
            list(compress(self.partners, keep)),
            list(compress(self.facts, keep)),
            list(compress(self.tiers, keep)),
        )


Drops = list[tuple[int, Drop]]
"""Positions in the candidate list a filter drops, with why."""


class Filter(Protocol):
    """A pipeline step that drops candidates which must not be asked."""

    @property
    def name(self) -> str:
        """The filter's name in the explanation."""
        ...

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """The positions in ``candidates`` to drop, each with its reason."""
        ...


class Scorer(Protocol):
    """A pipeline step that scores the kept candidates; the weighted sum orders the rota."""

    @property
    def name(self) -> str:
        """The scorer's name (a column of the explanation)."""
        ...

    @property
    def weight(self) -> float:
        """How much one unit of its value counts in the total."""
        ...

    def score(self, candidates: Candidates, job: RotaJob) -> list[float]:
        """One finite value per candidate, in the same order (higher is better)."""
        ...


@final
@attrs.frozen
class InactiveFilter:
    """Drops partners marked inactive in the directory."""

    name: str = "inactive"
    """The filter's name in the explanation."""

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each inactive partner."""
        drop = Drop(DropReason.INACTIVE, "the partner is inactive")
        return [(i, drop) for i, p in enumerate(candidates.partners) if not p.active]


@final
@attrs.frozen
class ClosedFilter:
    """Drops partners with a temporary closure for lending covering the rota's date.

    Regular closed weekdays do not drop a partner: the request waits for it to open, and its
    answer deadline is counted in its calendar.
    """

    name: str = "closed"
    """The filter's name in the explanation."""

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner closed for lending on ``context.today``."""
        today = job.context.today
        found: Drops = []
        partners = candidates.partners
        for i in [i for i, p in enumerate(partners) if p.closures]:
            for closure in partners[i].closures:
                if closure.lending and closure.covers(today):
                    note = f" ({closure.note})" if closure.note else ""
                    text = f"closed for lending {closure.start}..{closure.end}{note}"
                    found.append((i, Drop(DropReason.CLOSED, text)))
                    break
        return found


@final
@attrs.frozen
class ServiceFilter:
    """Drops partners that supply none of the services the request accepts."""

    name: str = "service"
    """The filter's name in the explanation."""

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner whose services miss every accepted one."""
        wanted = accepted_services(job.request, job.context)
        names = ", ".join(sorted(s.value for s in wanted)) or "nothing"
        drop = Drop(DropReason.SERVICE_NOT_SUPPLIED, f"does not supply {names}")
        return [
            (i, drop) for i, p in enumerate(candidates.partners) if p.services.isdisjoint(wanted)
        ]


@final
@attrs.frozen
class OwnInstitutionFilter:
    """Drops the borrowing institution itself (and its other symbols)."""

    name: str = "own"
    """The filter's name in the explanation."""

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner that is us."""
        ours = job.context.own_agencies | {job.request.agency}
        drop = Drop(DropReason.OWN_INSTITUTION, "our own institution")
        return [(i, drop) for i in _positions(candidates, ours)]


@final
@attrs.frozen
class AlreadyTriedFilter:
    """Drops partners already asked for this request, unless staff re-requested them."""

    name: str = "tried"
    """The filter's name in the explanation."""

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner with an earlier attempt."""
        tried = job.request.tried() - job.context.rerequest
        if not tried:
            return []
        numbers = {a.lender: a.number for a in job.request.attempts}
        partners = candidates.partners
        return [
            (
                i,
                Drop(
                    DropReason.ALREADY_TRIED,
                    f"already asked (attempt {numbers[partners[i].agency]})",
                ),
            )
            for i in _positions(candidates, tried)
        ]


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

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner without a matching holding."""
        answer = job.context.holdings
        if answer is None:
            return []
        holders = answer.holders(job.request.citation)
        missing = Drop(DropReason.NOT_HELD, "holds no matching record")
        unavailable = Drop(DropReason.NOT_HELD, "holds it, but no copy is available")
        values = {a.value for a in holders}
        found: Drops = []
        for i, p in enumerate(candidates.partners):
            available = holders.get(p.agency) if p.agency.value in values else None
            if available is None:
                found.append((i, missing))
            elif self.require_available and not available:
                found.append((i, unavailable))
        return found


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

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner that deflects the request."""
        citation = job.request.citation
        partners = candidates.partners
        found: dict[int, Drop] = {}
        kind = (citation.publication_type or "").casefold()
        year = _YEAR.search(citation.publication_date or "")
        deflecting = (
            [
                i
                for i, p in enumerate(partners)
                if (d := p.deflection).publication_types
                or d.newer_than_years is not None
                or d.older_than_years is not None
            ]
            if kind or year is not None
            else []
        )
        if kind:
            folded: dict[frozenset[str], frozenset[str]] = {}
            for i in deflecting:
                types = partners[i].deflection.publication_types
                if types and kind in (folded.get(types) or folded.setdefault(types, _fold(types))):
                    text = f"deflects {citation.publication_type}"
                    found[i] = Drop(DropReason.DEFLECTED_FORMAT, text)
        if year is not None:
            age = job.context.today.year - int(year.group(1))
            for i in deflecting:
                rules = partners[i].deflection
                newer, older = rules.newer_than_years, rules.older_than_years
                if i in found or (newer is None and older is None):
                    continue
                if newer is not None and age < newer:
                    text = f"deflects material under {newer} years old (this is {age})"
                    found[i] = Drop(DropReason.DEFLECTED_AGE, text)
                elif older is not None and age > older:
                    text = f"deflects material over {older} years old (this is {age})"
                    found[i] = Drop(DropReason.DEFLECTED_AGE, text)
        limit = job.request.max_cost
        if limit is not None:
            amount, currency = limit.amount, limit.currency
            costly = [
                i
                for i, p in enumerate(partners)
                if (cost := p.terms.cost) is not None
                and (cost.currency != currency or cost.amount > amount)
            ]
            for i in costly:
                cost = partners[i].terms.cost
                if i in found or cost is None:
                    continue
                if cost.currency != currency:
                    text = f"charges in {cost.currency}; the maximum is in {currency}"
                else:
                    text = f"charges {cost.amount} {cost.currency}, more than the maximum {amount}"
                found[i] = Drop(DropReason.DEFLECTED_COST, text)
        return sorted(found.items())


def _fold(values: frozenset[str]) -> frozenset[str]:
    return frozenset(v.casefold() for v in values)


@final
@attrs.frozen
class CapacityFilter:
    """Drops partners whose declared capacity for new requests is used up."""

    name: str = "capacity"
    """The filter's name in the explanation."""

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner at or over its daily or weekly limit."""
        partners, facts = candidates.partners, candidates.facts
        full = [
            i
            for i, (p, f) in enumerate(zip(partners, facts, strict=True))
            if ((day := p.capacity.per_day) is not None and f.sent_today >= day)
            or ((week := p.capacity.per_week) is not None and f.sent_this_week >= week)
        ]
        found: Drops = []
        for i in full:
            capacity, fact = partners[i].capacity, facts[i]
            if capacity.per_day is not None and fact.sent_today >= capacity.per_day:
                text = (
                    f"{fact.sent_today} new requests today; "
                    f"declared capacity {capacity.per_day} a day"
                )
            else:
                text = (
                    f"{fact.sent_this_week} new requests this week; "
                    f"declared capacity {capacity.per_week} a week"
                )
            found.append((i, Drop(DropReason.CAPACITY_REACHED, text)))
        return found


@final
@attrs.frozen
class TierScorer:
    """Template order: ``-tier``, so earlier tiers (pods, ordered positions) come first."""

    name: str = "tier"
    """The scorer's name (a column of the explanation)."""
    weight: float = 100.0
    """Large enough to dominate the other built-ins, which score in ``[0, 1]``."""

    def score(self, candidates: Candidates, job: RotaJob) -> list[float]:
        """Minus each partner's tier."""
        return [float(-t) for t in candidates.tiers]


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

    def score(self, candidates: Candidates, job: RotaJob) -> list[float]:
        """``1 / (1 + days)`` per partner."""
        return [
            1.0 / (1.0 + (p.terms.delivery_days if (d := f.turnaround_days) is None else d))
            for p, f in zip(candidates.partners, candidates.facts, strict=True)
        ]


@final
@attrs.frozen
class LoadScorer:
    """Less loaded lenders first (queue depth, Alma consortium balancing): ``1 / (1 + open)``."""

    name: str = "load"
    """The scorer's name (a column of the explanation)."""
    weight: float = 1.0
    """How much one unit of its value counts in the total."""

    def score(self, candidates: Candidates, job: RotaJob) -> list[float]:
        """``1 / (1 + our open requests with it)`` per partner."""
        return [1.0 / (1.0 + f.open_requests) for f in candidates.facts]


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

    def score(self, candidates: Candidates, job: RotaJob) -> list[float]:
        """The squashed lending deficit per partner."""
        return [
            0.5
            if (s := f.balance) is None
            else 0.5 + (d := s.borrowing * s.target_ratio - s.lending) / (2.0 + 2.0 * abs(d))
            for f in candidates.facts
        ]


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

    def score(self, candidates: Candidates, job: RotaJob) -> list[float]:
        """The smoothed fill rate per partner."""
        return [
            0.5 if (s := f.fill) is None else (s.filled + 1) / (s.asked + 2)
            for f in candidates.facts
        ]


def _positions(candidates: Candidates, agencies: frozenset[AgencyId]) -> list[int]:
    """Positions of candidates whose agency is one of ``agencies`` (a short set).

    Compares the agencies' string values first: a string's hash is cached, an agency id's
    is computed on every lookup, and this runs over every candidate.
    """
    if not agencies:
        return []
    values = {a.value for a in agencies}
    return [
        i
        for i, p in enumerate(candidates.partners)
        if p.agency.value in values and p.agency in agencies
    ]
