"""The rota's values: templates, assignment rules, the context of facts, drops and reports."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import final

import attrs

from resource_sharing.directory import Service
from resource_sharing.errors import InvalidInput
from resource_sharing.identifiers import match_keys
from resource_sharing.iso18626 import ServiceType
from resource_sharing.records import AgencyId, BorrowingRequest, Citation, Identifier

__all__ = [
    "NO_FACTS",
    "AssignmentRule",
    "BalanceStats",
    "CitationCondition",
    "CitationField",
    "Drop",
    "DropReason",
    "FillStats",
    "Holding",
    "HoldingsAnswer",
    "PartnerFacts",
    "RotaContext",
    "RotaTemplate",
    "accepted_services",
]


class DropReason(StrEnum):
    """Why a candidate lender was left out of the rota."""

    UNKNOWN_PARTNER = "unknown_partner"
    """A template or staff rota names an agency the directory does not know."""
    INACTIVE = "inactive"
    """The partner is marked inactive in the directory."""
    CLOSED = "closed"
    """A temporary closure for lending covers the date."""
    SERVICE_NOT_SUPPLIED = "service_not_supplied"
    """The partner supplies none of the services (loan, copy, digital) the request accepts."""
    OWN_INSTITUTION = "own_institution"
    """The candidate is the borrowing institution itself."""
    ALREADY_TRIED = "already_tried"
    """The partner was already asked for this request (and staff did not re-request it)."""
    NOT_HELD = "not_held"
    """The holdings answer says the partner does not hold the item."""
    DEFLECTED_FORMAT = "deflected_format"
    """The partner deflects this publication type (format)."""
    DEFLECTED_AGE = "deflected_age"
    """The partner deflects material of this publication age."""
    DEFLECTED_COST = "deflected_cost"
    """The partner charges more than the borrower's maximum cost."""
    CAPACITY_REACHED = "capacity_reached"
    """The partner's declared capacity (per day or per week) is used up."""
    BEYOND_LIMIT = "beyond_limit"
    """Kept by every filter but ranked after the rota's maximum length."""


@final
@attrs.frozen
class Drop:
    """A filter's verdict on one candidate: the reason and a sentence for staff."""

    reason: DropReason
    """The machine-readable reason."""
    detail: str
    """A readable explanation (``closed 2025-03-01..2025-03-09 (stocktaking)``)."""


@final
@attrs.frozen
class RotaTemplate:
    """A named list of partners in tiers (Alma rota template, Rapido pod order).

    Tiers are asked in order; the partners within one tier are ranked by the scorers. An
    *ordered* template has one partner per tier (build it with :meth:`ordered`); a pod is
    one tier of many (:meth:`pods`).
    """

    name: str
    """The template's name, shown in the explanation."""
    tiers: tuple[tuple[AgencyId, ...], ...]
    """Partner tiers, most preferred first."""

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise InvalidInput("template.name", "a template needs a name")

    @classmethod
    def ordered(cls, name: str, agencies: tuple[AgencyId, ...]) -> RotaTemplate:
        """A template asked strictly in this order (each partner its own tier)."""
        return cls(name, tuple((agency,) for agency in agencies))

    @classmethod
    def pods(cls, name: str, *pods: tuple[AgencyId, ...]) -> RotaTemplate:
        """A template of pods: each pod one tier, ranked inside by the scorers."""
        return cls(name, tuple(pods))


class CitationField(StrEnum):
    """The citation fields an assignment rule can test."""

    TITLE = "title"
    """Title of the work."""
    AUTHOR = "author"
    """Author of the work."""
    SERIES_TITLE = "series_title"
    """Series title."""
    EDITION = "edition"
    """Edition statement."""
    TITLE_OF_COMPONENT = "title_of_component"
    """Article or chapter title."""
    VOLUME = "volume"
    """Volume."""
    PUBLISHER = "publisher"
    """Publisher."""
    PUBLICATION_DATE = "publication_date"
    """Publication date as given."""
    PLACE_OF_PUBLICATION = "place_of_publication"
    """Place of publication."""


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InvalidInput(
            "rule.citation.pattern", f"{pattern!r} is not a valid pattern: {exc}"
        ) from exc


