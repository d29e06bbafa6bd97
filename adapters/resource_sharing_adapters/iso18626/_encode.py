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
requests, authentication on supplying agency messages), which are left out.

The document is written as text, piece by piece in schema order, rather than built as an
lxml tree (a tree costs about a microsecond an element; this is the hot path of every
exchange). The bytes are those lxml wrote: its envelope, its escaping (``&``, ``<``,
``>`` and CR) and its refusal, as :class:`EncodeError`, of text XML cannot carry. Every
value goes through :func:`_escape`, so no text is ever written into the XML unescaped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from resource_sharing.iso18626 import Action
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
from resource_sharing.records import AgencyId, Identifier, Money
from resource_sharing_adapters.iso18626._decode import ISO_NAMESPACE, DecodedMessage
from resource_sharing_adapters.iso18626._errors import EncodeError
from resource_sharing_adapters.iso18626._versions import Version, exists_in

__all__ = ["encode"]


_CONFIRMATION_ELEMENT = {
    MessageKind.REQUEST: "requestConfirmation",
    MessageKind.SUPPLYING_AGENCY_MESSAGE: "supplyingAgencyMessageConfirmation",
    MessageKind.REQUESTING_AGENCY_MESSAGE: "requestingAgencyMessageConfirmation",
}

# What lxml wrote for the envelope (``xmlns`` and ``xmlns:ill`` both on the ISO
# namespace, a qualified ``ill:version``), byte for byte.
_PROLOGUE = {
    version: (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<ISO18626Message xmlns="{ISO_NAMESPACE}" xmlns:ill="{ISO_NAMESPACE}"'
        f' ill:version="{version.value}">'
    )
    for version in Version
}
_EPILOGUE = "</ISO18626Message>"

# Characters XML 1.0 cannot carry at all (lxml refused them with this message), and
# those text must escape as libxml2 does (``&``, ``<``, ``>``, and CR as ``&#13;``).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_XML_MESSAGE = (
    "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
)


def _escape(value: str) -> str:
    """``value`` as XML text content; ValueError for text XML cannot carry."""
    if _SPECIAL.search(value) is None:
        return value
    if _NOT_XML.search(value) is not None:
        value.encode("utf-8")  # a lone surrogate: the UnicodeEncodeError lxml gave
        raise ValueError(_NOT_XML_MESSAGE)
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _timestamp(value: datetime, field: str) -> str:
    if value.tzinfo is None:
        raise EncodeError(field, "a naive datetime; every datetime must be aware (UTC)")
    # "YYYY-MM-DDThh:mm:ss" of the UTC time (microseconds dropped), then "Z".
    return value.astimezone(UTC).isoformat()[:19] + "Z"


def _end_of_day(value: datetime, field: str) -> str:
    if value.tzinfo is None:
        raise EncodeError(field, "a naive datetime; every datetime must be aware (UTC)")
    return value.astimezone(UTC).isoformat()[:10] + "T23:59:59Z"


_Tags = tuple[tuple[str, str], ...]


def _tags(*names: str) -> _Tags:
    return tuple((f"<{name}>", f"</{name}>") for name in names)


def _texts(tags: _Tags, values: tuple[str | None, ...]) -> str:
    """The text elements of ``values`` that are not None, each with its pair of tags."""
    return "".join(
        [
            start + _escape(value) + end
            for (start, end), value in zip(tags, values, strict=True)
            if value is not None
        ]
    )


_PHYSICAL = _tags("line1", "line2", "locality", "postalCode", "region", "country")
_BIB = _tags(
    "supplierUniqueRecordId",
    "title",
    "author",
    "subtitle",
    "seriesTitle",
    "edition",
    "titleOfComponent",
    "authorOfComponent",
    "volume",
    "issue",
    "pagesRequested",
)
_PUBLICATION = _tags("publisher", "publicationType", "publicationDate", "placeOfPublication")
_PATRON = _tags("patronId", "surname", "givenName", "patronType")
_SUPPLIER_TAIL = _tags("callNumber", "summaryHoldings", "availabilityNote")


