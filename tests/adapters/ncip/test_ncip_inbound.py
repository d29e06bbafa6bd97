"""A hold the ILS posts for a lent item recalls the loan; every answer is valid NCIP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from resource_sharing.directory import Partner
from resource_sharing.errors import ConcurrencyConflict, IllegalTransition, NotFound
from resource_sharing.lending import LendingPolicy
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId, Citation, Identifier, ItemRef, PatronRef, Side
from resource_sharing.service import Settings
from resource_sharing.testing.consortium import Consortium
from resource_sharing_adapters.ncip import (
    Header,
    RequestItem,
    decode,
    encode,
    handle_inbound,
    inbound_app,
    validate,
)

A, C = AgencyId("US-A"), AgencyId("US-C")
_ILS = Header("ILS-C", "US-C")
_HOLD = encode(RequestItem("c-patron", "C-0042", request_id="H-1"), _ILS)


def _lent_out() -> tuple[Consortium, str, str]:
    """A borrowed by C's item C-0042 and it is on loan to A's patron."""
    net = Consortium(datetime(2026, 2, 2, 9, tzinfo=UTC))
    partners = [Partner(A), Partner(C)]
    net.add(Settings(A), partners=partners)
    item = ItemRef("C-0042", "NA2500", "Stacks", desk="Main desk")
    net.add(
        Settings(C, lending=LendingPolicy()),
        partners=partners,
        holdings={"9780195019193": Holding(item)},
    )
    book = Citation(title="A Pattern Language", item_ids=(Identifier("ISBN", "9780195019193"),))
    a, c = net[A].institution, net[C].institution
    request = a.borrowing.place_request(PatronRef("p-7"), book, pickup_location="Main", rota=[C])
    net.settle()
    ((_, lending_id),) = [k for k in net[C].memory._state.rows if k[0] is Side.LENDING]
    c.lending.pick(lending_id)
    c.lending.ship(lending_id)
    net.settle()
    net.clock.advance(timedelta(days=3))
    a.borrowing.receive(request.id, "A-TEMP-9")
    a.borrowing.check_out(request.id)
    net.settle()
    return net, request.id, lending_id


def test_a_local_hold_posted_by_the_ils_recalls_the_loan() -> None:
    net, borrowing_id, lending_id = _lent_out()
    c = net[C].institution
    client = TestClient(inbound_app(c.lending.local_hold, agency="US-C", path="/ncip"))
    response = client.post("/ncip", content=_HOLD, headers={"Content-Type": "text/xml"})
    assert response.status_code == 200
    assert validate(response.content).valid
    answer = decode(response.content)
    assert (answer.service, answer.problems) == ("RequestItemResponse", ())
    assert answer.body.text_of("RequestId", "RequestIdentifierValue") == "H-1"
    assert answer.header is not None
    assert (answer.header.from_agency, answer.header.to_agency) == ("US-C", "ILS-C")
    assert c.get(Side.LENDING, lending_id).state.value == "recalled"
    net.settle()
    assert net[A].institution.get(Side.BORROWING, borrowing_id).state.value == "recalled"


def test_an_unknown_barcode_and_a_loan_that_cannot_be_recalled_are_problems() -> None:
    def nothing_lent(barcode: str, patron: str | None) -> object:
        raise NotFound("request with barcode", barcode)

    def not_now(barcode: str, patron: str | None) -> object:
        raise IllegalTransition("lending", "completed", "local_hold", ())

    unknown = decode(handle_inbound(_HOLD, nothing_lent))
    assert unknown.service == "RequestItemResponse"
    assert (unknown.problems[0].type, unknown.problems[0].value) == ("Unknown Item", "C-0042")
    refused = handle_inbound(_HOLD, not_now)
    assert validate(refused).valid
    assert decode(refused).problems[0].type == "Resource Cannot Be Provided"


def test_a_failure_of_ours_asks_the_ils_to_try_again() -> None:
    def busy(barcode: str, patron: str | None) -> object:
        raise ConcurrencyConflict("L-1", 3, 4)

    answer = handle_inbound(_HOLD, busy)
    assert validate(answer).valid
    decoded = decode(answer)
    assert (decoded.service, decoded.problems[0].type) == (
        "Problem",
        "Temporary Processing Failure",
    )


@pytest.mark.parametrize(
    ("data", "problem_type"),
    [
        (b"<html/>", "Invalid Message Syntax Error"),
        (b"<NCIPMessage><RequestItem><UserId/></RequestItem></NCIPMessage>", "Needed Data Missing"),
        (b"<NCIPMessage><LookupUser><UserId><UserIdentifierValue>u</UserIdentifierValue>"
         b"</UserId></LookupUser></NCIPMessage>", "Unsupported Service"),
        (b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "Invalid Message Syntax Error"),
    ],
)  # fmt: skip
def test_what_cannot_be_acted_on_gets_a_valid_message_level_problem(
    data: bytes, problem_type: str
) -> None:
    calls: list[str] = []
    answer = handle_inbound(data, lambda barcode, patron: calls.append(barcode))
    assert validate(answer).valid
    decoded = decode(answer)
    assert (decoded.service, decoded.problems[0].type) == ("Problem", problem_type)
    assert calls == []


def test_notifications_of_a_hold_or_a_recall_are_answered_too() -> None:
    calls: list[tuple[str, str | None]] = []
    requested = (
        b'<NCIPMessage version="v2"><ItemRequested><UserId><UserIdentifierValue>p-3'
        b"</UserIdentifierValue></UserId><ItemId><ItemIdentifierValue>C-7</ItemIdentifierValue>"
        b"</ItemId><RequestType>Hold</RequestType><RequestScopeType>Item</RequestScopeType>"
        b"</ItemRequested></NCIPMessage>"
    )
    recalled = (
        b'<NCIPMessage version="v2"><ItemRecalled><ItemId><ItemIdentifierValue>C-8'
        b"</ItemIdentifierValue></ItemId><DateDue>2026-03-01T00:00:00Z</DateDue></ItemRecalled>"
        b"</NCIPMessage>"
    )
    for data, service in ((requested, "ItemRequestedResponse"), (recalled, "ItemRecalledResponse")):
        answer = handle_inbound(data, lambda barcode, patron: calls.append((barcode, patron)))
        assert validate(answer).valid
        assert decode(answer).service == service
    assert calls == [("C-7", "p-3"), ("C-8", None)]


def test_the_endpoint_wants_post_the_key_and_a_bounded_body() -> None:
    app = inbound_app(lambda barcode, patron: None, api_key="k", max_bytes=4096)
    client = TestClient(app)
    assert client.get("/").status_code == 405
    assert client.post("/", content=_HOLD).status_code == 403
    assert client.post("/", content=b"x" * 5000, headers={"X-Api-Key": "k"}).status_code == 413
    ok = client.post("/", content=_HOLD, headers={"X-Api-Key": "k"})
    assert ok.status_code == 200
    assert decode(ok.content).service == "RequestItemResponse"
