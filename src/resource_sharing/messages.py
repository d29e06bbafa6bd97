"""Protocol messages between peers: ISO 18626 semantics, no wire format.

These records mirror the six ISO 18626 message types (request, supplying agency message,
requesting agency message and their confirmations) closely enough that a codec can map
them one to one, but they know nothing of XML: no namespaces, no element order, no
``Y``/``N`` strings. Open code values (reasonUnfilled, loanCondition...) are plain
strings; the core emits the defaults from :mod:`resource_sharing.iso18626`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import final

import attrs

from resource_sharing.iso18626 import (
    Action,
    ErrorType,
    MessageStatus,
    ReasonForMessage,
    RequestSubType,
    RequestType,
    ServiceType,
    Status,
)
from resource_sharing.records import AgencyId, Citation, Identifier, Money

__all__ = [
    "Address",
    "Authentication",
    "BillingInfo",
    "Confirmation",
    "DeliveryInfo",
    "ErrorData",
    "Header",
    "MessageKind",
    "PatronInfo",
    "PeerMessage",
    "Request",
    "RequestingAgencyInfo",
    "RequestingAgencyMessage",
    "ReturnInfo",
    "ServiceInfo",
    "SupplierInfo",
    "SupplyingAgencyMessage",
]


class MessageKind(StrEnum):
    """The three kinds of message that get a confirmation."""

    REQUEST = "request"
    """A request (from the requesting agency)."""
    SUPPLYING_AGENCY_MESSAGE = "supplyingAgencyMessage"
    """A supplying agency message (from the lender)."""
    REQUESTING_AGENCY_MESSAGE = "requestingAgencyMessage"
    """A requesting agency message (from the borrower)."""


@final
@attrs.frozen
class Authentication:
    """``requestingAgencyAuthentication``: the borrower's account at the lender."""

    account_id: str | None = None
    """The account id."""
    security_code: str | None = None
    """The password or key (never logged)."""


@final
@attrs.frozen
class Header:
    """The header shared by request, supplying and requesting agency messages."""

    requesting_agency: AgencyId
    """The borrower."""
    supplying_agency: AgencyId
    """The lender."""
    requesting_agency_request_id: str
    """The borrower's id for this attempt: the correlation key."""
    timestamp: datetime
    """When the message was created (UTC)."""
    supplying_agency_request_id: str | None = None
    """The lender's id for the request, once it has one."""
    multiple_item_request_id: str | None = None
    """Groups several requests; sent empty in v1.2 and otherwise unused."""
    authentication: Authentication | None = None
    """The borrower's credentials at the lender."""


@final
@attrs.frozen
class Address:
    """A postal or electronic address (``address``)."""

    electronic_type: str | None = None
    """For an electronic address: ``Email``, ``FTP``..."""
    electronic_data: str | None = None
    """For an electronic address: the address itself."""
    line1: str | None = None
    """Postal address line 1."""
    line2: str | None = None
    """Postal address line 2."""
    locality: str | None = None
    """Town or city."""
    postal_code: str | None = None
    """Postal code."""
    region: str | None = None
    """Region or state."""
    country: str | None = None
    """Country code."""


@final
@attrs.frozen
class ServiceInfo:
    """``serviceInfo``: what service is wanted and how."""

    service_type: ServiceType = ServiceType.LOAN
    """Loan, copy or either."""
    request_type: RequestType | None = None
    """New (the default when absent), Retry or Reminder."""
    request_subtypes: tuple[RequestSubType, ...] = ()
    """Special kinds of request."""
    previous_request_id: str | None = None
    """For a Retry: the earlier requestingAgencyRequestId."""
    service_level: str | None = None
    """ServiceLevel open code (``Normal``, ``Rush``...)."""
    preferred_format: str | None = None
    """Preferred format open code."""
    need_before: datetime | None = None
    """The date after which it is no longer needed."""
    copyright_compliance: str | None = None
    """Copyright compliance open code."""
    any_edition: bool | None = None
    """Whether any edition will do."""
    start_date: datetime | None = None
    """For a booking: the start."""
    end_date: datetime | None = None
    """For a booking: the end."""
    note: str | None = None
    """A note to the supplier."""


@final
@attrs.frozen
class SupplierInfo:
    """``supplierInfo``: what the requester knows about a supplier's holding."""

    sort_order: int | None = None
    """Position in the requester's list."""
    supplier: AgencyId | None = None
    """The supplier."""
    description: str | None = None
    """Free text."""
    call_number: str | None = None
    """Shelf mark at the supplier."""
    summary_holdings: str | None = None
    """Holdings summary."""
    availability_note: str | None = None
    """Availability note."""
    record_id: Identifier | None = None
    """The supplier's catalogue record for the item (``bibliographicRecordId``)."""


@final
@attrs.frozen
class RequestingAgencyInfo:
    """``requestingAgencyInfo``: who the borrower is and where to reach it."""

    name: str | None = None
    """The borrowing library's name."""
    contact_name: str | None = None
    """A contact person."""
    addresses: tuple[Address, ...] = ()
    """Addresses (delivery, e-mail)."""


@final
@attrs.frozen
class PatronInfo:
    """``patronInfo``: the least the lender needs to know of the patron."""

    patron_id: str | None = None
    """The patron's id at the borrower."""
    surname: str | None = None
    """Surname."""
    given_name: str | None = None
    """Given name."""
    patron_type: str | None = None
    """PatronType open code."""
    send_to_patron: bool | None = None
    """Whether the lender may send to the patron directly."""
    addresses: tuple[Address, ...] = ()
    """The patron's addresses."""


