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
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from operator import attrgetter
from typing import Any, final

import attrs

from resource_sharing.iso18626 import Action, ReasonForMessage, Status
from resource_sharing.messages import (
    Confirmation,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing_adapters.iso18626._decode import ISO_NAMESPACE, DecodedMessage
from resource_sharing_adapters.iso18626._errors import EncodeError
from resource_sharing_adapters.iso18626._schema import (
    CONFIRMATIONS,
    MESSAGES,
    Kind,
    Need,
    Placed,
    Structure,
)
from resource_sharing_adapters.iso18626._versions import Version, exists_in

__all__ = ["encode"]


_ROOTS: dict[type, tuple[str, Structure]] = {
    table.record: (element, table) for element, (table, _kind) in MESSAGES.items() if table.record
}
_VERSIONED = (Action, Status, ReasonForMessage)

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


def _escape(value: str, attr: str = "") -> str:
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


def _yes_no(value: bool, attr: str) -> str:
    return "Y" if value else "N"


def _boolean(value: bool, attr: str) -> str:
    return "true" if value else "false"


def _decimal(value: Decimal, attr: str) -> str:
    if not value.is_finite():
        raise EncodeError(attr, f"not a decimal amount: {value}")
    return format(value, "f")


def _integer(value: int, attr: str) -> str:
    return str(value)


def _natural(value: int, attr: str) -> str:
    if value < 0:
        raise EncodeError(attr, "2021-2 needs a non-negative number")
    return str(value)


_Convert = Callable[[Any, str], str | None]
_CONVERTS: dict[Kind, _Convert] = {
    Kind.TEXT: _escape,
    Kind.DATETIME: _timestamp,
    Kind.END_OF_DAY: _end_of_day,
    Kind.YES_NO: _yes_no,
    Kind.BOOLEAN: _boolean,
    Kind.INTEGER: _integer,
    Kind.NATURAL: _natural,
    Kind.DECIMAL: _decimal,
}
"""How each kind of value is written as text (CODE depends on the version)."""


def _code(version: Version, echo: bool) -> _Convert:
    def code(value: Enum, attr: str) -> str | None:
        if isinstance(value, _VERSIONED) and not exists_in(value, version):
            if echo:
                return None  # the echo is optional: what the version lacks is left out
            raise EncodeError(attr, f"{value.value} does not exist in v{version.value}")
        return str(value.value)

    return code


@final
@attrs.frozen
class _Write:
    """One field as one version writes it, with its tags and converter made once."""

    attr: str
    element: str
    start: str
    end: str
    structure: Structure | None
    flattened: bool
    required: bool  # a None is refused
    drop_empty: bool  # a structure with nothing in it is left out
    empty: bool
    many: bool
    most: int | None
    convert: _Convert | None


_Writes = tuple[tuple[_Write, ...], Callable[[object], tuple[Any, ...]]]
_WRITES: dict[tuple[Structure, Version], _Writes] = {}


def _writes(table: Structure, version: Version) -> _Writes:
    """The fields ``version`` writes of ``table`` in schema order, and their values' getter.

    The getter reads all values at once (a flattened structure gets a placeholder: its
    children are read from the same record).
    """
    found = _WRITES.get((table, version))
    if found is None:
        writes = tuple(
            _Write(
                attr=f.attr or "",
                element=f.element,
                start=f"<{f.element}>",
                end=f"</{f.element}>",
                structure=f.structure,
                flattened=f.structure is not None and f.structure.record is None,
                required=f.need is not Need.OPTIONAL,
                drop_empty=f.need is Need.OPTIONAL
                if f.structure is None or f.structure.record is None
                else f.structure.absent_when_empty,
                empty=f.empty,
                many=f.many,
                most=f.most,
                convert=None
                if f.structure is not None
                else _code(version, f.echo)
                if f.kind is Kind.CODE
                else _CONVERTS[f.kind],
            )
            for f in table.fields
            if version in f.versions
        )
        names = [w.attr or "__class__" for w in writes]  # __class__: never None
        get = attrgetter(*names, "__class__")  # always a tuple, one longer
        found = _WRITES[table, version] = (writes, get)
    return found


@cache
def _content(table: Structure) -> tuple[Callable[[object], tuple[object, ...]], tuple[None, ...]]:
    """A getter of the attributes an alternative of a choice writes, and what empty is."""
    names = [field.attr for field in table.fields if field.attr]
    return attrgetter(*names, "__class__"), (None,) * len(names)


def _has_content(table: Structure, record: object) -> bool:
    """Whether ``record`` sets any attribute the alternative ``table`` writes."""
    get, empty = _content(table)
    return get(record)[:-1] != empty


class _Writer:
    """One encoding pass for one version: the document's pieces, in order."""

    def __init__(self, version: Version) -> None:
        self.version = version
        self.out: list[str] = [_PROLOGUE[version]]

    def structure(self, table: Structure, record: object) -> None:
        """Write the children of ``table`` from ``record``."""
        if table.choice:
            self.choice(table, record)
            return
        out = self.out
        writes, get = _writes(table, self.version)
        for write, value in zip(writes, get(record), strict=False):
            if write.flattened:  # its children come from the same record
                self.nested(write, record)
                continue
            if value is None or (write.many and not value):
                if write.empty:
                    out.append(write.start + write.end)
                elif write.required:
                    raise EncodeError(write.attr, f"the XSD requires {write.element}")
                continue
            if not write.many:
                convert = write.convert  # as one() does, on the hot path
                if convert is None:
                    self.nested(write, value)
                else:
                    text = convert(value, write.attr)
                    if text is not None:
                        out.append(write.start + text + write.end)
                continue
            if write.most is not None and len(value) > write.most:
                raise EncodeError(write.attr, f"v{self.version.value} allows {write.most}")
            if write.structure is not None and write.structure.record is Placed:
                value = [Placed(order, address) for order, address in enumerate(value, 1)]
            for item in value:
                self.one(write, item)

    def choice(self, table: Structure, record: object) -> None:
        """The one alternative of a choice that has content (the last when none has)."""
        writes = _writes(table, self.version)[0]
        chosen = [w for w in writes if w.structure and _has_content(w.structure, record)]
        if len(chosen) > 1:
            names = " or ".join(write.element for write in writes)
            raise EncodeError(type(record).__name__, f"either {names}, not both")
        self.nested((chosen or list(writes[-1:]))[0], record, optional=False)

    def nested(self, write: _Write, record: object, *, optional: bool | None = None) -> None:
        """A structure's element around its children; left out when empty and optional."""
        out = self.out
        mark = len(out)
        out.append(write.start)
        assert write.structure is not None
        self.structure(write.structure, record)
        if len(out) == mark + 1 and (write.drop_empty if optional is None else optional):
            del out[mark:]
        else:
            out.append(write.end)

    def one(self, write: _Write, value: object) -> None:
        """One element holding ``value``."""
        if write.convert is None:
            self.nested(write, value)
            return
        text = write.convert(value, write.attr)
        if text is not None:
            self.out.append(write.start + text + write.end)


def encode(message: DecodedMessage, *, version: Version | str = Version.V1_2) -> bytes:
    """Encode a message or confirmation as an ISO 18626 document (UTF-8 bytes).

    Raises :class:`EncodeError` when the record cannot be said validly in ``version``
    (or holds text XML cannot carry, such as control characters).
    """
    try:
        chosen = Version(version)
    except ValueError:
        raise EncodeError("version", f"unsupported version {version!r}") from None
    if isinstance(message, Confirmation):
        element, table = CONFIRMATIONS[message.confirms]
    elif isinstance(message, Request | SupplyingAgencyMessage | RequestingAgencyMessage):
        element, table = _ROOTS[type(message)]
    else:
        raise EncodeError("message", f"cannot encode {type(message).__name__}")
    writer = _Writer(chosen)
    try:
        writer.out.append(f"<{element}>")
        writer.structure(table, message)
    except EncodeError:
        raise
    except ValueError as exc:  # text XML cannot carry
        raise EncodeError("text", str(exc)) from None
    writer.out.append(f"</{element}>{_EPILOGUE}")
    return "".join(writer.out).encode("utf-8")
