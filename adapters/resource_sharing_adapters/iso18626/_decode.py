"""Lenient decoding: ISO 18626 XML as peers really send it, into the core's records.

Theory of operation. Elements are matched by *local name*, in any order, with any prefix
and in any (or no) namespace, because real peers get all of these wrong (REPORT §9).
The 2021 renames are read as their v1.2 meaning (``deliveryMethod`` is ``sentVia``,
``itemFormat`` is ``preferredFormat``/``deliveredFormat``, ``retryInfo`` carries
``offeredCosts``/``retryAfter``/``retryBefore``), and the legacy v1.0 ``activeSection``
wrapper of a requesting agency message is looked into. Empty elements count as absent.
Timestamps may have fractional seconds, any offset, ``+0000``, a space instead of
``T``, or none at all; every one becomes an aware UTC datetime. A missing or unreadable
*header* timestamp (template placeholders are seen in the wild) is replaced by the
receive time in lenient mode; any other unreadable date is an UnrecognisedDataValue.

Elements the schema knows but the records do not carry (``sponsor``, ``shippingInfo``...)
are skipped quietly; elements no schema knows are skipped and listed in
:attr:`Decoded.unknown_elements`, or refused with UnrecognisedDataElement in strict
mode. Strict mode also refuses a wrong namespace and missing mandatory elements, which
lenient mode fills in (and reports in :attr:`Decoded.warnings`).

Values a closed list does not know are refused with the ISO error the standard names:
UnsupportedActionType, UnsupportedReasonForMessageType, otherwise UnrecognisedDataValue
naming the element and the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar, final

import attrs
from lxml import etree

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
from resource_sharing.messages import (
    Address,
    Authentication,
    BillingInfo,
    Confirmation,
    DeliveryInfo,
    ErrorData,
    Header,
    MessageKind,
    PatronInfo,
    Request,
    RequestingAgencyInfo,
    RequestingAgencyMessage,
    ReturnInfo,
    ServiceInfo,
    SupplierInfo,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, Citation, Identifier, Money
from resource_sharing_adapters.iso18626._errors import (
    BadlyFormedMessage,
    DecodeError,
    HeaderEcho,
    UnrecognisedDataElement,
    UnrecognisedDataValue,
    UnsupportedActionType,
    UnsupportedReasonForMessageType,
)
from resource_sharing_adapters.iso18626._parse import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    parse_xml,
)

__all__ = [
    "ISO_NAMESPACE",
    "Decoded",
    "DecodedMessage",
    "decode",
    "parse_datetime",
]

ISO_NAMESPACE = "http://illtransactions.org/2013/iso18626"
"""The one namespace of every ISO 18626 schema version (2013 to 2021-2)."""
_NS = "{" + ISO_NAMESPACE + "}"

DecodedMessage = Request | SupplyingAgencyMessage | RequestingAgencyMessage | Confirmation
"""Anything :func:`decode` returns: one of the three messages, or a confirmation."""

_El = etree._Element
_E = TypeVar("_E", bound=Enum)


@final
@attrs.frozen
class Decoded:
    """The result of :func:`decode`: the message and what was tolerated to read it."""

    message: DecodedMessage
    """The decoded message or confirmation."""
    element: str
    """The message's element name (``request``, ``supplyingAgencyMessageConfirmation``...)."""
    version: str | None = None
    """The envelope's ``version`` attribute as sent (free text), if any."""
    unknown_elements: tuple[str, ...] = ()
    """Paths of elements no schema knows, which were skipped."""
    warnings: tuple[str, ...] = ()
    """Other leniencies: missing mandatory elements filled in, extra repeats dropped."""


_MESSAGE_KINDS: Mapping[str, MessageKind] = {
    "request": MessageKind.REQUEST,
    "requestConfirmation": MessageKind.REQUEST,
    "supplyingAgencyMessage": MessageKind.SUPPLYING_AGENCY_MESSAGE,
    "supplyingAgencyMessageConfirmation": MessageKind.SUPPLYING_AGENCY_MESSAGE,
    "requestingAgencyMessage": MessageKind.REQUESTING_AGENCY_MESSAGE,
    "requestingAgencyMessageConfirmation": MessageKind.REQUESTING_AGENCY_MESSAGE,
}


def _lookup(enum: type[_E]) -> tuple[dict[str, _E], dict[str, _E]]:
    exact = {str(m.value): m for m in enum}
    return exact, {k.casefold(): v for k, v in exact.items()}


_STATUS = _lookup(Status)
_ACTION = _lookup(Action)
_REASON = _lookup(ReasonForMessage)
_SERVICE_TYPE = _lookup(ServiceType)
_REQUEST_TYPE = _lookup(RequestType)
_SUBTYPE = _lookup(RequestSubType)
_MESSAGE_STATUS = _lookup(MessageStatus)
_ERROR_TYPE_EXACT, _ERROR_TYPE_FOLDED = _lookup(ErrorType)
# The 2021 text spells these with a "z" and a lower-case "f"; Koha emits that spelling.
_ERROR_TYPE_FOLDED.update(
    {
        "unrecognizeddataelement": ErrorType.UNRECOGNISED_DATA_ELEMENT,
        "unrecognizeddatavalue": ErrorType.UNRECOGNISED_DATA_VALUE,
    }
)
_YES = frozenset({"y", "yes", "true", "1"})
_NO = frozenset({"n", "no", "false", "0"})

_Names = Mapping[str, str]
_Texts = dict[str, str | None]
_Els = dict[str, _El]
_More = dict[str, list[_El]]


def _names(*names: str) -> _Names:
    """Known local names, keyed by their qualified tag in the ISO namespace (the fast path)."""
    return {_NS + name: name for name in sorted(names)}


_NONE: _Names = {}