@final
@attrs.frozen
class BillingInfo:
    """``billingInfo``: how the borrower pays."""

    payment_method: str | None = None
    """PaymentMethod open code."""
    maximum_costs: Money | None = None
    """The most the borrower will pay."""
    billing_method: str | None = None
    """BillingMethod open code."""
    billing_name: str | None = None
    """Who is billed."""
    address: Address | None = None
    """Where the bill goes."""


@final
@attrs.frozen
class Request:
    """A request from a requesting agency to a supplying agency (``request``)."""

    header: Header
    """Correlation and identity."""
    citation: Citation
    """bibliographicInfo and publicationInfo."""
    service: ServiceInfo = attrs.field(factory=ServiceInfo)
    """serviceInfo."""
    suppliers: tuple[SupplierInfo, ...] = ()
    """supplierInfo entries."""
    delivery_addresses: tuple[Address, ...] = ()
    """requestedDeliveryInfo addresses, in order."""
    requesting_agency_info: RequestingAgencyInfo | None = None
    """requestingAgencyInfo."""
    patron: PatronInfo | None = None
    """patronInfo."""
    billing: BillingInfo | None = None
    """billingInfo."""

    kind = MessageKind.REQUEST


@final
@attrs.frozen
class DeliveryInfo:
    """``deliveryInfo``: how and when the item was sent."""

    date_sent: datetime
    """When it was sent."""
    item_id: str | None = None
    """The lender's item id (barcode)."""
    sent_via: str | None = None
    """SentVia open code (``Mail``, ``Email``, ``URL``...)."""
    sent_to_patron: bool | None = None
    """Whether it went straight to the patron."""
    loan_condition: str | None = None
    """A LoanCondition open code."""
    delivered_format: str | None = None
    """Delivered format open code."""
    delivery_costs: Money | None = None
    """What the delivery cost."""


@final
@attrs.frozen
class ReturnInfo:
    """``returnInfo``: where the item must be returned."""

    return_agency: AgencyId | None = None
    """The agency to return it to."""
    name: str | None = None
    """Its name."""
    address: Address | None = None
    """Its postal address."""


@final
@attrs.frozen
class SupplyingAgencyMessage:
    """A message from the lender about a request (``supplyingAgencyMessage``)."""

    header: Header
    """Correlation and identity."""
    reason: ReasonForMessage
    """Why it was sent."""
    status: Status | None
    """The lender's status; ``None`` when a notification carried an empty status."""
    last_change: datetime | None = None
    """When the status last changed."""
    answer: bool | None = None
    """answerYesNo, for RenewResponse and CancelResponse."""
    note: str | None = None
    """Free text."""
    reason_unfilled: str | None = None
    """ReasonUnfilled open code."""
    reason_retry: str | None = None
    """ReasonRetry open code."""
    offered_costs: Money | None = None
    """What supplying would cost (with RetryPossible or conditions)."""
    retry_after: datetime | None = None
    """Retry no earlier than this."""
    retry_before: datetime | None = None
    """Retry no later than this."""
    expected_delivery: datetime | None = None
    """When the lender expects to deliver."""
    due_date: datetime | None = None
    """The loan's due date."""
    delivery: DeliveryInfo | None = None
    """deliveryInfo, when something was sent (or conditions are set)."""
    return_info: ReturnInfo | None = None
    """returnInfo."""

    kind = MessageKind.SUPPLYING_AGENCY_MESSAGE

    @property
    def loan_condition(self) -> str | None:
        """The loan condition this message carries, if any."""
        return self.delivery.loan_condition if self.delivery is not None else None


@final
@attrs.frozen
class RequestingAgencyMessage:
    """A message from the borrower about a request (``requestingAgencyMessage``)."""

    header: Header
    """Correlation and identity."""
    action: Action
    """What the borrower asks or tells."""
    note: str | None = None
    """Free text."""

    kind = MessageKind.REQUESTING_AGENCY_MESSAGE


@final
@attrs.frozen
class ErrorData:
    """Why a message was refused."""

    type: ErrorType
    """The ISO error type."""
    value: str | None = None
    """A readable detail: the element and value, or the action, or the reason."""


@final
@attrs.frozen
class Confirmation:
    """The synchronous answer to any message: OK, or ERROR with the reason."""

    confirms: MessageKind
    """Which kind of message this confirms."""
    status: MessageStatus
    """OK or ERROR."""
    timestamp: datetime
    """When the confirmation was made."""
    timestamp_received: datetime
    """When the confirmed message was received."""
    supplying_agency: AgencyId | None = None
    """Echo of the confirmed header, when known."""
    requesting_agency: AgencyId | None = None
    """Echo of the confirmed header, when known."""
    requesting_agency_request_id: str | None = None
    """Echo of the confirmed header, when known."""
    multiple_item_request_id: str | None = None
    """Echo, only when the confirmed message had one."""
    error: ErrorData | None = None
    """Present exactly when the status is ERROR."""
    reason: ReasonForMessage | None = None
    """For a supplying agency message: its reasonForMessage, echoed."""
    action: Action | None = None
    """For a requesting agency message: its action, echoed."""

    @property
    def ok(self) -> bool:
        """True when the message was accepted."""
        return self.status is MessageStatus.OK


PeerMessage = Request | SupplyingAgencyMessage | RequestingAgencyMessage
"""Any message a peer sends that changes a request (each gets a :class:`Confirmation`)."""
