"""Staff API input, checked at the edge: one declarative schema per endpoint.

Every staff call is checked here before its handler runs, against the table
:data:`ENDPOINTS` (path and query parameters, and the JSON body) and, for the actions on
one request, :data:`ACTION_BODIES`. A schema is made of a few kinds of field
(:class:`Text`, :class:`Integer`, :class:`Number`, :class:`Flag`, :class:`Choice`,
:class:`Moment`, :class:`Day`, :class:`Amount`, :class:`Many`, :class:`Shape`), each
with its bounds; anything else (an unknown key, a wrong type, a value out of range, a
string with a control character, an object or a list where the schema has none, a body
nested too deeply to parse) is an :class:`~resource_sharing.errors.InvalidInput` naming
the field (``citation.title``, ``rota[2]``, ``limit``), which the staff API answers
with a 400.

The bounds are those of what the node must later do with the value: every string is
one the ISO 18626 encoder can write (XML 1.0 characters only: no C0 or C1 control
characters except tab and line breaks in free text, no lone surrogates, no U+FFFE or
U+FFFF), every number one the stores can keep (integers within 64 bits), every amount a
finite decimal. So nothing reaches the store that the codec cannot send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol, final

import attrs
from starlette.requests import Request as HttpRequest

from resource_sharing.effects import TaskList
from resource_sharing.errors import InvalidInput
from resource_sharing.events import CancelledBy
from resource_sharing.iso18626 import ServiceType
from resource_sharing.ports import OutboxStatus, TaskChoice
from resource_sharing.records import Side

__all__ = [
    "ACTION_BODIES",
    "ENDPOINTS",
    "Amount",
    "Choice",
    "Day",
    "Endpoint",
    "Flag",
    "Integer",
    "Many",
    "Moment",
    "Number",
    "Shape",
    "Spec",
    "Text",
    "check_request",
    "json_body",
    "parse_json",
]

# XML 1.0 refuses C0 controls (but tab, LF, CR), surrogates, U+FFFE and U+FFFF; we also
# refuse DEL and the C1 controls, which no catalogue or patron field means to carry.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_DIGITS = re.compile(r"-?[0-9]{1,19}")
_INT64 = (1 << 63) - 1
_YEARS = (1900, 2999)


class Spec(Protocol):
    """One field's rule: ``check`` returns the value or raises InvalidInput at ``where``."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The value if it satisfies the rule (query values arrive as strings)."""
        ...


@final
@attrs.frozen
class Text:
    """A string of ``min_length`` to ``max_length`` characters, without control characters.

    ``multiline`` allows tab, line feed and carriage return (notes, reasons).
    """

    max_length: int = 200
    """At most this many characters."""
    min_length: int = 1
    """At least this many."""
    multiline: bool = False
    """Whether tab and line breaks are allowed."""
    pattern: str | None = None
    """A regular expression the whole string must match, if any."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The string, or InvalidInput."""
        if not isinstance(value, str):
            raise InvalidInput(where, f"expected a string, got {_kind(value)}")
        if not self.min_length <= len(value) <= self.max_length:
            raise InvalidInput(where, f"expected {self.min_length} to {self.max_length} characters")
        bad = (_FORBIDDEN if self.multiline else _FORBIDDEN_ONE_LINE).search(value)
        if bad is not None:
            raise InvalidInput(where, f"contains a control character (U+{ord(bad[0]):04X})")
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            raise InvalidInput(where, f"does not match {self.pattern}")
        return value


@final
@attrs.frozen
class Integer:
    """A whole number in ``[minimum, maximum]`` (a decimal string in a query)."""

    minimum: int = 0
    """The smallest allowed."""
    maximum: int = _INT64
    """The largest allowed."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The integer, or InvalidInput."""
        if query and isinstance(value, str):
            if _DIGITS.fullmatch(value) is None:
                raise InvalidInput(where, "expected an integer")
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(where, f"expected an integer, got {_kind(value)}")
        if not self.minimum <= value <= self.maximum:
            raise InvalidInput(where, f"expected an integer from {self.minimum} to {self.maximum}")
        return value


@final
@attrs.frozen
class Number:
    """A finite number in ``[minimum, maximum]``."""

    minimum: float = 0.0
    """The smallest allowed."""
    maximum: float = 1e9
    """The largest allowed."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The number, or InvalidInput."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(where, f"expected a number, got {_kind(value)}")
        if not self.minimum <= value <= self.maximum:  # also refuses NaN
            raise InvalidInput(
                where, f"expected a number from {self.minimum:g} to {self.maximum:g}"
            )
        return value


@final
@attrs.frozen
class Flag:
    """``true`` or ``false``."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The boolean, or InvalidInput."""
        if not isinstance(value, bool):
            raise InvalidInput(where, f"expected true or false, got {_kind(value)}")
        return value


