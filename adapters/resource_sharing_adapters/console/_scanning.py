"""The scan desks: Received Items (with the temporary-item page), Return Items, Check-in.

A scanner is a keyboard: the scan field has the focus, Enter submits, and the answer is
the next instruction in large text. In network-unique-barcode mode (``[console]
network_unique_barcodes``) the lender's barcode is the item's barcode everywhere in the
consortium, so scanning it at Received Items receives the item at once, under that
barcode, with no temporary-item page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from resource_sharing.effects import TaskList
from resource_sharing.errors import NotFound
from resource_sharing.records import BorrowingRequest, Side
from resource_sharing.states import BorrowingState
from resource_sharing_adapters.console._accounts import Role, StaffUser
from resource_sharing_adapters.console._common import Refused, shape_of
from resource_sharing_adapters.console._desks import rows_of
from resource_sharing_adapters.console._forms import ACTION_TRIGGERS, form_values
from resource_sharing_adapters.http._validation import ACTION_BODIES

if TYPE_CHECKING:
    from resource_sharing_adapters.console._app import Console

__all__ = ["receive", "receive_form", "scan", "scan_form"]

_TITLES = {"receive": "Received Items", "return": "Return Items", "check-in": "Check-in"}


def _scan_page(console: Console, request: Request, kind: str, **context: Any) -> Response:
    context.setdefault("routed", None)
    context.setdefault("barcode", "")
    context.setdefault("next_step", None)
    context.setdefault("received", None)
    context.setdefault("rows", [])
    return console.render(
        request,
        "scan.html",
        kind=kind,
        title=_TITLES[kind],
        unique=console.settings.network_unique_barcodes,
        **context,
    )


def _kind(request: Request) -> str:
    kind = str(request.path_params["kind"])
    if kind not in _TITLES:
        raise Refused(404, "There is no such scan page.")
    user: StaffUser = request.state.user
    role = Role.LENDING if kind == "check-in" else Role.BORROWING
    if not user.may(role):
        raise Refused(403, f"This page needs the {role.value} staff role.")
    return kind


async def scan_form(console: Console, request: Request) -> Response:
    """GET /scan/{kind}: the scan field (and, for receiving, the list to pick from)."""
    kind = _kind(request)
    rows: list[Any] = []
    if kind == "receive":
        rows = await run_in_threadpool(rows_of, console, TaskList.RECEIVED_ITEMS, None)
    return _scan_page(console, request, kind, rows=rows, result=None)


async def scan(console: Console, request: Request) -> Response:
    """POST /scan/{kind}: the barcode's result and next instruction, in large text."""
    kind = _kind(request)
    form = request.state.form
    barcode = str(form.get("barcode") or "").strip()
    user: StaffUser = request.state.user
    desk = str(form.get("desk") or "").strip() or user.desk
    if not barcode:
        raise Refused(400, "Scan or type a barcode first.")
    shape_of("scan", "body").check(
        {"barcode": barcode, "desk": desk} if desk else {"barcode": barcode}, ""
    )
    if kind == "receive":
        return await _receive_scan(console, request, barcode)
    if kind == "return":
        result = await console.call(console.desk(Side.BORROWING, user).return_item, barcode, desk)
        return _scan_page(console, request, kind, result=result, barcode=barcode)
    journal = console.node.journal
    mark = await run_in_threadpool(lambda: journal.last)
    result = await console.call(console.desk(Side.LENDING, user).check_in, barcode)
    entries = await run_in_threadpool(journal.since, mark)
    routes = [
        e.detail.get("instruction")
        for e in entries
        if e.command == "RouteItem" and e.request_id == result.request_id
    ]
    routed = next((r for r in reversed(routes) if r), None)
    return _scan_page(console, request, kind, result=result, barcode=barcode, routed=routed)


def _find_borrowing(console: Console, barcode: str) -> BorrowingRequest | None:
    """The borrowing request a scan names: by an item barcode, or typed as its id."""
    inst = console.node.institution
    for found in inst.scan(barcode):
        if found.side is Side.BORROWING:
            record = inst.get(Side.BORROWING, found.request_id)
            assert isinstance(record, BorrowingRequest)
            return record
    try:
        record = inst.get(Side.BORROWING, barcode)
    except NotFound:
        return None
    assert isinstance(record, BorrowingRequest)
    return record


async def _receive_scan(console: Console, request: Request, barcode: str) -> Response:
    record = await run_in_threadpool(_find_borrowing, console, barcode)
    if record is None:
        raise Refused(404, f"No borrowing request has the barcode or id {barcode!r}.")
    unique = console.settings.network_unique_barcodes
    if not unique or record.state is not BorrowingState.SHIPPED or not record.lender_item_id:
        return RedirectResponse(f"/receive/{record.id}", 303)
    user: StaffUser = request.state.user
    received = await console.call(
        console.desk(Side.BORROWING, user).receive, record.id, record.lender_item_id
    )
    assert isinstance(received, BorrowingRequest)
    return _scan_page(
        console,
        request,
        "receive",
        result=None,
        received=received,
        barcode=barcode,
        next_step=f"Place on hold shelf for {received.patron.name or received.patron.id}",
    )


async def receive_form(console: Console, request: Request) -> Response:
    """GET /receive/{id}: the temporary-item page."""
    record = await run_in_threadpool(
        console.node.institution.get, Side.BORROWING, request.path_params["id"]
    )
    return console.render(
        request, "receive.html", record=record, policies=console.settings.item_policies
    )


async def receive(console: Console, request: Request) -> Response:
    """POST /receive/{id}: receive with the temporary barcode; next: the hold shelf."""
    from resource_sharing_adapters.http._app import ACTIONS

    user: StaffUser = request.state.user
    form = request.state.form
    values = form_values(form, ACTION_TRIGGERS[(Side.BORROWING, "receive")].fields)
    ACTION_BODIES[(Side.BORROWING, "receive")].check(values, "")
    policies = console.settings.item_policies
    policy = str(form.get("item_policy") or policies[0])
    if policy not in policies:
        raise Refused(400, f"Item policy: choose one of {', '.join(policies)}.")
    method, params = ACTIONS[(Side.BORROWING, "receive")]
    kwargs = {k: params[k](v, k) for k, v in values.items()}
    record = await console.call(
        getattr(console.desk(Side.BORROWING, user), method), request.path_params["id"], **kwargs
    )
    assert isinstance(record, BorrowingRequest)
    who = record.patron.name or record.patron.id
    return console.render(
        request,
        "done.html",
        record=record,
        side=Side.BORROWING,
        done=f"Received as {values.get('barcode')} (item policy: {policy}).",
        next_step=f"Place on hold shelf for {who}",
    )
