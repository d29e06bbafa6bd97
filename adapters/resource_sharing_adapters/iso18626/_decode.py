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


def _text(kids: _Kids, name: str) -> str | None:
    """The stripped text of the first child called ``name``; empty counts as absent."""
    found = kids.get(name)
    if found is None:
        return None
    text = found[0].text
    if text is None:
        return None
    text = text.strip()
    return text or None


def _texts(kids: _Kids) -> dict[str, str]:
    """The stripped text of the first child of each name, where it is not empty."""
    found = {}
    for name, els in kids.items():
        text = els[0].text
        if text is not None:
            text = text.strip()
            if text:
                found[name] = text
    return found


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

    def kids(self, el: _El, path: str, known: _Known) -> _Kids:
        """The children of ``el`` by local name; unknown ones reported (or refused)."""
        out: _Kids = {}
        # el[:] is a list built in C, faster than iterating el (the stubs lack slicing).
        for child in el[:]:  # type: ignore[index]
            tag = child.tag
            # Known elements in the ISO namespace: one lookup. Anything else: odd().
            name = known.get(tag)
            if name is None:
                name = self.odd(tag, path, known)
            found = out.get(name)
            if found is None:
                out[name] = [child]
            else:
                found.append(child)
        return out

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

    # -- values ------------------------------------------------------------------------

    def enum(
        self,
        kids: _Kids,
        name: str,
        path: str,
        table: tuple[dict[str, _E], dict[str, _E]],
    ) -> _E | None:
        """A closed-list value, or None when empty; UnrecognisedDataValue when unknown."""
        text = _text(kids, name)
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

    def when(self, kids: _Kids, name: str, path: str) -> datetime | None:
        """A date-time as aware UTC, or None when empty; UnrecognisedDataValue if bad."""
        text = _text(kids, name)
        if text is None:
            return None
        try:
            return parse_datetime(text)
        except ValueError:
            raise UnrecognisedDataValue(f"{path}/{name}", text) from None

    def yes_no(self, kids: _Kids, name: str, path: str) -> bool | None:
        """``Y``/``N`` (or an xs:boolean spelling), or None when empty."""
        text = _text(kids, name)
        if text is None:
            return None
        folded = text.casefold()
        if folded in _YES:
            return True
        if folded in _NO:
            return False
        raise UnrecognisedDataValue(f"{path}/{name}", text)

    def integer(self, kids: _Kids, name: str, path: str) -> int | None:
        """An xs:integer, or None when empty."""
        text = _text(kids, name)
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
        if el is None:
            self.missing(where)
            kids: _Kids = {}
        else:
            kids = self.kids(el, where, _K_HEADER)
        self.supplying = self.agency(kids, "supplyingAgencyId", where)
        self.requesting = self.agency(kids, "requestingAgencyId", where)
        self.request_id = _text(kids, "requestingAgencyRequestId")
        self.multiple_item_request_id = _text(kids, "multipleItemRequestId")
        try:
            self.timestamp = self.when(kids, "timestamp", where)
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
            requesting_agency=requesting,
            supplying_agency=supplying,
            requesting_agency_request_id=request_id,
            timestamp=timestamp,
            supplying_agency_request_id=_text(kids, "supplyingAgencyRequestId"),
            multiple_item_request_id=self.multiple_item_request_id,
            authentication=auth,
        )

    def address(self, el: _El, path: str) -> Address | None:
        """An ``address`` (electronic or physical); None when empty."""
        kids = self.kids(el, path, _K_ADDRESS)
        electronic = self.single(kids, "electronicAddress", path)
        if electronic is not None:
            sub = self.leaves(electronic, f"{path}/electronicAddress", _K_ELECTRONIC)
            kind = sub.get("electronicAddressType")
            data = sub.get("electronicAddressData")
            if kind is not None or data is not None:
                return Address(electronic_type=kind, electronic_data=data)
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
        return Address(
            line1=line1,
            line2=line2,
            locality=locality,
            postal_code=postal_code,
            region=region,
            country=country,
        )

    def addresses(self, kids: _Kids, path: str) -> tuple[Address, ...]:
        """Every non-empty ``address`` child."""
        found = []
        for el in kids.get("address", ()):
            address = self.address(el, f"{path}/address")
            if address is not None:
                found.append(address)
        return tuple(found)

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
        kids = self.kids(el, path, _K_REQUEST)
        header = self.header(self.single(kids, "header", path), path)
        citation = self.citation(kids, path)
        service_el = self.single(kids, "serviceInfo", path)
        if service_el is None:
            self.warnings.append(f"{path}/serviceInfo is missing; a loan is assumed")
            service = ServiceInfo()
        else:
            service = self.service(service_el, f"{path}/serviceInfo")
        suppliers = tuple(
            self.supplier(s, f"{path}/supplierInfo") for s in kids.get("supplierInfo", ())
        )
        deliveries: list[tuple[int, int, Address]] = []
        for index, d in enumerate(kids.get("requestedDeliveryInfo", ())):
            where = f"{path}/requestedDeliveryInfo"
            sub = self.kids(d, where, _K_REQ_DELIVERY)
            address_el = self.single(sub, "address", where)
            address = None if address_el is None else self.address(address_el, f"{where}/address")
            if address is not None:
                order = self.integer(sub, "sortOrder", where)
                deliveries.append((order if order is not None else index, index, address))
        deliveries.sort(key=lambda entry: (entry[0], entry[1]))
        agency_info = None
        info_el = self.single(kids, "requestingAgencyInfo", path)
        if info_el is not None:
            where = f"{path}/requestingAgencyInfo"
            sub = self.kids(info_el, where, _K_AGENCY_INFO)
            agency_info = RequestingAgencyInfo(
                name=_text(sub, "name"),
                contact_name=_text(sub, "contactName"),
                addresses=self.addresses(sub, where),
            )
        patron = None
        patron_el = self.single(kids, "patronInfo", path)
        if patron_el is not None:
            where = f"{path}/patronInfo"
            sub = self.kids(patron_el, where, _K_PATRON)
            patron = PatronInfo(
                patron_id=_text(sub, "patronId"),
                surname=_text(sub, "surname"),
                given_name=_text(sub, "givenName"),
                patron_type=_text(sub, "patronType"),
                send_to_patron=self.yes_no(sub, "sendToPatron", where),
                addresses=self.addresses(sub, where),
            )
        billing = None
        billing_el = self.single(kids, "billingInfo", path)
        if billing_el is not None:
            where = f"{path}/billingInfo"
            sub = self.kids(billing_el, where, _K_BILLING)
            billing_address = self.single(sub, "address", where)
            billing = BillingInfo(
                payment_method=_text(sub, "paymentMethod"),
                maximum_costs=self.money(sub, "maximumCosts", where),
                billing_method=_text(sub, "billingMethod"),
                billing_name=_text(sub, "billingName"),
                address=None
                if billing_address is None
                else self.address(billing_address, f"{where}/address"),
            )
        return Request(
            header=header,
            citation=citation,
            service=service,
            suppliers=suppliers,
            delivery_addresses=tuple(entry[2] for entry in deliveries),
            requesting_agency_info=agency_info,
            patron=patron,
            billing=billing,
        )

    def citation(self, kids: _Kids, path: str) -> Citation:
        """``bibliographicInfo`` and ``publicationInfo`` as one citation."""
        bib_el = self.single(kids, "bibliographicInfo", path)
        if bib_el is None:
            self.missing(f"{path}/bibliographicInfo")
            bib: _Kids = {}
        else:
            bib = self.kids(bib_el, f"{path}/bibliographicInfo", _K_BIB)
        where = f"{path}/bibliographicInfo"
        item_ids = []
        for item in bib.get("bibliographicItemId", ()):
            sub = self.leaves(item, f"{where}/bibliographicItemId", _K_ITEM_ID)
            code = sub.get("bibliographicItemIdentifierCode")
            value = sub.get("bibliographicItemIdentifier")
            if code is None or value is None:
                self.warnings.append(f"{where}/bibliographicItemId: incomplete, ignored")
            else:
                item_ids.append(Identifier(code, value))
        record_ids = []
        for record in bib.get("bibliographicRecordId", ()):
            ident = self.record_id(record, f"{where}/bibliographicRecordId")
            if ident is not None:
                record_ids.append(ident)
        volumes = bib.get("volume", ())
        if len(volumes) > 1:
            self.warnings.append(f"{where}/volume: {len(volumes) - 1} repeat(s) ignored")
        pub_el = self.single(kids, "publicationInfo", path)
        pub: _Kids = {} if pub_el is None else self.kids(pub_el, f"{path}/publicationInfo", _K_PUB)
        bib_text, pub_text = _texts(bib).get, _texts(pub).get
        return Citation(
            title=bib_text("title"),
            author=bib_text("author"),
            subtitle=bib_text("subtitle"),
            series_title=bib_text("seriesTitle"),
            edition=bib_text("edition"),
            title_of_component=bib_text("titleOfComponent"),
            author_of_component=bib_text("authorOfComponent"),
            volume=bib_text("volume"),
            issue=bib_text("issue"),
            pages_requested=bib_text("pagesRequested"),
            item_ids=tuple(item_ids),
            record_ids=tuple(record_ids),
            supplier_unique_record_id=bib_text("supplierUniqueRecordId"),
            publisher=pub_text("publisher"),
            publication_type=pub_text("publicationType"),
            publication_date=pub_text("publicationDate"),
            place_of_publication=pub_text("placeOfPublication"),
        )

    def service(self, el: _El, path: str) -> ServiceInfo:
        """A ``serviceInfo``."""
        kids = self.kids(el, path, _K_SERVICE)
        service_type = self.enum(kids, "serviceType", path, _SERVICE_TYPE)
        if service_type is None:
            self.missing(f"{path}/serviceType")
            service_type = ServiceType.LOAN
        subtypes = []
        for sub in kids.get("requestSubType", ()):
            code = (sub.text or "").strip()
            if code:
                subtypes.append(self.code(code, f"{path}/requestSubType", _SUBTYPE))
        text = _texts(kids).get
        return ServiceInfo(
            service_type=service_type,
            request_type=self.enum(kids, "requestType", path, _REQUEST_TYPE),
            request_subtypes=tuple(subtypes),
            previous_request_id=text("requestingAgencyPreviousRequestId"),
            service_level=text("serviceLevel"),
            preferred_format=text("preferredFormat") or text("itemFormat"),
            need_before=self.when(kids, "needBeforeDate", path),
            copyright_compliance=text("copyrightCompliance"),
            any_edition=self.yes_no(kids, "anyEdition", path),
            start_date=self.when(kids, "startDate", path),
            end_date=self.when(kids, "endDate", path),
            note=text("note"),
        )

    def supplier(self, el: _El, path: str) -> SupplierInfo:
        """A ``supplierInfo``."""
        kids = self.kids(el, path, _K_SUPPLIER)
        record_el = self.single(kids, "bibliographicRecordId", path)
        text = _texts(kids).get
        return SupplierInfo(
            sort_order=self.integer(kids, "sortOrder", path),
            supplier=self.agency(kids, "supplierCode", path),
            description=text("supplierDescription"),
            call_number=text("callNumber"),
            summary_holdings=text("summaryHoldings"),
            availability_note=text("availabilityNote"),
            record_id=None
            if record_el is None
            else self.record_id(record_el, f"{path}/bibliographicRecordId"),
        )

    # -- supplying agency message ------------------------------------------------------

    def supplying_message(self, el: _El, path: str) -> SupplyingAgencyMessage:
        """A ``supplyingAgencyMessage``."""
        kids = self.kids(el, path, _K_SAM)
        header = self.header(self.single(kids, "header", path), path)
        info_el = self.single(kids, "messageInfo", path)
        where = f"{path}/messageInfo"
        info: _Kids = {} if info_el is None else self.kids(info_el, where, _K_MESSAGE_INFO)
        reason_text = _text(info, "reasonForMessage")
        if reason_text is None:
            raise BadlyFormedMessage(f"{where}/reasonForMessage is missing")
        try:
            reason = self.code(reason_text, f"{where}/reasonForMessage", _REASON)
        except UnrecognisedDataValue:
            raise UnsupportedReasonForMessageType(reason_text) from None
        self.reason = reason
        retry_el = self.single(kids, "retryInfo", path)
        retry: _Kids = (
            {} if retry_el is None else self.kids(retry_el, f"{path}/retryInfo", _K_RETRY)
        )
        status_el = self.single(kids, "statusInfo", path)
        where_status = f"{path}/statusInfo"
        if status_el is None:
            self.missing(where_status)
            status_kids: _Kids = {}
        else:
            status_kids = self.kids(status_el, where_status, _K_STATUS)
        status = self.enum(status_kids, "status", where_status, _STATUS)
        if status is None and reason is not ReasonForMessage.NOTIFICATION:
            if self.strict:
                raise UnrecognisedDataValue(f"{where_status}/status", "")
            self.warnings.append(f"{where_status}/status is empty")
        last_change = self.when(status_kids, "lastChange", where_status)
        if last_change is None and status_el is not None:
            self.warnings.append(f"{where_status}/lastChange is empty")
        # Each in messageInfo (v1.2), else in retryInfo (2021), in this order.
        where_retry = f"{path}/retryInfo"
        offered = self.money(info, "offeredCosts", where)
        if offered is None and retry:
            offered = self.money(retry, "offeredCosts", where_retry)
        retry_after = self.when(info, "retryAfter", where)
        if retry_after is None and retry:
            retry_after = self.when(retry, "retryAfter", where_retry)
        retry_before = self.when(info, "retryBefore", where)
        if retry_before is None and retry:
            retry_before = self.when(retry, "retryBefore", where_retry)
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
            sub = self.kids(return_el, where_return, _K_RETURN)
            physical = self.single(sub, "physicalAddress", where_return)
            return_agency = self.agency(sub, "returnAgencyId", where_return)
            name = _text(sub, "name")
            address = (
                None
                if physical is None
                else self.physical(physical, f"{where_return}/physicalAddress")
            )
            if return_agency is not None or name is not None or address is not None:
                return_info = ReturnInfo(return_agency=return_agency, name=name, address=address)
        return SupplyingAgencyMessage(
            header=header,
            reason=reason,
            status=status,
            last_change=last_change,
            answer=self.yes_no(info, "answerYesNo", where),
            note=_text(info, "note"),
            reason_unfilled=_text(info, "reasonUnfilled"),
            reason_retry=_text(info, "reasonRetry"),
            offered_costs=offered,
            retry_after=retry_after,
            retry_before=retry_before,
            expected_delivery=self.when(status_kids, "expectedDeliveryDate", where_status),
            due_date=self.when(status_kids, "dueDate", where_status),
            delivery=delivery,
            return_info=return_info,
        )

    def delivery(self, el: _El, path: str, fallback: datetime) -> DeliveryInfo | None:
        """A ``deliveryInfo``; None when every element in it is empty."""
        kids = self.kids(el, path, _K_DELIVERY)
        text = _texts(kids).get
        item_ids = kids.get("itemId", ())
        if len(item_ids) > 1:
            self.warnings.append(f"{path}/itemId: {len(item_ids) - 1} repeat(s) ignored")
        conditions = kids.get("loanCondition", ())
        if len(conditions) > 1:
            self.warnings.append(f"{path}/loanCondition: {len(conditions) - 1} repeat(s) ignored")
        date_sent = self.when(kids, "dateSent", path)
        info = DeliveryInfo(
            date_sent=fallback if date_sent is None else date_sent,
            item_id=text("itemId"),
            sent_via=text("sentVia") or text("deliveryMethod"),
            sent_to_patron=self.yes_no(kids, "sentToPatron", path),
            loan_condition=text("loanCondition"),
            delivered_format=text("deliveredFormat") or text("itemFormat"),
            delivery_costs=self.money(kids, "deliveryCosts", path),
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
        kids = self.kids(el, path, _K_RAM)
        header = self.header(self.single(kids, "header", path), path)
        active = self.single(kids, "activeSection", path)
        if active is not None and "action" not in kids:
            kids = self.kids(active, f"{path}/activeSection", _K_ACTIVE)
        action_text = _text(kids, "action")
        if action_text is None:
            if "action" in kids:
                raise UnsupportedActionType("")
            raise BadlyFormedMessage(f"{path}/action is missing")
        try:
            action = self.code(action_text, f"{path}/action", _ACTION)
        except UnrecognisedDataValue:
            raise UnsupportedActionType(action_text) from None
        self.action = action
        return RequestingAgencyMessage(header=header, action=action, note=_text(kids, "note"))

    # -- confirmations -----------------------------------------------------------------

    def confirmation(self, el: _El, path: str, kind: MessageKind) -> Confirmation:
        """Any of the three confirmations."""
        kids = self.kids(el, path, _K_CONF)
        header_el = self.single(kids, "confirmationHeader", path)
        where = f"{path}/confirmationHeader"
        if header_el is None:
            self.missing(where)
            head: _Kids = {}
        else:
            head = self.kids(header_el, where, _K_CONF_HEADER)
        self.supplying = self.agency(head, "supplyingAgencyId", where)
        self.requesting = self.agency(head, "requestingAgencyId", where)
        self.request_id = _text(head, "requestingAgencyRequestId")
        self.multiple_item_request_id = _text(head, "multipleItemRequestId")
        timestamp = self.when(head, "timestamp", where)
        if timestamp is None:
            self.missing(f"{where}/timestamp")
            timestamp = self.received_at
        received = self.when(head, "timestampReceived", where)
        if received is None:
            self.missing(f"{where}/timestampReceived")
            received = timestamp
        status = self.enum(head, "messageStatus", where, _MESSAGE_STATUS)
        if status is None:
            raise BadlyFormedMessage(f"{where}/messageStatus is missing")
        errors = kids.get("errorData", ())
        if len(errors) > 1:
            self.warnings.append(f"{path}/errorData: {len(errors) - 1} more ignored")
        error = None
        if errors:
            sub = self.kids(errors[0], f"{path}/errorData", _K_ERROR)
            type_text = _text(sub, "errorType")
            if type_text is None:
                self.missing(f"{path}/errorData/errorType")
            else:
                error_type = _ERROR_TYPE_EXACT.get(type_text) or _ERROR_TYPE_FOLDED.get(
                    type_text.casefold()
                )
                if error_type is None:
                    raise UnrecognisedDataValue(f"{path}/errorData/errorType", type_text)
                error = ErrorData(error_type, _text(sub, "errorValue"))
        return Confirmation(
            confirms=kind,
            status=status,
            timestamp=timestamp,
            timestamp_received=received,
            supplying_agency=self.supplying,
            requesting_agency=self.requesting,
            requesting_agency_request_id=self.request_id,
            multiple_item_request_id=self.multiple_item_request_id,
            error=error,
            reason=self.enum(kids, "reasonForMessage", path, _REASON),
            action=self.enum(kids, "action", path, _ACTION),
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
            envelope = reader.kids(root, name, _K_ENVELOPE)
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
    return Decoded(
        message=message,
        element=name,
        version=version,
        unknown_elements=tuple(reader.unknown),
        warnings=tuple(reader.warnings),
    )
