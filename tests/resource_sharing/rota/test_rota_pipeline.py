"""The rota pipeline: selection, order, limits, the explanation; properties (hypothesis)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.directory import Directory, Partner, Service
from resource_sharing.errors import InvalidInput
from resource_sharing.iso18626 import ServiceType
from resource_sharing.records import AgencyId, BorrowingRequest, Citation, Identifier, PatronRef
from resource_sharing.rota import (
    STAFF_ROTA,
    AssignmentRule,
    CitationCondition,
    CitationField,
    DropReason,
    PartnerFacts,
    Rota,
    RotaContext,
    RotaJob,
    RotaPolicy,
    RotaTemplate,
    build_rota,
)
from tests.strategies.rota import TODAY, Scenario, agency, request, scenarios

A, B, C, D, E = (agency(n) for n in range(1, 6))
EVERYONE = Directory.of([Partner(a) for a in (A, B, C, D, E)])
POLICY = RotaPolicy(
    templates=(
        RotaTemplate.ordered("local", (C, A)),
        RotaTemplate.pods("national", (B, D), (E,)),
        RotaTemplate.ordered("serials", (D,)),
    ),
    rules=(
        AssignmentRule(
            "faculty-loans",
            ("local", "national"),
            patron_groups=frozenset({"Faculty"}),
            service_types=frozenset({ServiceType.LOAN}),
            fallback=(E, agency(9)),
        ),
        AssignmentRule("serials", ("serials",), identifiers=frozenset({"ISSN"})),
        AssignmentRule("theses", ("national",), publication_types=frozenset({"Thesis"})),
        AssignmentRule("digital", ("local",), services=frozenset({Service.DIGITAL})),
        AssignmentRule("off", ("serials",), enabled=False),
        AssignmentRule(
            "conference",
            ("serials",),
            citation=(CitationCondition(CitationField.TITLE, r"\bproceedings\b"),),
        ),
    ),
    default_templates=("national",),
)


def faculty() -> BorrowingRequest:
    return request(patron=PatronRef("p", group="faculty"))


def test_the_first_matching_rule_chooses_the_templates_and_their_tiers_follow() -> None:
    rota = build_rota(faculty(), EVERYONE, RotaContext(TODAY), POLICY)
    assert rota.explanation.rule == "faculty-loans"
    assert rota.explanation.templates == ("local", "national")
    # local is ordered (C then A); national's first pod B, D is ranked by score, then E.
    assert rota.agencies[:4] == (C, A, B, D)
    assert rota.entries[0].reason == "template local"


def test_a_rules_fallback_lenders_come_last_unranked_and_still_filtered() -> None:
    rota = build_rota(faculty(), EVERYONE, RotaContext(TODAY), POLICY)
    # E is already in the national template, so it keeps its ranked place there; the
    # unknown fallback agency 9 is dropped, not asked.
    assert rota.agencies == (C, A, B, D, E)
    assert not any(e.fallback for e in rota.entries)
    assert rota.explanation.dropped()[agency(9)].reason is DropReason.UNKNOWN_PARTNER
    policy = RotaPolicy(
        templates=(RotaTemplate.ordered("t", (A,)),),
        rules=(AssignmentRule("r", ("t",), fallback=(C, B)),),
    )
    rota = build_rota(request(), EVERYONE, RotaContext(TODAY), policy)
    assert rota.agencies == (A, C, B)
    assert [e.fallback for e in rota.entries] == [False, True, True]


@pytest.mark.parametrize(
    ("req", "rule"),
    [
        (request(citation=Citation(item_ids=(Identifier("ISSN", "0317-8471"),))), "serials"),
        (request(citation=Citation(item_ids=(Identifier("ISSN", "0317-8472"),))), None),
        (request(citation=Citation(publication_type="thesis")), "theses"),
        (request(service_type=ServiceType.COPY), "digital"),
        (request(citation=Citation(title="Proceedings of the ACM")), "conference"),
        (request(citation=Citation(title="Improceedings")), None),
        (request(), None),
    ],
)
def test_rules_match_on_citation_fields_identifiers_and_format(
    req: BorrowingRequest, rule: str | None
) -> None:
    rota = build_rota(req, EVERYONE, RotaContext(TODAY), POLICY)
    assert rota.explanation.rule == rule
    if rule is None:
        assert rota.explanation.selection == "default templates"


def test_without_templates_every_directory_partner_is_a_candidate() -> None:
    rota = build_rota(request(), EVERYONE, RotaContext(TODAY))
    assert rota.agencies == (A, B, C, D, E)
    assert rota.explanation.selection == "directory"


def test_a_staff_rota_replaces_the_rules_and_keeps_its_order() -> None:
    context = RotaContext(TODAY, staff_rota=(E, A, E, C))
    facts = {A: PartnerFacts(turnaround_days=0.0)}
    rota = build_rota(
        faculty(), EVERYONE, RotaContext(TODAY, staff_rota=(E, A, E, C), facts=facts), POLICY
    )
    assert rota.agencies == (E, A, C)
    assert rota.explanation.selection == STAFF_ROTA
    assert {e.reason for e in rota.entries} == {STAFF_ROTA}
    assert build_rota(faculty(), EVERYONE, context, POLICY).agencies == (E, A, C)


def test_max_length_drops_the_lowest_ranked_with_their_scores_shown() -> None:
    policy = RotaPolicy(max_length=2)
    facts = {a: PartnerFacts(open_requests=n) for n, a in enumerate((A, B, C, D, E))}
    rota = build_rota(request(), EVERYONE, RotaContext(TODAY, facts=facts), policy)
    assert rota.agencies == (A, B)
    beyond = rota.explanation.report(E)
    assert beyond is not None
    assert beyond.drop is not None
    assert beyond.drop.reason is DropReason.BEYOND_LIMIT
    assert beyond.components  # scored before being cut


def test_the_explanation_reports_every_candidate_with_components() -> None:
    rota = build_rota(faculty(), EVERYONE, RotaContext(TODAY), POLICY)
    reports = rota.explanation.reports()
    assert [r.agency for r in reports if r.kept] == list(rota.agencies)
    assert [r.rank for r in reports if r.kept] == [1, 2, 3, 4, 5]
    first = reports[0]
    assert [c.scorer for c in first.components] == [
        "tier",
        "turnaround",
        "load",
        "balance",
        "fill_rate",
    ]
    assert first.total == pytest.approx(sum(c.value * c.weight for c in first.components))
    dropped = [r for r in reports if not r.kept]
    assert [r.agency for r in dropped] == [agency(9)]
    assert dropped[0].components == ()
    assert dropped[0].total is None
    assert rota.explanation.report(agency(30)) is None


def test_policies_are_checked_when_built() -> None:
    with pytest.raises(InvalidInput, match="unknown template"):
        RotaPolicy(rules=(AssignmentRule("r", ("nope",)),))
    with pytest.raises(InvalidInput, match="unique"):
        RotaPolicy(templates=(RotaTemplate("t", ()), RotaTemplate("t", ())))
    with pytest.raises(InvalidInput, match="pattern"):
        CitationCondition(CitationField.TITLE, "(")
    with pytest.raises(InvalidInput):
        PartnerFacts(open_requests=-1)


def test_a_scorer_returning_nonsense_is_refused() -> None:
    class Broken:
        name = "broken"
        weight = 1.0

        def score(self, partner: Partner, facts: PartnerFacts, job: RotaJob) -> float:
            return float("nan")

    with pytest.raises(InvalidInput, match="finite") as refused:
        build_rota(
            request(),
            Directory.of([Partner(A)]),
            RotaContext(TODAY),
            RotaPolicy(scorers=(Broken(),)),
        )
    assert refused.value.field == "scorer broken"


# --- properties ----------------------------------------------------------------------


def _build(
    scenario: tuple[BorrowingRequest, Directory, RotaContext, tuple[RotaTemplate, ...]],
) -> Rota:
    req, directory, context, templates = scenario
    policy = RotaPolicy(templates=templates, default_templates=tuple(t.name for t in templates))
    return build_rota(req, directory, context, policy)


@given(scenarios())
def test_the_same_inputs_give_the_same_rota(scenario: Scenario) -> None:
    first, second = _build(scenario), _build(scenario)
    assert first.entries == second.entries
    assert first.explanation.reports() == second.explanation.reports()


@given(scenarios())
def test_no_partner_appears_twice(scenario: Scenario) -> None:
    agencies = _build(scenario).agencies
    assert len(agencies) == len(set(agencies))


@given(scenarios())
def test_a_dropped_partner_is_never_chosen(scenario: Scenario) -> None:
    rota = _build(scenario)
    assert not set(rota.agencies) & set(rota.explanation.dropped())
    req, directory, _context, _ = scenario
    for chosen in rota.agencies:
        partner = directory.get(chosen)
        assert partner is not None
        assert partner.active
        assert chosen != req.agency
        assert chosen not in req.tried()


@given(scenarios())
def test_the_explanation_covers_every_candidate_once(scenario: Scenario) -> None:
    _req, directory, _context, templates = scenario
    rota = _build(scenario)
    reports = rota.explanation.reports()
    seen = [r.agency for r in reports]
    assert len(seen) == len(set(seen))
    expected = (
        {a for t in templates for tier in t.tiers for a in tier}
        if templates
        else set(directory.partners)
    )
    assert set(seen) == expected
    for report in reports:
        assert report.kept == (report.drop is None)
        assert report.kept == (report.agency in rota.agencies)


@given(scenarios(), st.randoms(use_true_random=False))
def test_order_does_not_depend_on_input_order(scenario: Scenario, rng: random.Random) -> None:
    req, directory, context, templates = scenario
    partners = list(directory)
    rng.shuffle(partners)
    facts = list(context.facts.items())
    rng.shuffle(facts)
    shuffled_templates = tuple(
        RotaTemplate(t.name, tuple(tuple(rng.sample(tier, len(tier))) for tier in t.tiers))
        for t in templates
    )
    # Shuffling within a tier may change which duplicate of an agency comes first, but not
    # its tier, so the rota is unchanged.
    shuffled = (
        req,
        Directory.of(partners),
        RotaContext(today=context.today, holdings=context.holdings, facts=dict(facts)),
        shuffled_templates,
    )
    assert _build(shuffled).entries == _build(scenario).entries
    assert _build(shuffled).explanation.dropped() == _build(scenario).explanation.dropped()


@given(scenarios())
def test_the_rota_is_ordered_by_total_then_agency(scenario: Scenario) -> None:
    rota = _build(scenario)
    ranked = [r for r in rota.explanation.reports() if r.kept and not r.fallback]
    keys = [(-(r.total or 0.0), r.agency.type, r.agency.value) for r in ranked]
    assert keys == sorted(keys)
    assert [r.agency for r in ranked] == list(rota.agencies[: len(ranked)])


def test_equal_scores_are_ordered_by_agency_whatever_the_directory_order() -> None:
    ids = [AgencyId("Z"), AgencyId("B", "OCLC"), AgencyId("A"), AgencyId("A", "OCLC")]
    rota = build_rota(request(), Directory.of(Partner(a) for a in ids), RotaContext(TODAY))
    assert rota.agencies == (AgencyId("A"), AgencyId("Z"), AgencyId("A", "OCLC"), ids[1])


def test_agency_ids_of_other_types_are_different_partners() -> None:
    oclc = AgencyId("XX-0001", "OCLC")
    rota = build_rota(request(), Directory.of([Partner(A), Partner(oclc)]), RotaContext(TODAY))
    assert rota.agencies == (A, oclc)
