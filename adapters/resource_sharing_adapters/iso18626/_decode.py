"""Lenient decoding: ISO 18626 XML as peers really send it, into the core's records.

Theory of operation. One walker reads every structure through its table in
:mod:`._schema`. Children are matched by *local name*, in any order, with any prefix and
in any (or no) namespace, because real peers get all of these wrong (REPORT §9); each
element's content is read by its kind and the record is built by keyword, so what is
absent takes the record's default. Empty elements count as absent. Timestamps may have
fractional seconds, any offset, ``+0000``, a space instead of ``T``, or none at all;
every one becomes an aware UTC datetime.

Tolerated, and reported in :attr:`Decoded.warnings`: a missing MANDATORY element, a
repeat of an element read once (the first counts). Skipped, and listed in
:attr:`Decoded.unknown_elements`: elements no table knows. Strict mode refuses all of
these, and a wrong namespace. Refused in both modes: a missing or empty REQUIRED element
(the header and the fields that route the message, reasonForMessage, action,
messageStatus) with BadlyFormedMessage, so that no value is ever made up; a value that
cannot be read with the ISO error the standard names (UnsupportedActionType,
UnsupportedReasonForMessageType, otherwise UnrecognisedDataValue naming the element).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import final

import attrs
from lxml import etree

from resource_sharing.iso18626 import ErrorType, ReasonForMessage
from resource_sharing.messages import (
    Confirmation,
    MessageKind,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing_adapters.iso18626._errors import (
    BadlyFormedMessage,
    DecodeError,
    HeaderEcho,
    UnrecognisedDataElement,
    UnrecognisedDataValue,
)
from resource_sharing_adapters.iso18626._parse import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    parse_xml,
)
from resource_sharing_adapters.iso18626._schema import (
    CONFIRMATIONS,
    MESSAGES,
    STATUS_INFO,
    Field,
    Kind,
    Need,
    Placed,
    Structure,
)

__all__ = ["ISO_NAMESPACE", "Decoded", "DecodedMessage", "decode", "parse_datetime"]

ISO_NAMESPACE = "http://illtransactions.org/2013/iso18626"
"""The one namespace of every ISO 18626 schema version (2013 to 2021-2)."""
_NS = "{" + ISO_NAMESPACE + "}"

# Enum members as module constants: reading ``Kind.TEXT`` goes through the enum
# metaclass (a quarter of a microsecond), and the walker asks per element.
_TEXT, _CODE, _DATETIME, _END_OF_DAY = Kind.TEXT, Kind.CODE, Kind.DATETIME, Kind.END_OF_DAY
_YES_NO, _BOOLEAN, _INTEGER, _NATURAL = Kind.YES_NO, Kind.BOOLEAN, Kind.INTEGER, Kind.NATURAL
_OPTIONAL, _REQUIRED = Need.OPTIONAL, Need.REQUIRED

DecodedMessage = Request | SupplyingAgencyMessage | RequestingAgencyMessage | Confirmation
"""Anything :func:`decode` returns: one of the three messages, or a confirmation."""

_El = etree._Element


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
    """Other leniencies: missing mandatory elements, extra repeats dropped."""


_ROOTS: dict[str, tuple[Structure, MessageKind]] = {
    **MESSAGES,
    **{element: (table, kind) for kind, (element, table) in CONFIRMATIONS.items()},
}
# The 2021 text spells these with a "z" and a lower-case "f"; Koha emits that spelling.
_ALIASES: Mapping[type[Enum], Mapping[str, Enum]] = {
    ErrorType: {
        "UnrecognizedDataElement": ErrorType.UNRECOGNISED_DATA_ELEMENT,
        "UnrecognizedDataValue": ErrorType.UNRECOGNISED_DATA_VALUE,
        "UnsupportedReasonforMessageType": ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE,
    }
}
_YES = frozenset({"y", "yes", "true", "1"})
_NO = frozenset({"n", "no", "false", "0"})
_ECHOED = frozenset(field.name for field in attrs.fields(HeaderEcho))

_DATETIME_TEXT = re.compile(
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
    if len(text) == 20 and text[19] == "Z" and text[10] == "T":
        # What we and most peers write, "YYYY-MM-DDThh:mm:ssZ", read in C; whatever
        # fromisoformat refuses (non-ASCII digits, hour 24...) takes the general path.
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    match = _DATETIME_TEXT.fullmatch(text)
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


@cache
def _codes(enum: type[Enum]) -> tuple[dict[str, Enum], dict[str, Enum]]:
    """A closed list's codes: exact, then case-folded (lenient mode)."""
    exact = {str(member.value): member for member in enum} | dict(_ALIASES.get(enum, {}))
    return exact, {key.casefold(): member for key, member in exact.items()}


