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
from typing import Any

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
    # The codes the version lacks, as (vocabulary, text): hashing an Enum member calls
    # Python code, and this runs for every code written.
    lacking = frozenset(
        (type(code), code.value)
        for code in (*Action, *Status, *ReasonForMessage)
        if not exists_in(code, version)
    )

    def code(value: Enum, attr: str) -> str | None:
        if (type(value), value.value) in lacking:
            if echo:
                return None  # the echo is optional: what the version lacks is left out
            raise EncodeError(attr, f"{value.value} does not exist in v{version.value}")
        return str(value.value)

    return code


_Writer = Callable[[list[str], Any], None]
_WRITERS: dict[str, dict[Structure, _Writer]] = {version.value: {} for version in Version}
"""Per version (by its text: an Enum member hashes in Python code), each table's writer."""


def _writer(table: Structure, version: Version) -> _Writer:
    """The writer of ``table``'s children in ``version``, compiled from the table once.

    Like attrs' ``__init__``, the writer is straight-line Python derived from the table,
    one statement per field in schema order: a value is written when it is not None (a
    None where the schema requires the element is refused), a structure around what its
    own writer wrote, and left out when nothing was and it may be.
    """
    found = _WRITERS[version.value].get(table)
    if found is not None:
        return found
    env: dict[str, Any] = {"EncodeError": EncodeError, "Placed": Placed}
    lines = ["def write(out, r):"]
    for index, field in enumerate(table.fields):
        if version not in field.versions:
            continue
        start, end, attr, sub = (
            f"<{field.element}>",
            f"</{field.element}>",
            field.attr,
            field.structure,
        )
        code = f"c{index}"
        if sub is None:
            env[code] = (
                _code(version, field.echo) if field.kind is Kind.CODE else _CONVERTS[field.kind]
            )
            put = (
                f"t = {code}(v, {attr!r})\n"
                f"        if t is not None: out.append({start!r} + t + {end!r})"
            )
        else:
            env[code] = _writer(sub, version)
            drop = field.need is Need.OPTIONAL if sub.record is None else sub.absent_when_empty
            put = (
                f"m = len(out); out.append({start!r}); {code}(out, v)\n"
                f"        if {drop} and len(out) == m + 1: del out[m:]\n"
                f"        else: out.append({end!r})"
            )
        if sub is not None and sub.record is None:  # flattened: its children are r's
            lines.append(f"    v = r\n    if True:\n        {put}")
            continue
        lines.append(f"    v = r.{attr}")
        if field.empty:
            lines.append(f"    if v is None: out.append({start + end!r})")
        elif field.need is not Need.OPTIONAL:
            lines.append(
                f"    if v is None: raise EncodeError({attr!r}, 'the XSD requires {field.element}')"
            )
        if field.many:
            if field.most is not None:
                lines.append(
                    f"    if len(v) > {field.most}:"
                    f" raise EncodeError({attr!r}, 'v{version.value} allows {field.most}')"
                )
            if sub is not None and sub.record is Placed:
                lines.append("    v = [Placed(n, a) for n, a in enumerate(v, 1)]")
            lines.append(f"    for v in v:\n        {put}")
        else:
            lines.append(f"    if v is not None:\n        {put}")
    if len(lines) == 1:
        lines.append("    pass")
    if table.choice:
        written = _choice(table, version)
    else:
        exec("\n".join(lines), env)
        written = env["write"]
    _WRITERS[version.value][table] = written
    return written


@cache
def _content(table: Structure) -> tuple[Callable[[object], tuple[object, ...]], tuple[None, ...]]:
    """A getter of the attributes an alternative of a choice writes, and what empty is."""
    names = [field.attr for field in table.fields if field.attr]
    return attrgetter(*names, "__class__"), (None,) * len(names)


def _has_content(table: Structure, record: object) -> bool:
    """Whether ``record`` sets any attribute the alternative ``table`` writes."""
    get, empty = _content(table)
    return bool(get(record)[:-1] != empty)


def _choice(table: Structure, version: Version) -> _Writer:
    """A choice's writer: the one alternative with content (the last when none has)."""
    alternatives = [f for f in table.fields if version in f.versions and f.structure]

    def write(out: list[str], record: object) -> None:
        chosen = [f for f in alternatives if f.structure and _has_content(f.structure, record)]
        if len(chosen) > 1:
            names = " or ".join(f.element for f in alternatives)
            raise EncodeError(type(record).__name__, f"either {names}, not both")
        field = (chosen or alternatives[-1:])[0]
        assert field.structure is not None
        out.append(f"<{field.element}>")
        _writer(field.structure, version)(out, record)
        out.append(f"</{field.element}>")

    return write


def encode(message: DecodedMessage, *, version: Version | str = Version.V1_2) -> bytes:
    """Encode a message or confirmation as an ISO 18626 document (UTF-8 bytes).

    Raises :class:`EncodeError` when the record cannot be said validly in ``version``
    (or holds text XML cannot carry, such as control characters).
    """
    try:
        chosen = version if isinstance(version, Version) else Version(version)
    except ValueError:
        raise EncodeError("version", f"unsupported version {version!r}") from None
    if isinstance(message, Confirmation):
        element, table = CONFIRMATIONS[message.confirms]
    elif isinstance(message, Request | SupplyingAgencyMessage | RequestingAgencyMessage):
        element, table = _ROOTS[type(message)]
    else:
        raise EncodeError("message", f"cannot encode {type(message).__name__}")
    out = [_PROLOGUE[chosen], f"<{element}>"]
    try:
        _writer(table, chosen)(out, message)
    except EncodeError:
        raise
    except ValueError as exc:  # text XML cannot carry
        raise EncodeError("text", str(exc)) from None
    out.append(f"</{element}>{_EPILOGUE}")
    return "".join(out).encode("utf-8")