class _Writer:
    """One encoding pass for one version: the document's pieces, in order."""

    __slots__ = ("out", "put", "v2021", "version")

    def __init__(self, version: Version) -> None:
        self.version = version
        self.v2021 = version is Version.V2021_2
        self.out: list[str] = [_PROLOGUE[version]]
        self.put = self.out.append

    def close(self, name: str) -> None:
        """End element ``name``, as ``<name/>`` when nothing was written into it (as lxml)."""
        out = self.out
        if out[-1] == f"<{name}>":
            out[-1] = f"<{name}/>"
        else:
            out.append(f"</{name}>")

    def texts(self, tags: _Tags, values: tuple[str | None, ...]) -> None:
        written = _texts(tags, values)
        if written:
            self.put(written)

    def text(self, name: str, value: str | None) -> None:
        if value is not None:
            self.put(f"<{name}>{_escape(value)}</{name}>")

    def yes_no(self, name: str, value: bool | None) -> None:
        if value is not None:
            self.put(f"<{name}>Y</{name}>" if value else f"<{name}>N</{name}>")

    def when(self, name: str, value: datetime | None) -> None:
        if value is not None:
            self.put(f"<{name}>{_timestamp(value, name)}</{name}>")

    def agency(self, name: str, value: AgencyId | None) -> None:
        if value is not None:
            self.put(
                f"<{name}><agencyIdType>{_escape(value.type)}</agencyIdType>"
                f"<agencyIdValue>{_escape(value.value)}</agencyIdValue></{name}>"
            )

    def money(self, name: str, value: Money | None) -> None:
        if value is not None:
            if not value.amount.is_finite():
                raise EncodeError(name, f"not a decimal amount: {value.amount}")
            self.put(
                f"<{name}><currencyCode>{_escape(value.currency)}</currencyCode>"
                f"<monetaryValue>{format(value.amount, 'f')}</monetaryValue></{name}>"
            )

    def physical(self, value: Address, field: str) -> None:
        if value.electronic_type is not None or value.electronic_data is not None:
            raise EncodeError(field, "an electronic address where a postal one is required")
        texts = _texts(
            _PHYSICAL,
            (
                value.line1,
                value.line2,
                value.locality,
                value.postal_code,
                value.region,
                value.country,
            ),
        )
        self.put(f"<physicalAddress>{texts}</physicalAddress>" if texts else "<physicalAddress/>")

    def address(self, value: Address, field: str) -> None:
        put = self.put
        put("<address>")
        if value.electronic_type is None and value.electronic_data is None:
            self.physical(value, field)
            put("</address>")
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
        put(
            "<electronicAddress><electronicAddressType>"
            f"{_escape(value.electronic_type)}</electronicAddressType><electronicAddressData>"
            f"{_escape(value.electronic_data)}</electronicAddressData></electronicAddress>"
            "</address>"
        )

    def header(self, value: Header, kind: MessageKind) -> None:
        put, text = self.put, self.text
        put("<header>")
        self.agency("supplyingAgencyId", value.supplying_agency)
        self.agency("requestingAgencyId", value.requesting_agency)
        if not self.v2021:
            put(
                "<multipleItemRequestId>"
                f"{_escape(value.multiple_item_request_id or '')}</multipleItemRequestId>"
            )
        elif kind is MessageKind.REQUEST:
            text("multipleItemRequestId", value.multiple_item_request_id)
        put(f"<timestamp>{_timestamp(value.timestamp, 'header.timestamp')}</timestamp>")
        put(
            "<requestingAgencyRequestId>"
            f"{_escape(value.requesting_agency_request_id)}</requestingAgencyRequestId>"
        )
        if not (self.v2021 and kind is MessageKind.REQUEST):
            text("supplyingAgencyRequestId", value.supplying_agency_request_id)
        auth = value.authentication
        if auth is not None and not (self.v2021 and kind is MessageKind.SUPPLYING_AGENCY_MESSAGE):
            put("<requestingAgencyAuthentication>")
            text("accountId", auth.account_id)
            text("securityCode", auth.security_code)
            self.close("requestingAgencyAuthentication")
        put("</header>")

    # -- request -----------------------------------------------------------------------

    def request(self, value: Request) -> None:
        put, text = self.put, self.text
        put("<request>")
        self.header(value.header, MessageKind.REQUEST)
        c = value.citation
        put("<bibliographicInfo>")
        self.texts(
            _BIB,
            (
                c.supplier_unique_record_id,
                c.title,
                c.author,
                c.subtitle,
                c.series_title,
                c.edition,
                c.title_of_component,
                c.author_of_component,
                c.volume,
                c.issue,
                c.pages_requested,
            ),
        )
        for ident in c.item_ids:
            if self.v2021:
                put(
                    "<bibliographicItemId><bibliographicItemIdentifierCode>"
                    f"{_escape(ident.code)}</bibliographicItemIdentifierCode>"
                    "<bibliographicItemIdentifier>"
                    f"{_escape(ident.value)}</bibliographicItemIdentifier></bibliographicItemId>"
                )
            else:
                put(
                    "<bibliographicItemId><bibliographicItemIdentifier>"
                    f"{_escape(ident.value)}</bibliographicItemIdentifier>"
                    "<bibliographicItemIdentifierCode>"
                    f"{_escape(ident.code)}</bibliographicItemIdentifierCode>"
                    "</bibliographicItemId>"
                )
        for ident in c.record_ids:
            self.record_id(ident)
        self.close("bibliographicInfo")
        publication = _texts(
            _PUBLICATION,
            (c.publisher, c.publication_type, c.publication_date, c.place_of_publication),
        )
        if publication:
            put(f"<publicationInfo>{publication}</publicationInfo>")
        s = value.service
        put("<serviceInfo>")
        if s.request_type is not None:
            put(f"<requestType>{s.request_type.value}</requestType>")
        if not self.v2021 and len(s.request_subtypes) > 3:
            raise EncodeError("service.request_subtypes", "v1.2 allows at most three")
        for subtype in s.request_subtypes:
            put(f"<requestSubType>{subtype.value}</requestSubType>")
        text("requestingAgencyPreviousRequestId", s.previous_request_id)
        put(f"<serviceType>{s.service_type.value}</serviceType>")
        text("serviceLevel", s.service_level)
        text("itemFormat" if self.v2021 else "preferredFormat", s.preferred_format)
        if s.need_before is not None:
            put(f"<needBeforeDate>{_end_of_day(s.need_before, 'need_before')}</needBeforeDate>")
        text("copyrightCompliance", s.copyright_compliance)
        self.yes_no("anyEdition", s.any_edition)
        self.when("startDate", s.start_date)
        self.when("endDate", s.end_date)
        text("note", s.note)
        put("</serviceInfo>")
        for supplier in value.suppliers:
            if self.v2021 and supplier.sort_order is not None and supplier.sort_order < 0:
                raise EncodeError("suppliers.sort_order", "2021-2 needs a non-negative order")
            put("<supplierInfo>")
            if supplier.sort_order is not None:
                put(f"<sortOrder>{supplier.sort_order}</sortOrder>")
            self.agency("supplierCode", supplier.supplier)
            text("supplierDescription", supplier.description)
            if supplier.record_id is not None:
                self.record_id(supplier.record_id)
            self.texts(
                _SUPPLIER_TAIL,
                (supplier.call_number, supplier.summary_holdings, supplier.availability_note),
            )
            self.close("supplierInfo")
        for order, address in enumerate(value.delivery_addresses, start=1):
            put(f"<requestedDeliveryInfo><sortOrder>{order}</sortOrder>")
            self.address(address, "delivery_addresses")
            put("</requestedDeliveryInfo>")
        info = value.requesting_agency_info
        if info is not None:
            put("<requestingAgencyInfo>")
            text("name", info.name)
            text("contactName", info.contact_name)
            for address in info.addresses:
                self.address(address, "requesting_agency_info.addresses")
            self.close("requestingAgencyInfo")
        patron = value.patron
        if patron is not None:
            put("<patronInfo>")
            self.texts(
                _PATRON,
                (patron.patron_id, patron.surname, patron.given_name, patron.patron_type),
            )
            self.yes_no("sendToPatron", patron.send_to_patron)
            for address in patron.addresses:
                self.address(address, "patron.addresses")
            self.close("patronInfo")
        billing = value.billing
        if billing is not None:
            put("<billingInfo>")
            text("paymentMethod", billing.payment_method)
            self.money("maximumCosts", billing.maximum_costs)
            text("billingMethod", billing.billing_method)
            text("billingName", billing.billing_name)
            if billing.address is not None:
                self.address(billing.address, "billing.address")
            self.close("billingInfo")
        put("</request>")

    def record_id(self, ident: Identifier) -> None:
        self.put(
            "<bibliographicRecordId><bibliographicRecordIdentifierCode>"
            f"{_escape(ident.code)}</bibliographicRecordIdentifierCode>"
            "<bibliographicRecordIdentifier>"
            f"{_escape(ident.value)}</bibliographicRecordIdentifier></bibliographicRecordId>"
        )

    # -- supplying agency message ------------------------------------------------------

    def supplying_message(self, value: SupplyingAgencyMessage) -> None:
        put, text = self.put, self.text
        put("<supplyingAgencyMessage>")
        self.header(value.header, MessageKind.SUPPLYING_AGENCY_MESSAGE)
        put(f"<messageInfo><reasonForMessage>{value.reason.value}</reasonForMessage>")
        self.yes_no("answerYesNo", value.answer)
        text("note", value.note)
        text("reasonUnfilled", value.reason_unfilled)
        text("reasonRetry", value.reason_retry)
        if not self.v2021:
            self.money("offeredCosts", value.offered_costs)
            self.when("retryAfter", value.retry_after)
            self.when("retryBefore", value.retry_before)
        put("</messageInfo><statusInfo>")
        if value.status is None:
            raise EncodeError("status", "the XSD requires a status, even on a notification")
        if not exists_in(value.status, self.version):
            raise EncodeError("status", f"{value.status.value} does not exist in v1.2")
        put(f"<status>{value.status.value}</status>")
        self.when("expectedDeliveryDate", value.expected_delivery)
        if value.due_date is not None:
            put(f"<dueDate>{_end_of_day(value.due_date, 'due_date')}</dueDate>")
        if value.last_change is None:
            raise EncodeError("last_change", "the XSD requires statusInfo/lastChange")
        put(f"<lastChange>{_timestamp(value.last_change, 'last_change')}</lastChange>")
        put("</statusInfo>")
        if self.v2021 and (
            value.offered_costs is not None
            or value.retry_after is not None
            or value.retry_before is not None
        ):
            put("<retryInfo>")
            self.money("offeredCosts", value.offered_costs)
            self.when("retryBefore", value.retry_before)
            self.when("retryAfter", value.retry_after)
            self.close("retryInfo")
        if value.delivery is not None:
            self.delivery(value.delivery)
        if value.return_info is not None:
            self.return_info(value.return_info)
        put("</supplyingAgencyMessage>")

    def delivery(self, value: DeliveryInfo) -> None:
        put, text = self.put, self.text
        put(
            "<deliveryInfo><dateSent>"
            f"{_timestamp(value.date_sent, 'delivery.date_sent')}</dateSent>"
        )
        text("itemId", value.item_id)
        text("deliveryMethod" if self.v2021 else "sentVia", value.sent_via)
        if value.sent_to_patron is not None:
            put(
                "<sentToPatron>true</sentToPatron>"
                if value.sent_to_patron
                else "<sentToPatron>false</sentToPatron>"
            )
        text("loanCondition", value.loan_condition)
        text("itemFormat" if self.v2021 else "deliveredFormat", value.delivered_format)
        self.money("deliveryCosts", value.delivery_costs)
        put("</deliveryInfo>")

    def return_info(self, value: ReturnInfo) -> None:
        self.put("<returnInfo>")
        self.agency("returnAgencyId", value.return_agency)
        self.text("name", value.name)
        if value.address is not None:
            self.physical(value.address, "return_info.address")
        self.close("returnInfo")

    # -- requesting agency message and confirmations -----------------------------------

    def requesting_message(self, value: RequestingAgencyMessage) -> None:
        self.put("<requestingAgencyMessage>")
        self.header(value.header, MessageKind.REQUESTING_AGENCY_MESSAGE)
        self.action(value.action)
        self.text("note", value.note)
        self.put("</requestingAgencyMessage>")

    def action(self, value: Action) -> None:
        if not exists_in(value, self.version):
            raise EncodeError("action", f"{value.value} does not exist in v1.2")
        self.put(f"<action>{value.value}</action>")

    def confirmation(self, value: Confirmation) -> None:
        put, text = self.put, self.text
        element = _CONFIRMATION_ELEMENT[value.confirms]
        put(f"<{element}><confirmationHeader>")
        self.agency("supplyingAgencyId", value.supplying_agency)
        self.agency("requestingAgencyId", value.requesting_agency)
        put(f"<timestamp>{_timestamp(value.timestamp, 'timestamp')}</timestamp>")
        text("requestingAgencyRequestId", value.requesting_agency_request_id)
        if not self.v2021:
            text("multipleItemRequestId", value.multiple_item_request_id)
        received = _timestamp(value.timestamp_received, "timestamp_received")
        put(
            f"<timestampReceived>{received}</timestampReceived>"
            f"<messageStatus>{value.status.value}</messageStatus></confirmationHeader>"
        )
        # The echo is optional: what the version lacks is left out, so that the refusal
        # of a message the partner's version cannot say can always be written.
        reason, action = value.reason, value.action
        kind = value.confirms
        if (
            kind is MessageKind.SUPPLYING_AGENCY_MESSAGE
            and reason
            and exists_in(reason, self.version)
        ):
            put(f"<reasonForMessage>{reason.value}</reasonForMessage>")
        if (
            kind is MessageKind.REQUESTING_AGENCY_MESSAGE
            and action
            and exists_in(action, self.version)
        ):
            self.action(action)
        if value.error is not None:
            put(f"<errorData><errorType>{value.error.type.value}</errorType>")
            text("errorValue", value.error.value)
            put("</errorData>")
        put(f"</{element}>")


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
    try:
        if isinstance(message, Request):
            writer.request(message)
        elif isinstance(message, SupplyingAgencyMessage):
            writer.supplying_message(message)
        elif isinstance(message, RequestingAgencyMessage):
            writer.requesting_message(message)
        elif isinstance(message, Confirmation):
            writer.confirmation(message)
        else:
            raise EncodeError("message", f"cannot encode {type(message).__name__}")
    except EncodeError:
        raise
    except ValueError as exc:  # text XML cannot carry
        raise EncodeError("text", str(exc)) from None
    writer.put(_EPILOGUE)
    return "".join(writer.out).encode("utf-8")
