"""What every console page shares: the lifecycle tables, list names, labels, refusals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from resource_sharing.borrowing import BORROWING
from resource_sharing.effects import TaskList
from resource_sharing.errors import ConcurrencyConflict, IllegalTransition
from resource_sharing.lending import LENDING
from resource_sharing.lifecycle import Lifecycle
from resource_sharing.ports import AnyRequest
from resource_sharing.records import BorrowingRequest, Citation, Side, TimerKind
from resource_sharing_adapters.console._accounts import Role
from resource_sharing_adapters.http._validation import ENDPOINTS, Shape

__all__ = [
    "ATTENTION_FIRST",
    "LIST_LIMIT",
    "LIST_SIDE",
    "LIST_TITLE",
    "ROLE_OF",
    "TABLES",
    "Refused",
    "barcodes",
    "citation_line",
    "hold_until",
    "instruction",
    "label_of_state",
    "shape_of",
    "side_of",
    "state_label",
    "words",
]

ROLE_OF = {Side.BORROWING: Role.BORROWING, Side.LENDING: Role.LENDING}
"""The staff role each side's pages and actions need."""
TABLES: Mapping[Side, Lifecycle[Any, Any, Any]] = {
    Side.BORROWING: BORROWING,
    Side.LENDING: LENDING,
}
"""Each side's lifecycle table (states, labels, allowed triggers)."""

LIST_SIDE: Mapping[TaskList, Side] = {
    TaskList.BORROWING_REQUESTS: Side.BORROWING,
    TaskList.RECEIVED_ITEMS: Side.BORROWING,
    TaskList.HOLD_SHELF: Side.BORROWING,
    TaskList.RETURN_ITEMS: Side.BORROWING,
    TaskList.LENDING_REQUESTS: Side.LENDING,
    TaskList.PICK_FROM_SHELF: Side.LENDING,
    TaskList.SHIPPING: Side.LENDING,
    TaskList.CHECK_IN: Side.LENDING,
}
"""The side of each task list the console shows."""
LIST_TITLE: Mapping[TaskList, str] = {
    TaskList.BORROWING_REQUESTS: "Borrowing Requests",
    TaskList.RECEIVED_ITEMS: "Received Items",
    TaskList.HOLD_SHELF: "Hold shelf",
    TaskList.RETURN_ITEMS: "Return Items",
    TaskList.LENDING_REQUESTS: "Lending Requests",
    TaskList.PICK_FROM_SHELF: "Pick From Shelf",
    TaskList.SHIPPING: "Shipping",
    TaskList.CHECK_IN: "Check-in",
}
"""The names staff know the task lists by."""
ATTENTION_FIRST = (
    TaskList.BORROWING_REQUESTS,
    TaskList.LENDING_REQUESTS,
    TaskList.RECEIVED_ITEMS,
    TaskList.PICK_FROM_SHELF,
    TaskList.SHIPPING,
    TaskList.RETURN_ITEMS,
    TaskList.CHECK_IN,
    TaskList.HOLD_SHELF,
)
"""Home's order: requests waiting for a decision first."""
LIST_LIMIT = 1000
"""The most rows a list page shows."""


def shape_of(endpoint: str, part: str) -> Shape:
    """The staff API's schema for one part of an endpoint, which form input obeys too."""
    shape = getattr(ENDPOINTS[endpoint], part)
    assert isinstance(shape, Shape)
    return shape


class Refused(Exception):
    """A page's answer in words, with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def label_of_state(side: Side, state: str) -> str:
    """The staff label of a state given by its value (``-``: before the request existed)."""
    if state == "-":
        return "(new)"
    return next(
        (info.label for s, info in TABLES[side].states.items() if s.value == state),
        state.replace("_", " "),
    )


def words(exc: Exception) -> str:
    """A refusal in words: the state's label instead of its name."""
    if isinstance(exc, IllegalTransition):
        label = label_of_state(Side(exc.side), exc.state)
        why = f" ({exc.reason})" if exc.reason else ""
        return f"Not possible now: the request is “{label}”{why}."
    if isinstance(exc, ConcurrencyConflict):
        return "Someone else changed this request at the same moment; reload and try again."
    return str(exc)


def citation_line(citation: Citation) -> str:
    """Title / author."""
    parts = [citation.title or "(no title)"]
    if citation.author:
        parts.append(citation.author)
    return " / ".join(parts)


def side_of(record: AnyRequest) -> Side:
    """Borrowing or lending."""
    return Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING


def state_label(record: AnyRequest) -> str:
    """The staff label of the request's state."""
    return TABLES[side_of(record)].info(record.state).label


def instruction(record: AnyRequest) -> str | None:
    """What staff do next with the request, if anything."""
    return TABLES[side_of(record)].instruction(record)


def hold_until(record: AnyRequest) -> datetime | None:
    """Until when the item waits on the hold shelf (its expiry deadline), if it does."""
    return next((d.at for d in record.deadlines if d.kind is TimerKind.HOLD_SHELF_EXPIRY), None)


def barcodes(record: AnyRequest) -> list[str]:
    """The item barcodes of a request."""
    if isinstance(record, BorrowingRequest):
        return [record.item_barcode] if record.item_barcode else []
    return [record.item.barcode] if record.item else []