@final
@attrs.frozen
class _Reading:
    """How one table is read: its fields by tag and by name, the first row of each name."""

    by_tag: dict[str, Field]
    by_name: dict[str, Field | None]  # a skipped name maps to None: known, read past
    needed: tuple[Field, ...]  # the MANDATORY and REQUIRED ones
    many: tuple[Field, ...]  # the repeating ones
    echoes: bool  # whether any of its attributes is echoed in a refusal
    merged: frozenset[str]  # attributes several structures fill (one citation)


_READINGS: dict[Structure, _Reading] = {}


def _reading(table: Structure) -> _Reading:
    """Make (once) how ``table`` is read."""
    by_name: dict[str, Field | None] = dict.fromkeys(table.skip)
    reads = []
    for field in table.fields:
        if field.element not in by_name:
            by_name[field.element] = field
            reads.append(field)
    by_tag = {_NS + name: field for name, field in by_name.items() if field is not None}
    nested = [f.attr for f in reads if f.structure is not None and f.attr is not None]
    merged = frozenset(attr for attr in nested if nested.count(attr) > 1)
    needed = tuple(field for field in reads if field.need is not _OPTIONAL)
    many = tuple(field for field in reads if field.many)
    echoes = any(field.attr in _ECHOED for field in reads)
    reading = _READINGS[table] = _Reading(by_tag, by_name, needed, many, echoes, merged)
    return reading


def _in_order(placed: list[Placed]) -> tuple[object, ...]:
    """A request's delivery addresses by their sortOrder (document order breaks ties)."""
    ranked = [
        (p.sort_order if p.sort_order is not None else index, index, p.address)
        for index, p in enumerate(placed)
        if p.address is not None
    ]
    return tuple(entry[2] for entry in sorted(ranked, key=lambda entry: entry[:2]))


