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
from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal
from itertools import compress
from typing import Any, Protocol, TypeVar, final

import attrs

from resource_sharing.directory import Closure, Partner, Service
from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId, BorrowingRequest, Money
from resource_sharing.rota._model import (
    BalanceStats,
    Drop,
    DropReason,
    FillStats,
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

T = TypeVar("T")

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
    more than the whole ranking should. Besides the three given columns, the pool extracts
    any attribute a step needs into a column of its own the first time a step asks for it
    (:attr:`active`, :attr:`costs`, :attr:`turnaround_days`...), and every later step reads
    that list instead of walking the partners and their facts again; :meth:`column` does the
    same for a custom step's own column. The columns live as long as the pool (one build):
    nothing is cached across builds.
    """

    partners: list[Partner]
    """The candidate partners."""
    facts: list[PartnerFacts]
    """Each one's facts from the context (:data:`NO_FACTS` when it had none)."""
    tiers: list[int]
    """Each one's tier (0 is asked first)."""
    _columns: dict[str, list[Any]] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __len__(self) -> int:
        return len(self.partners)

    def column(self, name: str, extract: Callable[[Candidates], list[T]]) -> list[T]:
        """The column called ``name``, extracted by ``extract(self)`` the first time only.

        ``extract`` must give one value per candidate, in order; later calls with the same
        name return the same list (so two steps needing one attribute share one pass), and
        :meth:`keep` can carry it over. The built-in columns are stored under their property's
        name; a custom step should use a name of its own (``"mystep.key"``).
        """
        values = self._columns.get(name)
        if values is None:
            values = extract(self)
            if len(values) != len(self.partners):
                raise InvalidInput(
                    f"column {name}", f"gave {len(values)} values for {len(self.partners)}"
                )
            self._columns[name] = values
        return values

    def keep(self, gone: Collection[int], carry: Collection[str] = ()) -> Candidates:
        """The candidates without the positions in ``gone``.

        The columns named in ``carry`` (if made here) follow, compressed in one C-level pass;
        any other column is extracted again when a step of the kept pool asks for it. Not
        carrying a column by default lets it die with this pool: a list of ten thousand
        references kept alive is one the garbage collector walks again and again while the
        rota's entries are allocated.
        """
        n = len(self.partners)
        mask = [True] * n
        for position in gone:
            if 0 <= position < n:
                mask[position] = False
        kept = Candidates(
            list(compress(self.partners, mask)),
            list(compress(self.facts, mask)),
            list(compress(self.tiers, mask)),
        )
        for name in carry:
            values = self._columns.get(name)
            if values is not None:
                kept._columns[name] = list(compress(values, mask))
        return kept

    @property
    def agencies(self) -> list[AgencyId]:
        """Each candidate's agency id."""
        values = self._columns.get("agencies")
        if values is None:
            values = self._columns["agencies"] = [p.agency for p in self.partners]
        return values

    @property
    def agency_values(self) -> list[str]:
        """Each candidate's agency id value (a string: its hash is cached, an id's is not)."""
        values = self._columns.get("agency_values")
        if values is None:
            values = self._columns["agency_values"] = [p.agency.value for p in self.partners]
        return values

    @property
    def active(self) -> list[bool]:
        """Each candidate's :attr:`Partner.active`."""
        values = self._columns.get("active")
        if values is None:
            values = self._columns["active"] = [p.active for p in self.partners]
        return values

    @property
    def closures(self) -> list[tuple[Closure, ...]]:
        """Each candidate's temporary closures."""
        values = self._columns.get("closures")
        if values is None:
            values = self._columns["closures"] = [p.closures for p in self.partners]
        return values

    @property
    def services(self) -> list[frozenset[Service]]:
        """Each candidate's services supplied."""
        values = self._columns.get("services")
        if values is None:
            values = self._columns["services"] = [p.services for p in self.partners]
        return values

    @property
    def deflected_types(self) -> list[frozenset[str]]:
        """Each candidate's deflected publication types (as written, not folded)."""
        values = self._columns.get("deflected_types")
        if values is None:
            values = self._columns["deflected_types"] = [
                p.deflection.publication_types for p in self.partners
            ]
        return values

    @property
    def deflected_newer_than(self) -> list[int | None]:
        """Each candidate's :attr:`Deflection.newer_than_years`."""
        values = self._columns.get("deflected_newer_than")
        if values is None:
            values = self._columns["deflected_newer_than"] = [
                p.deflection.newer_than_years for p in self.partners
            ]
        return values

    @property
    def deflected_older_than(self) -> list[int | None]:
        """Each candidate's :attr:`Deflection.older_than_years`."""
        values = self._columns.get("deflected_older_than")
        if values is None:
            values = self._columns["deflected_older_than"] = [
                p.deflection.older_than_years for p in self.partners
            ]
        return values

    @property
    def costs(self) -> list[Money | None]:
        """Each candidate's cost from its terms (``None``: free)."""
        values = self._columns.get("costs")
        if values is None:
            values = self._columns["costs"] = [p.terms.cost for p in self.partners]
        return values

    @property
    def delivery_days(self) -> list[int]:
        """Each candidate's declared delivery days from its terms."""
        values = self._columns.get("delivery_days")
        if values is None:
            values = self._columns["delivery_days"] = [p.terms.delivery_days for p in self.partners]
        return values

    @property
    def capacity_per_day(self) -> list[int | None]:
        """Each candidate's declared new requests a day (``None``: not declared)."""
        values = self._columns.get("capacity_per_day")
        if values is None:
            values = self._columns["capacity_per_day"] = [p.capacity.per_day for p in self.partners]
        return values

    @property
    def capacity_per_week(self) -> list[int | None]:
        """Each candidate's declared new requests a week (``None``: not declared)."""
        values = self._columns.get("capacity_per_week")
        if values is None:
            values = self._columns["capacity_per_week"] = [
                p.capacity.per_week for p in self.partners
            ]
        return values

    @property
    def sent_today(self) -> list[int]:
        """Each candidate's new requests received today (from its facts)."""
        values = self._columns.get("sent_today")
        if values is None:
            values = self._columns["sent_today"] = [f.sent_today for f in self.facts]
        return values

    @property
    def sent_this_week(self) -> list[int]:
        """Each candidate's new requests received this week (from its facts)."""
        values = self._columns.get("sent_this_week")
        if values is None:
            values = self._columns["sent_this_week"] = [f.sent_this_week for f in self.facts]
        return values

    @property
    def open_requests(self) -> list[int]:
        """Our open requests with each candidate (from its facts)."""
        values = self._columns.get("open_requests")
        if values is None:
            values = self._columns["open_requests"] = [f.open_requests for f in self.facts]
        return values

    @property
    def turnaround_days(self) -> list[float | None]:
        """Each candidate's observed turnaround (``None``: not observed)."""
        values = self._columns.get("turnaround_days")
        if values is None:
            values = self._columns["turnaround_days"] = [f.turnaround_days for f in self.facts]
        return values

    @property
    def fills(self) -> list[FillStats | None]:
        """Each candidate's observed fill statistics (``None``: unknown)."""
        values = self._columns.get("fills")
        if values is None:
            values = self._columns["fills"] = [f.fill for f in self.facts]
        return values

    @property
    def balances(self) -> list[BalanceStats | None]:
        """Each candidate's lending and borrowing levels (``None``: at parity)."""
        values = self._columns.get("balances")
        if values is None:
            values = self._columns["balances"] = [f.balance for f in self.facts]
        return values


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
        active = candidates.active
        if all(active):
            return []
        drop = Drop(DropReason.INACTIVE, "the partner is inactive")
        return [(i, drop) for i, a in enumerate(active) if not a]


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
        closures = candidates.closures
        if not any(closures):
            return []
        today = job.context.today
        found: Drops = []
        verdicts: dict[tuple[date, date, str | None], Drop] = {}
        for i in compress(range(len(closures)), closures):
            for closure in closures[i]:
                if closure.lending and closure.covers(today):
                    key = (closure.start, closure.end, closure.note)
                    drop = verdicts.get(key)
                    if drop is None:
                        note = f" ({closure.note})" if closure.note else ""
                        text = f"closed for lending {closure.start}..{closure.end}{note}"
                        drop = verdicts[key] = Drop(DropReason.CLOSED, text)
                    found.append((i, drop))
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
        missed = list(map(wanted.isdisjoint, candidates.services))
        if not any(missed):
            return []
        names = ", ".join(sorted(s.value for s in wanted)) or "nothing"
        drop = Drop(DropReason.SERVICE_NOT_SUPPLIED, f"does not supply {names}")
        return [(i, drop) for i in compress(range(len(missed)), missed)]


@final
@attrs.frozen
class OwnInstitutionFilter:
    """Drops the borrowing institution itself (and its other symbols)."""

    name: str = "own"
    """The filter's name in the explanation."""

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner that is us."""
        ours = job.context.own_agencies | {job.request.agency}
        positions = _positions(candidates, ours)
        if not positions:
            return []
        drop = Drop(DropReason.OWN_INSTITUTION, "our own institution")
        return [(i, drop) for i in positions]


@final
@attrs.frozen
class AlreadyTriedFilter:
    """Drops partners already asked for this request, unless staff re-requested them."""

    name: str = "tried"
    """The filter's name in the explanation."""

    def screen(self, candidates: Candidates, job: RotaJob) -> Drops:
        """Drop each partner with an earlier attempt."""
        tried = job.request.tried() - job.context.rerequest
        positions = _positions(candidates, tried)
        if not positions:
            return []
        numbers = {a.lender: a.number for a in job.request.attempts}
        agencies = candidates.agencies
        return [
            (i, Drop(DropReason.ALREADY_TRIED, f"already asked (attempt {numbers[agencies[i]]})"))
            for i in positions
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
        agencies = candidates.agencies
        found: Drops = []
        for i, value in enumerate(candidates.agency_values):
            available = holders.get(agencies[i]) if value in values else None
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
        found: dict[int, Drop] = {}
        kind = (citation.publication_type or "").casefold()
        if kind:
            types = candidates.deflected_types
            if any(types):
                folded: dict[frozenset[str], frozenset[str]] = {}
                text = f"deflects {citation.publication_type}"
                deflects = Drop(DropReason.DEFLECTED_FORMAT, text)
                for i in compress(range(len(types)), types):
                    listed = types[i]
                    if kind in (folded.get(listed) or folded.setdefault(listed, _fold(listed))):
                        found[i] = deflects
        year = _YEAR.search(citation.publication_date or "")
        if year is not None:
            age = job.context.today.year - int(year.group(1))
            newer, older = candidates.deflected_newer_than, candidates.deflected_older_than
            ages: dict[tuple[int | None, int | None], Drop | None] = {}
            for i in _present_in_either(newer, older):
                if i in found:
                    continue
                limits = (newer[i], older[i])
                if limits not in ages:
                    ages[limits] = _age_drop(age, *limits)
                if (too_old_or_new := ages[limits]) is not None:
                    found[i] = too_old_or_new
        limit = job.request.max_cost
        if limit is not None:
            amount, currency = limit.amount, limit.currency
            costs = candidates.costs
            costly = [
                i
                for i, cost in enumerate(costs)
                if cost is not None and (cost.currency != currency or cost.amount > amount)
            ]
            verdicts: dict[tuple[Decimal, str], Drop] = {}
            for i in costly:
                cost = costs[i]
                if cost is None or i in found:
                    continue
                price = (cost.amount, cost.currency)
                too_dear = verdicts.get(price)
                if too_dear is None:
                    if cost.currency != currency:
                        text = f"charges in {cost.currency}; the maximum is in {currency}"
                    else:
                        text = (
                            f"charges {cost.amount} {cost.currency}, more than the maximum {amount}"
                        )
                    too_dear = verdicts[price] = Drop(DropReason.DEFLECTED_COST, text)
                found[i] = too_dear
        return sorted(found.items())


def _age_drop(age: int, under: int | None, over: int | None) -> Drop | None:
    """The drop for material ``age`` years old under these limits, if it is deflected."""
    if under is not None and age < under:
        text = f"deflects material under {under} years old (this is {age})"
        return Drop(DropReason.DEFLECTED_AGE, text)
    if over is not None and age > over:
        text = f"deflects material over {over} years old (this is {age})"
        return Drop(DropReason.DEFLECTED_AGE, text)
    return None


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
        per_day, per_week = candidates.capacity_per_day, candidates.capacity_per_week
        declared = _present_in_either(per_day, per_week)
        if not declared:
            return []
        facts = candidates.facts
        found: Drops = []
        verdicts: dict[tuple[int, int | None, int, int | None], Drop | None] = {}
        for i in declared:
            fact = facts[i]
            key = (fact.sent_today, per_day[i], fact.sent_this_week, per_week[i])
            if key not in verdicts:
                verdicts[key] = _capacity_drop(*key)
            if (drop := verdicts[key]) is not None:
                found.append((i, drop))
        return found


def _capacity_drop(today: int, day: int | None, week_sent: int, week: int | None) -> Drop | None:
    """The drop for a partner sent these many requests under these limits, if it is full."""
    if day is not None and today >= day:
        text = f"{today} new requests today; declared capacity {day} a day"
    elif week is not None and week_sent >= week:
        text = f"{week_sent} new requests this week; declared capacity {week} a week"
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

    def score(self, candidates: Candidates, job: RotaJob) -> list[float]:
        """Minus each partner's tier."""
        tiers = candidates.tiers
        if tiers and tiers.count(tiers[0]) == len(tiers):
            return [float(-tiers[0])] * len(tiers)
        return [float(-t) for t in tiers]


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
        observed = candidates.turnaround_days
        try:
            # Every turnaround observed (the common case): no need for the declared days.
            return [1.0 / (1.0 + d) for d in observed]  # type: ignore[operator]
        except TypeError:
            pass
        return [
            1.0 / (1.0 + (declared if d is None else d))
            for d, declared in zip(observed, candidates.delivery_days, strict=True)
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
        counts = candidates.open_requests
        # Few distinct counts: compute each value once, then look them up in one C-level pass.
        table = {o: 1.0 / (1.0 + o) for o in set(counts)}
        return list(map(table.__getitem__, counts))


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
            if s is None
            else 0.5 + (d := s.borrowing * s.target_ratio - s.lending) / (2.0 + 2.0 * abs(d))
            for s in candidates.balances
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
        return [0.5 if s is None else (s.filled + 1) / (s.asked + 2) for s in candidates.fills]


def _positions(candidates: Candidates, agencies: frozenset[AgencyId]) -> list[int]:
    """Positions of candidates whose agency is one of ``agencies`` (a short set).

    Compares the agencies' string values first (a string's hash is cached, an agency id's
    is computed on every lookup), and looks for each value in the column in one C-level scan,
    so a set none of the candidates is in costs no pass of Python code at all.
    """
    if not agencies:
        return []
    values = candidates.agency_values
    wanted = {a.value for a in agencies}
    if wanted.isdisjoint(values):
        return []
    ids = candidates.agencies
    return [i for i, v in enumerate(values) if v in wanted and ids[i] in agencies]


def _present(column: list[T | None]) -> list[int]:
    """Positions of the values that are not ``None``."""
    absent = column.count(None)
    if absent == len(column):
        return []
    if not absent:
        return list(range(len(column)))
    return [i for i, v in enumerate(column) if v is not None]


def _present_in_either(first: list[Any], second: list[Any]) -> list[int]:
    """Positions, in order, where either column has a value (not ``None``)."""
    one, other = _present(first), _present(second)
    if not other:
        return one
    if not one:
        return other
    return sorted({*one, *other})
