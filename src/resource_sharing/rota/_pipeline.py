"""The pipeline: candidates, then filters, then scorers, then one sort."""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from typing import final

import attrs

from resource_sharing.directory import Directory, Partner
from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId, BorrowingRequest
from resource_sharing.rota._explanation import DIRECTORY, STAFF_ROTA, Rota, RotaExplanation
from resource_sharing.rota._model import (
    NO_FACTS,
    AssignmentRule,
    Drop,
    DropReason,
    PartnerFacts,
    RotaContext,
    RotaTemplate,
    accepted_services,
)
from resource_sharing.rota._steps import (
    DEFAULT_FILTERS,
    DEFAULT_SCORERS,
    Filter,
    RotaJob,
    Scorer,
)

__all__ = ["RotaPolicy", "build_rota"]

_UNKNOWN = Drop(DropReason.UNKNOWN_PARTNER, "not in the directory")


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


_DEFAULT_POLICY = RotaPolicy()


@final
@attrs.frozen(hash=False)
class _Selection:
    """Step 1's answer: who might be asked, each once, with its tier and source."""

    name: str
    rule: AssignmentRule | None = None
    templates: tuple[str, ...] = ()
    tiers: dict[AgencyId, int] = attrs.field(factory=dict)
    """Tier of each named candidate, in the order named; empty: the whole directory."""
    sources: dict[AgencyId, str] = attrs.field(factory=dict)
    fallbacks: list[AgencyId] = attrs.field(factory=list)


def _select(request: BorrowingRequest, context: RotaContext, policy: RotaPolicy) -> _Selection:
    """The candidates: the staff rota, else the first matching rule's, else the defaults."""
    if context.staff_rota is not None:
        selection = _Selection(STAFF_ROTA)
        for position, agency in enumerate(context.staff_rota):
            _add(selection, agency, position, STAFF_ROTA)
        return selection
    rule = policy.choose(request, context)
    if rule is not None:
        selection = _Selection(f"rule {rule.name}", rule, rule.templates)
    elif policy.default_templates:
        selection = _Selection("default templates", templates=policy.default_templates)
    else:
        return _Selection(DIRECTORY)
    for tier, (name, members) in enumerate(_named(selection.templates, policy)):
        for agency in members:
            _add(selection, agency, tier, name)
    if rule is not None:
        last = max(selection.tiers.values(), default=-1) + 1
        for agency in rule.fallback:
            if agency not in selection.tiers:
                _add(selection, agency, last, f"fallback of rule {rule.name}")
                selection.fallbacks.append(agency)
    return selection


def _named(
    names: tuple[str, ...], policy: RotaPolicy
) -> Iterable[tuple[str, tuple[AgencyId, ...]]]:
    """Each tier of the named templates, one after another, with its template's name."""
    for name in names:
        for members in policy.template(name).tiers:
            yield name, members


def _add(selection: _Selection, agency: AgencyId, tier: int, source: str) -> None:
    """Add a candidate unless it is one already (a partner keeps its first, best place)."""
    if agency not in selection.tiers:
        selection.tiers[agency] = tier
        selection.sources[agency] = source


def build_rota(
    request: BorrowingRequest,
    directory: Directory,
    context: RotaContext,
    policy: RotaPolicy | None = None,
) -> Rota:
    """Build the rota for a request: candidates, filters, scorers, order.

    Pure and deterministic: the same inputs give the same rota, whatever the order of the
    directory or of the facts' mappings (ties are broken on the agency id), and no partner
    appears twice. Raises :class:`~resource_sharing.errors.InvalidInput` for a scorer giving
    a value that is not a finite number (a rule naming an unknown template is caught when
    the policy is built).
    """
    policy = policy if policy is not None else _DEFAULT_POLICY
    selection = _select(request, context, policy)
    drops: dict[AgencyId, Drop] = {}

    # 1. Candidates: the named ones the directory knows (the others are dropped), or all.
    partners: Mapping[AgencyId, Partner] = directory.partners
    if selection.name != DIRECTORY:
        partners = {}
        for agency in selection.tiers:
            partner = directory.get(agency)
            if partner is None:
                drops[agency] = _UNKNOWN
            else:
                partners[agency] = partner
    job = RotaJob(request, context, selection.tiers, partners)

    # 2. Filters that may drop someone for this job: the first to drop a candidate names
    # the reason.
    screens = [step.screen for step in policy.filters if step.applies(job)]
    fallbacks = frozenset(selection.fallbacks)
    kept_fallbacks: list[AgencyId] = []
    kept: list[Partner] = []
    kept_facts: list[PartnerFacts] = []
    for partner in partners.values():
        agency = partner.agency
        facts = context.facts.get(agency, NO_FACTS)
        for screen in screens:
            if (drop := screen(partner, facts, job)) is not None:
                drops[agency] = drop
                break
        else:
            if fallbacks and agency in fallbacks:
                kept_fallbacks.append(agency)
            else:
                kept.append(partner)
                kept_facts.append(facts)

    # 3. Scorers, on the kept candidates but the fallbacks: one column of values per scorer,
    # and each candidate's total.
    columns = [
        [step.score(p, f, job) for p, f in zip(kept, kept_facts, strict=True)]
        for step in policy.scorers
    ]
    weights = [float(step.weight) for step in policy.scorers]
    totals = [sum(map(operator.mul, weights, values)) for values in zip(*columns, strict=True)]
    if not columns:
        totals = [0.0] * len(kept)
    if not all(map(math.isfinite, totals)):
        raise _not_finite(policy.scorers, columns)

    # 4. Order: one sort, best total first, equal totals by agency id (type, then value), so
    # the order of the directory or of any mapping never matters.
    rows = [
        (-total, p.agency.type, p.agency.value, i)
        for i, (total, p) in enumerate(zip(totals, kept, strict=True))
    ]
    rows.sort()
    scored = [kept[row[-1]].agency for row in rows]
    limit = len(scored) if policy.max_length is None else policy.max_length
    for rank, agency in enumerate(scored[limit:], limit + 1):
        text = f"ranked {rank} of {len(scored)}; the rota keeps {limit}"
        drops[agency] = Drop(DropReason.BEYOND_LIMIT, text)
    ranked = (*scored[:limit], *kept_fallbacks)
    explanation = RotaExplanation(
        request_id=request.id,
        selection=selection.name,
        rule=selection.rule.name if selection.rule is not None else None,
        templates=selection.templates,
        scorers=tuple(zip((s.name for s in policy.scorers), weights, strict=True)),
        partners=partners,
        tiers=selection.tiers,
        sources=selection.sources,
        fallbacks=fallbacks,
        drops=drops,
        ranked=ranked,
        scored=[partner.agency for partner in kept],
        columns=columns,
    )
    return Rota(ranked, explanation)


def _not_finite(scorers: tuple[Scorer, ...], columns: list[list[float]]) -> InvalidInput:
    """The error for a total that is not a finite number, naming the scorer to blame."""
    blamed = [
        s.name for s, c in zip(scorers, columns, strict=True) if not all(map(math.isfinite, c))
    ]
    where = f"scorer {blamed[0]}" if blamed else "scorers"
    return InvalidInput(where, "gave a value that is not a finite number")
