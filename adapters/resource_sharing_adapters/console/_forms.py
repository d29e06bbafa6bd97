"""The console's actions on one request and their forms.

Each action names the lifecycle trigger it fires, so a request's page offers it only in
the states whose table allows that trigger (:data:`ACTION_TRIGGERS`); its fields are the
form's, checked with the staff API's own schema for the action before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, final

import attrs
from starlette.datastructures import FormData

from resource_sharing.errors import InvalidInput
from resource_sharing.records import Side

__all__ = ["ACTION_TRIGGERS", "Action", "Field", "agencies", "form_values"]


@final
@attrs.frozen
class Field:
    """One field of an action's form."""

    name: str
    """The form's (and the staff API's) name of the value."""
    label: str
    """Its label on the page."""
    kind: str = "text"
    """``text``, ``yesno`` (two radio buttons) or ``agencies`` (ids, space or comma apart)."""
    required: bool = False
    """The action refuses to run without it."""
    hint: str | None = None
    """A line under the field that says what to write."""


@final
@attrs.frozen
class Action:
    """One action on a request: the table trigger it fires, its button and its form."""

    trigger: str
    """The lifecycle trigger (the action is offered only where the table allows it)."""
    label: str
    """The button's words."""
    fields: tuple[Field, ...] = ()
    """The form's fields."""
    danger: bool = False
    """Shown apart, in red: it ends or loses something."""


_NOTE = Field("note", "Note")
_LENDERS_HINT = "Agency ids in order, e.g. ISIL:US-B ISIL:US-C"
ACTION_TRIGGERS: Mapping[tuple[Side, str], Action] = {
    (Side.BORROWING, "approve"): Action(
        "approve",
        "Approve and send",
        (
            Field(
                "rota",
                "Lenders in order (empty: the automatic rota)",
                "agencies",
                hint=_LENDERS_HINT,
            ),
        ),
    ),
    (Side.BORROWING, "add-lenders"): Action(
        "assign_rota",
        "Send to these lenders",
        (Field("lenders", "Lenders to add", "agencies", True, _LENDERS_HINT),),
    ),
    (Side.BORROWING, "receive"): Action(
        "receive_item", "Receive", (Field("barcode", "Temporary item barcode", required=True),)
    ),
    (Side.BORROWING, "check-out"): Action("check_out", "Check out to the patron"),
    (Side.BORROWING, "deliver-copy"): Action("deliver_copy", "Deliver the copy"),
    (Side.BORROWING, "renew"): Action("request_renewal", "Ask the lender to renew"),
    (Side.BORROWING, "approve-renewal"): Action("approve_renewal", "Approve the renewal"),
    (Side.BORROWING, "deny-renewal"): Action(
        "deny_renewal", "Deny the renewal", (Field("reason", "Reason", required=True),)
    ),
    (Side.BORROWING, "accept-conditions"): Action(
        "accept_conditions", "Accept the conditions", (_NOTE,)
    ),
    (Side.BORROWING, "reject-conditions"): Action(
        "reject_conditions", "Reject the conditions", (_NOTE,)
    ),
    (Side.BORROWING, "accept-retry"): Action("accept_retry", "Accept the retry"),
    (Side.BORROWING, "decline-retry"): Action("decline_retry", "Decline the retry"),
    (Side.BORROWING, "status-request"): Action(
        "ask_status", "Ask the lender for its status", (_NOTE,)
    ),
    (Side.BORROWING, "ship-return"): Action("ship_return", "Ship back to the lender", (_NOTE,)),
    (Side.BORROWING, "cancel"): Action(
        "cancel", "Cancel the request", (Field("reason", "Reason"),), danger=True
    ),
    (Side.BORROWING, "report-lost"): Action("report_lost", "Report lost", (_NOTE,), True),
    (Side.BORROWING, "report-damaged"): Action("report_damaged", "Report damaged", (_NOTE,), True),
    (Side.LENDING, "will-supply"): Action("will_supply", "Will supply", (_NOTE,)),
    (Side.LENDING, "pick"): Action("pick_item", "Picked from the shelf"),
    (Side.LENDING, "arrive"): Action("arrive_at_rs_library", "Arrived at the RS library"),
    (Side.LENDING, "ship"): Action("ship", "Ship", (_NOTE,)),
    (Side.LENDING, "answer-renewal"): Action(
        "answer_renewal", "Answer the renewal", (Field("approve", "Renew?", "yesno", True),)
    ),
    (Side.LENDING, "answer-cancel"): Action(
        "answer_cancel", "Answer the cancel request", (Field("accept", "Cancel?", "yesno", True),)
    ),
    (Side.LENDING, "recall"): Action("recall", "Recall", (_NOTE,)),
    (Side.LENDING, "offer-conditions"): Action(
        "offer_conditions", "Offer conditions", (Field("condition", "Condition", required=True),)
    ),
    (Side.LENDING, "locate-failed"): Action(
        "locate_failed", "Locate failed", (Field("reason", "Reason"),), True
    ),
    (Side.LENDING, "reject"): Action(
        "reject", "Reject (unfilled)", (Field("reason", "Reason"), _NOTE), True
    ),
    (Side.LENDING, "mark-lost"): Action("mark_lost", "Mark lost", (_NOTE,), True),
}
"""The console's actions on one request: (side, URL name) to the table trigger and form."""


def agencies(text: str) -> list[str]:
    """Agency ids typed in one field, space or comma apart."""
    return [x for x in text.replace(",", " ").split() if x]


def form_values(form: FormData, fields: Sequence[Field]) -> dict[str, Any]:
    """The action's values from a posted form (empty fields left out)."""
    values: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.name)
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            if f.required:
                raise InvalidInput(f.label, "required")
            continue
        if f.kind == "yesno":
            values[f.name] = text == "yes"
        elif f.kind == "agencies":
            values[f.name] = agencies(text)
        else:
            values[f.name] = text
    return values
