"""A tiny ILS answering NCIP 2.02 on loopback, written from the standard for the tests.

It validates every incoming message against ``../shared/ncip/ncip_v2_02.xsd`` (an
invalid one is recorded in ``invalid`` and answered with ``Invalid Message Syntax
Error``), reads it strictly by the schema's namespace, keeps users, items, loans and
holds, and answers each service as the standard says, Problems included. It also
validates its own answers, so a test can trust them. Faults can be queued: ``drop``
(carry out the request, then close the connection without answering: a lost answer),
``500`` (mod-ncip's non-NCIP error body), ``temporary`` (a Temporary Processing
Failure) and ``slow`` (answer after ``slow_seconds``).

The server runs in one thread, serves until :meth:`LoopbackIls.stop` and stops itself
after ``lifetime`` seconds whatever happens, so no test can leave it running.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lxml import etree

from resource_sharing_adapters.ncip import PROFILES, IlsProfile, NcipConfig

NS = "http://www.niso.org/2008/ncip"
_N = {"n": NS}
VERSION = "http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"


@dataclass
class User:
    """A patron (or an institution's account) of the ILS."""

    id: str
    name: str
    email: str | None = None
    group: str = "undergrad"
    blocked: bool = False
    expires: datetime = datetime(2099, 1, 1, tzinfo=UTC)


@dataclass
class Item:
    """An item; ``temporary`` ones were made by AcceptItem."""

    barcode: str
    title: str
    home: str = "Main Library"
    temporary: bool = False
    request_id: str | None = None
    pickup: str | None = None
    date_for_return: datetime | None = None


@dataclass
class Hold:
    """A hold on an item for a user at a pickup location."""

    barcode: str
    user: str
    pickup: str | None


@dataclass
class Loan:
    """An item lent to a user until ``due``."""

    user: str
    due: datetime


@dataclass
class IlsState:
    """Everything the ILS knows, and every message it was sent."""

    users: dict[str, User] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    loans: dict[str, Loan] = field(default_factory=dict)
    holds: list[Hold] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    received: list[tuple[str, str | None]] = field(default_factory=list)
    """(service, idempotency key) of every valid message, in order."""
    invalid: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def _e(name: str, *children: etree._Element | str | None) -> etree._Element:
    made = etree.Element(f"{{{NS}}}{name}", nsmap={"ncip": NS})
    for child in children:
        if isinstance(child, str):
            made.text = child
        elif child is not None:
            made.append(child)
    return made


def _id(kind: str, value: str) -> etree._Element:
    return _e(f"{kind}Id", _e(f"{kind}IdentifierValue", value))


def _date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _location(name: str) -> etree._Element:
    return _e(
        "Location",
        _e("LocationType", "Permanent Location"),
        _e(
            "LocationName",
            _e("LocationNameInstance", _e("LocationNameLevel", "1"), _e("LocationNameValue", name)),
        ),
    )


def _problem(kind: str, detail: str, element: str | None = None, value: str | None = None) -> Any:
    return _e(
        "Problem",
        _e("ProblemType", kind),
        _e("ProblemDetail", detail),
        None if element is None else _e("ProblemElement", element),
        None if value is None else _e("ProblemValue", value),
    )


def config_for(
    server: LoopbackIls, profile: str | IlsProfile = "generic", **overrides: object
) -> NcipConfig:
    """A configuration of the adapter for the loopback ILS."""
    values: dict[str, object] = {
        "endpoint": server.url,
        "from_agency": "US-B",
        "to_agency": server.agency,
        "profile": PROFILES[profile] if isinstance(profile, str) else profile,
        "timeout": 5.0,
        "pickup_locations": {"Main desk": "MAIN"},
    }
    values.update(overrides)
    return NcipConfig(**values)  # type: ignore[arg-type]


class LoopbackIls:
    """The ILS and its HTTP server on 127.0.0.1 (an ephemeral port)."""

    def __init__(
        self,
        xsd: Path,
        *,
        agency: str = "ILS",
        authentication: str | None = None,
        api_key: tuple[str, str] | None = None,
        basic: tuple[str, str] | None = None,
        lifetime: float = 120.0,
        slow_seconds: float = 2.0,
    ) -> None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        self.schema = etree.XMLSchema(etree.parse(str(xsd), parser))
        self.state = IlsState()
        self.agency = agency
        self.authentication = authentication
        self.api_key = api_key
        self.basic = basic
        self.faults: list[str] = []
        self.slow_seconds = slow_seconds
        self.now = datetime(2026, 9, 7, 9, tzinfo=UTC)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._watchdog = threading.Timer(lifetime, self.stop)
        self._watchdog.daemon = True

    @property
    def url(self) -> str:
        """Where to POST."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/ncip"

    def start(self) -> LoopbackIls:
        """Serve in a thread (and arm the watchdog)."""
        self._thread.start()
        self._watchdog.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (safe to call twice)."""
        self._watchdog.cancel()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    # -- HTTP ---------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ils = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests assert on the state, not on a log."""

            def do_GET(self) -> None:
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                status, body, drop = ils._respond(data, dict(self.headers.items()))
                if drop:
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _respond(self, data: bytes, headers: dict[str, str]) -> tuple[int, bytes, bool]:
        with self._lock:
            self.state.headers.append(headers)
            fault = self.faults.pop(0) if self.faults else None
            if fault == "500":
                return (
                    500,
                    b"<Problem><message>boom</message><exception>NPE</exception></Problem>",
                    False,
                )
            if not self._http_auth_ok(headers):
                return 401, b"unauthorised", False
            if fault == "slow":
                time.sleep(self.slow_seconds)
            answer = self._answer(data, fault)
            assert self.schema.validate(answer), self.schema.error_log
            body = etree.tostring(answer, xml_declaration=True, encoding="UTF-8")
            return 200, body, fault == "drop"

    def _http_auth_ok(self, headers: dict[str, str]) -> bool:
        lower = {k.casefold(): v for k, v in headers.items()}
        if self.api_key is not None and lower.get(self.api_key[0].casefold()) != self.api_key[1]:
            return False
        if self.basic is not None:
            token = base64.b64encode(f"{self.basic[0]}:{self.basic[1]}".encode()).decode()
            return lower.get("authorization") == f"Basic {token}"
        return True

    # -- NCIP ---------------------------------------------------------------------------

    def _answer(self, data: bytes, fault: str | None) -> etree._Element:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            self.state.invalid.append(str(exc))
            return self._envelope(_problem("Invalid Message Syntax Error", str(exc)))
        if not self.schema.validate(root):
            errors = str(self.schema.error_log)
            self.state.invalid.append(errors)
            return self._envelope(_problem("Invalid Message Syntax Error", errors[:500]))
        service = root[0]
        name = etree.QName(service).localname
        key = service.findtext("n:Ext/n:RequestId/n:RequestIdentifierValue", namespaces=_N)
        self.state.received.append((name, key))
        auth = service.findtext("n:InitiationHeader/n:FromAgencyAuthentication", namespaces=_N)
        if self.authentication is not None and auth != self.authentication:
            return self._envelope(
                _problem(
                    "Agency Authentication Failed",
                    "FromAgencyAuthentication is wrong",
                    "InitiationHeader/FromAgencyAuthentication",
                )
            )
        if fault == "temporary":
            return self._envelope(_problem("Temporary Processing Failure", "try again later"))
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return self._envelope(_problem("Unsupported Service", name, "NCIPMessage", name))
        body: etree._Element = handler(service)
        return self._envelope(body)

    def _envelope(self, body: etree._Element) -> etree._Element:
        root = _e("NCIPMessage", body)
        root.set(f"{{{NS}}}version", VERSION)
        return root

    @staticmethod
    def _text(service: etree._Element, path: str) -> str | None:
        return service.findtext(path, namespaces=_N)

    def _when(self, service: etree._Element, path: str) -> datetime | None:
        text = self._text(service, path)
        return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))

    def _LookupUser(self, service: etree._Element) -> etree._Element:  # noqa: N802
        user_id = self._text(service, "n:UserId/n:UserIdentifierValue") or ""
        user = self.state.users.get(user_id)
        if user is None:
            return _e(
                "LookupUserResponse",
                _problem("Unknown User", "no such user", "UserId", user_id),
            )
        blocks = []
        if user.blocked:
            blocks.append(
                _e("BlockOrTrap", _e("AgencyId", self.agency), _e("BlockOrTrapType", "Fines"))
            )
        return _e(
            "LookupUserResponse",
            _id("User", user.id),
            _e(
                "UserOptionalFields",
                _e(
                    "NameInformation",
                    _e("PersonalNameInformation", _e("UnstructuredPersonalUserName", user.name)),
                ),
                None
                if user.email is None
                else _e(
                    "UserAddressInformation",
                    _e("UserAddressRoleType", "Home"),
                    _e(
                        "ElectronicAddress",
                        _e("ElectronicAddressType", "mailto"),
                        _e("ElectronicAddressData", user.email),
                    ),
                ),
                _e(
                    "UserPrivilege",
                    _e("AgencyId", self.agency),
                    _e("AgencyUserPrivilegeType", "PROFILE"),
                    _e("ValidToDate", _date(user.expires)),
                    _e("UserPrivilegeStatus", _e("UserPrivilegeStatusType", user.group)),
                ),
                *blocks,
            ),
        )

    def _AcceptItem(self, service: etree._Element) -> etree._Element:  # noqa: N802
        request_id = self._text(service, "n:RequestId/n:RequestIdentifierValue") or ""
        barcode = self._text(service, "n:ItemId/n:ItemIdentifierValue") or request_id
        if barcode in self.state.items:
            return _e("AcceptItemResponse", _problem("Duplicate Item", "exists", "ItemId", barcode))
        title = self._text(service, "n:ItemOptionalFields/n:BibliographicDescription/n:Title")
        if title is None:
            return _e(
                "AcceptItemResponse",
                _problem("Needed Data Missing", "a title", "BibliographicDescription/Title"),
            )
        pickup = self._text(service, "n:PickupLocation")
        self.state.items[barcode] = Item(
            barcode,
            title,
            home="Interlibrary Loan",
            temporary=True,
            request_id=request_id,
            pickup=pickup,
            date_for_return=self._when(service, "n:DateForReturn"),
        )
        user = self._text(service, "n:UserId/n:UserIdentifierValue")
        if user is not None:
            self.state.holds.append(Hold(barcode, user, pickup))
        return _e("AcceptItemResponse", _id("Request", request_id), _id("Item", barcode))

    def _CheckOutItem(self, service: etree._Element) -> etree._Element:  # noqa: N802
        user_id = self._text(service, "n:UserId/n:UserIdentifierValue") or ""
        barcode = self._text(service, "n:ItemId/n:ItemIdentifierValue") or ""
        user = self.state.users.get(user_id)
        if user is None:
            return _e(
                "CheckOutItemResponse", _problem("Unknown User", "no such user", "UserId", user_id)
            )
        if user.blocked:
            return _e("CheckOutItemResponse", _problem("User Blocked", "fines", "UserId", user_id))
        if barcode not in self.state.items:
            return _e(
                "CheckOutItemResponse", _problem("Unknown Item", "no such item", "ItemId", barcode)
            )
        loan = self.state.loans.get(barcode)
        if loan is not None and loan.user != user_id:
            return _e(
                "CheckOutItemResponse",
                _problem("Item Checked Out To Another User", "on loan", "ItemId", barcode),
            )
        due = self._when(service, "n:DesiredDateDue") or self.now + timedelta(days=21)
        self.state.loans[barcode] = Loan(user_id, due)
        self.state.holds = [
            h for h in self.state.holds if not (h.barcode == barcode and h.user == user_id)
        ]
        return _e(
            "CheckOutItemResponse",
            _id("Item", barcode),
            _id("User", user_id),
            _e("DateDue", _date(due)),
        )

    def _CheckInItem(self, service: etree._Element) -> etree._Element:  # noqa: N802
        barcode = self._text(service, "n:ItemId/n:ItemIdentifierValue") or ""
        item = self.state.items.get(barcode)
        if item is None:
            return _e(
                "CheckInItemResponse", _problem("Unknown Item", "no such item", "ItemId", barcode)
            )
        if self.state.loans.pop(barcode, None) is None:
            return _e(
                "CheckInItemResponse",
                _problem("Item Not Checked Out", "not on loan", "ItemId", barcode),
            )
        hold = next((h for h in self.state.holds if h.barcode == barcode), None)
        if hold is not None:
            routing = _e(
                "RoutingInformation",
                _e("RoutingInstructions", "Hold shelf for a local patron"),
                _e("Destination", _location(hold.pickup or item.home)),
                _e("RequestType", "Hold"),
                _id("User", hold.user),
            )
        elif item.home != "Main Library":
            routing = _e(
                "RoutingInformation",
                _e("RoutingInstructions", f"In transit to {item.home}"),
                _e("Destination", _location(item.home)),
            )
        else:
            routing = _e(
                "RoutingInformation",
                _e("RoutingInstructions", "Send to home location"),
                _e("Destination", _location(item.home)),
            )
        return _e("CheckInItemResponse", _id("Item", barcode), routing)

    def _DeleteItem(self, service: etree._Element) -> etree._Element:  # noqa: N802
        barcode = self._text(service, "n:ItemId/n:ItemIdentifierValue") or ""
        if self.state.items.pop(barcode, None) is None:
            return _e(
                "DeleteItemResponse", _problem("Unknown Item", "no such item", "ItemId", barcode)
            )
        self.state.deleted.append(barcode)
        self.state.holds = [h for h in self.state.holds if h.barcode != barcode]
        return _e("DeleteItemResponse", _id("Item", barcode))

    def _RenewItem(self, service: etree._Element) -> etree._Element:  # noqa: N802
        barcode = self._text(service, "n:ItemId/n:ItemIdentifierValue") or ""
        loan = self.state.loans.get(barcode)
        if loan is None:
            return _e(
                "RenewItemResponse",
                _problem("Item Not Checked Out", "not on loan", "ItemId", barcode),
            )
        loan.due = self._when(service, "n:DesiredDateDue") or loan.due + timedelta(days=14)
        return _e("RenewItemResponse", _id("Item", barcode), _e("DateDue", _date(loan.due)))

    def _RecallItem(self, service: etree._Element) -> etree._Element:  # noqa: N802
        barcode = self._text(service, "n:ItemId/n:ItemIdentifierValue") or ""
        loan = self.state.loans.get(barcode)
        if loan is None:
            return _e(
                "RecallItemResponse",
                _problem("Item Not Checked Out", "not on loan", "ItemId", barcode),
            )
        loan.due = self._when(service, "n:DesiredDateDue") or self.now
        return _e("RecallItemResponse", _id("Item", barcode), _e("DateDue", _date(loan.due)))
