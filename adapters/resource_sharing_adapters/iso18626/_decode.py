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
    "UNKNOWN_AGENCY",
    "Decoded",
    "DecodedMessage",
    "decode",
    "parse_datetime",
]

ISO_NAMESPACE = "http://illtransactions.org/2013/iso18626"
"""The one namespace of every ISO 18626 schema version (2013 to 2021-2)."""
_NS = "{" + ISO_NAMESPACE + "}"

UNKNOWN_AGENCY = AgencyId("unknown", "UNKNOWN")
"""Stands in, in lenient mode, for a mandatory agency id the peer left out or empty."""

DecodedMessage = Request | SupplyingAgencyMessage | RequestingAgencyMessage | Confirmation
"""Anything :func:`decode` returns: one of the three messages, or a confirmation."""

_El = etree._Element
_Kids = dict[str, list[_El]]
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

_Known = dict[str, str]


def _known(names: frozenset[str] | set[str]) -> _Known:
    """Known local names, keyed by their qualified tag in the ISO namespace (the fast path)."""
    return {_NS + name: name for name in sorted(names)}


# Known element names per structure: those read, plus those the schema knows (in any
# version) that the records do not carry, which are skipped without a report.
_K_HEADER = _known(
    {
        "supplyingAgencyId",
        "requestingAgencyId",
        "multipleItemRequestId",
        "timestamp",
        "requestingAgencyRequestId",
        "supplyingAgencyRequestId",
        "requestingAgencyAuthentication",
        "consortialId",
    }
)
_K_AGENCY = _known({"agencyIdType", "agencyIdValue"})
_K_AUTH = _known({"accountId", "securityCode"})
_K_REQUEST = _known(
    {
        "header",
        "bibliographicInfo",
        "publicationInfo",
        "serviceInfo",
        "supplierInfo",
        "requestedDeliveryInfo",
        "requestingAgencyInfo",
        "patronInfo",
        "billingInfo",
    }
)
_K_BIB = _known(
    {
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
        "bibliographicItemId",
        "sponsor",
        "informationSource",
        "bibliographicRecordId",
    }
)
_K_ITEM_ID = _known({"bibliographicItemIdentifier", "bibliographicItemIdentifierCode"})
_K_RECORD_ID = _known({"bibliographicRecordIdentifier", "bibliographicRecordIdentifierCode"})
_K_PUB = _known(
    {"publisher", "publisherId", "publicationType", "publicationDate", "placeOfPublication"}
)
_K_SERVICE = _known(
    {
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
    }
)
_K_SUPPLIER = _known(
    {
        "sortOrder",
        "supplierCode",
        "supplierDescription",
        "bibliographicRecordId",
        "callNumber",
        "summaryHoldings",
        "availabilityNote",
    }
)
_K_REQ_DELIVERY = _known({"sortOrder", "address", "deliveryMethod", "courierName"})
_K_AGENCY_INFO = _known({"name", "contactName", "address"})
_K_PATRON = _known({"patronId", "surname", "givenName", "patronType", "sendToPatron", "address"})
_K_BILLING = _known({"paymentMethod", "maximumCosts", "billingMethod", "billingName", "address"})
_K_ADDRESS = _known({"electronicAddress", "physicalAddress"})
_K_ELECTRONIC = _known({"electronicAddressType", "electronicAddressData"})
_K_PHYSICAL = _known({"line1", "line2", "locality", "postalCode", "region", "country"})
_K_COSTS = _known({"currencyCode", "monetaryValue"})
_K_SAM = _known(
    {
        "header",
        "messageInfo",
        "statusInfo",
        "retryInfo",
        "deliveryInfo",
        "shippingInfo",
        "returnInfo",
    }
)
_K_MESSAGE_INFO = _known(
    {
        "reasonForMessage",
        "answerYesNo",
        "note",
        "reasonUnfilled",
        "reasonRetry",
        "offeredCosts",
        "retryAfter",
        "retryBefore",
    }
)
_K_RETRY = _known(
    {
        "loanCondition",
        "edition",
        "itemFormat",
        "volume",
        "serviceType",
        "serviceLevel",
        "deliveryMethod",
        "courierName",
        "offeredCosts",
        "paymentMethod",
        "retryBefore",
        "retryAfter",
    }
)
_K_STATUS = _known({"status", "expectedDeliveryDate", "dueDate", "lastChange"})
_K_DELIVERY = _known(
    {
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
        "deliveryCosts",
        "paymentMethod",
    }
)
_K_RETURN = _known({"returnAgencyId", "name", "physicalAddress"})
_K_RAM = _known({"header", "action", "note", "activeSection"})
_K_ACTIVE = _known({"action", "note"})
_K_CONF_HEADER = _known(
    {
        "supplyingAgencyId",
        "requestingAgencyId",
        "timestamp",
        "requestingAgencyRequestId",
        "multipleItemRequestId",
        "timestampReceived",
        "messageStatus",
    }
)
_K_CONF = _known({"confirmationHeader", "reasonForMessage", "action", "errorData"})
_K_ERROR = _known({"errorType", "errorValue"})
_K_ENVELOPE = _known(set(_MESSAGE_KINDS))

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