@final
@attrs.frozen
class Choice:
    """One of a closed list of strings (an enum's values)."""

    values: tuple[str, ...]
    """The allowed spellings."""

    @classmethod
    def of(cls, enum: type[StrEnum]) -> Choice:
        """The values of a string enum."""
        return cls(tuple(member.value for member in enum))

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The string, or InvalidInput listing the choices."""
        if not isinstance(value, str) or value not in self.values:
            raise InvalidInput(where, f"expected one of {', '.join(self.values)}")
        return value


@final
@attrs.frozen
class Moment:
    """An ISO 8601 date and time with a UTC offset, years 1900 to 2999.

    The bound keeps the core's date arithmetic (a due date plus a loan period) in range.
    """

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The string, or InvalidInput."""
        Text(max_length=40).check(value, where)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(where, "expected an ISO 8601 date and time") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInput(where, "needs a UTC offset (e.g. 'Z' or '+01:00')")
        if not _YEARS[0] <= moment.year <= _YEARS[1]:
            raise InvalidInput(where, f"expected a year from {_YEARS[0]} to {_YEARS[1]}")
        return value


@final
@attrs.frozen
class Day:
    """An ISO 8601 date (``2026-09-30``), years 1900 to 2999."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The string, or InvalidInput."""
        Text(max_length=10, min_length=10).check(value, where)
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(where, "expected an ISO 8601 date (YYYY-MM-DD)") from None
        if not _YEARS[0] <= day.year <= _YEARS[1]:
            raise InvalidInput(where, f"expected a year from {_YEARS[0]} to {_YEARS[1]}")
        return value


@final
@attrs.frozen
class Amount:
    """A finite decimal amount (a number or a numeric string) from 0 to ``maximum``."""

    maximum: Decimal = Decimal(10**9)
    """The largest allowed."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The value, or InvalidInput."""
        if isinstance(value, str):
            Text(max_length=20).check(value, where)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(where, f"expected a number or a numeric string, got {_kind(value)}")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise InvalidInput(where, "not a number") from None
        if not amount.is_finite() or not 0 <= amount <= self.maximum:
            raise InvalidInput(where, f"expected an amount from 0 to {self.maximum}")
        if amount != round(amount, 4):
            raise InvalidInput(where, "at most four decimal places")
        return value


@final
@attrs.frozen
class Many:
    """A JSON array of at most ``max_items`` values, each checked by ``item``."""

    item: Spec
    """The rule for each element."""
    max_items: int = 50
    """The longest allowed."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The list, or InvalidInput naming the element at fault."""
        if not isinstance(value, list):
            raise InvalidInput(where, f"expected a list, got {_kind(value)}")
        if len(value) > self.max_items:
            raise InvalidInput(where, f"at most {self.max_items} items")
        return [self.item.check(v, f"{where}[{n}]") for n, v in enumerate(value)]


@final
@attrs.frozen
class Shape:
    """A JSON object with these keys (and no others); ``required`` ones must be present.

    ``null`` stands for an absent optional key.
    """

    fields: Mapping[str, Spec]
    """Each allowed key and its rule."""
    required: frozenset[str] = frozenset()
    """The keys that must be present (and not null)."""

    def check(self, value: Any, where: str, *, query: bool = False) -> Any:
        """The object, or InvalidInput naming the first key at fault."""
        if not isinstance(value, Mapping):
            raise InvalidInput(where or "body", f"expected an object, got {_kind(value)}")
        prefix = f"{where}." if where else ""
        unknown = sorted(k for k in value if k not in self.fields)
        if unknown:
            names = ", ".join(f"{prefix}{k}" for k in unknown)
            raise InvalidInput(names, "unknown key(s); expected " + ", ".join(self.fields))
        for key in sorted(self.required):
            if value.get(key) is None:
                raise InvalidInput(f"{prefix}{key}", "required")
        for key, spec in self.fields.items():
            found = value.get(key)
            if found is not None:
                spec.check(found, f"{prefix}{key}", query=query)
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


def _shape(required: str | tuple[str, ...] = (), **fields: Spec) -> Shape:
    needed = (required,) if isinstance(required, str) else required
    return Shape(fields, frozenset(needed))


# -- the fields the staff API knows ----------------------------------------------------

