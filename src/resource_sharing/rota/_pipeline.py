"""The pipeline: candidates, then filters, then scorers, then order; and its explanation."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from itertools import islice, repeat
from operator import add, eq, mul
from typing import final

import attrs

from resource_sharing.directory import Directory, Partner
from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId, BorrowingRequest, RotaEntry
from resource_sharing.rota._model import (
    NO_FACTS,
    AssignmentRule,
    Drop,
    DropReason,
    RotaContext,
    RotaTemplate,
    accepted_services,
)
from resource_sharing.rota._steps import (
    AlreadyTriedFilter,
    Candidates,
    CapacityFilter,
    ClosedFilter,
    DeflectionFilter,
    FillRateScorer,
    Filter,
    InactiveFilter,
    LoadScorer,
    LoanToBorrowScorer,
    NotHeldFilter,
    OwnInstitutionFilter,
    RotaJob,
    Scorer,
    ServiceFilter,
    TierScorer,
    TurnaroundScorer,
)

__all__ = [
    "DEFAULT_FILTERS",
    "DEFAULT_SCORERS",
    "CandidateReport",
    "Rota",
    "RotaExplanation",
    "RotaPolicy",
    "ScoreComponent",
    "build_rota",
]

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

STAFF_ROTA = "staff rota"
"""The source name of candidates from a staff-given rota."""
DIRECTORY = "directory"
"""The source name of candidates taken from the whole directory (no template applied)."""


def _unique_names(
    _: object, attribute: attrs.Attribute[tuple[RotaTemplate, ...]], value: tuple[RotaTemplate, ...]
) -> None:
    names = [t.name for t in value]
    if len(set(names)) != len(names):
        raise InvalidInput("templates", "template names must be unique")


@final
@attrs.frozen(hash=False)
class RotaPolicy:
    """How a rota is built: the templates, the rules choosing them, the steps, a length limit.

    Selection: a staff-given rota (in the context) wins; else the first enabled rule that
    matches assigns its templates (and fallback lenders); else ``default_templates``; else
    every partner in the directory is a candidate, in one tier.
    """

    templates: tuple[RotaTemplate, ...] = attrs.field(default=(), validator=_unique_names)
    """The named partner lists."""
    rules: tuple[AssignmentRule, ...] = ()
    """Assignment rules, tried in order."""
    default_templates: tuple[str, ...] = ()
    """Templates for requests no rule matches (empty: the whole directory)."""
    filters: tuple[Filter, ...] = DEFAULT_FILTERS
    """The filters, in the order they run."""
    scorers: tuple[Scorer, ...] = DEFAULT_SCORERS
    """The scorers; the rota is ordered by the weighted sum of their values."""
    max_length: int | None = None
    """Keep at most this many ranked lenders (OCLC strings hold five); fallbacks come extra."""

    def __attrs_post_init__(self) -> None:
        known = {t.name for t in self.templates}
        for rule in self.rules:
            for name in rule.templates:
                if name not in known:
                    raise InvalidInput(f"rule {rule.name}", f"unknown template {name!r}")
        for name in self.default_templates:
            if name not in known:
                raise InvalidInput("default_templates", f"unknown template {name!r}")
        if self.max_length is not None and self.max_length < 0:
            raise InvalidInput("max_length", "must not be negative")
        scorer_names = [s.name for s in self.scorers]
        if len(set(scorer_names)) != len(scorer_names):
            raise InvalidInput("scorers", "scorer names must be unique")

    def template(self, name: str) -> RotaTemplate:
        """The template with this name."""
        for template in self.templates:
            if template.name == name:
                return template
        raise InvalidInput("template", f"unknown template {name!r}")

    def choose(self, request: BorrowingRequest, context: RotaContext) -> AssignmentRule | None:
        """The first enabled rule matching the request, if any."""
        services = accepted_services(request, context)
        for rule in self.rules:
            if rule.matches(request, services):
                return rule
        return None


@final
@attrs.frozen
class ScoreComponent:
    """One scorer's part of a candidate's total."""

    scorer: str
    """The scorer's name."""
    value: float
    """What it gave the candidate."""
    weight: float
    """Its weight."""

    @property
    def contribution(self) -> float:
        """``value x weight``: what it added to the total."""
        return self.value * self.weight


