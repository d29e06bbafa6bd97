"""Resource Request Monitoring and the pick slips of the selected requests."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from resource_sharing.lending import LENDING
from resource_sharing.records import LendingRequest, Side
from resource_sharing_adapters.console import _documents
from resource_sharing_adapters.console._common import Refused

if TYPE_CHECKING:
    from resource_sharing_adapters.console._app import Console

__all__ = ["monitor", "pick_slips"]


def _lending_requests(console: Console) -> list[LendingRequest]:
    ids: dict[str, None] = {}
    seq = 0
    while True:
        page = console.node.feed.since(seq, 1000)
        for change in page:
            if change.side is Side.LENDING:
                ids[change.request_id] = None
        if len(page) < 1000:
            break
        seq = page[-1].seq
    inst = console.node.institution
    found = []
    for rid in ids:
        record = inst.get(Side.LENDING, rid)
        assert isinstance(record, LendingRequest)
        found.append(record)
    return found


async def monitor(console: Console, request: Request) -> Response:
    """GET /lending/monitor: every lending request, filtered and searched."""
    q = request.query_params
    state, partner, text = q.get("state", ""), q.get("partner", ""), q.get("q", "").strip()
    since, until = q.get("from", ""), q.get("to", "")
    try:
        day_from = date.fromisoformat(since) if since else None
        day_to = date.fromisoformat(until) if until else None
    except ValueError:
        raise Refused(400, "Dates are written YYYY-MM-DD.") from None
    records = await run_in_threadpool(_lending_requests, console)
    partners = sorted({str(r.requester) for r in records})

    def keep(r: LendingRequest) -> bool:
        if state and r.state.value != state:
            return False
        if partner and str(r.requester) != partner:
            return False
        day = r.created_at.date()
        if (day_from and day < day_from) or (day_to and day > day_to):
            return False
        if text:
            hay = " ".join(
                [
                    r.id,
                    r.requester_request_id,
                    r.citation.title or "",
                    r.item.barcode if r.item else "",
                ]
            ).lower()
            return text.lower() in hay
        return True

    shown = sorted((r for r in records if keep(r)), key=lambda r: r.created_at, reverse=True)
    return console.render(
        request,
        "monitor.html",
        records=shown,
        partners=partners,
        states=[(s.value, info.label) for s, info in LENDING.states.items()],
        filters={"state": state, "partner": partner, "q": text, "from": since, "to": until},
    )


async def pick_slips(console: Console, request: Request) -> Response:
    """POST /lending/pick-slips: the selected requests' pick slips, one sheet to print."""
    form = request.state.form
    chosen = [v for v in form.getlist("request") if isinstance(v, str)]
    if not chosen:
        raise Refused(400, "Select at least one request to print its pick slip.")
    inst = console.node.institution

    def render() -> str:
        jobs = [_documents.job(inst.get(Side.LENDING, r), "pick_slip") for r in chosen]
        return _documents.sheet(console.renderer, jobs)

    return HTMLResponse(await run_in_threadpool(render))