NAME = Text(200)
ID = Text(200)
BARCODE = Text(100)
NOTE = Text(2000, multiline=True)
AGENCY = Text(100, pattern=r"[^\s:]+(:[^\s:]+)?")
LENDERS = Many(AGENCY, 100)
SIDE = Choice.of(Side)
SEQ = Integer(0, _INT64)
IDENTIFIER = _shape(("code", "value"), code=Text(50), value=Text(200))
PATRON = _shape("id", id=ID, name=NAME, group=Text(100), email=Text(254))
CITATION = _shape(
    (),
    title=Text(1000),
    author=Text(500),
    subtitle=Text(1000),
    series_title=Text(1000),
    edition=Text(200),
    title_of_component=Text(1000),
    author_of_component=Text(500),
    volume=Text(100),
    issue=Text(100),
    pages_requested=Text(100),
    item_ids=Many(IDENTIFIER, 20),
    record_ids=Many(IDENTIFIER, 20),
    supplier_unique_record_id=Text(200),
    publisher=Text(500),
    publication_type=Text(100),
    publication_date=Text(50),
    place_of_publication=Text(200),
)
MONEY = _shape(("amount", "currency"), amount=Amount(), currency=Text(3, 3, pattern="[A-Z]{3}"))
ITEM = _shape(
    "barcode",
    barcode=BARCODE,
    call_number=Text(200),
    location=NAME,
    desk=NAME,
    home_library=NAME,
)
_NOTE_ONLY = _shape(note=NOTE)
_NOTHING = _shape()


@final
@attrs.frozen
class Endpoint:
    """What one staff call may carry: path parameters, query parameters and a JSON body.

    ``body`` None means the call takes no body (an empty one, or ``{}``, is accepted).
    """

    path: Shape = _NOTHING
    """Path parameters (strings from the URL)."""
    query: Shape = _NOTHING
    """Query parameters (strings, each given once)."""
    body: Shape | None = None
    """The JSON object the call takes."""


TASK_CHOICE = Choice(("retry-now", "mark-done", "drop"))
"""A staff choice on a delivery task, as the URL names it."""
_SINCE = _shape(since=SEQ, limit=Integer(1, 1000))
_BARCODE_AT = _shape("barcode", barcode=BARCODE, desk=NAME)

ENDPOINTS: Mapping[str, Endpoint] = {
    "info": Endpoint(),
    "changes": Endpoint(query=_SINCE),
    "journal": Endpoint(query=_SINCE),
    "outbox": Endpoint(query=_shape(status=Choice.of(OutboxStatus))),
    "find": Endpoint(
        query=_shape(
            ("side", "protocol_id", "counterpart"),
            side=SIDE,
            protocol_id=ID,
            counterpart=AGENCY,
        )
    ),
    "tasks": Endpoint(
        path=_shape("task_list", task_list=Choice.of(TaskList)),
        query=_shape(desk=NAME, limit=Integer(1, 1000), offset=Integer(0, 10**9)),
    ),
    "show": Endpoint(path=_shape(("side", "id"), side=SIDE, id=ID)),
    "task": Endpoint(path=_shape("task_id", task_id=ID)),
    "choose_task": Endpoint(
        path=_shape("task_id", task_id=ID),
        body=_shape("choice", choice=Choice.of(TaskChoice), note=NOTE, by=NAME),
    ),
    "place": Endpoint(
        body=_shape(
            ("patron", "citation"),
            patron=PATRON,
            citation=CITATION,
            service_type=Choice.of(ServiceType),
            pickup_location=NAME,
            note=NOTE,
            max_cost=MONEY,
            need_before=Day(),
            rota=LENDERS,
        )
    ),
    "act": Endpoint(path=_shape(("side", "id", "action"), side=SIDE, id=ID, action=Text(50))),
    "scan": Endpoint(body=_BARCODE_AT),
    "return_item": Endpoint(body=_shape("barcode", barcode=BARCODE, desk=NAME, request_id=ID)),
    "check_in": Endpoint(body=_shape("barcode", barcode=BARCODE, request_id=ID)),
    "local_hold": Endpoint(body=_shape("barcode", barcode=BARCODE, patron_id=ID, request_id=ID)),
    "delivery_tasks": Endpoint(
        query=_shape(desk=NAME, limit=Integer(1, 1000), offset=Integer(0, 10**9))
    ),
    "delivery_task": Endpoint(path=_shape("task_id", task_id=ID)),
    "request_tasks": Endpoint(path=_shape(("side", "id"), side=SIDE, id=ID)),
    "resolve_task": Endpoint(
        path=_shape(
            ("task_id", "choice"), task_id=ID, choice=Choice(("retry-now", "mark-done", "drop"))
        ),
        body=_shape(by=NAME, note=NOTE),
    ),
    "dispatch": Endpoint(body=_NOTHING),
    "tick": Endpoint(body=_NOTHING),
    "sweep": Endpoint(body=_NOTHING),
    "clock": Endpoint(body=_shape(advance_seconds=Number(0, 100 * 366 * 86400.0), to=Moment())),
}
"""Each staff handler's schema, by handler name."""

