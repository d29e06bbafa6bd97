"""The rota: choose, rank and explain the lenders a borrowing request will be sent to.

Theory of operation
-------------------
Every system in the field builds its lender list differently (Alma rota templates and
assignment rules, OCLC lender strings ordered by turnaround and queue depth, Rapido pods,
ReShare's loan-to-borrow balancing) and leaves staff guessing why a lender was or was not
asked. Here the rota is one pure function, :func:`build_rota`, and a pipeline of four steps
whose every decision is recorded:

1. **Candidates.** A staff-given rota for this request wins. Otherwise the first matching
   :class:`AssignmentRule` (by patron group, publication type, service type, requested
   format, identifiers and citation fields) assigns its templates, then the policy's default
   templates, then the whole directory. Each :class:`RotaTemplate` is a list of *tiers*: an
   ordered template is one partner per tier, a pod is one tier of many. A partner listed
   twice keeps its first (best) place: no partner is ever a candidate twice. A rule's
   fallback lenders are candidates too, filtered but never ranked, and come last.
2. **Filters** (:class:`Filter`) drop who must not be asked: inactive, closed on the date,
   not supplying the service, our own institution, already tried, not holding the item,
   deflecting the request, at declared capacity. The first filter to drop a candidate names
   the reason (:class:`DropReason` plus a sentence).
3. **Scorers** (:class:`Scorer`) value the survivors: tier, turnaround, current load,
   loan-to-borrow balance, fill rate. The total is the weighted sum; by default the tier
   dominates and the rest order partners within a tier.
4. **Order**: by total, best first; equal totals by agency id. The order therefore never
   depends on the order of the directory or of any input mapping.

Facts (holdings answers, open-request counts, turnaround and fill statistics, requests sent
today and this week, the date) come in through :class:`RotaContext`: the core reads no clock
and no database. The result is a :class:`Rota`: the kept entries as ``tuple[RotaEntry, ...]``
in order, which the borrowing lifecycle walks, and a :class:`RotaExplanation` listing every
candidate with its fate and score components.

Filters and scorers look at one candidate at a time (``screen(partner, facts, job)``,
``score(partner, facts, job)``); anything that depends on the request alone is derived once
per rota by the :class:`RotaJob` they receive.
"""

from __future__ import annotations

from resource_sharing.rota._explanation import (
    DIRECTORY,
    STAFF_ROTA,
    CandidateReport,
    Rota,
    RotaExplanation,
    ScoreComponent,
)
from resource_sharing.rota._model import (
    NO_FACTS,
    AssignmentRule,
    BalanceStats,
    CitationCondition,
    CitationField,
    Drop,
    DropReason,
    FillStats,
    Holding,
    HoldingsAnswer,
    PartnerFacts,
    RotaContext,
    RotaTemplate,
    accepted_services,
)
from resource_sharing.rota._pipeline import RotaPolicy, build_rota
from resource_sharing.rota._steps import (
    DEFAULT_FILTERS,
    DEFAULT_SCORERS,
    AlreadyTriedFilter,
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
    "DIRECTORY",
    "NO_FACTS",
    "STAFF_ROTA",
    "AlreadyTriedFilter",
    "AssignmentRule",
    "BalanceStats",
    "CandidateReport",
    "CapacityFilter",
    "CitationCondition",
    "CitationField",
    "ClosedFilter",
    "DeflectionFilter",
    "Drop",
    "DropReason",
    "FillRateScorer",
    "FillStats",
    "Filter",
    "Holding",
    "HoldingsAnswer",
    "InactiveFilter",
    "LoadScorer",
    "LoanToBorrowScorer",
    "NotHeldFilter",
    "OwnInstitutionFilter",
    "PartnerFacts",
    "Rota",
    "RotaContext",
    "RotaExplanation",
    "RotaJob",
    "RotaPolicy",
    "RotaTemplate",
    "ScoreComponent",
    "Scorer",
    "ServiceFilter",
    "TierScorer",
    "TurnaroundScorer",
    "accepted_services",
    "build_rota",
]
