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
from collections.abc import Callable, Collection, Sequence
from datetime import date
from decimal import Decimal
from itertools import compress
from operator import attrgetter
from typing import Any, Protocol, TypeVar, final

import attrs

from resource_sharing.directory import (
    PARTNER_MARKS,
    Closure,
    Partner,
    PartnerColumns,
    Service,
    lacking_positions,
)
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


_PARTNER_FIELDS: dict[str, Callable[[Partner], Any]] = {
    "agencies": attrgetter("agency"),
    "agency_values": attrgetter("agency.value"),
    "active": attrgetter("active"),
    "closures": attrgetter("closures"),
    "services": attrgetter("services"),
    "deflected_types": attrgetter("deflection.publication_types"),
    "deflected_newer_than": attrgetter("deflection.newer_than_years"),
    "deflected_older_than": attrgetter("deflection.older_than_years"),
    "costs": attrgetter("terms.cost"),
    "delivery_days": attrgetter("terms.delivery_days"),
    "capacity_per_day": attrgetter("capacity.per_day"),
    "capacity_per_week": attrgetter("capacity.per_week"),
}
"""The partner columns, by name: how to read each from one partner (a :class:`PartnerColumns`
field of the same name holds it for a whole directory)."""


@final
@attrs.frozen(hash=False)
class Candidates:
    """The candidates a step works on, as aligned columns (position ``i`` is one partner).

    Columns rather than one record per candidate: building ten thousand small records costs
    more than the whole ranking should. Besides the three given columns, the pool gives any
    field a step needs as a column of its own (:attr:`active`, :attr:`costs`,
    :attr:`turnaround_days`...), made the first time a step asks for it, and every later step
    reads that column instead of walking the partners and their facts again; :meth:`column`
    does the same for a custom step's own column.

    A pool built on a directory (``source``, with the candidates' ``positions`` in it, all of
    them when ``None``) takes the partners' own fields from the directory's
    :class:`~resource_sharing.directory.PartnerColumns`, which are built once and shared by
    every rota built on that directory; the facts' columns are made per pool. Columns are
    read-only: a step must never change one.
    """

    partners: Sequence[Partner]
    """The candidate partners."""
    facts: Sequence[PartnerFacts]
    """Each one's facts from the context (:data:`NO_FACTS` when it had none)."""
    tiers: Sequence[int]
    """Each one's tier (0 is asked first)."""
    _source: PartnerColumns | None = attrs.field(
        default=None, kw_only=True, alias="source", eq=False, repr=False
    )
    _positions: Sequence[int] | None = attrs.field(
        default=None, kw_only=True, alias="positions", eq=False, repr=False
    )
    _columns: dict[str, Sequence[Any]] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        n = len(self.partners)
        if len(self.facts) != n or len(self.tiers) != n:
            raise InvalidInput("candidates", "partners, facts and tiers must be aligned")
        if self._source is not None:
            expected = len(self._source.partners) if self._positions is None else n
            if expected != n:
                raise InvalidInput("candidates", "the positions must match the partners")

    def __len__(self) -> int:
        return len(self.partners)

    def column(self, name: str, extract: Callable[[Candidates], Sequence[T]]) -> Sequence[T]:
        """The column called ``name``, extracted by ``extract(self)`` the first time only.

        ``extract`` must give one value per candidate, in order; later calls with the same
        name return the same column (so two steps needing one attribute share one pass),
        and :meth:`keep` can carry it over. The built-in columns are stored under their
        property's name; a custom step should use a name of its own (``"mystep.key"``).
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
        any other column is made again when a step of the kept pool asks for it (from the
        directory's columns, when the pool has them). Not carrying a column by default lets
        it die with this pool: a list of ten thousand references kept alive is one the
        garbage collector walks again and again while the rota's records are allocated.
        """
        n = len(self.partners)
        mask = [True] * n
        for position in gone:
            if 0 <= position < n:
                mask[position] = False
        source = self._source
        positions = None
        if source is not None:
            where = range(n) if self._positions is None else self._positions
            positions = list(compress(where, mask))
        kept = Candidates(
            list(compress(self.partners, mask)),
            list(compress(self.facts, mask)),
            list(compress(self.tiers, mask)),
            source=source,
            positions=positions,
        )
        for name in carry:
            values = self._columns.get(name)
            if values is not None:
                kept._columns[name] = list(compress(values, mask))
        return kept

    def _partner_column(self, name: str) -> Sequence[Any]:
        """The partner field ``name`` of every candidate (see :data:`_PARTNER_FIELDS`)."""
        values = self._columns.get(name)
        if values is None:
            source = self._source
            if source is None:
                values = list(map(_PARTNER_FIELDS[name], self.partners))
            elif self._positions is None:
                values = getattr(source, name)
            else:
                values = list(map(getattr(source, name).__getitem__, self._positions))
            self._columns[name] = values
        return values

    def _fact_column(
        self, name: str, extract: Callable[[Sequence[PartnerFacts]], list[Any]]
    ) -> Sequence[Any]:
        """The column ``name``: ``extract(facts)``, made once."""
        values = self._columns.get(name)
        if values is None:
            values = self._columns[name] = extract(self.facts)
        return values

    def marked(self, name: str) -> Sequence[int]:
        """Positions, in order, of the candidates with the mark ``name``.

        The marks are those of :data:`~resource_sharing.directory.PARTNER_MARKS`:
        ``inactive``, ``closing`` (has a temporary closure), ``deflecting`` (has a
        deflection policy), ``charging`` (has a cost), ``limited`` (declares a capacity). A
        pool of the whole directory reads them from the directory's index (made once, no
        scan at all); any other pool scans its partners.
        """
        scan = PARTNER_MARKS.get(name)
        if scan is None:
            known = ", ".join(PARTNER_MARKS)
            raise InvalidInput("mark", f"unknown mark {name!r}; known: {known}")
        if self._source is not None and self._positions is None:
            marked: Sequence[int] = getattr(self._source, name)
            return marked
        return scan(self.partners)

    def lacking(self, service: Service) -> Sequence[int]:
        """Positions, in order, of the candidates that do not supply ``service``."""
        if self._source is not None and self._positions is None:
            return self._source.lacking[service]
        return lacking_positions(self.partners, service)

    @property
    def agencies(self) -> Sequence[AgencyId]:
        """Each candidate's agency id."""
        return self._partner_column("agencies")

    @property
    def agency_values(self) -> Sequence[str]:
        """Each candidate's agency id value (a string: its hash is cached, an id's is not)."""
        return self._partner_column("agency_values")

    @property
    def active(self) -> Sequence[bool]:
        """Each candidate's :attr:`Partner.active`."""
        return self._partner_column("active")

    @property
    def closures(self) -> Sequence[tuple[Closure, ...]]:
        """Each candidate's temporary closures."""
        return self._partner_column("closures")

    @property
    def services(self) -> Sequence[frozenset[Service]]:
        """Each candidate's services supplied."""
        return self._partner_column("services")

    @property
    def deflected_types(self) -> Sequence[frozenset[str]]:
        """Each candidate's deflected publication types (as written, not folded)."""
        return self._partner_column("deflected_types")

    @property
    def deflected_newer_than(self) -> Sequence[int | None]:
        """Each candidate's :attr:`Deflection.newer_than_years`."""
        return self._partner_column("deflected_newer_than")

    @property
    def deflected_older_than(self) -> Sequence[int | None]:
        """Each candidate's :attr:`Deflection.older_than_years`."""
        return self._partner_column("deflected_older_than")

    @property
    def costs(self) -> Sequence[Money | None]:
        """Each candidate's cost from its terms (``None``: free)."""
        return self._partner_column("costs")

    @property
    def delivery_days(self) -> Sequence[int]:
        """Each candidate's declared delivery days from its terms."""
        return self._partner_column("delivery_days")

    @property
    def capacity_per_day(self) -> Sequence[int | None]:
        """Each candidate's declared new requests a day (``None``: not declared)."""
        return self._partner_column("capacity_per_day")

    @property
    def capacity_per_week(self) -> Sequence[int | None]:
        """Each candidate's declared new requests a week (``None``: not declared)."""
        return self._partner_column("capacity_per_week")

    @property
    def sent_today(self) -> Sequence[int]:
        """Each candidate's new requests received today (from its facts)."""
        return self._fact_column("sent_today", lambda facts: [f.sent_today for f in facts])

    @property
    def sent_this_week(self) -> Sequence[int]:
        """Each candidate's new requests received this week (from its facts)."""
        return self._fact_column("sent_this_week", lambda facts: [f.sent_this_week for f in facts])

    @property
    def open_requests(self) -> Sequence[int]:
        """Our open requests with each candidate (from its facts)."""
        return self._fact_column("open_requests", lambda facts: [f.open_requests for f in facts])

    @property
    def turnaround_days(self) -> Sequence[float | None]:
        """Each candidate's observed turnaround (``None``: not observed)."""
        return self._fact_column(
            "turnaround_days", lambda facts: [f.turnaround_days for f in facts]
        )

    @property
    def fills(self) -> Sequence[FillStats | None]:
        """Each candidate's observed fill statistics (``None``: unknown)."""
        return self._fact_column("fills", lambda facts: [f.fill for f in facts])

    @property
    def balances(self) -> Sequence[BalanceStats | None]:
        """Each candidate's lending and borrowing levels (``None``: at parity)."""
        return self._fact_column("balances", lambda facts: [f.balance for f in facts])


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
        inactive = candidates.marked("inactive")
        if not inactive:
            return []
        drop = Drop(DropReason.INACTIVE, "the partner is inactive")
        return [(i, drop) for i in inactive]


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
        closing = candidates.marked("closing")
        if not closing:
            return []
        partners = candidates.partners
        today = job.context.today
        found: Drops = []
        verdicts: dict[tuple[date, date, str | None], Drop] = {}
        for i in closing:
            for closure in partners[i].closures:
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
        if not wanted:
            missed: Collection[int] = range(len(candidates))
        else:
            lacking = [candidates.lacking(service) for service in wanted]
            missed = set(lacking[0]).intersection(*lacking[1:])
        if not missed:
            return []
        names = ", ".join(sorted(s.value for s in wanted)) or "nothing"
        drop = Drop(DropReason.SERVICE_NOT_SUPPLIED, f"does not supply {names}")
        return [(i, drop) for i in sorted(missed)]


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
        year = _YEAR.search(citation.publication_date or "")
        deflecting = candidates.marked("deflecting") if kind or year is not None else ()
        partners = candidates.partners
        if kind and deflecting:
            folded: dict[frozenset[str], frozenset[str]] = {}
            deflects = Drop(DropReason.DEFLECTED_FORMAT, f"deflects {citation.publication_type}")
            for i in deflecting:
                listed = partners[i].deflection.publication_types
                if listed and kind in (
                    folded.get(listed) or folded.setdefault(listed, _fold(listed))
                ):
                    found[i] = deflects
        if year is not None and deflecting:
            age = job.context.today.year - int(year.group(1))
            ages: dict[tuple[int | None, int | None], Drop | None] = {}
            for i in deflecting:
                if i in found:
                    continue
                rule = partners[i].deflection
                limits = (rule.newer_than_years, rule.older_than_years)
                if limits not in ages:
                    ages[limits] = _age_drop(age, *limits)
                if (too_old_or_new := ages[limits]) is not None:
                    found[i] = too_old_or_new
        limit = job.request.max_cost
        if limit is not None:
            amount, currency = limit.amount, limit.currency
            verdicts: dict[tuple[Decimal, str], Drop] = {}
            for i in candidates.marked("charging"):
                cost = partners[i].terms.cost
                if cost is None or i in found:
                    continue
                if cost.currency == currency and cost.amount <= amount:
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
        declared = candidates.marked("limited")
        if not declared:
            return []
        partners, facts = candidates.partners, candidates.facts
        found: Drops = []
        verdicts: dict[tuple[str, int, int], Drop] = {}
        for i in declared:
            fact, capacity = facts[i], partners[i].capacity
            if (limit := capacity.per_day) is not None and (sent := fact.sent_today) >= limit:
                key = ("day", sent, limit)
            elif (limit := capacity.per_week) is not None and (
                sent := fact.sent_this_week
            ) >= limit:
                key = ("week", sent, limit)
            else:
                continue
            drop = verdicts.get(key)
            if drop is None:
                drop = verdicts[key] = _capacity_drop(*key)
            found.append((i, drop))
        return found


def _capacity_drop(period: str, sent: int, limit: int) -> Drop:
    """The drop for a partner sent ``sent`` new requests this ``period`` against ``limit``."""
    when = "today" if period == "day" else "this week"
    text = f"{sent} new requests {when}; declared capacity {limit} a {period}"
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
        try:
            # Every turnaround observed (the common case): one pass over the facts, and no
            # need for the declared days.
            return [1.0 / (1.0 + f.turnaround_days) for f in candidates.facts]  # type: ignore[operator]
        except TypeError:
            pass
        return [
            1.0 / (1.0 + (declared if d is None else d))
            for d, declared in zip(
                candidates.turnaround_days, candidates.delivery_days, strict=True
            )
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
            for s in [f.balance for f in candidates.facts]
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
        fills = [f.fill for f in candidates.facts]
        return [0.5 if s is None else (s.filled + 1) / (s.asked + 2) for s in fills]


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