_Texts = dict[str, str]


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


class _Reader:
    """One decoding pass: the options, and what was tolerated so far."""

    __slots__ = (
        "action",
        "multiple_item_request_id",
        "reason",
        "received_at",
        "request_id",
        "requesting",
        "strict",
        "supplying",
        "timestamp",
        "unknown",
        "warnings",
    )

    def __init__(self, *, strict: bool, received_at: datetime) -> None:
        self.strict = strict
        self.received_at = received_at
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

    def kids(self, el: _El, path: str, known: _Known) -> tuple[_Kids, _Texts]:
        """The children of ``el`` by local name, and each name's first stripped text.

        A text is there only where it is not empty (empty counts as absent); it is read
        in the same pass, so that a leaf's element proxy is made once. Unknown children
        are reported (or refused).
        """
        els: _Kids = {}
        texts: _Texts = {}
        # el[:] is a list built in C, faster than iterating el (the stubs lack slicing).
        for child in el[:]:  # type: ignore[index]
            tag = child.tag
            # Known elements in the ISO namespace: one lookup. Anything else: odd().
            name = known.get(tag)
            if name is None:
                name = self.odd(tag, path, known)
            found = els.get(name)
            if found is None:
                els[name] = [child]
                text = child.text
                if text is not None:
                    text = text.strip()
                    if text:
                        texts[name] = text
            else:
                found.append(child)
        return els, texts

    def leaves(self, el: _El, path: str, known: _Known) -> dict[str, str | None]:
        """A structure of text elements: each name's first stripped text, None if empty.

        Unknown children are reported (or refused) as by :meth:`kids`.
        """
        out: dict[str, str | None] = {}
        # el[:] is a list built in C, faster than iterating el (the stubs lack slicing).
        for child in el[:]:  # type: ignore[index]
            tag = child.tag
            name = known.get(tag)
            if name is None:
                name = self.odd(tag, path, known)
            if name not in out:
                text = child.text
                out[name] = None if text is None else (text.strip() or None)
        return out

    def odd(self, tag: str, path: str, known: _Known) -> str:
        """The local name of a child in another namespace or unknown (reported or refused)."""
        name = tag[tag.find("}") + 1 :]
        strict = self.strict
        if strict and not tag.startswith(_NS):
            raise BadlyFormedMessage(f"{path}/{name}: not in the ISO 18626 namespace")
        if _NS + name not in known:
            if strict:
                raise UnrecognisedDataElement(f"{path}/{name}")
            self.unknown.append(f"{path}/{name}")
        return name

    def missing(self, what: str) -> None:
        """A mandatory element is absent: refused in strict mode, reported otherwise."""
        if self.strict:
            raise BadlyFormedMessage(f"{what} is missing")
        self.warnings.append(f"{what} is missing")

    def single(self, kids: _Kids, name: str, path: str) -> _El | None:
        """The one child called ``name`` (extra repeats are dropped and reported)."""
        found = kids.get(name)
        if found is None:
            return None
        if len(found) > 1:
            self.warnings.append(f"{path}/{name}: {len(found) - 1} repeat(s) ignored")
        return found[0]

    # -- values (each takes the element's text, None when absent or empty) -------------

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
        return self.code(text, f"{path}/{name}", table)

    def code(self, text: str, where: str, table: tuple[dict[str, _E], dict[str, _E]]) -> _E:
        """Look ``text`` up in a closed list (exact, then case-insensitive)."""
        value = table[0].get(text)
        if value is None and not self.strict:
            value = table[1].get(text.casefold())
        if value is None:
            raise UnrecognisedDataValue(where, text)
        return value

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

    def agency(self, kids: _Kids, name: str, path: str) -> AgencyId | None:
        """A ``type_agencyId``; an empty type is taken as ISIL, an empty value as absent."""
        el = self.single(kids, name, path)
        if el is None:
            return None
        where = f"{path}/{name}"
        sub = self.leaves(el, where, _K_AGENCY)
        value = sub.get("agencyIdValue")
        if value is None:
            self.warnings.append(f"{where}/agencyIdValue is empty")
            return None
        kind = sub.get("agencyIdType")
        if kind is None:
            self.warnings.append(f"{where}/agencyIdType is empty; taken as ISIL")
            kind = "ISIL"
        return AgencyId(value, kind)

    def money(self, kids: _Kids, name: str, path: str) -> Money | None:
        """A ``type_costs``; None when empty."""
        el = self.single(kids, name, path)
        if el is None:
            return None
        where = f"{path}/{name}"
        sub = self.leaves(el, where, _K_COSTS)
        currency = sub.get("currencyCode")
        amount = sub.get("monetaryValue")
        if currency is None and amount is None:
            return None
        if currency is None or amount is None:
            self.missing(f"{where}/{'currencyCode' if currency is None else 'monetaryValue'}")
            return None
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise UnrecognisedDataValue(f"{where}/monetaryValue", amount) from None
        if not value.is_finite():
            raise UnrecognisedDataValue(f"{where}/monetaryValue", amount)
        return Money(value, currency)

    # -- shared structures -------------------------------------------------------------

    def header(self, el: _El | None, path: str) -> Header:
        """A message ``header`` (any version's layout)."""
        where = f"{path}/header"
        kids: _Kids
        texts: _Texts
        if el is None:
            self.missing(where)
            kids, texts = {}, {}
        else:
            kids, texts = self.kids(el, where, _K_HEADER)
        self.supplying = self.agency(kids, "supplyingAgencyId", where)
        self.requesting = self.agency(kids, "requestingAgencyId", where)
        self.request_id = texts.get("requestingAgencyRequestId")
        self.multiple_item_request_id = texts.get("multipleItemRequestId")
        try:
            self.timestamp = self.when(texts.get("timestamp"), "timestamp", where)
        except UnrecognisedDataValue as exc:
            # The header timestamp only says when the peer wrote the message; a broken
            # one (templates leave "timestamp_holder") must not lose the message.
            if self.strict:
                raise
            self.warnings.append(f"{exc.error_value} is unreadable; the receive time is used")
        supplying, requesting = self.supplying, self.requesting
        if supplying is None:
            self.missing(f"{where}/supplyingAgencyId")
            supplying = UNKNOWN_AGENCY
        if requesting is None:
            self.missing(f"{where}/requestingAgencyId")
            requesting = UNKNOWN_AGENCY
        request_id = self.request_id
        if request_id is None:
            self.missing(f"{where}/requestingAgencyRequestId")
            request_id = ""
        timestamp = self.timestamp
        if timestamp is None:
            self.missing(f"{where}/timestamp")
            timestamp = self.received_at
        auth = None
        auth_el = self.single(kids, "requestingAgencyAuthentication", where)
        if auth_el is not None:
            sub = self.leaves(auth_el, f"{where}/requestingAgencyAuthentication", _K_AUTH)
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
        """An ``address`` (electronic or physical); None when empty."""
        kids = self.kids(el, path, _K_ADDRESS)[0]
        electronic = self.single(kids, "electronicAddress", path)
        if electronic is not None:
            sub = self.leaves(electronic, f"{path}/electronicAddress", _K_ELECTRONIC)
            kind = sub.get("electronicAddressType")
            data = sub.get("electronicAddressData")
            if kind is not None or data is not None:
                return Address(kind, data)
        physical = self.single(kids, "physicalAddress", path)
        if physical is not None:
            return self.physical(physical, f"{path}/physicalAddress")
        return None

    def physical(self, el: _El, path: str) -> Address | None:
        """A ``physicalAddress``; None when empty."""
        text = self.leaves(el, path, _K_PHYSICAL).get
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

    def addresses(self, kids: _Kids, path: str) -> tuple[Address, ...]:
        """Every non-empty ``address`` child."""
        found = kids.get("address")
        if found is None:
            return ()
        where = f"{path}/address"
        out = []
        for el in found:
            address = self.address(el, where)
            if address is not None:
                out.append(address)
        return tuple(out)

    def record_id(self, el: _El, path: str) -> Identifier | None:
        """A ``bibliographicRecordId``; None when incomplete."""
        sub = self.leaves(el, path, _K_RECORD_ID)
        code = sub.get("bibliographicRecordIdentifierCode")
        value = sub.get("bibliographicRecordIdentifier")
        if code is None or value is None:
            self.warnings.append(f"{path}: incomplete, ignored")
            return None
        return Identifier(code, value)

    # -- request -----------------------------------------------------------------------

    def request(self, el: _El, path: str) -> Request:
        """A ``request``."""
        kids = self.kids(el, path, _K_REQUEST)[0]
        header = self.header(self.single(kids, "header", path), path)
        citation = self.citation(kids, path)
        service_el = self.single(kids, "serviceInfo", path)
        if service_el is None:
            self.warnings.append(f"{path}/serviceInfo is missing; a loan is assumed")
            service = ServiceInfo()
        else:
            service = self.service(service_el, f"{path}/serviceInfo")
        found = kids.get("supplierInfo")
        suppliers: tuple[SupplierInfo, ...] = ()
        if found is not None:
            where = f"{path}/supplierInfo"
            suppliers = tuple([self.supplier(s, where) for s in found])
        delivery_addresses: tuple[Address, ...] = ()
        found = kids.get("requestedDeliveryInfo")
        if found is not None:
            where = f"{path}/requestedDeliveryInfo"
            deliveries: list[tuple[int, int, Address]] = []
            for index, d in enumerate(found):
                sub, texts = self.kids(d, where, _K_REQ_DELIVERY)
                address_el = self.single(sub, "address", where)
                address = (
                    None if address_el is None else self.address(address_el, f"{where}/address")
                )
                if address is not None:
                    order = self.integer(texts.get("sortOrder"), "sortOrder", where)
                    deliveries.append((order if order is not None else index, index, address))
            if len(deliveries) > 1:
                deliveries.sort(key=lambda entry: (entry[0], entry[1]))
            delivery_addresses = tuple([entry[2] for entry in deliveries])
        agency_info = None
        info_el = self.single(kids, "requestingAgencyInfo", path)
        if info_el is not None:
            where = f"{path}/requestingAgencyInfo"
            sub, texts = self.kids(info_el, where, _K_AGENCY_INFO)
            agency_info = RequestingAgencyInfo(
                texts.get("name"), texts.get("contactName"), self.addresses(sub, where)
            )
        patron = None
        patron_el = self.single(kids, "patronInfo", path)
        if patron_el is not None:
            where = f"{path}/patronInfo"
            sub, texts = self.kids(patron_el, where, _K_PATRON)
            text = texts.get
            patron = PatronInfo(
                text("patronId"),
                text("surname"),
                text("givenName"),
                text("patronType"),
                self.yes_no(text("sendToPatron"), "sendToPatron", where),
                self.addresses(sub, where),
            )
        billing = None
        billing_el = self.single(kids, "billingInfo", path)
        if billing_el is not None:
            where = f"{path}/billingInfo"
            sub, texts = self.kids(billing_el, where, _K_BILLING)
            billing_address = self.single(sub, "address", where)
            text = texts.get
            billing = BillingInfo(
                text("paymentMethod"),
                self.money(sub, "maximumCosts", where),
                text("billingMethod"),
                text("billingName"),
                None
                if billing_address is None
                else self.address(billing_address, f"{where}/address"),
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

    def citation(self, kids: _Kids, path: str) -> Citation:
        """``bibliographicInfo`` and ``publicationInfo`` as one citation."""
        bib_el = self.single(kids, "bibliographicInfo", path)
        where = f"{path}/bibliographicInfo"
        bib: _Kids
        bib_texts: _Texts
        if bib_el is None:
            self.missing(where)
            bib, bib_texts = {}, {}
        else:
            bib, bib_texts = self.kids(bib_el, where, _K_BIB)
        item_ids = []
        found = bib.get("bibliographicItemId")
        if found is not None:
            where_item = f"{where}/bibliographicItemId"
            for item in found:
                sub = self.leaves(item, where_item, _K_ITEM_ID)
                code = sub.get("bibliographicItemIdentifierCode")
                value = sub.get("bibliographicItemIdentifier")
                if code is None or value is None:
                    self.warnings.append(f"{where}/bibliographicItemId: incomplete, ignored")
                else:
                    item_ids.append(Identifier(code, value))
        record_ids = []
        found = bib.get("bibliographicRecordId")
        if found is not None:
            where_record = f"{where}/bibliographicRecordId"
            for record in found:
                ident = self.record_id(record, where_record)
                if ident is not None:
                    record_ids.append(ident)
        volumes = bib.get("volume")
        if volumes is not None and len(volumes) > 1:
            self.warnings.append(f"{where}/volume: {len(volumes) - 1} repeat(s) ignored")
        pub_el = self.single(kids, "publicationInfo", path)
        pub_texts = (
            {} if pub_el is None else self.kids(pub_el, f"{path}/publicationInfo", _K_PUB)[1]
        )
        bib_text, pub_text = bib_texts.get, pub_texts.get
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
        kids, texts = self.kids(el, path, _K_SERVICE)
        text = texts.get
        service_type = self.enum(text("serviceType"), "serviceType", path, _SERVICE_TYPE)
        if service_type is None:
            self.missing(f"{path}/serviceType")
            service_type = ServiceType.LOAN
        subtypes = []
        found = kids.get("requestSubType")
        if found is not None:
            for sub in found:
                code = (sub.text or "").strip()
                if code:
                    subtypes.append(self.code(code, f"{path}/requestSubType", _SUBTYPE))
        return ServiceInfo(
            service_type,
            self.enum(text("requestType"), "requestType", path, _REQUEST_TYPE),
            tuple(subtypes),
            text("requestingAgencyPreviousRequestId"),
            text("serviceLevel"),
            text("preferredFormat") or text("itemFormat"),
            self.when(text("needBeforeDate"), "needBeforeDate", path),
            text("copyrightCompliance"),
            self.yes_no(text("anyEdition"), "anyEdition", path),
            self.when(text("startDate"), "startDate", path),
            self.when(text("endDate"), "endDate", path),
            text("note"),
        )

    def supplier(self, el: _El, path: str) -> SupplierInfo:
        """A ``supplierInfo``."""
        kids, texts = self.kids(el, path, _K_SUPPLIER)
        record_el = self.single(kids, "bibliographicRecordId", path)
        text = texts.get
        return SupplierInfo(
            self.integer(text("sortOrder"), "sortOrder", path),
            self.agency(kids, "supplierCode", path),
            text("supplierDescription"),
            text("callNumber"),
            text("summaryHoldings"),
            text("availabilityNote"),
            None
            if record_el is None
            else self.record_id(record_el, f"{path}/bibliographicRecordId"),
        )

    # -- supplying agency message ------------------------------------------------------

    def supplying_message(self, el: _El, path: str) -> SupplyingAgencyMessage:
        """A ``supplyingAgencyMessage``."""
        kids = self.kids(el, path, _K_SAM)[0]
        header = self.header(self.single(kids, "header", path), path)
        info_el = self.single(kids, "messageInfo", path)
        where = f"{path}/messageInfo"
        info: _Kids
        info_texts: _Texts
        if info_el is None:
            info, info_texts = {}, {}
        else:
            info, info_texts = self.kids(info_el, where, _K_MESSAGE_INFO)
        reason_text = info_texts.get("reasonForMessage")
        if reason_text is None:
            raise BadlyFormedMessage(f"{where}/reasonForMessage is missing")
        try:
            reason = self.code(reason_text, f"{where}/reasonForMessage", _REASON)
        except UnrecognisedDataValue:
            raise UnsupportedReasonForMessageType(reason_text) from None
        self.reason = reason
        retry_el = self.single(kids, "retryInfo", path)
        where_retry = f"{path}/retryInfo"
        retry: _Kids
        retry_texts: _Texts
        if retry_el is None:
            retry, retry_texts = {}, {}
        else:
            retry, retry_texts = self.kids(retry_el, where_retry, _K_RETRY)
        status_el = self.single(kids, "statusInfo", path)
        where_status = f"{path}/statusInfo"
        status_texts: _Texts
        if status_el is None:
            self.missing(where_status)
            status_texts = {}
        else:
            status_texts = self.kids(status_el, where_status, _K_STATUS)[1]
        status = self.enum(status_texts.get("status"), "status", where_status, _STATUS)
        if status is None and reason is not ReasonForMessage.NOTIFICATION:
            if self.strict:
                raise UnrecognisedDataValue(f"{where_status}/status", "")
            self.warnings.append(f"{where_status}/status is empty")
        last_change = self.when(status_texts.get("lastChange"), "lastChange", where_status)
        if last_change is None and status_el is not None:
            self.warnings.append(f"{where_status}/lastChange is empty")
        # Each in messageInfo (v1.2), else in retryInfo (2021), in this order.
        offered = self.money(info, "offeredCosts", where)
        if offered is None and retry:
            offered = self.money(retry, "offeredCosts", where_retry)
        retry_after = self.when(info_texts.get("retryAfter"), "retryAfter", where)
        if retry_after is None and retry:
            retry_after = self.when(retry_texts.get("retryAfter"), "retryAfter", where_retry)
        retry_before = self.when(info_texts.get("retryBefore"), "retryBefore", where)
        if retry_before is None and retry:
            retry_before = self.when(retry_texts.get("retryBefore"), "retryBefore", where_retry)
        delivery_el = self.single(kids, "deliveryInfo", path)
        delivery = (
            None
            if delivery_el is None
            else self.delivery(delivery_el, f"{path}/deliveryInfo", header.timestamp)
        )
        return_el = self.single(kids, "returnInfo", path)
        return_info = None
        if return_el is not None:
            where_return = f"{path}/returnInfo"
            sub, sub_texts = self.kids(return_el, where_return, _K_RETURN)
            physical = self.single(sub, "physicalAddress", where_return)
            return_agency = self.agency(sub, "returnAgencyId", where_return)
            name = sub_texts.get("name")
            address = (
                None
                if physical is None
                else self.physical(physical, f"{where_return}/physicalAddress")
            )
            if return_agency is not None or name is not None or address is not None:
                return_info = ReturnInfo(return_agency, name, address)
        return SupplyingAgencyMessage(
            header,
            reason,
            status,
            last_change,
            self.yes_no(info_texts.get("answerYesNo"), "answerYesNo", where),
            info_texts.get("note"),
            info_texts.get("reasonUnfilled"),
            info_texts.get("reasonRetry"),
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

    def delivery(self, el: _El, path: str, fallback: datetime) -> DeliveryInfo | None:
        """A ``deliveryInfo``; None when every element in it is empty."""
        kids, texts = self.kids(el, path, _K_DELIVERY)
        text = texts.get
        item_ids = kids.get("itemId")
        if item_ids is not None and len(item_ids) > 1:
            self.warnings.append(f"{path}/itemId: {len(item_ids) - 1} repeat(s) ignored")
        conditions = kids.get("loanCondition")
        if conditions is not None and len(conditions) > 1:
            self.warnings.append(f"{path}/loanCondition: {len(conditions) - 1} repeat(s) ignored")
        date_sent = self.when(text("dateSent"), "dateSent", path)
        info = DeliveryInfo(
            fallback if date_sent is None else date_sent,
            text("itemId"),
            text("sentVia") or text("deliveryMethod"),
            self.yes_no(text("sentToPatron"), "sentToPatron", path),
            text("loanCondition"),
            text("deliveredFormat") or text("itemFormat"),
            self.money(kids, "deliveryCosts", path),
        )
        if date_sent is not None:
            return info
        if attrs.evolve(info, date_sent=_EPOCH) == _EMPTY_DELIVERY:
            return None
        self.missing(f"{path}/dateSent")
        return info

    # -- requesting agency message -----------------------------------------------------

    def requesting_message(self, el: _El, path: str) -> RequestingAgencyMessage:
        """A ``requestingAgencyMessage`` (also the v1.0 ``activeSection`` layout)."""
        kids, texts = self.kids(el, path, _K_RAM)
        header = self.header(self.single(kids, "header", path), path)
        active = self.single(kids, "activeSection", path)
        if active is not None and "action" not in kids:
            kids, texts = self.kids(active, f"{path}/activeSection", _K_ACTIVE)
        action_text = texts.get("action")
        if action_text is None:
            if "action" in kids:
                raise UnsupportedActionType("")
            raise BadlyFormedMessage(f"{path}/action is missing")
        try:
            action = self.code(action_text, f"{path}/action", _ACTION)
        except UnrecognisedDataValue:
            raise UnsupportedActionType(action_text) from None
        self.action = action
        return RequestingAgencyMessage(header, action, texts.get("note"))

    # -- confirmations -----------------------------------------------------------------

    def confirmation(self, el: _El, path: str, kind: MessageKind) -> Confirmation:
        """Any of the three confirmations."""
        kids, texts = self.kids(el, path, _K_CONF)
        header_el = self.single(kids, "confirmationHeader", path)
        where = f"{path}/confirmationHeader"
        head: _Kids
        head_texts: _Texts
        if header_el is None:
            self.missing(where)
            head, head_texts = {}, {}
        else:
            head, head_texts = self.kids(header_el, where, _K_CONF_HEADER)
        self.supplying = self.agency(head, "supplyingAgencyId", where)
        self.requesting = self.agency(head, "requestingAgencyId", where)
        self.request_id = head_texts.get("requestingAgencyRequestId")
        self.multiple_item_request_id = head_texts.get("multipleItemRequestId")
        timestamp = self.when(head_texts.get("timestamp"), "timestamp", where)
        if timestamp is None:
            self.missing(f"{where}/timestamp")
            timestamp = self.received_at
        received = self.when(head_texts.get("timestampReceived"), "timestampReceived", where)
        if received is None:
            self.missing(f"{where}/timestampReceived")
            received = timestamp
        status = self.enum(head_texts.get("messageStatus"), "messageStatus", where, _MESSAGE_STATUS)
        if status is None:
            raise BadlyFormedMessage(f"{where}/messageStatus is missing")
        errors = kids.get("errorData", ())
        if len(errors) > 1:
            self.warnings.append(f"{path}/errorData: {len(errors) - 1} more ignored")
        error = None
        if errors:
            sub_texts = self.kids(errors[0], f"{path}/errorData", _K_ERROR)[1]
            type_text = sub_texts.get("errorType")
            if type_text is None:
                self.missing(f"{path}/errorData/errorType")
            else:
                error_type = _ERROR_TYPE_EXACT.get(type_text) or _ERROR_TYPE_FOLDED.get(
                    type_text.casefold()
                )
                if error_type is None:
                    raise UnrecognisedDataValue(f"{path}/errorData/errorType", type_text)
                error = ErrorData(error_type, sub_texts.get("errorValue"))
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
    received_at: datetime | None = None,
) -> Decoded:
    """Decode one ISO 18626 message (any version, with or without the envelope).

    ``received_at`` stands in for a missing timestamp (default: now, UTC). Raises a
    :class:`DecodeError` subclass carrying the ISO error type and value, the message
    kind and the header fields that could be read.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root = parse_xml(raw, max_bytes=max_bytes, max_depth=max_depth)
    reader = _Reader(strict=strict, received_at=received_at or datetime.now(UTC))
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
            for attr, value in root.attrib.items():
                key = str(attr)
                if key[key.find("}") + 1 :] == "version":
                    version = str(value)
            envelope = reader.kids(root, name, _K_ENVELOPE)[0]
            messages = [(n, els[0]) for n, els in envelope.items() if n in _MESSAGE_KINDS]
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
            message = reader.request(message_el, name)
        elif name == "supplyingAgencyMessage":
            message = reader.supplying_message(message_el, name)
        elif name == "requestingAgencyMessage":
            message = reader.requesting_message(message_el, name)
        else:
            message = reader.confirmation(message_el, name, kind)
    except DecodeError as exc:
        exc.kind = kind
        exc.element = element
        exc.header = reader.echo()
        raise
    return Decoded(message, name, version, tuple(reader.unknown), tuple(reader.warnings))
