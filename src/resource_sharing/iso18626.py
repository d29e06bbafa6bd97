"""ISO 18626 code lists, as closed enums the core reasons with.

The member *values* are the code names the standard itself uses (``RequestReceived``,
``Loaned``...). They name concepts of the standard; how they are spelled on the wire
(namespaces, prefixes, the ``Unrecognized``/``Unrecognised`` variants, ``Y``/``true``) is
the codec's business alone.

Closed lists (XSD enumerations) are complete here, including the 2021-2 additions. Open
lists (scheme/value pairs) carry the default values of ISO 18626:2017 Annex B that the
core decides on; a peer may send other values, so fields holding them are typed ``str``
and these enums are the values we *emit*.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Action",
    "ErrorType",
    "LoanCondition",
    "MessageStatus",
    "ReasonForMessage",
    "ReasonRetry",
    "ReasonUnfilled",
    "RequestSubType",
    "RequestType",
    "ServiceType",
    "Status",
    "YesNo",
]


class Status(StrEnum):
    """A supplying agency's status for a request (``type_status``)."""

    REQUEST_RECEIVED = "RequestReceived"
    """The supplier has received the request."""
    EXPECT_TO_SUPPLY = "ExpectToSupply"
    """The supplier expects to fill it (not yet located)."""
    WILL_SUPPLY = "WillSupply"
    """The item has been located and will be sent."""
    LOANED = "Loaned"
    """The item has been shipped and is on loan to the requester."""
    OVERDUE = "Overdue"
    """The loaned item is overdue."""
    RECALLED = "Recalled"
    """The supplier recalls the loaned item."""
    RETRY_POSSIBLE = "RetryPossible"
    """Cannot supply as asked; a retry with changed terms may succeed."""
    UNFILLED = "Unfilled"
    """The supplier cannot fill the request."""
    HOLD_RETURN = "HoldReturn"
    """(2021) The supplier asks the requester not to return the loan for now."""
    RELEASE_HOLD_RETURN = "ReleaseHoldReturn"
    """(2021) The supplier now wants held loans returned."""
    COPY_COMPLETED = "CopyCompleted"
    """A non-returnable copy has been delivered."""
    LOAN_COMPLETED = "LoanCompleted"
    """The supplier has received the returned loan."""
    COMPLETED_WITHOUT_RETURN = "CompletedWithoutReturn"
    """Closed without the item coming back (lost or damaged)."""
    CANCELLED = "Cancelled"
    """The supplier cancelled the request as the requester asked."""


class Action(StrEnum):
    """What a requesting agency asks or tells (``type_action``)."""

    STATUS_REQUEST = "StatusRequest"
    """Asks for the current status."""
    RECEIVED = "Received"
    """The item has arrived at the requester."""
    CANCEL = "Cancel"
    """Asks whether the request may be cancelled."""
    RENEW = "Renew"
    """Asks whether the loan may be renewed."""
    HOLD_RETURN = "HoldReturn"
    """(2021) The requester cannot return the loan for the time being."""
    SHIPPED_RETURN = "ShippedReturn"
    """The item has been sent back to the supplier."""
    SHIPPED_FORWARD = "ShippedForward"
    """The item has been sent on to the agency named in returnInfo."""
    NOTIFICATION = "Notification"
    """A free-text message."""
    LOST = "Lost"
    """(2021) The item is lost."""


class ReasonForMessage(StrEnum):
    """Why a supplying agency message was sent (``type_reasonForMessage``)."""

    REQUEST_RESPONSE = "RequestResponse"
    """The first answer to a request."""
    STATUS_REQUEST_RESPONSE = "StatusRequestResponse"
    """Answers a StatusRequest action."""
    RENEW_RESPONSE = "RenewResponse"
    """Answers a Renew action (answerYesNo is mandatory)."""
    CANCEL_RESPONSE = "CancelResponse"
    """Answers a Cancel action (answerYesNo is mandatory)."""
    STATUS_CHANGE = "StatusChange"
    """A status change the requester did not ask about."""
    NOTIFICATION = "Notification"
    """A free-text message; the status may be empty."""


class ServiceType(StrEnum):
    """What kind of supply is wanted (``type_serviceType``)."""

    COPY = "Copy"
    """A non-returnable copy."""
    LOAN = "Loan"
    """A returnable loan."""
    COPY_OR_LOAN = "CopyOrLoan"
    """Either; the supplier chooses."""