@final
@attrs.frozen
class CandidateReport:
    """One candidate in the explanation: kept (with its rank) or dropped (with why)."""

    agency: AgencyId
    """The candidate lender."""
    name: str
    """Its display name from the directory (empty when unknown)."""
    source: str
    """What put it in the candidates: a template name, ``staff rota`` or ``directory``."""
    tier: int
    """Its tier (0 is asked first)."""
    fallback: bool
    """True for an end-of-rota fallback lender (not ranked)."""
    rank: int | None
    """Its 1-based place in the rota; ``None`` when dropped."""
    drop: Drop | None
    """Why it was dropped; ``None`` when kept."""
    components: tuple[ScoreComponent, ...]
    """Its score, scorer by scorer (empty when it was not scored)."""

    @property
    def kept(self) -> bool:
        """True when it is in the rota."""
        return self.rank is not None

    @property
    def total(self) -> float | None:
        """The weighted sum of its components; ``None`` when it was not scored."""
        if not self.components:
            return None
        return sum(c.contribution for c in self.components)


@final
@attrs.frozen(hash=False)
class RotaExplanation:
    """Why the rota is what it is: the selection, and every candidate kept or dropped.

    The per-candidate reports are built on demand by :meth:`reports` from what the pipeline
    recorded anyway, so building a rota costs little more than ranking it.
    """

    request_id: str
    """The request the rota is for."""
    selection: str
    """How the candidates were chosen (``rule faculty-loans``, ``staff rota``...)."""
    rule: str | None
    """The assignment rule that matched, if one did."""
    templates: tuple[str, ...]
    """The templates used, in order."""
    scorers: tuple[tuple[str, float], ...]
    """The scorers' names and weights, in the order of each report's components."""
    _partners: Mapping[AgencyId, Partner] = attrs.field(alias="partners", repr=False)
    _tiers: dict[AgencyId, int] = attrs.field(alias="tiers", repr=False)
    _sources: dict[AgencyId, str] = attrs.field(alias="sources", repr=False)
    _fallbacks: frozenset[AgencyId] = attrs.field(alias="fallbacks", repr=False)
    _drops: dict[AgencyId, Drop] = attrs.field(alias="drops", repr=False)
    _ranked: list[AgencyId] = attrs.field(alias="ranked", repr=False)
    _scored: list[AgencyId] = attrs.field(alias="scored", repr=False)
    _columns: tuple[list[float], ...] = attrs.field(alias="columns", repr=False)

    def __len__(self) -> int:
        return len(self._ranked) + len(self._drops)

    @property
    def candidates(self) -> frozenset[AgencyId]:
        """Every candidate considered, kept or dropped."""
        return frozenset(self._ranked) | self._drops.keys()

    def dropped(self) -> dict[AgencyId, Drop]:
        """Every dropped candidate and why."""
        return dict(self._drops)

    def reports(self) -> tuple[CandidateReport, ...]:
        """Every candidate: the kept ones in rota order, then the dropped by tier and agency."""
        position = {agency: i for i, agency in enumerate(self._scored)}
        rows = [
            self._report(agency, rank, position.get(agency))
            for rank, agency in enumerate(self._ranked, 1)
        ]
        dropped = sorted(self._drops, key=lambda a: (self._tier(a), a.type, a.value))
        rows.extend(self._report(agency, None, position.get(agency)) for agency in dropped)
        return tuple(rows)

    def report(self, agency: AgencyId) -> CandidateReport | None:
        """The report of one candidate, or ``None`` if it was not a candidate."""
        scored = next((i for i, a in enumerate(self._scored) if a == agency), None)
        if agency in self._drops:
            return self._report(agency, None, scored)
        if agency not in self._ranked:
            return None
        return self._report(agency, self._ranked.index(agency) + 1, scored)

    def _tier(self, agency: AgencyId) -> int:
        return self._tiers.get(agency, 0)

    def _report(self, agency: AgencyId, rank: int | None, scored: int | None) -> CandidateReport:
        partner = self._partners.get(agency)
        components: tuple[ScoreComponent, ...] = ()
        if scored is not None:
            components = tuple(
                ScoreComponent(name, column[scored], weight)
                for (name, weight), column in zip(self.scorers, self._columns, strict=True)
            )
        return CandidateReport(
            agency=agency,
            name=partner.name if partner is not None else "",
            source=self._sources.get(agency, DIRECTORY),
            tier=self._tier(agency),
            fallback=agency in self._fallbacks,
            rank=rank,
            drop=self._drops.get(agency),
            components=components,
        )


