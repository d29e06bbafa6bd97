"""The new borrowing request: patron, citation, rota; the rota explained before sending."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from resource_sharing.records import AgencyId, BorrowingRequest, Citation, PatronRef, Side
from resource_sharing.rota import RotaContext, build_rota
from resource_sharing_adapters.console._accounts import StaffUser
from resource_sharing_adapters.console._common import shape_of
from resource_sharing_adapters.console._forms import agencies

if TYPE_CHECKING:
    from resource_sharing_adapters.console._app import Console

__all__ = ["explain", "new", "new_form"]


def _draft(console: Console, form: FormData) -> tuple[dict[str, Any], BorrowingRequest, list[str]]:
    def text(name: str) -> str | None:
        raw = form.get(name)
        return raw.strip() or None if isinstance(raw, str) else None

    body: dict[str, Any] = {
        "patron": {"id": text("patron_id"), "name": text("patron_name")},
        "citation": {"title": text("title"), "author": text("author")},
    }
    if text("isbn"):
        body["citation"]["item_ids"] = [{"code": "ISBN", "value": text("isbn")}]
    if text("pickup_location"):
        body["pickup_location"] = text("pickup_location")
    if text("note"):
        body["note"] = text("note")
    lenders = agencies(text("rota") or "")
    if lenders:
        body["rota"] = lenders
    body = {
        k: ({kk: vv for kk, vv in v.items() if vv is not None} if isinstance(v, dict) else v)
        for k, v in body.items()
    }
    shape_of("place", "body").check(body, "")
    from resource_sharing_adapters.http._config import structure

    draft = BorrowingRequest(
        id="(new)",
        agency=console.node.agency,
        patron=structure(body["patron"], PatronRef, "patron"),
        citation=structure(body["citation"], Citation, "citation"),
        created_at=console.node.clock.now(),
        pickup_location=body.get("pickup_location"),
    )
    return body, draft, lenders


def explain(
    console: Console, draft: BorrowingRequest, lenders: Sequence[str]
) -> list[dict[str, Any]]:
    """The rota ``draft`` would get, each candidate with its source or why it was left out.

    ``lenders`` are the staff's rota; empty, the automatic rota from the directory.
    """
    config = console.node.config
    context = RotaContext(
        today=config.calendar.local_date(console.node.clock.now()),
        staff_rota=tuple(AgencyId.parse(x) for x in lenders) if lenders else None,
        own_agencies=frozenset({console.node.agency}),
    )
    rota = build_rota(draft, config.directory, context, config.rota)
    return [
        {
            "agency": str(r.agency),
            "name": r.name,
            "rank": r.rank,
            "source": r.source,
            "drop": r.drop.detail if r.drop else None,
            "kept": r.kept,
        }
        for r in rota.explanation.reports()
    ]


async def new_form(console: Console, request: Request) -> Response:
    """GET /borrowing/new: the new-request form."""
    return console.render(request, "new.html", values={}, explanation=None)


async def new(console: Console, request: Request) -> Response:
    """POST /borrowing/new: ``preview`` shows the rota explanation; ``send`` places it."""
    form = request.state.form
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    body, draft, lenders = _draft(console, form)
    if form.get("send") != "1":
        explanation = await run_in_threadpool(explain, console, draft, lenders)
        return console.render(request, "new.html", values=values, explanation=explanation)
    from resource_sharing_adapters.http._app import _lenders

    user: StaffUser = request.state.user
    kwargs: dict[str, Any] = {
        "pickup_location": body.get("pickup_location"),
        "note": body.get("note"),
    }
    if lenders:
        kwargs["rota"] = _lenders(lenders, "rota")
    record = await console.call(
        console.desk(Side.BORROWING, user).place_request, draft.patron, draft.citation, **kwargs
    )
    return RedirectResponse(f"/requests/borrowing/{record.id}", 303)
