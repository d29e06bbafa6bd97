"""A built rota and its explanation: every candidate, kept (with its rank) or dropped (why)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import final

import attrs

from resource_sharing.directory import Partner
from resource_sharing.records import AgencyId, RotaEntry
from resource_sharing.rota._model import Drop

__all__ = [
    "DIRECTORY",
    "STAFF_ROTA",
    "CandidateReport",
    "Rota",
    "RotaExplanation",
    "ScoreComponent",
]

STAFF_ROTA = "staff rota"
"""The source name of candidates from a staff-given rota."""
DIRECTORY = "directory"
"""The source name of candidates taken from the whole directory (no template applied)."""


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
        """The weighted sum of its components (the rota's order); ``None`` when not scored."""
        if not self.components:
            return None
        return sum(c.contribution for c in self.components)


@final
@attrs.frozen(hash=False)
class RotaExplanation:
    """Why the rota is what it is: the selection, and every candidate kept or dropped.

    The reports are made on demand by :meth:`reports` from what the pipeline recorded, so a
    caller that only needs the order never pays for one record per candidate.
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
    """The known candidates' directory entries."""
    _tiers: Mapping[AgencyId, int] = attrs.field(alias="tiers", repr=False)
    """The tier of each template or staff-rota candidate (tier 0 when absent)."""
    _sources: Mapping[AgencyId, str] = attrs.field(alias="sources", repr=False)
    """The source of each template or staff-rota candidate (``directory`` when absent)."""
    _fallbacks: frozenset[AgencyId] = attrs.field(alias="fallbacks", repr=False)
    _drops: Mapping[AgencyId, Drop] = attrs.field(alias="drops", repr=False)
    _ranked: tuple[AgencyId, ...] = attrs.field(alias="ranked", repr=False)
    """The rota, fallbacks last."""
    _scored: Sequence[AgencyId] = attrs.field(alias="scored", repr=False)
    """The scored candidates (kept or beyond the length limit), in no particular order."""
    _columns: Sequence[Sequence[float]] = attrs.field(alias="columns", repr=False)
    """Each scorer's values (in the order of :attr:`scorers`), aligned with ``_scored``."""

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
        scores = self._scores(self._scored)
        kept = [self._report(a, rank, scores) for rank, a in enumerate(self._ranked, 1)]
        dropped = sorted(self._drops, key=lambda a: (self._tier(a), a.type, a.value))
        return (*kept, *(self._report(a, None, scores) for a in dropped))

    def report(self, agency: AgencyId) -> CandidateReport | None:
        """The report of one candidate, or ``None`` if it was not a candidate."""
        scores = self._scores([agency])
        if agency in self._drops:
            return self._report(agency, None, scores)
        if agency not in self._ranked:
            return None
        return self._report(agency, self._ranked.index(agency) + 1, scores)

    def source(self, agency: AgencyId) -> str:
        """What put this candidate in the rota (a template name, ``staff rota``...)."""
        return self._sources.get(agency, DIRECTORY)

    def _scores(self, agencies: Sequence[AgencyId]) -> dict[AgencyId, tuple[float, ...]]:
        """The values of these agencies that were scored."""
        wanted = set(agencies)
        return {
            agency: tuple(column[i] for column in self._columns)
            for i, agency in enumerate(self._scored)
            if agency in wanted
        }

    def _tier(self, agency: AgencyId) -> int:
        return self._tiers.get(agency, 0)

    def _report(
        self, agency: AgencyId, rank: int | None, scores: Mapping[AgencyId, tuple[float, ...]]
    ) -> CandidateReport:
        partner = self._partners.get(agency)
        values = scores.get(agency, ())
        return CandidateReport(
            agency=agency,
            name=partner.name if partner is not None else "",
            source=self.source(agency),
            tier=self._tier(agency),
            fallback=agency in self._fallbacks,
            rank=rank,
            drop=self._drops.get(agency),
            components=tuple(
                ScoreComponent(name, value, weight)
                for (name, weight), value in zip(self.scorers, values, strict=False)
            ),
        )


@final
@attrs.frozen(hash=False)
class Rota:
    """A built rota: the lenders to ask, in order, and the explanation.

    The :attr:`entries`, one record per lender with why it is there, are made from
    :attr:`agencies` the first time they are read, as the explanation's reports are.
    """

    agencies: tuple[AgencyId, ...]
    """The lenders in the order they will be asked (fallbacks last)."""
    explanation: RotaExplanation
    """Every candidate, kept or dropped, and why."""

    @cached_property
    def entries(self) -> tuple[RotaEntry, ...]:
        """The kept lenders in the order they will be asked (fallbacks last), as records."""
        explanation = self.explanation
        templates = explanation.templates
        entries = []
        for agency in self.agencies:
            source = explanation.source(agency)
            if agency in explanation._fallbacks:
                entries.append(RotaEntry(agency, source, fallback=True))
            else:
                reason = f"template {source}" if source in templates else source
                entries.append(RotaEntry(agency, reason))
        return tuple(entries)