# Known element names per structure, in two kinds: text elements (whose text is read)
# and structures (whose element is kept to read further). Each kind holds those read
# plus those the schema knows (in any version) that the records do not carry, which are
# skipped without a report. _T_* are text elements, _S_* structures.
_T_HEADER = _names(
    "multipleItemRequestId",
    "timestamp",
    "requestingAgencyRequestId",
    "supplyingAgencyRequestId",
    "consortialId",
)
_S_HEADER = _names("supplyingAgencyId", "requestingAgencyId", "requestingAgencyAuthentication")
_T_AGENCY = _names("agencyIdType", "agencyIdValue")
_T_AUTH = _names("accountId", "securityCode")
_S_REQUEST = _names(
    "header",
    "bibliographicInfo",
    "publicationInfo",
    "serviceInfo",
    "supplierInfo",
    "requestedDeliveryInfo",
    "requestingAgencyInfo",
    "patronInfo",
    "billingInfo",
)
_T_BIB = _names(
    "supplierUniqueRecordId",
    "title",
    "author",
    "authorId",
    "subtitle",
    "seriesTitle",
    "edition",
    "titleOfComponent",
    "authorOfComponent",
    "volume",
    "issue",
    "pagesRequested",
    "estimatedNoPages",
    "sponsor",
    "informationSource",
)
_S_BIB = _names("bibliographicItemId", "bibliographicRecordId")
_T_ITEM_ID = _names("bibliographicItemIdentifier", "bibliographicItemIdentifierCode")
_T_RECORD_ID = _names("bibliographicRecordIdentifier", "bibliographicRecordIdentifierCode")
_T_PUB = _names(
    "publisher", "publisherId", "publicationType", "publicationDate", "placeOfPublication"
)
_T_SERVICE = _names(
    "requestType",
    "requestSubType",
    "requestingAgencyPreviousRequestId",
    "serviceType",
    "serviceLevel",
    "preferredFormat",
    "itemFormat",
    "needBeforeDate",
    "copyrightCompliance",
    "anyEdition",
    "preferredEdition",
    "loanCondition",
    "startDate",
    "endDate",
    "note",
)
_T_SUPPLIER = _names(
    "sortOrder", "supplierDescription", "callNumber", "summaryHoldings", "availabilityNote"
)
_S_SUPPLIER = _names("supplierCode", "bibliographicRecordId")
_T_REQ_DELIVERY = _names("sortOrder", "deliveryMethod", "courierName")
_S_ADDRESSES = _names("address")
_T_AGENCY_INFO = _names("name", "contactName")
_T_PATRON = _names("patronId", "surname", "givenName", "patronType", "sendToPatron")
_T_BILLING = _names("paymentMethod", "billingMethod", "billingName")
_S_BILLING = _names("maximumCosts", "address")
_S_ADDRESS = _names("electronicAddress", "physicalAddress")
_T_ELECTRONIC = _names("electronicAddressType", "electronicAddressData")
_T_PHYSICAL = _names("line1", "line2", "locality", "postalCode", "region", "country")
_T_COSTS = _names("currencyCode", "monetaryValue")
_S_SAM = _names(
    "header",
    "messageInfo",
    "statusInfo",
    "retryInfo",
    "deliveryInfo",
    "shippingInfo",
    "returnInfo",
)
_T_MESSAGE_INFO = _names(
    "reasonForMessage",
    "answerYesNo",
    "note",
    "reasonUnfilled",
    "reasonRetry",
    "retryAfter",
    "retryBefore",
)
_S_COSTS = _names("offeredCosts")
_T_RETRY = _names(
    "loanCondition",
    "edition",
    "itemFormat",
    "volume",
    "serviceType",
    "serviceLevel",
    "deliveryMethod",
    "courierName",
    "paymentMethod",
    "retryBefore",
    "retryAfter",
)
_T_STATUS = _names("status", "expectedDeliveryDate", "dueDate", "lastChange")
_T_DELIVERY = _names(
    "dateSent",
    "itemId",
    "URL",
    "sentVia",
    "deliveryMethod",
    "address",
    "sentToPatron",
    "loanCondition",
    "deliveredFormat",
    "itemFormat",
    "serviceType",
    "paymentMethod",
)
_S_DELIVERY = _names("deliveryCosts")
_T_RETURN = _names("name")
_S_RETURN = _names("returnAgencyId", "physicalAddress")
_T_RAM = _names("action", "note")
_S_RAM = _names("header", "activeSection")
_T_CONF_HEADER = _names(
    "timestamp",
    "requestingAgencyRequestId",
    "multipleItemRequestId",
    "timestampReceived",
    "messageStatus",
)
_S_CONF_HEADER = _names("supplyingAgencyId", "requestingAgencyId")
_T_CONF = _names("reasonForMessage", "action")
_S_CONF = _names("confirmationHeader", "errorData")
_T_ERROR = _names("errorType", "errorValue")
_S_ENVELOPE = _names(*_MESSAGE_KINDS)

# The paths of a request's and a supplying agency message's parts, as errors, warnings
# and unknown elements name them (the message element's name comes first).
_REQ = "request"
_REQ_HEADER = "request/header"
_REQ_BIB = "request/bibliographicInfo"
_REQ_BIB_RECORD = "request/bibliographicInfo/bibliographicRecordId"
_REQ_PUB = "request/publicationInfo"
_REQ_SERVICE = "request/serviceInfo"
_REQ_SUPPLIER = "request/supplierInfo"
_REQ_SUPPLIER_RECORD = "request/supplierInfo/bibliographicRecordId"
_REQ_DELIVERY = "request/requestedDeliveryInfo"
_REQ_DELIVERY_ADDRESS = "request/requestedDeliveryInfo/address"
_REQ_AGENCY_INFO = "request/requestingAgencyInfo"
_REQ_AGENCY_INFO_ADDRESS = "request/requestingAgencyInfo/address"
_REQ_PATRON = "request/patronInfo"
_REQ_PATRON_ADDRESS = "request/patronInfo/address"
_REQ_BILLING = "request/billingInfo"
_REQ_BILLING_ADDRESS = "request/billingInfo/address"
_SAM = "supplyingAgencyMessage"
_SAM_HEADER = "supplyingAgencyMessage/header"
_SAM_INFO = "supplyingAgencyMessage/messageInfo"
_SAM_RETRY = "supplyingAgencyMessage/retryInfo"
_SAM_STATUS = "supplyingAgencyMessage/statusInfo"
_SAM_DELIVERY = "supplyingAgencyMessage/deliveryInfo"
_SAM_RETURN = "supplyingAgencyMessage/returnInfo"
_RAM = "requestingAgencyMessage"
_RAM_HEADER = "requestingAgencyMessage/header"