@final
@attrs.frozen
class CitationCondition:
    """A test on one citation field: present, or matching a pattern (case-insensitive)."""

    field: CitationField
    """The field tested."""
    pattern: str | None = None
    """A regular expression searched in the field; ``None``: the field is merely present."""
    _compiled: re.Pattern[str] | None = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(lambda s: _compile(s.pattern), True)
    )

    def matches(self, citation: Citation) -> bool:
        """True when the citation satisfies the condition."""
        value: str | None = getattr(citation, self.field.value)
        if not value:
            return False
        return self._compiled is None or self._compiled.search(value) is not None


@final
@attrs.frozen
class AssignmentRule:
    """Chooses templates for the requests it matches (Alma rota assignment rule).

    Every condition given must hold; an empty condition matches anything. Rules are tried in
    order and the first that matches decides.
    """

    name: str
    """The rule's name, shown in the explanation."""
    templates: tuple[str, ...]
    """The templates it assigns, in order (their tiers follow one another)."""
    patron_groups: frozenset[str] = frozenset()
    """Patron groups it applies to (compared case-insensitively)."""
    publication_types: frozenset[str] = frozenset()
    """Publication types (formats) it applies to (``Book``, ``Article``...)."""
    service_types: frozenset[ServiceType] = frozenset()
    """Service types it applies to."""
    services: frozenset[Service] = frozenset()
    """Requested formats it applies to: matches when the request accepts any of them."""
    identifiers: frozenset[str] = frozenset()
    """Identifier codes the citation must carry, valid (``ISSN`` routes serials...)."""
    citation: tuple[CitationCondition, ...] = ()
    """Further tests on citation fields."""
    fallback: tuple[AgencyId, ...] = ()
    """Last-resort lenders appended after the ranked rota (never ranked, asked in order)."""
    enabled: bool = True
    """A rule can be switched off without deleting it."""

    def matches(self, request: BorrowingRequest, services: frozenset[Service]) -> bool:
        """True when the rule applies to this request (accepting these services)."""
        if not self.enabled:
            return False
        group = (request.patron.group or "").casefold()
        if self.patron_groups and group not in {g.casefold() for g in self.patron_groups}:
            return False
        kind = (request.citation.publication_type or "").casefold()
        if self.publication_types and kind not in {t.casefold() for t in self.publication_types}:
            return False
        if self.service_types and request.service_type not in self.service_types:
            return False
        if self.services and not self.services & services:
            return False
        if self.identifiers:
            codes = {key.code for key in match_keys(request.citation)}
            if not {c.upper() for c in self.identifiers} <= codes:
                return False
        return all(condition.matches(request.citation) for condition in self.citation)


@final
@attrs.frozen
class Holding:
    """One partner's answer to a locate: it holds a record of the item."""

    agency: AgencyId
    """The holder."""
    identifiers: tuple[Identifier, ...] = ()
    """The identifiers of its matching record; empty: the locate matched without them."""
    available: bool = True
    """False when it holds the item but none is available for resource sharing now."""
    unknown: str | None = None
    """Why its holdings are not known (its catalogue could not be asked): it is kept, and
    the reason is shown with its rota entry. Such a holding carries no identifiers."""


@final
@attrs.frozen
class HoldingsAnswer:
    """A holdings (locate) answer passed in: who holds the item.

    A holding with identifiers counts only when one of them, normalised, equals one of the
    request's (an ISBN-10 matches its ISBN-13, ``(pbk.)`` and prefixes do not matter).
    """

    holdings: tuple[Holding, ...] = ()
    """The records found, one or more per holder."""

    def holders(self, citation: Citation) -> dict[AgencyId, bool]:
        """Each agency with a matching record, and whether any of its copies is available."""
        wanted = match_keys(citation)
        found: dict[AgencyId, bool] = {}
        for holding in self.holdings:
            if holding.identifiers and not (match_keys(holding.identifiers) & wanted):
                continue
            found[holding.agency] = found.get(holding.agency, False) or holding.available
        return found