class _Reader:
    """One decoding pass: the options, what was tolerated, what the echo can say."""

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.unknown: list[str] = []
        self.warnings: list[str] = []
        self.echo: dict[str, object] = {}

    def missing(self, where: str, state: str = "missing") -> None:
        """A mandatory element is absent or empty: refused in strict mode, else reported."""
        if self.strict:
            raise BadlyFormedMessage(f"{where} is {state}")
        self.warnings.append(f"{where} is {state}")

    def odd(self, tag: str, reading: _Reading, path: str) -> Field | None:
        """The field of a child in another namespace or none; None to skip it.

        Unknown children are reported, or refused in strict mode like a wrong namespace.
        """
        name = tag[tag.find("}") + 1 :]
        if self.strict and not tag.startswith(_NS):
            raise BadlyFormedMessage(f"{path}/{name}: not in the ISO 18626 namespace")
        if name not in reading.by_name:
            if self.strict:
                raise UnrecognisedDataElement(f"{path}/{name}")
            self.unknown.append(f"{path}/{name}")
            return None
        return reading.by_name[name]

    def fill(self, el: _El | None, table: Structure, path: str, into: dict[str, object]) -> bool:
        """Read ``el`` through ``table`` into the keywords ``into`` (None: read as empty).

        Children are read in document order and the first value of an attribute wins (of
        a 1.2 element and its 2021 rename); repeating ones are read once all are found,
        and structures of one record (a citation) once all their parts are. The whole
        structure is read before its first error is raised, so that the echo holds all
        that could be read. Returns False when a MANDATORY element is missing.
        """
        reading = _READINGS.get(table) or _reading(table)
        found: dict[Field, _El] = {}
        more: dict[Field, list[_El]] | None = None  # repeats (made when one is seen)
        parts: dict[str, tuple[Structure, dict[str, object]]] | None = None
        complete = undecided = True  # undecided: no alternative of a choice had content yet
        first: DecodeError | None = None
        children: list[_El] = [] if el is None else el[:]  # type: ignore[index, assignment]
        by_tag, echoes, text_kind = reading.by_tag, reading.echoes, _TEXT  # locals: read often
        for child in children:
            tag: str = child.tag
            field = by_tag.get(tag) or self.odd(tag, reading, path)
            if field is None:
                continue
            if field in found:
                if more is None:
                    more = {}
                more.setdefault(field, [found[field]]).append(child)
                continue
            found[field] = child
            if field.many:
                continue  # read below, once all are found
            kind, sub, attr = field.kind, field.structure, field.attr
            try:
                value: object
                if kind is text_kind:
                    raw = child.text
                    if raw and attr not in into:
                        value = raw.strip()
                        if value:
                            into[attr] = value  # type: ignore[index]
                            if echoes and attr in _ECHOED:
                                self.echo.setdefault(attr, value)
                    continue
                if sub is None:
                    value = self.value(field, child, path)
                elif sub.record is None:  # flattened into this record
                    if table.choice and not undecided:
                        continue  # an alternative after the one with content
                    before = len(into)
                    complete = self.fill(child, sub, f"{path}/{field.element}", into) and complete
                    undecided = not table.choice or len(into) == before
                    continue
                elif attr in reading.merged:
                    if parts is None:
                        parts = {}
                    keywords = parts.setdefault(str(attr), (sub, {}))[1]
                    self.fill(child, sub, f"{path}/{field.element}", keywords)
                    continue
                else:
                    value = self.record(child, sub, f"{path}/{field.element}", field.need)
                if value is not None and attr is not None and attr not in into:
                    into[attr] = value  # as put() does, on the hot path
                    if echoes and attr in _ECHOED:
                        self.echo.setdefault(attr, value)
            except DecodeError as exc:
                first = first or exc
        if more is not None:
            for field, repeats in more.items():
                if not field.many:
                    where = f"{path}/{field.element}"
                    self.warnings.append(f"{where}: {len(repeats) - 1} repeat(s) ignored")
        for field in reading.many:
            if field in found:
                elements = more.get(field) if more is not None else None
                try:
                    self.put(into, field, self.all(field, elements or [found[field]], path))
                except DecodeError as exc:
                    first = first or exc
        if first is not None:
            raise first
        if parts is not None:
            for attr, (sub, keywords) in parts.items():
                self.put(into, _field(table, attr), self.build(sub, keywords))
        if table is STATUS_INFO:
            self.status_may_be_empty(path, into)
        if table.absent_when_empty and not into:
            return True  # nothing there: absent, not incomplete
        for field in reading.needed:
            attr = field.attr
            if attr in into if attr is not None else field in found:
                continue  # read (a flattened structure checked its own fields)
            complete = self.check(field, field in found, path, into) and complete
        return complete

    def all(self, field: Field, elements: list[_El], path: str) -> tuple[object, ...]:
        """Every value of a repeating element (a request's delivery addresses in order)."""
        sub = field.structure
        if sub is None:
            values = [self.value(field, element, path) for element in elements]
        else:
            where = f"{path}/{field.element}"
            values = [self.record(element, sub, where) for element in elements]
            if sub.record is Placed:
                return _in_order(values)  # type: ignore[arg-type]
        return tuple(value for value in values if value is not None)

    def check(self, field: Field, there: bool, path: str, into: dict[str, object]) -> bool:
        """Hold an unread MANDATORY or REQUIRED element to its need.

        Returns False when it is missing and nothing stands in for it.
        """
        sub = field.structure
        where = f"{path}/{field.element}"
        state = "empty" if there else "missing"
        if field.need is _REQUIRED:
            raise BadlyFormedMessage(f"{where} is {state}")
        self.missing(where, state)
        if sub is not None and sub.record is None:
            self.fill(None, sub, where, into)  # an absent structure reads as an empty one
        elif sub is not None and not there:
            self.put(into, field, self.build(sub, {}))  # the record's defaults
        elif field.fallback is not None and field.fallback in self.echo:
            into[str(field.attr)] = self.echo[field.fallback]
        else:
            return False
        return True

    def record(self, el: _El, table: Structure, where: str, need: Need = Need.OPTIONAL) -> object:
        """The record one element of a nested structure builds, or None.

        An optional structure missing a MANDATORY part is dropped (it was reported)
        rather than completed with the record's defaults.
        """
        keywords: dict[str, object] = {}
        if not self.fill(el, table, where, keywords) and need is _OPTIONAL:
            return None
        if not keywords and table.absent_when_empty:
            return None
        try:
            return table.record(**keywords)  # type: ignore[misc]
        except TypeError:
            return None  # what it cannot do without is missing (and was reported)

    def build(self, table: Structure, keywords: dict[str, object]) -> object:
        """The table's record from its keywords, or None.

        None when empty and the table says that means absent, or when a part the record
        cannot do without is missing (which was reported).
        """
        record = table.record
        assert record is not None
        if not keywords and table.absent_when_empty:
            return None
        try:
            return record(**keywords)
        except TypeError:
            return None  # what it cannot do without is missing

    def put(self, into: dict[str, object], field: Field, value: object) -> None:
        """Set an attribute unless it is None or an earlier element already set it."""
        attr = str(field.attr)
        if value is not None and attr not in into:
            into[attr] = value
            if attr in _ECHOED:
                self.echo.setdefault(attr, value)

    def status_may_be_empty(self, path: str, into: dict[str, object]) -> None:
        """An empty status is "no change" on a Notification (REPORT §9.9), odd elsewhere."""
        if "status" in into:
            return
        if into.get("reason") is not ReasonForMessage.NOTIFICATION:
            if self.strict:
                raise UnrecognisedDataValue(f"{path}/status", "")
            self.warnings.append(f"{path}/status is empty")
        into["status"] = None

    def value(self, field: Field, el: _El, path: str) -> object:
        """One element's content by its kind (at ``path/element``); None when empty."""
        raw = el.text
        text = raw.strip() if raw else None
        if not text:
            return None
        kind = field.kind
        try:
            if kind is _TEXT:
                return text
            if kind is _CODE:
                assert field.code is not None
                exact, folded = _codes(field.code)
                found = exact.get(text)
                if found is None and not self.strict:
                    found = folded.get(text.casefold())
                if found is None:
                    if field.refuse is not None:
                        raise field.refuse(text)
                    raise ValueError(text)
                return found
            if kind is _DATETIME or kind is _END_OF_DAY:
                return parse_datetime(text)
            if kind is _YES_NO or kind is _BOOLEAN:
                if text.casefold() in _YES:
                    return True
                if text.casefold() in _NO:
                    return False
                raise ValueError(text)
            if kind is _INTEGER or kind is _NATURAL:
                return int(text)
            amount = Decimal(text)
            if not amount.is_finite():
                raise ValueError(text)
            return amount
        except (ValueError, InvalidOperation):
            raise UnrecognisedDataValue(f"{path}/{field.element}", text) from None

    def envelope(self, root: _El) -> tuple[str, _El]:
        """The one message inside an ``ISO18626Message``."""
        messages = []
        for child in root.iterchildren():
            tag: str = child.tag
            name = tag[tag.find("}") + 1 :]
            if self.strict and not tag.startswith(_NS):
                raise BadlyFormedMessage(f"ISO18626Message/{name}: not in the ISO 18626 namespace")
            if name in _ROOTS:
                messages.append((name, child))
            elif self.strict:
                raise UnrecognisedDataElement(f"ISO18626Message/{name}")
            else:
                self.unknown.append(f"ISO18626Message/{name}")
        if len(messages) != 1:
            raise BadlyFormedMessage(
                "the envelope holds " + ("no message" if not messages else "more than one message")
            )
        return messages[0]