_DATETIME = re.compile(
    r"(\d{4,})-(\d\d)-(\d\d)"
    r"(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?"
    r"\s*(?:([Zz])|([+-])(\d\d):?(\d\d))?"
)


def parse_datetime(text: str) -> datetime:
    """Read any xs:dateTime-like text peers send as an aware UTC datetime.

    Accepts fractional seconds of any length (cut to microseconds), ``Z``, ``+hh:mm``,
    ``+hhmm``, a space for ``T``, no offset (taken as UTC) and a bare date (midnight).
    Raises :class:`ValueError` for anything else.
    """
    if (
        len(text) == 20
        and text[19] == "Z"
        and text[10] == "T"
        and text[4] == text[7] == "-"
        and text[13] == text[16] == ":"
    ):
        # What we and most peers write, "YYYY-MM-DDThh:mm:ssZ": read in C. Whatever
        # fromisoformat refuses (non-ASCII digits, hour 24...) takes the general path.
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not a date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, _z, sign, off_h, off_m = match.groups()
    micro = int((fraction + "00000")[:6]) if fraction else 0
    try:
        value = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=UTC,
        )
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            value = value - offset if sign == "+" else value + offset
    except OverflowError:
        raise ValueError(f"date-time out of range: {text!r}") from None
    return value


def _fields_are(cls: type, names: str) -> None:
    # Records are built with positional arguments (keywords cost ~40% more per call);
    # fail at import, not with misplaced values, if a record's field order changes.
    actual = tuple(field.name for field in attrs.fields(cls))
    if actual != tuple(names.split()):
        raise ImportError(f"{cls.__name__} fields are now {actual}; update the decoder")


_fields_are(
    Header,
    "requesting_agency supplying_agency requesting_agency_request_id timestamp"
    " supplying_agency_request_id multiple_item_request_id authentication",
)
_fields_are(Authentication, "account_id security_code")
_fields_are(
    Address,
    "electronic_type electronic_data line1 line2 locality postal_code region country",
)
_fields_are(
    ServiceInfo,
    "service_type request_type request_subtypes previous_request_id service_level"
    " preferred_format need_before copyright_compliance any_edition start_date end_date note",
)
_fields_are(
    SupplierInfo,
    "sort_order supplier description call_number summary_holdings availability_note record_id",
)
_fields_are(RequestingAgencyInfo, "name contact_name addresses")
_fields_are(PatronInfo, "patron_id surname given_name patron_type send_to_patron addresses")
_fields_are(BillingInfo, "payment_method maximum_costs billing_method billing_name address")
_fields_are(
    Request,
    "header citation service suppliers delivery_addresses requesting_agency_info patron billing",
)
_fields_are(
    Citation,
    "title author subtitle series_title edition title_of_component author_of_component"
    " volume issue pages_requested item_ids record_ids supplier_unique_record_id"
    " publisher publication_type publication_date place_of_publication",
)
_fields_are(Identifier, "code value")
_fields_are(Money, "amount currency")
_fields_are(AgencyId, "value type")
_fields_are(
    DeliveryInfo,
    "date_sent item_id sent_via sent_to_patron loan_condition delivered_format delivery_costs",
)
_fields_are(ReturnInfo, "return_agency name address")
_fields_are(
    SupplyingAgencyMessage,
    "header reason status last_change answer note reason_unfilled reason_retry"
    " offered_costs retry_after retry_before expected_delivery due_date delivery return_info",
)
_fields_are(RequestingAgencyMessage, "header action note")
_fields_are(ErrorData, "type value")
_fields_are(Decoded, "message element version unknown_elements warnings")
_fields_are(
    Confirmation,
    "confirms status timestamp timestamp_received supplying_agency requesting_agency"
    " requesting_agency_request_id multiple_item_request_id error reason action",
)


_V = TypeVar("_V")


def _needed(value: _V | None, name: str, where: str, present: AbstractSet[str]) -> _V:
    """A header field that must be there; BadlyFormedMessage when it is missing or empty."""
    if value is None:
        raise BadlyFormedMessage(f"{where}/{name} is {'empty' if name in present else 'missing'}")
    return value