@final
@attrs.frozen
class FillStats:
    """How often a partner filled our requests (observed, over a window the caller chose)."""

    asked: int
    """Requests sent to it."""
    filled: int
    """Of which it filled."""

    def __attrs_post_init__(self) -> None:
        if self.asked < 0 or not 0 <= self.filled <= self.asked:
            raise InvalidInput("fill", f"filled {self.filled} of {self.asked} is impossible")


@final
@attrs.frozen
class BalanceStats:
    """A partner's lending and borrowing levels, for loan-to-borrow balancing (ReShare)."""

    lending: int
    """Its active loans to others."""
    borrowing: int
    """Its active borrowing requests."""
    target_ratio: float = 1.0
    """The loans it aims to make per request it borrows (``L:B``)."""

    def __attrs_post_init__(self) -> None:
        if min(self.lending, self.borrowing) < 0 or not 0 <= self.target_ratio < math.inf:
            raise InvalidInput("balance", "levels and ratio must be finite and non-negative")


@final
@attrs.frozen(hash=False)
class RotaContext:
    """The facts a rota is built from, passed in (the core reads no clock or database).

    Facts about partners are grouped per partner (one :class:`PartnerFacts` each), so the
    pipeline looks each partner up once; a partner without facts has
    :data:`NO_FACTS` (nothing sent, no load, statistics unknown: neutral scores).
    """

    today: date
    """The date the rota is built for (closures are checked against it)."""
    holdings: HoldingsAnswer | None = None
    """The locate answer; ``None`` when no locate was done (nobody is dropped as not holding)."""
    facts: Mapping[AgencyId, PartnerFacts] = attrs.field(factory=dict)
    """Observed facts about each partner (load, requests sent, turnaround, fill, balance)."""
    services: frozenset[Service] | None = None
    """The formats the patron accepts; ``None``: derived from the request's service type."""
    staff_rota: tuple[AgencyId, ...] | None = None
    """A rota staff gave for this request: replaces the rules, kept in this order."""
    rerequest: frozenset[AgencyId] = frozenset()
    """Partners staff chose to ask again although they were already tried."""
    own_agencies: frozenset[AgencyId] = frozenset()
    """Other symbols of our own institution (the request's agency always counts)."""


@final
@attrs.frozen
class PartnerFacts:
    """What we observe about one partner now, passed in (the core counts nothing itself)."""

    open_requests: int = 0
    """Our open requests with it (current load, queue depth)."""
    sent_today: int = 0
    """New requests it has received today (from us, or network-wide when known)."""
    sent_this_week: int = 0
    """New requests it has received this week."""
    turnaround_days: float | None = None
    """Observed mean days from request to shipment; ``None``: use its declared delivery days."""
    fill: FillStats | None = None
    """Observed fill statistics; ``None``: unknown."""
    balance: BalanceStats | None = None
    """Its lending and borrowing levels; ``None``: treated as at parity."""

    def __attrs_post_init__(self) -> None:
        if min(self.open_requests, self.sent_today, self.sent_this_week) < 0:
            raise InvalidInput("facts", "request counts must not be negative")
        if self.turnaround_days is not None and not 0 <= self.turnaround_days < math.inf:
            raise InvalidInput("facts.turnaround_days", "must be a finite, non-negative number")


NO_FACTS = PartnerFacts()
"""The facts of a partner the context says nothing about."""


def accepted_services(request: BorrowingRequest, context: RotaContext) -> frozenset[Service]:
    """The services a lender may supply the request with.

    A loan needs :attr:`Service.LOAN`; a copy is satisfied by a physical or a digital copy;
    ``CopyOrLoan`` by any. The context can narrow it (``{DIGITAL}``: electronic delivery only).
    """
    if request.service_type is ServiceType.LOAN:
        derived = frozenset({Service.LOAN})
    elif request.service_type is ServiceType.COPY:
        derived = frozenset({Service.COPY, Service.DIGITAL})
    else:
        derived = frozenset(Service)
    return derived if context.services is None else derived & context.services
