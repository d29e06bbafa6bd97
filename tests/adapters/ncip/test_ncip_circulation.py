"""NcipCirculation against a real NCIP responder on loopback: the ILS's state after each flow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    PlaceOnHoldShelf,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
)
from resource_sharing.errors import DeliveryError
from resource_sharing.records import AgencyId, Citation, Identifier, PatronRef
from resource_sharing_adapters.ncip import (
    IlsProfile,
    NcipCirculation,
    NcipClient,
    NcipProblem,
    NcipUnavailable,
    NcipUnsupported,
    decode,
    routing_instruction,
)
from tests.adapters.ncip.corpus_ncip import require_ncip
from tests.adapters.ncip.loopback_ils import Hold, Item, LoopbackIls, User, config_for

_DUE = datetime(2026, 10, 5, 12, tzinfo=UTC)
_ADA = PatronRef("p-1", "Ada Lovelace")
_LENDER = AgencyId("US-C")
_CITATION = Citation(
    title="The Art of Computer Programming",
    author="Knuth",
    item_ids=(Identifier("ISBN", "9780201896831"),),
)


def _receive(barcode: str = "T-1", request: str = "B-1") -> CreateTemporaryItem:
    return CreateTemporaryItem(
        request, barcode, _CITATION, _LENDER, patron=_ADA, pickup_location="Main desk", due=_DUE
    )


def _adapter(ils: LoopbackIls, profile: str = "generic", **overrides: object) -> NcipCirculation:
    return NcipCirculation(NcipClient(config_for(ils, profile, **overrides)))


def test_the_borrowing_sequence_creates_lends_moves_returns_and_deletes_the_item(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    circulation.create_temporary_item(_receive(), key="k-create")
    item = ils.state.items["T-1"]
    assert (item.temporary, item.title, item.request_id) == (True, _CITATION.title, "B-1")
    assert (item.pickup, item.date_for_return) == ("MAIN", _DUE)
    assert ils.state.holds == [Hold("T-1", "p-1", "MAIN")]

    circulation.place_on_hold_shelf(
        PlaceOnHoldShelf("B-1", "T-1", _ADA, "Main desk", None), key="k-shelf"
    )
    circulation.check_out_to_patron(CheckOutToPatron("B-1", "T-1", _ADA, _DUE), key="k-loan")
    assert ils.state.loans["T-1"].user == "p-1"
    assert ils.state.loans["T-1"].due == _DUE
    assert ils.state.holds == []

    later = _DUE + timedelta(days=14)
    circulation.renew_patron_loan(RenewPatronLoan("B-1", "T-1", later), key="k-renew")
    assert ils.state.loans["T-1"].due == later
    sooner = _DUE - timedelta(days=7)
    circulation.recall_patron_loan(RecallPatronLoan("B-1", "T-1", sooner), key="k-recall")
    assert ils.state.loans["T-1"].due == sooner

    instruction = circulation.check_in(CheckIn("B-1", "T-1"), key="k-in")
    assert instruction == "In transit to Interlibrary Loan"
    assert "T-1" not in ils.state.loans
    circulation.delete_temporary_item(DeleteTemporaryItem("B-1", "T-1"), key="k-delete")
    assert "T-1" not in ils.state.items
    assert ils.state.deleted == ["T-1"]

    assert ils.state.invalid == []
    assert ils.state.received == [
        ("AcceptItem", "k-create"),
        ("CheckOutItem", "k-loan"),
        ("RenewItem", "k-renew"),
        ("RecallItem", "k-recall"),
        ("CheckInItem", "k-in"),
        ("DeleteItem", "k-delete"),
    ]


def test_the_lending_sequence_lends_to_the_institution_and_routes_the_return(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    circulation.check_out_to_partner(
        CheckOutToPartner("L-1", "C-1", AgencyId("US-A"), _DUE), key="k-ship"
    )
    assert ils.state.loans["C-1"].user == "INST-US-A"
    assert ils.state.loans["C-1"].due == _DUE
    instruction = circulation.check_in(CheckIn("L-1", "C-1"), key="k-back")
    assert instruction == "Send to home location: Main Library"
    assert "C-1" not in ils.state.loans
    circulation.route_item(RouteItem("L-1", "C-1", "Main Library", instruction), key="k-route")
    assert [service for service, _ in ils.state.received] == ["CheckOutItem", "CheckInItem"]
    assert ils.state.invalid == []


def test_the_routing_answer_says_hold_shelf_or_transit(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    ils.state.items["C-2"] = Item("C-2", "Emma")
    ils.state.items["C-3"] = Item("C-3", "Ulysses", home="East Branch")
    for barcode in ("C-2", "C-3"):
        circulation.check_out_to_partner(
            CheckOutToPartner("L-2", barcode, AgencyId("US-A"), _DUE), key=f"out-{barcode}"
        )
    ils.state.holds.append(Hold("C-2", "p-7", "West Branch"))
    assert circulation.check_in(CheckIn("L-2", "C-2"), key="in-2") == (
        "Hold shelf for a local patron: West Branch (Hold for patron p-7)"
    )
    assert circulation.check_in(CheckIn("L-2", "C-3"), key="in-3") == "In transit to East Branch"


def test_the_institutional_patron_comes_from_the_pattern_or_the_table(ils: LoopbackIls) -> None:
    ils.state.users["ILL-DK"] = User("ILL-DK", "Danish libraries")
    ils.state.users["BORROWER-US-D"] = User("BORROWER-US-D", "US-D")
    ils.state.items["C-9"] = Item("C-9", "Kafka")
    adapter = _adapter(
        ils, institutional_patron="BORROWER-{agency}", institutional_patrons={"DK-1": "ILL-DK"}
    )
    adapter.check_out_to_partner(CheckOutToPartner("L", "C-1", AgencyId("DK-1"), _DUE), key="a")
    adapter.check_out_to_partner(CheckOutToPartner("L", "C-9", AgencyId("US-D"), _DUE), key="b")
    assert (ils.state.loans["C-1"].user, ils.state.loans["C-9"].user) == ("ILL-DK", "BORROWER-US-D")


def test_the_same_key_twice_creates_one_item(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    circulation.create_temporary_item(_receive(), key="k-1")
    circulation.create_temporary_item(_receive(), key="k-1")
    assert [s for s, _ in ils.state.received] == ["AcceptItem"]
    assert list(ils.state.items) == ["C-1", "T-1"]


def test_a_restarted_node_retrying_the_same_step_is_answered_duplicate_and_succeeds(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    circulation.create_temporary_item(_receive(), key="k-1")
    after_restart = _adapter(ils)
    after_restart.create_temporary_item(_receive(), key="k-1")
    assert [s for s, _ in ils.state.received] == ["AcceptItem", "AcceptItem"]
    assert list(ils.state.items) == ["C-1", "T-1"]


def test_a_lost_answer_is_retryable_and_the_retry_changes_nothing(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    ils.faults.append("drop")
    with pytest.raises(NcipUnavailable) as caught:
        circulation.create_temporary_item(_receive(), key="k-1")
    assert caught.value.retryable
    assert "T-1" in ils.state.items
    circulation.create_temporary_item(_receive(), key="k-1")
    assert list(ils.state.items) == ["C-1", "T-1"]
    assert ils.state.holds == [Hold("T-1", "p-1", "MAIN")]


def test_already_checked_in_and_already_deleted_count_as_done(ils: LoopbackIls) -> None:
    first, second = _adapter(ils), _adapter(ils)
    first.create_temporary_item(_receive(), key="c")
    first.check_out_to_patron(CheckOutToPatron("B-1", "T-1", _ADA, _DUE), key="o")
    assert first.check_in(CheckIn("B-1", "T-1"), key="i") is not None
    assert second.check_in(CheckIn("B-1", "T-1"), key="i") is None
    first.delete_temporary_item(DeleteTemporaryItem("B-1", "T-1"), key="d")
    second.delete_temporary_item(DeleteTemporaryItem("B-1", "T-1"), key="d")
    assert ils.state.deleted == ["T-1"]
    assert [s for s, _ in ils.state.received][-4:] == [
        "CheckInItem",
        "CheckInItem",
        "DeleteItem",
        "DeleteItem",
    ]


def test_a_check_in_repeated_by_the_same_node_returns_the_same_instruction(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    circulation.check_out_to_partner(CheckOutToPartner("L", "C-1", AgencyId("US-A"), _DUE), key="o")
    first = circulation.check_in(CheckIn("L", "C-1"), key="i")
    assert circulation.check_in(CheckIn("L", "C-1"), key="i") == first
    assert [s for s, _ in ils.state.received] == ["CheckOutItem", "CheckInItem"]


def test_a_problem_retrying_cannot_fix_is_a_typed_permanent_failure(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    with pytest.raises(NcipProblem) as caught:
        circulation.check_out_to_partner(
            CheckOutToPartner("L", "C-1", AgencyId("US-Z"), _DUE), key="k"
        )
    error = caught.value
    assert isinstance(error, DeliveryError)
    assert not error.retryable
    assert (error.service, error.problem_type) == ("CheckOutItem", "Unknown User")
    assert (error.problem_element, error.problem_value) == ("UserId", "INST-US-Z")
    assert error.problem_detail == "no such user"
    assert "CheckOutItem: Unknown User: no such user (UserId = INST-US-Z)" in str(error)
    assert ils.state.loans == {}


def test_a_temporary_processing_failure_and_a_500_are_retryable(
    ils: LoopbackIls, circulation: NcipCirculation
) -> None:
    ils.faults.extend(["temporary", "500"])
    with pytest.raises(NcipProblem) as problem:
        circulation.check_in(CheckIn("L", "C-1"), key="k")
    assert problem.value.retryable
    assert problem.value.problem_type == "Temporary Processing Failure"
    with pytest.raises(NcipUnavailable, match="HTTP 500") as crash:
        circulation.check_in(CheckIn("L", "C-1"), key="k")
    assert crash.value.retryable


def test_no_answer_in_time_and_no_server_are_retryable(ils: LoopbackIls) -> None:
    impatient = _adapter(ils, timeout=0.2)
    ils.slow_seconds = 1.0
    ils.faults.append("slow")
    with pytest.raises(NcipUnavailable, match="no answer in time") as slow:
        impatient.check_in(CheckIn("L", "C-1"), key="k")
    assert slow.value.retryable
    ils.stop()
    with pytest.raises(NcipUnavailable) as gone:
        impatient.check_in(CheckIn("L", "C-1"), key="k")
    assert gone.value.retryable


def test_a_wrong_agency_authentication_is_refused_for_good(ils: LoopbackIls) -> None:
    ils.authentication = "s3cret"
    with pytest.raises(NcipProblem, match="Agency Authentication Failed") as caught:
        _adapter(ils, from_agency_authentication="wrong").check_in(CheckIn("L", "C-1"), key="k")
    assert not caught.value.retryable
    assert caught.value.problem_element == "InitiationHeader/FromAgencyAuthentication"
    right = _adapter(ils, from_agency_authentication="s3cret")
    right.check_out_to_partner(CheckOutToPartner("L", "C-1", AgencyId("US-A"), _DUE), key="o")
    assert "C-1" in ils.state.loans


def test_an_api_key_header_and_basic_auth_are_sent(ils: LoopbackIls) -> None:
    ils.api_key = ("apikey", "k-123")
    with pytest.raises(NcipUnavailable, match="HTTP 401") as refused:
        _adapter(ils).check_in(CheckIn("L", "C-1"), key="k")
    assert not refused.value.retryable
    keyed = _adapter(ils, api_key_header="apikey", api_key="k-123")
    keyed.check_out_to_partner(CheckOutToPartner("L", "C-1", AgencyId("US-A"), _DUE), key="o")
    ils.api_key, ils.basic = None, ("ill", "pw")
    basic = _adapter(ils, username="ill", password="pw")
    assert basic.check_in(CheckIn("L", "C-1"), key="i") == "Send to home location: Main Library"


def test_folio_has_no_renewal_or_recall_so_staff_are_told(ils: LoopbackIls) -> None:
    folio = _adapter(ils, "folio")
    with pytest.raises(NcipUnsupported, match="set the due date of T-1 to 2026-10-05") as renew:
        folio.renew_patron_loan(RenewPatronLoan("B-1", "T-1", _DUE), key="r")
    assert not renew.value.retryable
    with pytest.raises(NcipUnsupported, match="recall T-1"):
        folio.recall_patron_loan(RecallPatronLoan("B-1", "T-1", _DUE), key="c")
    assert ils.state.received == []


def test_koha_recalls_through_renew_item_and_posts_text_xml(ils: LoopbackIls) -> None:
    koha = _adapter(ils, "koha")
    koha.create_temporary_item(_receive(), key="c")
    koha.check_out_to_patron(CheckOutToPatron("B-1", "T-1", _ADA, _DUE), key="o")
    sooner = _DUE - timedelta(days=10)
    koha.recall_patron_loan(RecallPatronLoan("B-1", "T-1", sooner), key="r")
    assert ils.state.loans["T-1"].due == sooner
    assert ils.state.received[-1] == ("RenewItem", "r")
    assert {h.get("Content-Type") for h in ils.state.headers} == {"text/xml"}


def test_a_renewal_after_a_restart_renews_for_the_patron_the_step_names(
    ils: LoopbackIls,
) -> None:
    before = _adapter(ils)
    before.create_temporary_item(_receive(), key="c")
    before.check_out_to_patron(CheckOutToPatron("B-1", "T-1", _ADA, _DUE), key="o")
    later = _DUE + timedelta(days=14)
    restarted = _adapter(ils)  # remembers no patron of any barcode
    restarted.renew_patron_loan(RenewPatronLoan("B-1", "T-1", later, _ADA), key="r")
    assert ils.state.loans["T-1"].due == later
    assert ils.state.received[-1] == ("RenewItem", "r")


def test_a_renewal_without_a_known_patron_becomes_a_task(ils: LoopbackIls) -> None:
    with pytest.raises(DeliveryError, match="no longer remembers") as caught:
        _adapter(ils).renew_patron_loan(RenewPatronLoan("B-1", "T-1", _DUE), key="r")
    assert not caught.value.retryable


def test_alma_keeps_its_temporary_items_and_an_ils_lending_on_accept_is_not_asked_twice(
    ils: LoopbackIls,
) -> None:
    alma = _adapter(ils, "alma")
    alma.create_temporary_item(_receive(), key="c")
    alma.delete_temporary_item(DeleteTemporaryItem("B-1", "T-1"), key="d")
    assert "T-1" in ils.state.items
    profile = IlsProfile("lends", frozenset({"AcceptItem"}), accept_checks_out=True)
    lends_on_accept = NcipCirculation(NcipClient(attrs.evolve(config_for(ils), profile=profile)))
    lends_on_accept.check_out_to_patron(CheckOutToPatron("B-1", "T-1", _ADA, _DUE), key="o")
    assert [s for s, _ in ils.state.received] == ["AcceptItem"]


def test_a_service_the_ils_lacks_is_never_sent(ils: LoopbackIls) -> None:
    sierra = _adapter(ils, "sierra")
    with pytest.raises(NcipUnsupported, match="create temporary item T-1"):
        sierra.create_temporary_item(_receive(), key="c")
    with pytest.raises(NcipUnsupported, match="check C-1 out to INST-US-A"):
        sierra.check_out_to_partner(CheckOutToPartner("L", "C-1", AgencyId("US-A"), _DUE), key="o")
    assert ils.state.received == []


def test_a_bad_endpoint_is_a_permanent_failure(ils: LoopbackIls) -> None:
    with pytest.raises(NcipUnavailable, match="bad endpoint") as caught:
        _adapter(ils, endpoint="http://[::1").check_in(CheckIn("L", "C-1"), key="k")
    assert not caught.value.retryable


def test_without_routing_the_item_location_or_nothing_is_the_instruction() -> None:
    located = decode(
        b'<NCIPMessage version="v2"><CheckInItemResponse><ItemId><ItemIdentifierValue>C-1'
        b"</ItemIdentifierValue></ItemId><ItemOptionalFields><Location><LocationType>Permanent"
        b"</LocationType><LocationName><LocationNameInstance><LocationNameLevel>1"
        b"</LocationNameLevel><LocationNameValue>Main Library</LocationNameValue>"
        b"</LocationNameInstance><LocationNameInstance><LocationNameLevel>2</LocationNameLevel>"
        b"<LocationNameValue>Stacks 3</LocationNameValue></LocationNameInstance></LocationName>"
        b"</Location></ItemOptionalFields></CheckInItemResponse></NCIPMessage>"
    )
    assert routing_instruction(located) == "Send to home location Main Library / Stacks 3"
    bare = require_ncip() / "samples" / "xc_CheckInItemResponse.xml"
    assert routing_instruction(decode(bare.read_bytes())) is None