class _Reader:
    """One decoding pass: the options, and what was tolerated so far."""

    __slots__ = (
        "action",
        "multiple_item_request_id",
        "reason",
        "request_id",
        "requesting",
        "strict",
        "supplying",
        "timestamp",
        "unknown",
        "warnings",
    )

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.unknown: list[str] = []
        self.warnings: list[str] = []
        self.supplying: AgencyId | None = None
        self.requesting: AgencyId | None = None
        self.request_id: str | None = None
        self.multiple_item_request_id: str | None = None
        self.timestamp: datetime | None = None
        self.reason: ReasonForMessage | None = None
        self.action: Action | None = None

    def echo(self) -> HeaderEcho:
        """The header fields read so far."""
        return HeaderEcho(
            supplying_agency=self.supplying,
            requesting_agency=self.requesting,
            requesting_agency_request_id=self.request_id,
            multiple_item_request_id=self.multiple_item_request_id,
            timestamp=self.timestamp,
            reason=self.reason,
            action=self.action,
        )

    # -- structure ---------------------------------------------------------------------
    #
    # A structure's children are read in one pass into ``texts`` (each text element's
    # first stripped text, None when empty) and ``els`` (each structure's first element),
    # both by local name; ``more`` lists every occurrence of a name that repeats. The
    # pass assumes what nearly every message is: each child known, in the ISO namespace
    # and not repeated. At the first child that is not, it is read again the careful way
    # (odd_kids), which reports unknown children in document order, or refuses them. A
    # path is ``path`` or, given ``name``, ``path/name``, built only when it is reported.

    def kids(
        self,
        el: _El,
        path: str,
        text_names: _Names,
        el_names: _Names,
        name: str | None = None,
    ) -> tuple[_Texts, _Els, _More | None]:
        """The children of ``el``: texts and structures by local name, and repeats."""
        # el[:] is a list built in C, faster than iterating el (the stubs lack slicing).
        children: list[_El] = el[:]  # type: ignore[index, assignment]
        texts: _Texts = {}
        els: _Els = {}
        for child in children:
            tag = child.tag
            key = text_names.get(tag)
            if key is not None:
                text = child.text
                texts[key] = text.strip() or None if text else None
            else:
                key = el_names.get(tag)
                if key is None:
                    break  # another namespace, or unknown
                els[key] = child
        else:
            if len(texts) + len(els) == len(children):
                return texts, els, None
        return self.odd_kids(
            children, path if name is None else f"{path}/{name}", text_names, el_names
        )

    def leaves(self, el: _El, path: str, names: _Names, name: str | None = None) -> _Texts:
        """A structure of text elements: each name's first stripped text, None if empty."""
        children: list[_El] = el[:]  # type: ignore[index, assignment]
        texts: _Texts = {}
        for child in children:
            key = names.get(child.tag)
            if key is None:
                break  # another namespace, or unknown
            text = child.text
            texts[key] = text.strip() or None if text else None
        else:
            if len(texts) == len(children):
                return texts
        where = path if name is None else f"{path}/{name}"
        return self.odd_kids(children, where, names, _NONE)[0]

    def odd_kids(
        self, children: list[_El], path: str, text_names: _Names, el_names: _Names
    ) -> tuple[_Texts, _Els, _More | None]:
        """:meth:`kids` the careful way: the first of each name, repeats, odd children."""
        texts: _Texts = {}
        els: _Els = {}
        firsts: _Els = {}
        more: _More | None = None
        for child in children:
            tag = child.tag
            is_text = True
            key = text_names.get(tag)
            if key is None:
                key = el_names.get(tag)
                if key is None:
                    key = self.odd(tag, path, text_names, el_names)
                    is_text = _NS + key not in el_names
                else:
                    is_text = False
            first = firsts.get(key)
            if first is None:
                firsts[key] = child
                if is_text:
                    text = child.text
                    texts[key] = text.strip() or None if text else None
                else:
                    els[key] = child
            else:
                if more is None:
                    more = {}
                found = more.get(key)
                if found is None:
                    more[key] = [first, child]
                else:
                    found.append(child)
        return texts, els, more

    def odd(self, tag: str, path: str, text_names: _Names, el_names: _Names) -> str:
        """The local name of a child in another namespace or unknown (reported or refused)."""
        name = tag[tag.find("}") + 1 :]
        strict = self.strict
        if strict and not tag.startswith(_NS):
            raise BadlyFormedMessage(f"{path}/{name}: not in the ISO 18626 namespace")
        qualified = _NS + name
        if qualified not in text_names and qualified not in el_names:
            if strict:
                raise UnrecognisedDataElement(f"{path}/{name}")
            self.unknown.append(f"{path}/{name}")
        return name

    def repeated(self, more: _More, name: str, path: str) -> None:
        """Report the repeats of ``name``, a child read once (the first counts)."""
        found = more.get(name)
        if found is not None:
            self.warnings.append(f"{path}/{name}: {len(found) - 1} repeat(s) ignored")

    def missing(self, what: str) -> None:
        """A mandatory element is absent: refused in strict mode, reported otherwise."""
        if self.strict:
            raise BadlyFormedMessage(f"{what} is missing")
        self.warnings.append(f"{what} is missing")

    # -- values (each takes the element's text, None when absent or empty) -------------

    def code(
        self, text: str, table: tuple[dict[str, _E], dict[str, _E]], path: str, name: str
    ) -> _E:
        """Look ``text`` up in a closed list (exact, then case-insensitive)."""
        value = table[0].get(text)
        if value is None:
            if not self.strict:
                value = table[1].get(text.casefold())
            if value is None:
                raise UnrecognisedDataValue(f"{path}/{name}", text)
        return value

    def enum(
        self,
        text: str | None,
        name: str,
        path: str,
        table: tuple[dict[str, _E], dict[str, _E]],
    ) -> _E | None:
        """A closed-list value, or None when empty; UnrecognisedDataValue when unknown."""
        if text is None:
            return None
        return self.code(text, table, path, name)

    def when(self, text: str | None, name: str, path: str) -> datetime | None:
        """A date-time as aware UTC, or None when empty; UnrecognisedDataValue if bad."""
        if text is None:
            return None
        try:
            return parse_datetime(text)
        except ValueError:
            raise UnrecognisedDataValue(f"{path}/{name}", text) from None

    def yes_no(self, text: str | None, name: str, path: str) -> bool | None:
        """``Y``/``N`` (or an xs:boolean spelling), or None when empty."""
        if text is None:
            return None
        folded = text.casefold()
        if folded in _YES:
            return True
        if folded in _NO:
            return False
        raise UnrecognisedDataValue(f"{path}/{name}", text)

    def integer(self, text: str | None, name: str, path: str) -> int | None:
        """An xs:integer, or None when empty."""
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise UnrecognisedDataValue(f"{path}/{name}", text) from None

    def agency(self, el: _El | None, more: _More | None, name: str, path: str) -> AgencyId | None:
        """A ``type_agencyId``; None (reported) when its type or value is empty."""
        if more is not None:
            self.repeated(more, name, path)
        if el is None:
            return None
        sub = self.leaves(el, path, _T_AGENCY, name)
        value, kind = sub.get("agencyIdValue"), sub.get("agencyIdType")
        if value is None or kind is None:
            part = "agencyIdValue" if value is None else "agencyIdType"
            self.warnings.append(f"{path}/{name}/{part} is empty")
            return None
        return AgencyId(value, kind)

    def money(self, el: _El | None, more: _More | None, name: str, path: str) -> Money | None:
        """A ``type_costs``; None when empty."""
        if more is not None:
            self.repeated(more, name, path)
        if el is None:
            return None
        sub = self.leaves(el, path, _T_COSTS, name)
        currency = sub.get("currencyCode")
        amount = sub.get("monetaryValue")
        if currency is None and amount is None:
            return None
        if currency is None or amount is None:
            missing = "currencyCode" if currency is None else "monetaryValue"
            self.missing(f"{path}/{name}/{missing}")
            return None
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise UnrecognisedDataValue(f"{path}/{name}/monetaryValue", amount) from None
        if not value.is_finite():
            raise UnrecognisedDataValue(f"{path}/{name}/monetaryValue", amount)
        return Money(value, currency)

    # -- shared structures -------------------------------------------------------------

    def header(self, el: _El | None, where: str) -> Header:
        """A message ``header`` (any version's layout) at ``where``.

        Every field that routes the message (both agencies, the request id) and the
        timestamp must be there, in lenient mode too: nothing is made up.
        """
        if el is None:
            raise BadlyFormedMessage(f"{where} is missing")
        texts, els, more = self.kids(el, where, _T_HEADER, _S_HEADER)
        self.supplying = supplying = self.agency(
            els.get("supplyingAgencyId"), more, "supplyingAgencyId", where
        )
        self.requesting = requesting = self.agency(
            els.get("requestingAgencyId"), more, "requestingAgencyId", where
        )
        self.request_id = request_id = texts.get("requestingAgencyRequestId")
        self.multiple_item_request_id = texts.get("multipleItemRequestId")
        self.timestamp = timestamp = self.when(texts.get("timestamp"), "timestamp", where)
        present = texts.keys() | els.keys()
        supplying = _needed(supplying, "supplyingAgencyId", where, present)
        requesting = _needed(requesting, "requestingAgencyId", where, present)
        request_id = _needed(request_id, "requestingAgencyRequestId", where, present)
        timestamp = _needed(timestamp, "timestamp", where, present)
        auth = None
        if more is not None:
            self.repeated(more, "requestingAgencyAuthentication", where)
        auth_el = els.get("requestingAgencyAuthentication")
        if auth_el is not None:
            sub = self.leaves(auth_el, where, _T_AUTH, "requestingAgencyAuthentication")
            account, code = sub.get("accountId"), sub.get("securityCode")
            if account is not None or code is not None:
                auth = Authentication(account, code)
        return Header(
            requesting,
            supplying,
            request_id,
            timestamp,
            texts.get("supplyingAgencyRequestId"),
            self.multiple_item_request_id,
            auth,
        )

    def address(self, el: _El, path: str) -> Address | None:
        """An ``address`` (electronic or physical) at ``path``; None when empty."""
        _, els, more = self.kids(el, path, _NONE, _S_ADDRESS)
        if more is not None:
            self.repeated(more, "electronicAddress", path)
        electronic = els.get("electronicAddress")
        if electronic is not None:
            sub = self.leaves(electronic, path, _T_ELECTRONIC, "electronicAddress")
            kind = sub.get("electronicAddressType")
            data = sub.get("electronicAddressData")
            if kind is not None or data is not None:
                return Address(kind, data)
        if more is not None:
            self.repeated(more, "physicalAddress", path)
        physical = els.get("physicalAddress")
        if physical is not None:
            return self.physical(physical, path, "physicalAddress")
        return None

    def physical(self, el: _El, path: str, name: str | None = None) -> Address | None:
        """A ``physicalAddress`` (at ``path``, or ``path/name``); None when empty."""
        text = self.leaves(el, path, _T_PHYSICAL, name).get
        line1, line2, locality = text("line1"), text("line2"), text("locality")
        postal_code, region, country = text("postalCode"), text("region"), text("country")
        if (
            line1 is None
            and line2 is None
            and locality is None
            and postal_code is None
            and region is None
            and country is None
        ):
            return None  # an empty address
        return Address(None, None, line1, line2, locality, postal_code, region, country)

    def addresses(self, els: _Els, more: _More | None, where: str) -> tuple[Address, ...]:
        """Every non-empty ``address`` child, each at ``where``."""
        first = els.get("address")
        if first is None:
            return ()
        found = [first] if more is None else more.get("address", [first])
        out = []
        for el in found:
            address = self.address(el, where)
            if address is not None:
                out.append(address)
        return tuple(out)

    def record_id(self, el: _El, path: str) -> Identifier | None:
        """A ``bibliographicRecordId`` at ``path``; None when incomplete."""
        sub = self.leaves(el, path, _T_RECORD_ID)
        code = sub.get("bibliographicRecordIdentifierCode")
        value = sub.get("bibliographicRecordIdentifier")
        if code is None or value is None:
            self.warnings.append(f"{path}: incomplete, ignored")
            return None
        return Identifier(code, value)

    # -- request -----------------------------------------------------------------------

    def request(self, el: _El) -> Request:
        """A ``request``."""
        path = _REQ
        _, els, more = self.kids(el, path, _NONE, _S_REQUEST)
        if more is not None:
            self.repeated(more, "header", path)
        header = self.header(els.get("header"), _REQ_HEADER)
        citation = self.citation(els, more)
        if more is not None:
            self.repeated(more, "serviceInfo", path)
        service_el = els.get("serviceInfo")
        if service_el is None:
            self.warnings.append(f"{path}/serviceInfo is missing; a loan is assumed")
            service = ServiceInfo()
        else:
            service = self.service(service_el, _REQ_SERVICE)
        suppliers: tuple[SupplierInfo, ...] = ()
        first = els.get("supplierInfo")
        if first is not None:
            found = [first] if more is None else more.get("supplierInfo", [first])
            suppliers = tuple([self.supplier(s) for s in found])
        delivery_addresses: tuple[Address, ...] = ()
        first = els.get("requestedDeliveryInfo")
        if first is not None:
            found = [first] if more is None else more.get("requestedDeliveryInfo", [first])
            delivery_addresses = self.delivery_addresses(found)
        texts: _Texts
        sub: _Els
        sub_more: _More | None
        agency_info = None
        if more is not None:
            self.repeated(more, "requestingAgencyInfo", path)
        info_el = els.get("requestingAgencyInfo")
        if info_el is not None:
            where = _REQ_AGENCY_INFO
            texts, sub, sub_more = self.kids(info_el, where, _T_AGENCY_INFO, _S_ADDRESSES)
            agency_info = RequestingAgencyInfo(
                texts.get("name"),
                texts.get("contactName"),
                self.addresses(sub, sub_more, _REQ_AGENCY_INFO_ADDRESS),
            )
        patron = None
        if more is not None:
            self.repeated(more, "patronInfo", path)
        patron_el = els.get("patronInfo")
        if patron_el is not None:
            where = _REQ_PATRON
            texts, sub, sub_more = self.kids(patron_el, where, _T_PATRON, _S_ADDRESSES)
            text = texts.get
            send = text("sendToPatron")
            patron = PatronInfo(
                text("patronId"),
                text("surname"),
                text("givenName"),
                text("patronType"),
                None if send is None else self.yes_no(send, "sendToPatron", where),
                self.addresses(sub, sub_more, _REQ_PATRON_ADDRESS),
            )
        billing = None
        if more is not None:
            self.repeated(more, "billingInfo", path)
        billing_el = els.get("billingInfo")
        if billing_el is not None:
            where = _REQ_BILLING
            texts, sub, sub_more = self.kids(billing_el, where, _T_BILLING, _S_BILLING)
            if sub_more is not None:
                self.repeated(sub_more, "address", where)
            billing_address = sub.get("address")
            text = texts.get
            billing = BillingInfo(
                text("paymentMethod"),
                self.money(sub.get("maximumCosts"), sub_more, "maximumCosts", where),
                text("billingMethod"),
                text("billingName"),
                None
                if billing_address is None
                else self.address(billing_address, _REQ_BILLING_ADDRESS),
            )
        return Request(
            header,
            citation,
            service,
            suppliers,
            delivery_addresses,
            agency_info,
            patron,
            billing,
        )

    def citation(self, els: _Els, more: _More | None) -> Citation:
        """A request's ``bibliographicInfo`` and ``publicationInfo`` as one citation."""
        if more is not None:
            self.repeated(more, "bibliographicInfo", _REQ)
        bib_el = els.get("bibliographicInfo")
        where = _REQ_BIB
        bib: _Texts
        bib_els: _Els
        bib_more: _More | None
        if bib_el is None:
            self.missing(where)
            bib, bib_els, bib_more = {}, {}, None
        else:
            bib, bib_els, bib_more = self.kids(bib_el, where, _T_BIB, _S_BIB)
        item_ids = []
        first = bib_els.get("bibliographicItemId")
        if first is not None:
            found = [first] if bib_more is None else bib_more.get("bibliographicItemId", [first])
            for item in found:
                sub = self.leaves(item, where, _T_ITEM_ID, "bibliographicItemId")
                code = sub.get("bibliographicItemIdentifierCode")
                value = sub.get("bibliographicItemIdentifier")
                if code is None or value is None:
                    self.warnings.append(f"{where}/bibliographicItemId: incomplete, ignored")
                else:
                    item_ids.append(Identifier(code, value))
        record_ids = []
        first = bib_els.get("bibliographicRecordId")
        if first is not None:
            found = [first] if bib_more is None else bib_more.get("bibliographicRecordId", [first])
            for record in found:
                ident = self.record_id(record, _REQ_BIB_RECORD)
                if ident is not None:
                    record_ids.append(ident)
        if bib_more is not None:
            volumes = bib_more.get("volume")
            if volumes is not None:
                self.warnings.append(f"{where}/volume: {len(volumes) - 1} repeat(s) ignored")
        if more is not None:
            self.repeated(more, "publicationInfo", _REQ)
        pub_el = els.get("publicationInfo")
        pub = {} if pub_el is None else self.leaves(pub_el, _REQ_PUB, _T_PUB)
        bib_text, pub_text = bib.get, pub.get
        return Citation(
            bib_text("title"),
            bib_text("author"),
            bib_text("subtitle"),
            bib_text("seriesTitle"),
            bib_text("edition"),
            bib_text("titleOfComponent"),
            bib_text("authorOfComponent"),
            bib_text("volume"),
            bib_text("issue"),
            bib_text("pagesRequested"),
            tuple(item_ids),
            tuple(record_ids),
            bib_text("supplierUniqueRecordId"),
            pub_text("publisher"),
            pub_text("publicationType"),
            pub_text("publicationDate"),
            pub_text("placeOfPublication"),
        )

    def service(self, el: _El, path: str) -> ServiceInfo:
        """A ``serviceInfo``."""
        texts, _, more = self.kids(el, path, _T_SERVICE, _NONE)
        text = texts.get
        found = text("serviceType")
        service_type = (
            None if found is None else self.code(found, _SERVICE_TYPE, path, "serviceType")
        )
        if service_type is None:
            self.missing(f"{path}/serviceType")
            service_type = ServiceType.LOAN
        subtypes = []
        repeats = None if more is None else more.get("requestSubType")
        if repeats is None:
            found = text("requestSubType")
            if found is not None:
                subtypes.append(self.code(found, _SUBTYPE, path, "requestSubType"))
        else:
            for sub in repeats:
                code = (sub.text or "").strip()
                if code:
                    subtypes.append(self.code(code, _SUBTYPE, path, "requestSubType"))
        found = text("requestType")
        request_type = (
            None if found is None else self.code(found, _REQUEST_TYPE, path, "requestType")
        )
        found = text("needBeforeDate")
        need_before = None if found is None else self.when(found, "needBeforeDate", path)
        found = text("anyEdition")
        any_edition = None if found is None else self.yes_no(found, "anyEdition", path)
        found = text("startDate")
        start = None if found is None else self.when(found, "startDate", path)
        found = text("endDate")
        end = None if found is None else self.when(found, "endDate", path)
        return ServiceInfo(
            service_type,
            request_type,
            tuple(subtypes),
            text("requestingAgencyPreviousRequestId"),
            text("serviceLevel"),
            text("preferredFormat") or text("itemFormat"),
            need_before,
            text("copyrightCompliance"),
            any_edition,
            start,
            end,
            text("note"),
        )

    def supplier(self, el: _El) -> SupplierInfo:
        """A request's ``supplierInfo``."""
        path = _REQ_SUPPLIER
        texts, els, more = self.kids(el, path, _T_SUPPLIER, _S_SUPPLIER)
        if more is not None:
            self.repeated(more, "bibliographicRecordId", path)
        record_el = els.get("bibliographicRecordId")
        text = texts.get
        order = text("sortOrder")
        return SupplierInfo(
            None if order is None else self.integer(order, "sortOrder", path),
            self.agency(els.get("supplierCode"), more, "supplierCode", path),
            text("supplierDescription"),
            text("callNumber"),
            text("summaryHoldings"),
            text("availabilityNote"),
            None if record_el is None else self.record_id(record_el, _REQ_SUPPLIER_RECORD),
        )

    def delivery_addresses(self, found: list[_El]) -> tuple[Address, ...]:
        """A request's ``requestedDeliveryInfo`` addresses, by their sortOrder."""
        where = _REQ_DELIVERY
        deliveries: list[tuple[int, int, Address]] = []
        for index, el in enumerate(found):
            texts, sub, more = self.kids(el, where, _T_REQ_DELIVERY, _S_ADDRESSES)
            if more is not None:
                self.repeated(more, "address", where)
            address_el = sub.get("address")
            address = (
                None if address_el is None else self.address(address_el, _REQ_DELIVERY_ADDRESS)
            )
            if address is not None:
                order = self.integer(texts.get("sortOrder"), "sortOrder", where)
                deliveries.append((order if order is not None else index, index, address))
        if len(deliveries) > 1:
            deliveries.sort(key=lambda entry: (entry[0], entry[1]))
        return tuple([entry[2] for entry in deliveries])

    # -- supplying agency message ------------------------------------------------------

    def supplying_message(self, el: _El) -> SupplyingAgencyMessage:
        """A ``supplyingAgencyMessage``."""
        path = _SAM
        _, els, more = self.kids(el, path, _NONE, _S_SAM)
        if more is not None:
            self.repeated(more, "header", path)
        header = self.header(els.get("header"), _SAM_HEADER)
        if more is not None:
            self.repeated(more, "messageInfo", path)
        info_el = els.get("messageInfo")
        where = _SAM_INFO
        info: _Texts
        info_els: _Els
        info_more: _More | None
        if info_el is None:
            info, info_els, info_more = {}, {}, None
        else:
            info, info_els, info_more = self.kids(info_el, where, _T_MESSAGE_INFO, _S_COSTS)
        reason_text = info.get("reasonForMessage")
        if reason_text is None:
            raise BadlyFormedMessage(f"{where}/reasonForMessage is missing")
        try:
            reason = self.code(reason_text, _REASON, where, "reasonForMessage")
        except UnrecognisedDataValue:
            raise UnsupportedReasonForMessageType(reason_text) from None
        self.reason = reason
        if more is not None:
            self.repeated(more, "retryInfo", path)
        retry_el = els.get("retryInfo")
        where_retry = _SAM_RETRY
        retry: _Texts
        retry_els: _Els
        retry_more: _More | None
        if retry_el is None:
            retry, retry_els, retry_more = {}, {}, None
        else:
            retry, retry_els, retry_more = self.kids(retry_el, where_retry, _T_RETRY, _S_COSTS)
        if more is not None:
            self.repeated(more, "statusInfo", path)
        status_el = els.get("statusInfo")
        where_status = _SAM_STATUS
        status_texts: _Texts
        if status_el is None:
            self.missing(where_status)
            status_texts = {}
        else:
            status_texts = self.leaves(status_el, where_status, _T_STATUS)
        found = status_texts.get("status")
        status = None if found is None else self.code(found, _STATUS, where_status, "status")
        if status is None and reason is not ReasonForMessage.NOTIFICATION:
            if self.strict:
                raise UnrecognisedDataValue(f"{where_status}/status", "")
            self.warnings.append(f"{where_status}/status is empty")
        last_change = self.when(status_texts.get("lastChange"), "lastChange", where_status)
        if last_change is None and status_el is not None:
            self.warnings.append(f"{where_status}/lastChange is empty")
        # Each in messageInfo (v1.2), else in retryInfo (2021), in this order.
        offered = self.money(info_els.get("offeredCosts"), info_more, "offeredCosts", where)
        has_retry = bool(retry or retry_els)
        if offered is None and has_retry:
            offered = self.money(
                retry_els.get("offeredCosts"), retry_more, "offeredCosts", where_retry
            )
        retry_after = self.when(info.get("retryAfter"), "retryAfter", where)
        if retry_after is None and has_retry:
            retry_after = self.when(retry.get("retryAfter"), "retryAfter", where_retry)
        retry_before = self.when(info.get("retryBefore"), "retryBefore", where)
        if retry_before is None and has_retry:
            retry_before = self.when(retry.get("retryBefore"), "retryBefore", where_retry)
        if more is not None:
            self.repeated(more, "deliveryInfo", path)
        delivery_el = els.get("deliveryInfo")
        delivery = None if delivery_el is None else self.delivery(delivery_el, header.timestamp)
        if more is not None:
            self.repeated(more, "returnInfo", path)
        return_el = els.get("returnInfo")
        return_info = None if return_el is None else self.return_info(return_el)
        return SupplyingAgencyMessage(
            header,
            reason,
            status,
            last_change,
            self.yes_no(info.get("answerYesNo"), "answerYesNo", where),
            info.get("note"),
            info.get("reasonUnfilled"),
            info.get("reasonRetry"),
            offered,
            retry_after,
            retry_before,
            self.when(
                status_texts.get("expectedDeliveryDate"), "expectedDeliveryDate", where_status
            ),
            self.when(status_texts.get("dueDate"), "dueDate", where_status),
            delivery,
            return_info,
        )

    def delivery(self, el: _El, fallback: datetime) -> DeliveryInfo | None:
        """A supplying agency message's ``deliveryInfo``; None when every element is empty."""
        path = _SAM_DELIVERY
        texts, els, more = self.kids(el, path, _T_DELIVERY, _S_DELIVERY)
        text = texts.get
        if more is not None:
            item_ids = more.get("itemId")
            if item_ids is not None:
                self.warnings.append(f"{path}/itemId: {len(item_ids) - 1} repeat(s) ignored")
            conditions = more.get("loanCondition")
            if conditions is not None:
                self.warnings.append(
                    f"{path}/loanCondition: {len(conditions) - 1} repeat(s) ignored"
                )
        date_sent = self.when(text("dateSent"), "dateSent", path)
        sent_to_patron = text("sentToPatron")
        info = DeliveryInfo(
            fallback if date_sent is None else date_sent,
            text("itemId"),
            text("sentVia") or text("deliveryMethod"),
            None if sent_to_patron is None else self.yes_no(sent_to_patron, "sentToPatron", path),
            text("loanCondition"),
            text("deliveredFormat") or text("itemFormat"),
            self.money(els.get("deliveryCosts"), more, "deliveryCosts", path),
        )
        if date_sent is not None:
            return info
        if attrs.evolve(info, date_sent=_EPOCH) == _EMPTY_DELIVERY:
            return None
        self.missing(f"{path}/dateSent")
        return info

    def return_info(self, el: _El) -> ReturnInfo | None:
        """A supplying agency message's ``returnInfo``; None when every element is empty."""
        where = _SAM_RETURN
        texts, els, more = self.kids(el, where, _T_RETURN, _S_RETURN)
        if more is not None:
            self.repeated(more, "physicalAddress", where)
        physical = els.get("physicalAddress")
        return_agency = self.agency(els.get("returnAgencyId"), more, "returnAgencyId", where)
        name = texts.get("name")
        address = None if physical is None else self.physical(physical, where, "physicalAddress")
        if return_agency is not None or name is not None or address is not None:
            return ReturnInfo(return_agency, name, address)
        return None

    # -- requesting agency message -----------------------------------------------------

    def requesting_message(self, el: _El) -> RequestingAgencyMessage:
        """A ``requestingAgencyMessage`` (also the v1.0 ``activeSection`` layout)."""
        path = _RAM
        texts, els, more = self.kids(el, path, _T_RAM, _S_RAM)
        if more is not None:
            self.repeated(more, "header", path)
        header = self.header(els.get("header"), _RAM_HEADER)
        if more is not None:
            self.repeated(more, "activeSection", path)
        active = els.get("activeSection")
        if active is not None and "action" not in texts:
            texts = self.leaves(active, path, _T_RAM, "activeSection")
        action_text = texts.get("action")
        if action_text is None:
            if "action" in texts:
                raise UnsupportedActionType("")
            raise BadlyFormedMessage(f"{path}/action is missing")
        try:
            action = self.code(action_text, _ACTION, path, "action")
        except UnrecognisedDataValue:
            raise UnsupportedActionType(action_text) from None
        self.action = action
        return RequestingAgencyMessage(header, action, texts.get("note"))

    # -- confirmations -----------------------------------------------------------------

    def confirmation(self, el: _El, path: str, kind: MessageKind) -> Confirmation:
        """Any of the three confirmations."""
        texts, els, more = self.kids(el, path, _T_CONF, _S_CONF)
        if more is not None:
            self.repeated(more, "confirmationHeader", path)
        header_el = els.get("confirmationHeader")
        where = f"{path}/confirmationHeader"
        head: _Texts
        head_els: _Els
        head_more: _More | None
        if header_el is None:
            self.missing(where)
            head, head_els, head_more = {}, {}, None
        else:
            head, head_els, head_more = self.kids(header_el, where, _T_CONF_HEADER, _S_CONF_HEADER)
        self.supplying = self.agency(
            head_els.get("supplyingAgencyId"), head_more, "supplyingAgencyId", where
        )
        self.requesting = self.agency(
            head_els.get("requestingAgencyId"), head_more, "requestingAgencyId", where
        )
        self.request_id = head.get("requestingAgencyRequestId")
        self.multiple_item_request_id = head.get("multipleItemRequestId")
        timestamp = self.when(head.get("timestamp"), "timestamp", where)
        if timestamp is None:
            raise BadlyFormedMessage(f"{where}/timestamp is missing")
        received = self.when(head.get("timestampReceived"), "timestampReceived", where)
        if received is None:
            self.missing(f"{where}/timestampReceived")
            received = timestamp
        status = self.enum(head.get("messageStatus"), "messageStatus", where, _MESSAGE_STATUS)
        if status is None:
            raise BadlyFormedMessage(f"{where}/messageStatus is missing")
        first = els.get("errorData")
        errors = (
            [] if first is None else [first] if more is None else more.get("errorData", [first])
        )
        if len(errors) > 1:
            self.warnings.append(f"{path}/errorData: {len(errors) - 1} more ignored")
        error = None
        if errors:
            sub = self.leaves(errors[0], path, _T_ERROR, "errorData")
            type_text = sub.get("errorType")
            if type_text is None:
                self.missing(f"{path}/errorData/errorType")
            else:
                error_type = _ERROR_TYPE_EXACT.get(type_text) or _ERROR_TYPE_FOLDED.get(
                    type_text.casefold()
                )
                if error_type is None:
                    raise UnrecognisedDataValue(f"{path}/errorData/errorType", type_text)
                error = ErrorData(error_type, sub.get("errorValue"))
        return Confirmation(
            kind,
            status,
            timestamp,
            received,
            self.supplying,
            self.requesting,
            self.request_id,
            self.multiple_item_request_id,
            error,
            self.enum(texts.get("reasonForMessage"), "reasonForMessage", path, _REASON),
            self.enum(texts.get("action"), "action", path, _ACTION),
        )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EMPTY_DELIVERY = DeliveryInfo(date_sent=_EPOCH)