class RequestType(StrEnum):
    """Whether a request is new or repeats one (``type_requestType``)."""

    NEW = "New"
    """A new request."""
    RETRY = "Retry"
    """Re-sent after RetryPossible, possibly with changed data."""
    REMINDER = "Reminder"
    """Re-sent to remind the supplier."""


class RequestSubType(StrEnum):
    """Special kinds of request (``type_requestSubType``)."""

    BOOKING_REQUEST = "BookingRequest"
    """For a period between startDate and endDate."""
    MULTIPLE_ITEM_REQUEST = "MultipleItemRequest"
    """One of several requests bundled for the same item."""
    PATRON_REQUEST = "PatronRequest"
    """Inserts a patron's request into their local ILL system."""
    TRANSFER_REQUEST = "TransferRequest"
    """Hands a request from one ILL system to another."""
    SUPPLYING_LIBRARYS_CHOICE = "SupplyingLibrarysChoice"
    """A service the supplier defines."""


class ErrorType(StrEnum):
    """Why a message was refused in its confirmation (``type_errorType``)."""

    UNSUPPORTED_ACTION_TYPE = "UnsupportedActionType"
    """The supplier cannot handle this action (now)."""
    UNSUPPORTED_REASON_FOR_MESSAGE_TYPE = "UnsupportedReasonForMessageType"
    """The requester cannot handle this reasonForMessage (now)."""
    UNRECOGNISED_DATA_ELEMENT = "UnrecognisedDataElement"
    """An element was not recognised."""
    UNRECOGNISED_DATA_VALUE = "UnrecognisedDataValue"
    """A value or combination of values was not recognised."""
    BADLY_FORMED_MESSAGE = "BadlyFormedMessage"
    """The message cannot be interpreted."""


class MessageStatus(StrEnum):
    """The verdict of a confirmation (``type_messageStatus``)."""

    OK = "OK"
    """The message was accepted."""
    ERROR = "ERROR"
    """The message was refused; errorData says why."""


class YesNo(StrEnum):
    """A yes/no answer (``type_yesNo``)."""

    YES = "Y"
    """Yes."""
    NO = "N"
    """No."""


class ReasonUnfilled(StrEnum):
    """Default values of the open ReasonUnfilled list (ISO 18626:2017 Annex B)."""

    NON_CIRCULATING = "NonCirculating"
    """The item does not circulate."""
    NOT_AVAILABLE_FOR_ILL = "NotAvailableForILL"
    """The item is not lent to other libraries."""
    NOT_HELD = "NotHeld"
    """The supplier does not hold the item."""
    NOT_ON_SHELF = "NotOnShelf"
    """The item could not be found."""
    POLICY_PROBLEM = "PolicyProblem"
    """A policy forbids supplying it."""
    POOR_CONDITION = "PoorCondition"
    """The item is too fragile to send."""


class ReasonRetry(StrEnum):
    """Default values of the open ReasonRetry list (ISO 18626:2017 Annex B)."""

    AT_BINDERY = "AtBindery"
    """The item is at the bindery."""
    COST_EXCEEDS_MAX_COST = "CostExceedsMaxCost"
    """The cost is above the requester's maximum."""
    LOAN_POSSIBLE = "LoanPossible"
    """A copy was asked but a loan is possible."""
    NOT_CURRENT_AVAILABLE_FOR_ILL = "NotCurrentAvailableForILL"
    """Not available for ILL at present."""
    NOT_FOUND_AS_CITED = "NotFoundAsCited"
    """The citation does not match a holding."""
    ON_LOAN = "OnLoan"
    """The item is on loan; retry after retryAfter."""
    ON_ORDER = "OnOrder"
    """The item is on order."""
    REQ_DEL_DATE_NOT_POSSIBLE = "ReqDelDateNotPossible"
    """The need-before date cannot be met."""
    REQ_DEL_METHOD_NOT_SUPP = "ReqDelMethodNotSupp"
    """The delivery method is not supported."""


class LoanCondition(StrEnum):
    """Default values of the open LoanCondition list (ISO 18626:2017 Annex B)."""

    LIBRARY_USE_ONLY = "LibraryUseOnly"
    """The item may not leave the library."""
    WATCH_LIBRARY_USE_ONLY = "WatchLibraryUseOnly"
    """Library use only, under supervision."""
    NO_REPRODUCTION = "NoReproduction"
    """No copies may be made."""
    SIGNATURE_REQUIRED = "SignatureRequired"
    """The patron must sign for it."""
    SPEC_COLL_SUPERV_REQ = "SpecCollSupervReq"
    """Special collections supervision required."""
