"""The Circulation port over NCIP: what each circulation command becomes in the ILS.

=========================  =============================================================
command                    NCIP (REPORT.md §3, the ReShare/crosslink flow)
=========================  =============================================================
create_temporary_item      AcceptItem: temporary barcode as ItemId, our request id as
                           RequestId, the patron, DateForReturn, the brief record, the
                           pickup location; the ILS creates the item and the hold
place_on_hold_shelf        nothing: AcceptItem placed the hold at the pickup location
check_out_to_patron        CheckOutItem to the patron, unless AcceptItem already lent it
renew_patron_loan          RenewItem with DesiredDateDue
recall_patron_loan         RecallItem with DesiredDateDue (or RenewItem, per profile)
check_in                   CheckInItem; its RoutingInformation (or the item's location)
                           becomes the operator's instruction
delete_temporary_item      DeleteItem (or nothing when the ILS removes it by itself)
check_out_to_partner       CheckOutItem to the borrowing institution's patron account
route_item                 nothing: the routing came from the ILS at check-in
=========================  =============================================================

Idempotency: every call takes the outbox's ``key``. It travels in the message (``Ext``);
a key this adapter has completed is answered from memory without asking again; and the
ILS's "already done" answers (a CheckInItem of an item not on loan, a DeleteItem of an
unknown item, an AcceptItem of a duplicate item: the profile's ``already_done``) count as
success, so a retry after a lost answer changes nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar, final

from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    PlaceOnHoldShelf,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
)
from resource_sharing.errors import DeliveryError
from resource_sharing.records import Citation
from resource_sharing_adapters.ncip._client import NcipClient
from resource_sharing_adapters.ncip._config import Removal
from resource_sharing_adapters.ncip._errors import NcipProblem, NcipUnsupported
from resource_sharing_adapters.ncip._message import NcipMessage, Node
from resource_sharing_adapters.ncip._services import (
    AcceptItem,
    BibliographicDescription,
    CheckInItem,
    CheckOutItem,
    DeleteItem,
    RecallItem,
    RenewItem,
    Request,
)

__all__ = ["NcipCirculation", "routing_instruction"]

_REMEMBERED = 4096
"""How many completed keys (and patrons of temporary items) are kept in memory."""


_V = TypeVar("_V")


class _Recent(Generic[_V]):
    """A bounded mapping: the oldest entries are forgotten first."""

    def __init__(self, size: int = _REMEMBERED) -> None:
        self._items: OrderedDict[str, _V] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()  # dispatchers may deliver from several threads

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: str) -> _V | None:
        """The value kept for ``key``, or None."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: str, value: _V) -> None:
        """Keep ``value`` for ``key``, forgetting the oldest entry when full."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def pop(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._items.pop(key, None)


def _normal(problem_type: str) -> str:
    # Koha's old server spelled it "Unkown"; compare the words, not the typo.
    return problem_type.casefold().replace("unkown", "unknown").strip()


def _brief(citation: Citation) -> BibliographicDescription:
    code, value = None, None
    for ident in citation.item_ids:
        if ident.code.upper() in {"ISBN", "ISSN"}:
            code, value = ident.code.upper(), ident.value
            break
    return BibliographicDescription(
        title=citation.title,
        author=citation.author,
        identifier=value,
        identifier_code=code,
        publisher=citation.publisher,
        publication_date=citation.publication_date,
    )


def _location_name(location: Node | None) -> str | None:
    if location is None:
        return None
    instances = location.first("LocationName")
    if instances is None:
        return location.text or None
    names = [i.text_of("LocationNameValue") for i in instances.all("LocationNameInstance")]
    return " / ".join(name for name in names if name) or None


def routing_instruction(answer: NcipMessage) -> str | None:
    """The operator's instruction in a CheckInItemResponse, in words (None when it has none).

    RoutingInformation wins: its RoutingInstructions, then the Destination (a location or
    a bin), then who it is held for. Without routing, an item location in
    ItemOptionalFields means "send to home location".
    """
    body = answer.body
    routing = body.first("RoutingInformation")
    if routing is not None:
        text = routing.text_of("RoutingInstructions") or "Route the item"
        destination = routing.first("Destination")
        where = None
        if destination is not None:
            where = _location_name(destination.first("Location")) or destination.text_of(
                "BinNumber"
            )
        if where and where.casefold() not in text.casefold():
            text = f"{text}: {where}"
        user = routing.text_of("UserId", "UserIdentifierValue")
        if user:
            kind = routing.text_of("RequestType") or "request"
            text = f"{text} ({kind} for patron {user})"
        return text
    fields = body.first("ItemOptionalFields")
    if fields is not None:
        home = _location_name(fields.first("Location"))
        if home:
            return f"Send to home location {home}"
    return None


@final
class NcipCirculation:
    """A :class:`~resource_sharing.ports.Circulation` that drives an ILS over NCIP 2.02."""

    def __init__(self, client: NcipClient) -> None:
        self.client = client
        """The NCIP client of the ILS (its config says what the ILS supports)."""
        self._done: _Recent[str | None] = _Recent()
        self._patrons: _Recent[str] = _Recent()

    def _call(self, request: Request, key: str) -> NcipMessage | None:
        """Send, or None when the ILS says it was done already."""
        try:
            return self.client.call(request, key=key)
        except NcipProblem as exc:
            done = self.client.config.profile.already_done.get(request.SERVICE, frozenset())
            if exc.problems and all(_normal(p.type) in done for p in exc.problems):
                return None
            raise

    def _unsupported(self, service: str, todo: str) -> NcipUnsupported:
        return NcipUnsupported(self.client.config.name, service, todo)

    def _once(self, key: str, request: Request) -> NcipMessage | None:
        if key in self._done:
            return None
        answer = self._call(request, key)
        self._done.put(key, None)
        return answer

    def create_temporary_item(self, command: CreateTemporaryItem, *, key: str) -> None:
        """AcceptItem: the temporary item, its brief record and the patron's hold."""
        profile = self.client.config.profile
        if not profile.supports("AcceptItem"):
            raise self._unsupported(
                "AcceptItem",
                f"create temporary item {command.barcode} for request {command.request_id}",
            )
        if command.patron is not None:
            self._patrons.put(command.barcode, command.patron.id)
        self._once(
            key,
            AcceptItem(
                request_id=command.request_id,
                requested_action=profile.requested_action,
                item_id=command.barcode,
                user_id=None if command.patron is None else command.patron.id,
                date_for_return=command.due,
                bibliographic=_brief(command.citation),
                pickup_location=self.client.config.pickup_code(command.pickup_location),
            ),
        )

    def place_on_hold_shelf(self, command: PlaceOnHoldShelf, *, key: str) -> None:
        """Nothing to send: AcceptItem placed the hold for the patron at the pickup location."""
        self._patrons.put(command.barcode, command.patron.id)

    def check_out_to_patron(self, command: CheckOutToPatron, *, key: str) -> None:
        """CheckOutItem to the patron (skipped when the ILS lends on AcceptItem)."""
        self._patrons.put(command.barcode, command.patron.id)
        profile = self.client.config.profile
        if profile.accept_checks_out:
            return
        if not profile.supports("CheckOutItem"):
            raise self._unsupported(
                "CheckOutItem", f"check {command.barcode} out to patron {command.patron.id}"
            )
        self._once(
            key,
            CheckOutItem(
                user_id=command.patron.id,
                item_id=command.barcode,
                request_id=command.request_id,
                desired_due=command.due,
            ),
        )

    def _move_due(
        self,
        service: str,
        command: RenewPatronLoan | RecallPatronLoan,
        key: str,
        todo: str,
    ) -> None:
        barcode, due = command.barcode, command.due
        if service == "RecallItem":
            self._once(key, RecallItem(barcode, due))
            return
        patron = command.patron.id if command.patron is not None else self._patrons.get(barcode)
        if patron is None:
            raise DeliveryError(
                self.client.config.name,
                f"RenewItem needs the patron of {barcode}, which the step did not name "
                f"and this node no longer remembers: {todo} in the ILS",
                retryable=False,
            )
        self._once(key, RenewItem(patron, barcode, due))

    def renew_patron_loan(self, command: RenewPatronLoan, *, key: str) -> None:
        """RenewItem with the new due date as DesiredDateDue."""
        todo = f"set the due date of {command.barcode} to {command.due:%Y-%m-%d}"
        if not self.client.config.profile.supports("RenewItem"):
            raise self._unsupported("RenewItem", todo)
        self._move_due("RenewItem", command, key, todo)

    def recall_patron_loan(self, command: RecallPatronLoan, *, key: str) -> None:
        """RecallItem (or RenewItem, per profile) with the shortened due date."""
        service = self.client.config.profile.recall_service
        todo = f"recall {command.barcode} and set its due date to {command.due:%Y-%m-%d}"
        if service is None or not self.client.config.profile.supports(service):
            raise self._unsupported(service or "RecallItem", todo)
        self._move_due(service, command, key, todo)

    def check_out_to_partner(self, command: CheckOutToPartner, *, key: str) -> None:
        """CheckOutItem of our item to the borrowing institution's patron account."""
        account = self.client.config.patron_account(command.borrower)
        if not self.client.config.profile.supports("CheckOutItem"):
            raise self._unsupported(
                "CheckOutItem", f"check {command.barcode} out to {account} ({command.borrower})"
            )
        self._once(
            key,
            CheckOutItem(
                user_id=account,
                item_id=command.barcode,
                request_id=command.request_id,
                desired_due=command.due,
            ),
        )

    def check_in(self, command: CheckIn, *, key: str) -> str | None:
        """CheckInItem; returns the ILS's routing answer in words, or None."""
        if key in self._done:
            return self._done.get(key)
        if not self.client.config.profile.supports("CheckInItem"):
            raise self._unsupported("CheckInItem", f"check {command.barcode} in")
        answer = self._call(CheckInItem(command.barcode), key)
        instruction = None if answer is None else routing_instruction(answer)
        self._done.put(key, instruction)
        return instruction

    def delete_temporary_item(self, command: DeleteTemporaryItem, *, key: str) -> None:
        """DeleteItem, unless the ILS removes temporary items by itself."""
        profile = self.client.config.profile
        self._patrons.pop(command.barcode)
        if profile.removal is not Removal.DELETE_ITEM:
            return
        if not profile.supports("DeleteItem"):
            raise self._unsupported("DeleteItem", f"delete temporary item {command.barcode}")
        self._once(key, DeleteItem(command.barcode))

    def route_item(self, command: RouteItem, *, key: str) -> None:
        """Nothing to send: the ILS gave the routing when the item was checked in."""

    def close(self) -> None:
        """Close the client's HTTP connections."""
        self.client.close()