ACTION_BODIES: Mapping[tuple[Side, str], Shape] = {
    (Side.BORROWING, "approve"): _shape(rota=LENDERS),
    (Side.BORROWING, "add-lenders"): _shape(lenders=LENDERS),
    (Side.BORROWING, "cancel"): _shape(by=Choice.of(CancelledBy), reason=NOTE),
    (Side.BORROWING, "accept-conditions"): _NOTE_ONLY,
    (Side.BORROWING, "reject-conditions"): _NOTE_ONLY,
    (Side.BORROWING, "accept-retry"): _shape(max_cost=MONEY),
    (Side.BORROWING, "decline-retry"): _NOTHING,
    (Side.BORROWING, "receive"): _shape(barcode=BARCODE),
    (Side.BORROWING, "check-out"): _NOTHING,
    (Side.BORROWING, "deliver-copy"): _NOTHING,
    (Side.BORROWING, "renew"): _shape(requested_due=Moment(), by_staff=Flag()),
    (Side.BORROWING, "approve-renewal"): _NOTHING,
    (Side.BORROWING, "deny-renewal"): _shape(reason=NOTE),
    (Side.BORROWING, "ship-return"): _NOTE_ONLY,
    (Side.BORROWING, "report-lost"): _NOTE_ONLY,
    (Side.BORROWING, "report-damaged"): _NOTE_ONLY,
    (Side.BORROWING, "status-request"): _NOTE_ONLY,
    (Side.LENDING, "supply"): _shape(item=ITEM),
    (Side.LENDING, "locate-failed"): _shape(reason=NOTE),
    (Side.LENDING, "will-supply"): _NOTE_ONLY,
    (Side.LENDING, "reject"): _shape(reason=NOTE, note=NOTE),
    (Side.LENDING, "offer-retry"): _shape(
        reason=NOTE, retry_after=Moment(), offered_costs=MONEY, note=NOTE
    ),
    (Side.LENDING, "offer-conditions"): _shape(condition=NOTE, note=NOTE),
    (Side.LENDING, "pick"): _NOTHING,
    (Side.LENDING, "arrive"): _NOTHING,
    (Side.LENDING, "ship"): _NOTE_ONLY,
    (Side.LENDING, "answer-renewal"): _shape(approve=Flag(), due=Moment()),
    (Side.LENDING, "answer-cancel"): _shape(accept=Flag(), note=NOTE),
    (Side.LENDING, "recall"): _NOTE_ONLY,
    (Side.LENDING, "mark-lost"): _NOTE_ONLY,
}
"""The body of each action on one request, by (side, URL name)."""


# -- reading and checking --------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise InvalidInput("body", f"{name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise InvalidInput(f"body.{key}", "given twice")
        found[key] = value
    return found


def parse_json(raw: bytes) -> Any:
    """A JSON document, strictly: UTF-8, no NaN or Infinity, no repeated keys.

    Malformed JSON, and JSON nested too deeply for the parser, is an InvalidInput.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("body", "not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise InvalidInput("body", "nested too deeply") from None
    except InvalidInput:
        raise
    except ValueError:
        raise InvalidInput("body", "not valid JSON") from None


async def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object body (``{}`` when empty); parsed once per request."""
    cached = getattr(request.state, "json_body", None)
    if isinstance(cached, dict):
        return cached
    raw = await request.body()
    data = parse_json(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise InvalidInput("body", f"expected a JSON object, got {_kind(data)}")
    request.state.json_body = data
    return data


async def check_request(endpoint: str, request: HttpRequest) -> None:
    """Check a staff call against its schema; InvalidInput naming the field if it fails.

    ``endpoint`` is the handler's name in :data:`ENDPOINTS`. An unknown action on a
    request is left to the handler (it answers 404).
    """
    spec = ENDPOINTS.get(endpoint)
    if spec is None:
        raise InvalidInput("endpoint", f"no schema for {endpoint!r}")
    spec.path.check(dict(request.path_params), "", query=True)
    params = request.query_params
    for key in params:
        if len(params.getlist(key)) > 1:
            raise InvalidInput(key, "given more than once")
    spec.query.check(dict(params), "", query=True)
    if endpoint == "act":
        body = ACTION_BODIES.get((Side(request.path_params["side"]), request.path_params["action"]))
        if body is None:
            return
        body.check(await json_body(request), "")
    elif spec.body is not None:
        spec.body.check(await json_body(request), "")
    elif (await request.body()).strip():
        raise InvalidInput("body", "this call takes no body")