def decode(
    data: bytes | str,
    *,
    strict: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Decoded:
    """Decode one ISO 18626 message (any version, with or without the envelope).

    Raises a :class:`DecodeError` subclass carrying the ISO error type and value, the message
    kind and the header fields that could be read.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root = parse_xml(raw, max_bytes=max_bytes, max_depth=max_depth)
    reader = _Reader(strict=strict)
    kind: MessageKind | None = None
    element: str | None = None
    try:
        tag = root.tag
        name = tag[tag.find("}") + 1 :]
        if strict and not tag.startswith(_NS):
            raise BadlyFormedMessage(f"{name}: not in the ISO 18626 namespace")
        version = None
        message_el = root
        if name == "ISO18626Message":
            for attr, value in root.items():
                key = str(attr)
                if key[key.find("}") + 1 :] == "version":
                    version = str(value)
            envelope = reader.kids(root, name, _NONE, _S_ENVELOPE)[1]
            messages = [(n, el) for n, el in envelope.items() if n in _MESSAGE_KINDS]
            if len(messages) != 1:
                raise BadlyFormedMessage(
                    "the envelope holds no message"
                    if not messages
                    else "the envelope holds more than one message"
                )
            name, message_el = messages[0]
        kind = _MESSAGE_KINDS.get(name)
        if kind is None:
            raise BadlyFormedMessage(f"{name} is not an ISO 18626 message")
        element = name
        message: DecodedMessage
        if name == "request":
            message = reader.request(message_el)
        elif name == "supplyingAgencyMessage":
            message = reader.supplying_message(message_el)
        elif name == "requestingAgencyMessage":
            message = reader.requesting_message(message_el)
        else:
            message = reader.confirmation(message_el, name, kind)
    except DecodeError as exc:
        exc.kind = kind
        exc.element = element
        exc.header = reader.echo()
        raise
    return Decoded(message, name, version, tuple(reader.unknown), tuple(reader.warnings))