@cache
def _field(table: Structure, attr: str) -> Field:
    return next(field for field in table.fields if field.attr == attr)


def decode(
    data: bytes | str,
    *,
    strict: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Decoded:
    """Decode one ISO 18626 message (any version, with or without the envelope).

    Raises a :class:`DecodeError` subclass carrying the ISO error type and value, the
    message kind and the header fields that could be read.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root = parse_xml(raw, max_bytes=max_bytes, max_depth=max_depth)
    reader = _Reader(strict=strict)
    kind: MessageKind | None = None
    element: str | None = None
    try:
        tag: str = root.tag
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
            name, message_el = reader.envelope(root)
        if name not in _ROOTS:
            raise BadlyFormedMessage(f"{name} is not an ISO 18626 message")
        table, kind = _ROOTS[name]
        element = name
        keywords: dict[str, object] = {"confirms": kind} if table.record is Confirmation else {}
        reader.fill(message_el, table, name, keywords)
        assert table.record is not None
        message: DecodedMessage = table.record(**keywords)
    except DecodeError as exc:
        exc.kind = kind
        exc.element = element
        exc.header = HeaderEcho(**reader.echo)  # type: ignore[arg-type]
        raise
    return Decoded(message, name, version, tuple(reader.unknown), tuple(reader.warnings))
