"""The borrowing rota's holdings look-up: each partner's loopback catalogue asked once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from resource_sharing.directory import Directory, Partner
from resource_sharing.records import AgencyId, BorrowingRequest, Citation, Identifier, PatronRef
from resource_sharing.rota import DropReason, RotaContext, build_rota
from resource_sharing_adapters.sru import (
    LookupOutcome,
    PartnerHoldings,
    SruClient,
    SruTarget,
    partner_holdings,
    split_partner_sru,
)
from tests.adapters.sru_catalogue import Book, Copy, SruCatalogue

B, C, D, E = (AgencyId(f"US-{x}") for x in "BCDE")
CITATION = Citation(title="The engine", item_ids=(Identifier("ISBN", "0-306-40615-2"),))
HELD = Book(
    "b1", "The engine", isbns=("9780306406157",), copies=(Copy("1", "Main", "Stacks", "A1"),)
)
OUT = Book(
    "c1",
    "The engine",
    isbns=("0306406152",),
    copies=(Copy("2", "Main", "Stacks", "A1", available=False),),
)
OTHER = Book("x1", "Another book", isbns=("9780262033848",))


@pytest.fixture
def catalogues() -> Iterator[dict[AgencyId, SruCatalogue]]:
    servers = {
        B: SruCatalogue([HELD]),
        C: SruCatalogue([OUT], versions=frozenset({"2.0"})),
        D: SruCatalogue([OTHER]),
    }
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


def _lookup(servers: dict[AgencyId, SruCatalogue], **kw: int) -> PartnerHoldings:
    versions = {C: "2.0"}
    return PartnerHoldings(
        {
            a: SruClient(SruTarget(s.url, version=versions.get(a, "1.2")))
            for a, s in servers.items()
        },
        **kw,
    )


def test_each_partner_is_asked_once_and_not_holders_are_left_out(
    catalogues: dict[AgencyId, SruCatalogue],
) -> None:
    lookup = _lookup(catalogues, max_concurrency=2)
    outcomes = {x.agency: (x.outcome, x.available) for x in lookup.lookups(CITATION, [B, C, D, E])}
    assert outcomes == {
        B: (LookupOutcome.HELD, True),
        C: (LookupOutcome.HELD, False),
        D: (LookupOutcome.NOT_HELD, True),
        E: (LookupOutcome.NOT_ASKED, True),
    }
    answer = lookup.answer(CITATION, [B, C, D, E])
    assert answer.holders(CITATION) == {B: True, C: False, E: True}
    assert [len(s.requests) for s in catalogues.values()] == [2, 2, 4]  # D: ids, then title


def test_the_rota_drops_the_partner_whose_catalogue_said_not_held(
    catalogues: dict[AgencyId, SruCatalogue],
) -> None:
    directory = Directory.of(Partner(a, name=a.value) for a in (B, C, D, E))
    request = BorrowingRequest(
        id="B-1",
        agency=AgencyId("US-A"),
        patron=PatronRef("p-1"),
        citation=CITATION,
        created_at=datetime(2026, 9, 7, tzinfo=UTC),
    )
    answer = _lookup(catalogues).answer(CITATION, [p.agency for p in directory])
    rota = build_rota(request, directory, RotaContext(today=date(2026, 9, 7), holdings=answer))
    assert D not in [entry.agency for entry in rota.entries]
    assert {B, C, E} <= {entry.agency for entry in rota.entries}
    assert rota.explanation.dropped()[D].reason is DropReason.NOT_HELD


def test_an_unreachable_or_slow_catalogue_keeps_the_partner() -> None:
    with SruCatalogue([HELD], delay_seconds=2.0) as slow, SruCatalogue([]) as gone:
        url = gone.url
        gone.stop()
        lookup = PartnerHoldings(
            {B: SruClient(SruTarget(slow.url, timeout_seconds=0.2)), C: SruClient(SruTarget(url))}
        )
        found = {x.agency: x for x in lookup.lookups(CITATION, [B, C])}
    assert found[B].outcome is LookupOutcome.FAILED
    assert "no answer" in (found[B].reason or "")
    assert found[C].outcome is LookupOutcome.FAILED
    assert set(lookup.answer(CITATION, [B, C]).holders(CITATION)) == {B, C}


def test_partner_sru_tables_are_split_from_the_directory_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("B_SRU_PASSWORD", "s3cret")
    rest, targets = split_partner_sru(
        [
            {
                "agency": "ISIL:US-B",
                "name": "B",
                "sru": {
                    "url": "https://b.example/sru",
                    "indexes": "alma",
                    "version": "2.0",
                    "params_env": {"x-password": "B_SRU_PASSWORD"},
                },
            },
            {"agency": "ISIL:US-C", "name": "C"},
        ]
    )
    assert rest == [{"agency": "ISIL:US-B", "name": "B"}, {"agency": "ISIL:US-C", "name": "C"}]
    (target,) = targets.values()
    assert list(targets) == [B]
    assert (target.version, target.indexes.isbn, dict(target.params)) == (
        "2.0",
        "alma.isbn",
        {"x-password": "s3cret"},
    )
    lookup = partner_holdings(targets, max_concurrency=2)
    assert list(lookup.clients) == [B]
    lookup.close()
