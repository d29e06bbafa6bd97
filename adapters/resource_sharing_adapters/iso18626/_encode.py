"""Strict encoding: the core's records as schema-valid ISO 18626 (v1.2 or 2021-2).

Theory of operation. Every message goes out in the envelope with
``xmlns`` and ``xmlns:ill`` both bound to the ISO namespace and a qualified
``ill:version``, the form most peers send (REPORT §9.1). Elements follow the XSD
sequence of the chosen version exactly; timestamps are UTC whole seconds with ``Z``,
due and need-before dates are written at ``23:59:59Z`` of their UTC day; ``Y``/``N``
where the XSD says ``type_yesNo``, ``true``/``false`` for v1.2 ``sentToPatron``. In
v1.2 every header carries ``multipleItemRequestId``, empty when unused.

What a version cannot say is refused with :class:`EncodeError` (a 2021 status or action
in v1.2), except header fields the 2021-2 layout dropped (``multipleItemRequestId`` on
supplying/requesting agency messages and confirmations, ``supplyingAgencyRequestId`` on
requests, authentication on supplying agency messages), which are left out. The tree is
always built with lxml, so no text is ever written into the XML unescaped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from lxml import etree

from resource_sharing.iso18626 import Action, Status
from resource_sharing.messages import (
    Address,
    Confirmation,
    DeliveryInfo,
    Header,
    MessageKind,
    Request,
    RequestingAgencyMessage,
    ReturnInfo,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, Money
from resource_sharing_adapters.iso18626._decode import ISO_NAMESPACE, DecodedMessage
from resource_sharing_adapters.iso18626._errors import EncodeError

__all__ = ["Version", "encode"]


class Version(StrEnum):
    """The schema versions the encoder writes."""

    V1_2 = "1.2"
    """ISO 18626:2017, XSD v1.2: what every live peer speaks (the default)."""
    V2021_2 = "2021-2"
    """ISO 18626:2021, XSD 2021-2, for partners configured for it."""


_NS = "{" + ISO_NAMESPACE + "}"
_NSMAP = {None: ISO_NAMESPACE, "ill": ISO_NAMESPACE}
_VERSION_ATTR = _NS + "version"
_ONLY_2021_STATUS = frozenset({Status.HOLD_RETURN, Status.RELEASE_HOLD_RETURN})
_ONLY_2021_ACTION = frozenset({Action.HOLD_RETURN, Action.LOST})
_CONFIRMATION_ELEMENT = {
    MessageKind.REQUEST: "requestConfirmation",
    MessageKind.SUPPLYING_AGENCY_MESSAGE: "supplyingAgencyMessageConfirmation",
    MessageKind.REQUESTING_AGENCY_MESSAGE: "requestingAgencyMessageConfirmation",
}

_El = etree._Element
_sub = etree.SubElement


# Qualified tag names, built once.
_T: dict[str, str] = {}


def _tag(name: str) -> str:
    tag = _T.get(name)
    if tag is None:
        tag = _T[name] = _NS + name
    return tag


def _timestamp(value: datetime, field: str) -> str:
    if value.tzinfo is None:
        raise EncodeError(field, "a naive datetime; every datetime must be aware (UTC)")
    v = value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def _end_of_day(value: datetime, field: str) -> str:
    if value.tzinfo is None:
        raise EncodeError(field, "a naive datetime; every datetime must be aware (UTC)")
    v = value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T23:59:59Z"


class _Writer:
    """One encoding pass for one version."""

    __slots__ = ("v2021",)

    def __init__(self, version: Version) -> None:
        self.v2021 = version is Version.V2021_2

    @staticmethod
    def text(parent: _El, name: str, value: str | None) -> None:
        if value is not None:
            _sub(parent, _tag(name)).text = value

    @staticmethod
    def yes_no(parent: _El, name: str, value: bool | None) -> None:
        if value is not None:
            _sub(parent, _tag(name)).text = "Y" if value else "N"

    @staticmethod
    def when(parent: _El, name: str, value: datetime | None) -> None:
        if value is not None:
            _sub(parent, _tag(name)).text = _timestamp(value, name)

    @staticmethod
    def agency(parent: _El, name: str, value: AgencyId | None) -> None:
        if value is not None:
            el = _sub(parent, _tag(name))
            _sub(el, _tag("agencyIdType")).text = value.type
            _sub(el, _tag("agencyIdValue")).text = value.value

    @staticmethod
    def money(parent: _El, name: str, value: Money | None) -> None:
        if value is not None:
            if not value.amount.is_finite():
                raise EncodeError(name, f"not a decimal amount: {value.amount}")
            el = _sub(parent, _tag(name))
            _sub(el, _tag("currencyCode")).text = value.currency
            _sub(el, _tag("monetaryValue")).text = format(value.amount, "f")

    def physical(self, parent: _El, value: Address, field: str) -> None:
        if value.electronic_type is not None or value.electronic_data is not None:
            raise EncodeError(field, "an electronic address where a postal one is required")
        el = _sub(parent, _tag("physicalAddress"))
        text = self.text
        text(el, "line1", value.line1)
        text(el, "line2", value.line2)
        text(el, "locality", value.locality)
        text(el, "postalCode", value.postal_code)
        text(el, "region", value.region)
        text(el, "country", value.country)

    def address(self, parent: _El, value: Address, field: str) -> None:
        el = _sub(parent, _tag("address"))
        if value.electronic_type is None and value.electronic_data is None:
            self.physical(el, value, field)
            return
        if value.electronic_type is None or value.electronic_data is None:
            raise EncodeError(field, "an electronic address needs both a type and the address")
        physical = (
            value.line1,
            value.line2,
            value.locality,
            value.postal_code,
            value.region,
            value.country,
        )
        if any(part is not None for part in physical):
            raise EncodeError(field, "an address is either electronic or postal, not both")
        electronic = _sub(el, _tag("electronicAddress"))
        _sub(electronic, _tag("electronicAddressType")).text = value.electronic_type
        _sub(electronic, _tag("electronicAddressData")).text = value.electronic_data

    def header(self, parent: _El, value: Header, kind: MessageKind) -> None:
        el = _sub(parent, _tag("header"))
        self.agency(el, "supplyingAgencyId", value.supplying_agency)
        self.agency(el, "requestingAgencyId", value.requesting_agency)
        if not self.v2021:
            _sub(el, _tag("multipleItemRequestId")).text = value.multiple_item_request_id or ""
        elif kind is MessageKind.REQUEST:
            self.text(el, "multipleItemRequestId", value.multiple_item_request_id)
        _sub(el, _tag("timestamp")).text = _timestamp(value.timestamp, "header.timestamp")
        _sub(el, _tag("requestingAgencyRequestId")).text = value.requesting_agency_request_id
        if not (self.v2021 and kind is MessageKind.REQUEST):
            self.text(el, "supplyingAgencyRequestId", value.supplying_agency_request_id)
        auth = value.authentication
        if auth is not None and not (self.v2021 and kind is MessageKind.SUPPLYING_AGENCY_MESSAGE):
            auth_el = _sub(el, _tag("requestingAgencyAuthentication"))
            self.text(auth_el, "accountId", auth.account_id)
            self.text(auth_el, "securityCode", auth.security_code)

    # -- request -----------------------------------------------------------------------

    def request(self, parent: _El, value: Request) -> None:
        el = _sub(parent, _tag("request"))
        text = self.text
        self.header(el, value.header, MessageKind.REQUEST)
        c = value.citation
        bib = _sub(el, _tag("bibliographicInfo"))
        text(bib, "supplierUniqueRecordId", c.supplier_unique_record_id)
        text(bib, "title", c.title)
        text(bib, "author", c.author)
        text(bib, "subtitle", c.subtitle)
        text(bib, "seriesTitle", c.series_title)
        text(bib, "edition", c.edition)
        text(bib, "titleOfComponent", c.title_of_component)
        text(bib, "authorOfComponent", c.author_of_component)
        text(bib, "volume", c.volume)
        text(bib, "issue", c.issue)
        text(bib, "pagesRequested", c.pages_requested)
        for ident in c.item_ids:
            item = _sub(bib, _tag("bibliographicItemId"))
            if self.v2021:
                _sub(item, _tag("bibliographicItemIdentifierCode")).text = ident.code
                _sub(item, _tag("bibliographicItemIdentifier")).text = ident.value
            else:
                _sub(item, _tag("bibliographicItemIdentifier")).text = ident.value
                _sub(item, _tag("bibliographicItemIdentifierCode")).text = ident.code
        for ident in c.record_ids:
            record = _sub(bib, _tag("bibliographicRecordId"))
            _sub(record, _tag("bibliographicRecordIdentifierCode")).text = ident.code
            _sub(record, _tag("bibliographicRecordIdentifier")).text = ident.value
        if (
            c.publisher is not None
            or c.publication_type is not None
            or c.publication_date is not None
            or c.place_of_publication is not None
        ):
            pub = _sub(el, _tag("publicationInfo"))
            text(pub, "publisher", c.publisher)
            text(pub, "publicationType", c.publication_type)
            text(pub, "publicationDate", c.publication_date)
            text(pub, "placeOfPublication", c.place_of_publication)
        s = value.service
        service = _sub(el, _tag("serviceInfo"))
        if s.request_type is not None:
            _sub(service, _tag("requestType")).text = s.request_type.value
        if not self.v2021 and len(s.request_subtypes) > 3:
            raise EncodeError("service.request_subtypes", "v1.2 allows at most three")
        for subtype in s.request_subtypes:
            _sub(service, _tag("requestSubType")).text = subtype.value
        text(service, "requestingAgencyPreviousRequestId", s.previous_request_id)
        _sub(service, _tag("serviceType")).text = s.service_type.value
        text(service, "serviceLevel", s.service_level)
        text(service, "itemFormat" if self.v2021 else "preferredFormat", s.preferred_format)
        if s.need_before is not None:
            _sub(service, _tag("needBeforeDate")).text = _end_of_day(s.need_before, "need_before")
        text(service, "copyrightCompliance", s.copyright_compliance)
        self.yes_no(service, "anyEdition", s.any_edition)
        self.when(service, "startDate", s.start_date)
        self.when(service, "endDate", s.end_date)
        text(service, "note", s.note)
        for supplier in value.suppliers:
            if self.v2021 and supplier.sort_order is not None and supplier.sort_order < 0:
                raise EncodeError("suppliers.sort_order", "2021-2 needs a non-negative order")
            sup = _sub(el, _tag("supplierInfo"))
            if supplier.sort_order is not None:
                _sub(sup, _tag("sortOrder")).text = str(supplier.sort_order)
            self.agency(sup, "supplierCode", supplier.supplier)
            text(sup, "supplierDescription", supplier.description)
            if supplier.record_id is not None:
                record = _sub(sup, _tag("bibliographicRecordId"))
                _sub(
                    record, _tag("bibliographicRecordIdentifierCode")
                ).text = supplier.record_id.code
                _sub(record, _tag("bibliographicRecordIdentifier")).text = supplier.record_id.value
            text(sup, "callNumber", supplier.call_number)
            text(sup, "summaryHoldings", supplier.summary_holdings)
            text(sup, "availabilityNote", supplier.availability_note)
        for order, address in enumerate(value.delivery_addresses, start=1):
            delivery = _sub(el, _tag("requestedDeliveryInfo"))
            _sub(delivery, _tag("sortOrder")).text = str(order)
            self.address(delivery, address, "delivery_addresses")
        info = value.requesting_agency_info
        if info is not None:
            info_el = _sub(el, _tag("requestingAgencyInfo"))
            text(info_el, "name", info.name)
            text(info_el, "contactName", info.contact_name)
            for address in info.addresses:
                self.address(info_el, address, "requesting_agency_info.addresses")
        patron = value.patron
        if patron is not None:
            patron_el = _sub(el, _tag("patronInfo"))
            text(patron_el, "patronId", patron.patron_id)
            text(patron_el, "surname", patron.surname)
            text(patron_el, "givenName", patron.given_name)
            text(patron_el, "patronType", patron.patron_type)
            self.yes_no(patron_el, "sendToPatron", patron.send_to_patron)
            for address in patron.addresses:
                self.address(patron_el, address, "patron.addresses")
        billing = value.billing
        if billing is not None:
            billing_el = _sub(el, _tag("billingInfo"))
            text(billing_el, "paymentMethod", billing.payment_method)
            self.money(billing_el, "maximumCosts", billing.maximum_costs)
            text(billing_el, "billingMethod", billing.billing_method)
            text(billing_el, "billingName", billing.billing_name)
            if billing.address is not None:
                self.address(billing_el, billing.address, "billing.address")

    # -- supplying agency message ------------------------------------------------------

    def supplying_message(self, parent: _El, value: SupplyingAgencyMessage) -> None:
        el = _sub(parent, _tag("supplyingAgencyMessage"))
        text = self.text
        self.header(el, value.header, MessageKind.SUPPLYING_AGENCY_MESSAGE)
        info = _sub(el, _tag("messageInfo"))
        _sub(info, _tag("reasonForMessage")).text = value.reason.value
        self.yes_no(info, "answerYesNo", value.answer)
        text(info, "note", value.note)
        text(info, "reasonUnfilled", value.reason_unfilled)
        text(info, "reasonRetry", value.reason_retry)
        if not self.v2021:
            self.money(info, "offeredCosts", value.offered_costs)
            self.when(info, "retryAfter", value.retry_after)
            self.when(info, "retryBefore", value.retry_before)
        status = _sub(el, _tag("statusInfo"))
        if value.status is None:
            raise EncodeError("status", "the XSD requires a status, even on a notification")
        if not self.v2021 and value.status in _ONLY_2021_STATUS:
            raise EncodeError("status", f"{value.status.value} does not exist in v1.2")
        _sub(status, _tag("status")).text = value.status.value
        self.when(status, "expectedDeliveryDate", value.expected_delivery)
        if value.due_date is not None:
            _sub(status, _tag("dueDate")).text = _end_of_day(value.due_date, "due_date")
        if value.last_change is None:
            raise EncodeError("last_change", "the XSD requires statusInfo/lastChange")
        _sub(status, _tag("lastChange")).text = _timestamp(value.last_change, "last_change")
        if self.v2021 and (
            value.offered_costs is not None
            or value.retry_after is not None
            or value.retry_before is not None
        ):
            retry = _sub(el, _tag("retryInfo"))
            self.money(retry, "offeredCosts", value.offered_costs)
            self.when(retry, "retryBefore", value.retry_before)
            self.when(retry, "retryAfter", value.retry_after)
        if value.delivery is not None:
            self.delivery(el, value.delivery)
        if value.return_info is not None:
            self.return_info(el, value.return_info)

    def delivery(self, parent: _El, value: DeliveryInfo) -> None:
        el = _sub(parent, _tag("deliveryInfo"))
        text = self.text
        _sub(el, _tag("dateSent")).text = _timestamp(value.date_sent, "delivery.date_sent")
        text(el, "itemId", value.item_id)
        text(el, "deliveryMethod" if self.v2021 else "sentVia", value.sent_via)
        if value.sent_to_patron is not None:
            _sub(el, _tag("sentToPatron")).text = "true" if value.sent_to_patron else "false"
        text(el, "loanCondition", value.loan_condition)
        text(el, "itemFormat" if self.v2021 else "deliveredFormat", value.delivered_format)
        self.money(el, "deliveryCosts", value.delivery_costs)

    def return_info(self, parent: _El, value: ReturnInfo) -> None:
        el = _sub(parent, _tag("returnInfo"))
        self.agency(el, "returnAgencyId", value.return_agency)
        self.text(el, "name", value.name)
        if value.address is not None:
            self.physical(el, value.address, "return_info.address")

    # -- requesting agency message and confirmations -----------------------------------

    def requesting_message(self, parent: _El, value: RequestingAgencyMessage) -> None:
        el = _sub(parent, _tag("requestingAgencyMessage"))
        self.header(el, value.header, MessageKind.REQUESTING_AGENCY_MESSAGE)
        self.action(el, value.action)
        self.text(el, "note", value.note)

    def action(self, parent: _El, value: Action) -> None:
        if not self.v2021 and value in _ONLY_2021_ACTION:
            raise EncodeError("action", f"{value.value} does not exist in v1.2")
        _sub(parent, _tag("action")).text = value.value

    def confirmation(self, parent: _El, value: Confirmation) -> None:
        el = _sub(parent, _tag(_CONFIRMATION_ELEMENT[value.confirms]))
        head = _sub(el, _tag("confirmationHeader"))
        self.agency(head, "supplyingAgencyId", value.supplying_agency)
        self.agency(head, "requestingAgencyId", value.requesting_agency)
        _sub(head, _tag("timestamp")).text = _timestamp(value.timestamp, "timestamp")
        self.text(head, "requestingAgencyRequestId", value.requesting_agency_request_id)
        if not self.v2021:
            self.text(head, "multipleItemRequestId", value.multiple_item_request_id)
        _sub(head, _tag("timestampReceived")).text = _timestamp(
            value.timestamp_received, "timestamp_received"
        )
        _sub(head, _tag("messageStatus")).text = value.status.value
        if value.confirms is MessageKind.SUPPLYING_AGENCY_MESSAGE and value.reason is not None:
            _sub(el, _tag("reasonForMessage")).text = value.reason.value
        if value.confirms is MessageKind.REQUESTING_AGENCY_MESSAGE and value.action is not None:
            self.action(el, value.action)
        if value.error is not None:
            error = _sub(el, _tag("errorData"))
            _sub(error, _tag("errorType")).text = value.error.type.value
            self.text(error, "errorValue", value.error.value)


def encode(message: DecodedMessage, *, version: Version | str = Version.V1_2) -> bytes:
    """Encode a message or confirmation as an ISO 18626 document (UTF-8 bytes).

    Raises :class:`EncodeError` when the record cannot be said validly in ``version``
    (or holds text XML cannot carry, such as control characters).
    """
    try:
        chosen = Version(version)
    except ValueError:
        raise EncodeError("version", f"unsupported version {version!r}") from None
    writer = _Writer(chosen)
    root = etree.Element(_tag("ISO18626Message"), nsmap=_NSMAP)  # type: ignore[arg-type]
    root.set(_VERSION_ATTR, chosen.value)
    try:
        if isinstance(message, Request):
            writer.request(root, message)
        elif isinstance(message, SupplyingAgencyMessage):
            writer.supplying_message(root, message)
        elif isinstance(message, RequestingAgencyMessage):
            writer.requesting_message(root, message)
        elif isinstance(message, Confirmation):
            writer.confirmation(root, message)
        else:
            raise EncodeError("message", f"cannot encode {type(message).__name__}")
    except EncodeError:
        raise
    except ValueError as exc:  # lxml refuses text XML cannot carry
        raise EncodeError("text", str(exc)) from None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