@final
@attrs.frozen(hash=False)
class Rota:
    """A built rota: the lenders to ask, in order, and the explanation.

    Ranking gives the order (:attr:`agencies`); the :attr:`entries`, one record per lender
    with why it is there, are made from it the first time they are asked for and then kept,
    as the explanation's reports are: a caller that only needs the order, or the first few
    lenders, never pays for ten thousand records.
    """

    agencies: tuple[AgencyId, ...]
    """The lenders in the order they will be asked (fallbacks last)."""
    explanation: RotaExplanation
    """Every candidate, kept or dropped, and why."""
    _reasons: Mapping[str, str] = attrs.field(alias="reasons", eq=False, repr=False)
    """The entry reason for each candidate source (a template's name...)."""
    _ranked: int = attrs.field(alias="ranked", eq=False, repr=False)
    """How many of :attr:`agencies` were ranked (the fallbacks follow them)."""

    @cached_property
    def entries(self) -> tuple[RotaEntry, ...]:
        """The kept lenders in the order they will be asked (fallbacks last), as records."""
        sources = self.explanation._sources
        ranked = self._ranked
        if not sources:
            entries = list(map(RotaEntry, self.agencies[:ranked], repeat(DIRECTORY)))
        else:
            reasons = self._reasons
            entries = [RotaEntry(a, reasons[sources[a]]) for a in self.agencies[:ranked]]
        entries.extend(RotaEntry(a, sources[a], fallback=True) for a in self.agencies[ranked:])
        return tuple(entries)


def build_rota(
    request: BorrowingRequest,
    directory: Directory,
    context: RotaContext,
    policy: RotaPolicy | None = None,
) -> Rota:
    """Build the rota for a request: candidates, filters, scorers, order.

    Pure and deterministic: the same inputs give the same rota, whatever the order of the
    directory or of the facts' mappings (ties are broken on the agency id), and no partner
    appears twice. Raises :class:`~resource_sharing.errors.InvalidInput` for an inconsistent
    policy (a rule naming an unknown template is caught when the policy is built).
    """
    policy = policy if policy is not None else RotaPolicy()

    # 1. Candidates: who might be asked, each once, with its tier and source.
    tiers: dict[AgencyId, int] = {}
    sources: dict[AgencyId, str] = {}
    fallbacks: list[AgencyId] = []
    rule: AssignmentRule | None = None
    template_names: tuple[str, ...] = ()
    partners: Mapping[AgencyId, Partner]
    if context.staff_rota is not None:
        selection = STAFF_ROTA
        for position, agency in enumerate(context.staff_rota):
            if agency not in tiers:
                tiers[agency] = position
                sources[agency] = STAFF_ROTA
    else:
        rule = policy.choose(request, context)
        if rule is not None:
            selection = f"rule {rule.name}"
            template_names = rule.templates
        elif policy.default_templates:
            selection = "default templates"
            template_names = policy.default_templates
        else:
            selection = DIRECTORY
        if template_names:
            tier = 0
            for name in template_names:
                for members in policy.template(name).tiers:
                    for agency in members:
                        if agency not in tiers:
                            tiers[agency] = tier
                            sources[agency] = name
                    tier += 1
        if rule is not None:
            last = max(tiers.values(), default=-1) + 1
            for agency in rule.fallback:
                if agency not in tiers:
                    tiers[agency] = last
                    sources[agency] = f"fallback of rule {rule.name}"
                    fallbacks.append(agency)

    # 2. Filters and 3. scorers run in a helper: the candidate pools and the columns the steps
    # extracted die when it returns (only the scores are kept, for the explanation).
    drops: dict[AgencyId, Drop] = {}
    fallback_set = frozenset(fallbacks)
    partners, scored, kept_fallbacks, columns = _filter_and_score(
        directory, context, policy, RotaJob(request, context), tiers, drops, fallback_set, selection
    )

    # 4. Order: by total, best first; equal totals by agency id, so input order never matters.
    weights = [float(step.weight) for step in policy.scorers]
    totals = _weighted_sum(columns, weights, len(scored))
    # The whole directory comes in agency order (see PartnerColumns), and filtering keeps it.
    agencies = _ordered(scored, totals, policy, drops, in_agency_order=selection == DIRECTORY)
    ranked = len(agencies)
    agencies.extend(kept_fallbacks)
    reasons = {name: f"template {name}" for name in template_names}
    reasons[STAFF_ROTA] = STAFF_ROTA
    explanation = RotaExplanation(
        request_id=request.id,
        selection=selection,
        rule=rule.name if rule is not None else None,
        templates=template_names,
        scorers=tuple((s.name, float(s.weight)) for s in policy.scorers),
        partners=partners,
        tiers=tiers,
        sources=sources,
        fallbacks=fallback_set,
        drops=drops,
        ranked=agencies,
        scored=scored,
        columns=columns,
    )
    return Rota(tuple(agencies), explanation, reasons=reasons, ranked=ranked)


