"""A StatusRequest is answered in every state of the lending table (issue 14.9).

Each state reports an ISO status (the table's, the interrupted state's for an open
cancel, RequestReceived where we have not decided yet), and the answer encodes in every
version of the standard, so no partner's StatusRequest becomes a failed delivery.
"""

from __future__ import annotations

import pytest

from resource_sharing.effects import SendMessage
from resource_sharing.iso18626 import Action, ReasonForMessage, Status
from resource_sharing.lending import handle_lending
from resource_sharing.messages import SupplyingAgencyMessage
from resource_sharing.states import LendingState
from tests.resource_sharing.builders_lifecycle import from_borrower, lctx, lending_in

EXPECTED = {
    LendingState.NEW: Status.REQUEST_RECEIVED,
    LendingState.LOCATE_FAILED: Status.REQUEST_RECEIVED,
    LendingState.CANCEL_REQUESTED: Status.REQUEST_RECEIVED,  # the new request it interrupted
    LendingState.WILL_SUPPLY: Status.WILL_SUPPLY,
    LendingState.SHIPPED: Status.LOANED,
    LendingState.OVERDUE: Status.OVERDUE,
    LendingState.COMPLETED: Status.LOAN_COMPLETED,
}


def answer_in(state: LendingState) -> SupplyingAgencyMessage:
    request = lending_in(state)
    outcome = handle_lending(request, from_borrower(Action.STATUS_REQUEST)(request), lctx())
    (sent,) = [e for e in outcome.effects if isinstance(e, SendMessage)]
    assert isinstance(sent.message, SupplyingAgencyMessage)
    assert outcome.record.state is state
    return sent.message


@pytest.mark.parametrize("state", list(LendingState), ids=lambda s: s.value)
def test_every_state_answers_a_status_request_with_a_status(state: LendingState) -> None:
    message = answer_in(state)
    assert message.reason is ReasonForMessage.STATUS_REQUEST_RESPONSE
    assert message.status is not None
    if state in EXPECTED:
        assert message.status is EXPECTED[state]


@pytest.mark.parametrize("state", list(LendingState), ids=lambda s: s.value)
@pytest.mark.parametrize("version", ["1.2", "2021-2"])
def test_every_states_answer_encodes_in_every_version(state: LendingState, version: str) -> None:
    codec = pytest.importorskip("resource_sharing_adapters.iso18626")
    assert codec.encode(answer_in(state), version=version).startswith(b"<?xml")
