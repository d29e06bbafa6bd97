"""Peer messages that do not fit their request's state: the answer, and the staff choices.

Theory of operation
-------------------
A supplying or requesting agency message about one of our requests fires a trigger
(:func:`resource_sharing.borrowing.classify`, :func:`resource_sharing.lending.handle_lending`).
When the request's state has no edge for it, or none whose guard accepts, the lifecycle
raises :class:`~resource_sharing.errors.IllegalTransition` and nothing changes. Such a
message is never only refused: the inbox answers it with :func:`misfit_error` and keeps
it as a stored staff task on the request (``TaskList.PEER_MESSAGES``) that shows the
message and offers :func:`misfit_choices`:

- **apply**, where the borrowing table has a staff override for what the message says
  (:data:`~resource_sharing.borrowing.STAFF_OVERRIDES` names the ``confirm_...`` trigger;
  its edges say in which states and what applying does: a LoanCompleted for a request
  that never shipped closes it, one for a loan still out completes it);
- **ignore**, always: the message stays in the history, the request as it was;
- **ask status**, on the borrowing side while the request has a lender (ISO 18626 gives
  a lender no way to ask a borrower).

The errorType follows ISO 18626 Table 9: a status that does not fit is
UnrecognisedDataValue (a known code in a combination the receiver does not recognise),
naming the status element; a CancelResponse or RenewResponse nobody asked for is
UnsupportedReasonForMessageType; an action the lending state cannot take is
UnsupportedActionType. The errorValue says what the request is, in the words staff know.
"""

from __future__ import annotations

from resource_sharing.borrowing import (
    BORROWING,
    STAFF_OVERRIDES,
    BorrowingTrigger,
    classify,
)
from resource_sharing.errors import IllegalTransition
from resource_sharing.iso18626 import ErrorType
from resource_sharing.lending import LENDING
from resource_sharing.messages import (
    ErrorData,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import AnyRequest, TaskChoice
from resource_sharing.records import BorrowingRequest

__all__ = ["describe", "misfit_choices", "misfit_error"]

_ANSWERS = frozenset(
    {
        BorrowingTrigger.CANCEL_ACCEPTED,
        BorrowingTrigger.CANCEL_REJECTED,
        BorrowingTrigger.RENEW_ACCEPTED,
        BorrowingTrigger.RENEW_REJECTED,
    }
)


def describe(message: SupplyingAgencyMessage | RequestingAgencyMessage) -> str:
    """The message in a few words: ``LoanCompleted (StatusChange) from ISIL:US-B``."""
    if isinstance(message, SupplyingAgencyMessage):
        status = message.status.value if message.status is not None else "no status"
        answer = "" if message.answer is None else (", yes" if message.answer else ", no")
        what = f"{status} ({message.reason.value}{answer})"
        sender = message.header.supplying_agency
    else:
        what, sender = message.action.value, message.header.requesting_agency
    note = f": {message.note}" if message.note else ""
    return f"{what} from {sender}{note}"


def misfit_error(
    record: AnyRequest,
    message: SupplyingAgencyMessage | RequestingAgencyMessage,
    error: IllegalTransition,
) -> ErrorData:
    """The ISO 18626 error to answer a message that does not fit ``record``'s state."""
    if isinstance(record, BorrowingRequest) and isinstance(message, SupplyingAgencyMessage):
        label = BORROWING.info(record.state).label
        if error.event in _ANSWERS:
            return ErrorData(
                ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE,
                f"{message.reason.value}: nothing was asked; the request is '{label}'",
            )
        if error.event == BorrowingTrigger.LENDER_CONDITIONS:
            value = f"deliveryInfo/loanCondition: {message.loan_condition!r}"
        else:
            status = message.status.value if message.status is not None else ""
            value = f"supplyingAgencyMessage/statusInfo/status: {status!r}"
        return ErrorData(
            ErrorType.UNRECOGNISED_DATA_VALUE,
            f"{value} does not apply now: the request is '{label}'",
        )
    label = LENDING.info(record.state).label
    action = message.action.value if isinstance(message, RequestingAgencyMessage) else "-"
    return ErrorData(
        ErrorType.UNSUPPORTED_ACTION_TYPE, f"{action}: not possible now: the request is '{label}'"
    )


def misfit_choices(
    record: AnyRequest, message: SupplyingAgencyMessage | RequestingAgencyMessage
) -> tuple[TaskChoice, ...]:
    """What staff may do with a message that did not fit ``record``'s state, in order."""
    if not isinstance(record, BorrowingRequest) or not isinstance(message, SupplyingAgencyMessage):
        return (TaskChoice.IGNORE,)
    choices: list[TaskChoice] = []
    attempt = record.attempt_for(message.header.requesting_agency_request_id)
    if attempt is not None and attempt is record.current_attempt:
        override = STAFF_OVERRIDES.get(classify(message, attempt.last_status))
        if override is not None and BORROWING.edges_for(record.state, override):
            choices.append(TaskChoice.APPLY)
    choices.append(TaskChoice.IGNORE)
    if BORROWING.edges_for(record.state, BorrowingTrigger.ASK_STATUS):
        choices.append(TaskChoice.ASK_STATUS)
    return tuple(choices)