def _filter_and_score(
    directory: Directory,
    context: RotaContext,
    policy: RotaPolicy,
    job: RotaJob,
    tiers: dict[AgencyId, int],
    drops: dict[AgencyId, Drop],
    fallbacks: frozenset[AgencyId],
    selection: str,
) -> tuple[Mapping[AgencyId, Partner], list[AgencyId], list[AgencyId], tuple[list[float], ...]]:
    """Run the filters (recording drops) and the scorers over the candidates.

    Returns the candidates' partners by agency, the scored agencies (the ranked survivors),
    the surviving fallbacks in order, and one column per scorer.
    """
    partners, pool = _pool(directory, context, tiers, drops, selection)

    # 2. Filters: every filter sees every candidate (cheaper than rebuilding the pool after
    # each); the first filter to drop a candidate gives the reason.
    gone: dict[int, Drop] = {}
    size = len(pool)
    for step in policy.filters:
        for position, drop in step.screen(pool, job):
            if position not in gone and 0 <= position < size:
                gone[position] = drop
    if gone:
        agency_of = pool.agencies
        for position, drop in gone.items():
            drops[agency_of[position]] = drop
        pool = pool.keep(gone.keys(), carry=(AGENCIES,))

    # 3. Scorers, on the ranked (non-fallback) survivors.
    kept_fallbacks: list[AgencyId] = []
    if fallbacks:
        agency_of = pool.agencies
        last_resort = {i for i, a in enumerate(agency_of) if a in fallbacks}
        kept_fallbacks = [agency_of[i] for i in sorted(last_resort)]
        pool = pool.keep(last_resort, carry=(AGENCIES,))
    n = len(pool)
    columns = tuple(_checked(step, step.score(pool, job), n) for step in policy.scorers)
    return partners, list(pool.agencies), kept_fallbacks, columns


AGENCIES = "agencies"
"""The name of the agency column (:attr:`Candidates.agencies`)."""


