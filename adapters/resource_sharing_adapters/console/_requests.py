"""A request's page (both sides), its actions, and its printed documents.

The page shows the state's staff label and instruction, the request's facts, only the
actions whose trigger the lifecycle table allows in this state (:data:`ACTION_TRIGGERS`),
the rota, the history in the staff's words (who, what, from which label to which, why),
and every ISO 18626 message in and out (:mod:`._messages`). Approving a request in
review shows the rota it will get, explained, before anything is sent (``?rota=``
previews staff-given lenders); accepting a retry shows the lender's offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from resource_sharing.effects import SendMessage
from resource_sharing.messages import SupplyingAgencyMessage
from resource_sharing.ports import AnyRequest, ReceivedMessage
from resource_sharing.records import BorrowingRequest, HistoryEntry, Side
from resource_sharing.states import BorrowingState
from resource_sharing_adapters.console import _documents
from resource_sharing_adapters.console._accounts import StaffUser
from resource_sharing_adapters.console._borrowing import explain
from resource_sharing_adapters.console._common import (
    ROLE_OF,
    TABLES,
    Refused,
    instruction,
    label_of_state,
    side_of,
)
from resource_sharing_adapters.console._forms import ACTION_TRIGGERS, agencies, form_values
from resource_sharing_adapters.console._messages import conversation, fields_of
from resource_sharing_adapters.http._validation import ACTION_BODIES

if TYPE_CHECKING:
    from resource_sharing_adapters.console._app import Console

__all__ = ["act", "detail", "document", "history_rows"]

_TRIGGER_WORDS = {a.trigger: a.label for a in ACTION_TRIGGERS.values()} | {
    "create": "Created",
    "submit": "Submitted",
    "request_received": "Request received",
    "assign_rota": "Lenders assigned",  # by the rota or by staff: the history says who
}


def _what(entry: HistoryEntry) -> str:
    detail = entry.detail or entry.event
    prefix = ""
    if detail.startswith("not applied: "):
        prefix, detail = "Not applied: ", detail.removeprefix("not applied: ")
    words = _TRIGGER_WORDS.get(detail) or detail.replace("_", " ").capitalize()
    return prefix + words


def history_rows(
    side: Side, history: Sequence[HistoryEntry], messages: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The history in the staff's words, each step tied to the message that caused it."""
    by_id = {m["message_id"]: m for m in messages if m["incoming"] and m["message_id"]}
    by_time = {m["at"]: m for m in messages if m["incoming"]}
    rows = []
    for entry in history:
        caused = by_id.get(entry.message_id) if entry.message_id else None
        if caused is None and (entry.event.endswith("Received") or entry.event == "Request"):
            caused = by_time.get(entry.at)
        rows.append(
            {
                "at": entry.at,
                "who": str(entry.actor) if entry.actor else "",
                "what": _what(entry),
                "from": label_of_state(side, entry.from_state),
                "to": label_of_state(side, entry.to_state),
                "changed": entry.from_state != entry.to_state,
                "why": entry.reason or "",
                "message": caused,
            }
        )
    return rows


def _retry_offer(received: Sequence[ReceivedMessage]) -> list[tuple[str, str]]:
    """The lender's latest retry offer (RetryPossible), its conditions field by field."""
    for item in reversed(received):
        message = item.message
        if isinstance(message, SupplyingAgencyMessage) and (
            message.status is not None and message.status.value == "RetryPossible"
        ):
            return [(k, v) for k, v in fields_of(message) if not k.startswith("Header")]
    return []


def _detail(console: Console, side: Side, rid: str, preview: str | None) -> dict[str, Any]:
    inst = console.node.institution
    record = inst.get(side, rid)
    history = inst.history(side, rid)
    received = inst.received(side, rid)
    outbox = [e for e in console.node.outbox(None) if e.side is side and e.request_id == rid]
    allowed = TABLES[side].allowed(record.state)
    actions = [
        (name, action)
        for (s, name), action in ACTION_TRIGGERS.items()
        if s is side and action.trigger in allowed
    ]
    messages = conversation(record, received, outbox)
    explanation = None
    if isinstance(record, BorrowingRequest) and record.state is BorrowingState.PENDING_REVIEW:
        explanation = explain(console, record, agencies(preview or ""))
    return {
        "record": record,
        "side": side,
        "history": history_rows(side, history, messages),
        "actions": actions,
        "messages": messages,
        "effects": [e for e in outbox if not isinstance(e.effect, SendMessage)],
        "info": TABLES[side].info(record.state),
        "documents": [(k, _documents.label_of(k)) for k in _documents.jobs_of(record)],
        "explanation": explanation,
        "preview": preview or "",
        "retry_offer": _retry_offer(received) if "accept_retry" in allowed else [],
    }


def side_param(request: Request) -> Side:
    """The page's side, if the user's roles cover it."""
    try:
        side = Side(request.path_params["side"])
    except ValueError:
        raise Refused(404, "There is no such side (borrowing or lending).") from None
    user: StaffUser = request.state.user
    if not user.may(ROLE_OF[side]):
        raise Refused(403, f"This needs the {ROLE_OF[side].value} staff role.")
    return side


async def detail(console: Console, request: Request) -> Response:
    """GET /requests/{side}/{id}: state, instruction, valid actions, history, messages."""
    side = side_param(request)
    preview = request.query_params.get("rota")
    found = await run_in_threadpool(_detail, console, side, request.path_params["id"], preview)
    raw = request.query_params.get("raw")
    return console.render(request, "request.html", raw=raw, **found)


async def act(console: Console, request: Request) -> Response:
    """POST /requests/{side}/{id}/{action}: one action, then back to the request."""
    from resource_sharing_adapters.http._app import ACTIONS

    side = side_param(request)
    rid = request.path_params["id"]
    name = request.path_params["action"]
    action = ACTION_TRIGGERS.get((side, name))
    if action is None:
        raise Refused(404, f"There is no action {name!r} here.")
    values = form_values(request.state.form, action.fields)
    if (side, name) == (Side.BORROWING, "renew"):
        values["by_staff"] = True  # staff ask from the console, not the patron
    ACTION_BODIES[(side, name)].check(values, "")
    method_name, params = ACTIONS[(side, name)]
    kwargs = {k: params[k](v, k) for k, v in values.items()}
    user: StaffUser = request.state.user
    desk = console.desk(side, user)
    record: AnyRequest = await console.call(getattr(desk, method_name), rid, **kwargs)
    back = request.state.form.get("back")
    if isinstance(back, str) and back.startswith("/") and not back.startswith("//"):
        return RedirectResponse(back, 303)
    return console.render(
        request,
        "done.html",
        record=record,
        side=side_of(record),
        done=f"{action.label}: done.",
        next_step=instruction(record),
    )


async def document(console: Console, request: Request) -> Response:
    """GET /documents/{side}/{id}/{kind}.{fmt}: one printed document, HTML or PDF."""
    side = side_param(request)
    kind, fmt = request.path_params["kind"], request.path_params["fmt"]
    if fmt not in ("html", "pdf"):
        raise Refused(404, "Documents are html or pdf.")
    inst = console.node.institution

    def render() -> Any:
        made = _documents.job(inst.get(side, request.path_params["id"]), kind)
        return console.renderer.pdf(made) if fmt == "pdf" else console.renderer.html(made)

    body = await run_in_threadpool(render)
    if fmt == "pdf":
        name = f"{kind}-{request.path_params['id']}.pdf".replace(":", "_")
        return Response(
            body,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )
    return HTMLResponse(body)