def _pool(
    directory: Directory,
    context: RotaContext,
    tiers: dict[AgencyId, int],
    drops: dict[AgencyId, Drop],
    selection: str,
) -> tuple[Mapping[AgencyId, Partner], Candidates]:
    """The known candidates as a pool (recording unknown ones as drops), by agency too.

    The pool reads the partners' own fields from the directory's columns, built once per
    directory; only the facts are looked up here.
    """
    source = directory.columns
    partners: Mapping[AgencyId, Partner]
    positions: list[int] | None
    if selection == DIRECTORY:
        partners = directory.partners
        alive: Sequence[Partner] = source.partners
        agencies: Sequence[AgencyId] = source.agencies
        tier_column = [0] * len(alive)
        positions = None
    else:
        known: dict[AgencyId, Partner] = {}
        where = source.positions
        positions = []
        tier_column = []
        for agency, tier in tiers.items():
            position = where.get(agency)
            if position is None:
                drops[agency] = Drop(DropReason.UNKNOWN_PARTNER, "not in the directory")
            else:
                known[agency] = source.partners[position]
                positions.append(position)
                tier_column.append(tier)
        partners = known
        alive = list(known.values())
        agencies = list(known)
    facts = context.facts
    if facts:
        fact_column = list(map(facts.get, agencies, repeat(NO_FACTS)))
    else:
        fact_column = [NO_FACTS] * len(alive)
    pool = Candidates(alive, fact_column, tier_column, source=source, positions=positions)
    return partners, pool


def _ordered(
    scored: list[AgencyId],
    totals: list[float],
    policy: RotaPolicy,
    drops: dict[AgencyId, Drop],
    in_agency_order: bool,
) -> list[AgencyId]:
    """The scored agencies by total, cut to the policy's length (recording the cut as drops).

    ``in_agency_order``: ``scored`` is already sorted by agency id, so ties need no work.
    """
    order = _order(scored, totals, in_agency_order)
    limit = policy.max_length
    if limit is not None and len(order) > limit:
        for rank, position in enumerate(order[limit:], limit + 1):
            text = f"ranked {rank} of {len(order)}; the rota keeps {limit}"
            drops[scored[position]] = Drop(DropReason.BEYOND_LIMIT, text)
        del order[limit:]
    return list(map(scored.__getitem__, order))


def _weighted_sum(columns: tuple[list[float], ...], weights: list[float], n: int) -> list[float]:
    """The per-candidate sum of ``weight x value`` over the scorers' columns, for ordering.

    A column with one value throughout adds the same to every total and cannot change the
    order, so it is left out (the reports still show it). The rest are added left to right,
    a column at a time in one C-level pass each, as ``((a + b) + c) + ...``.
    """
    terms: list[Iterable[float]] = []
    for weight, column in zip(weights, columns, strict=True):
        if not column or column.count(column[0]) == n or weight == 0.0:
            continue
        terms.append(column if weight == 1.0 else map(mul, column, repeat(weight)))
    if not terms:
        return [0.0] * n
    total = terms[0]
    for term in terms[1:]:
        total = map(add, total, term)
    return list(total)


def _checked(step: Scorer, values: Sequence[float], expected: int) -> list[float]:
    if len(values) != expected:
        raise InvalidInput(f"scorer {step.name}", f"gave {len(values)} values for {expected}")
    # A plain sum is finite when every value is (an overflow only sends it to the slow check).
    if not math.isfinite(sum(values)) and not all(map(math.isfinite, values)):
        raise InvalidInput(f"scorer {step.name}", "gave a value that is not a finite number")
    return values if isinstance(values, list) else list(values)


def _order(agencies: Sequence[AgencyId], totals: list[float], in_agency_order: bool) -> list[int]:
    """Positions sorted by total (highest first), ties by agency id.

    The sort is stable, so candidates already in agency order come out with their ties in
    agency order. Otherwise the positions are sorted on the float alone, and then only the
    runs of equal totals are sorted again, which keeps the common case at one float sort.
    """
    n = len(totals)
    order = sorted(range(n), key=totals.__getitem__, reverse=True)
    if in_agency_order:
        return order
    keys = list(map(totals.__getitem__, order))
    if not any(map(eq, keys, islice(keys, 1, None))):
        return order
    start = 0
    while start < n:
        end = start + 1
        value = keys[start]
        while end < n and keys[end] == value:
            end += 1
        if end - start > 1:
            run = order[start:end]
            run.sort(key=lambda i: (agencies[i].type, agencies[i].value))
            order[start:end] = run
        start = end
    return order
