"""Peer messages that did not fit: stored as staff tasks, resolved by named staff.

The inbox calls :func:`keep_misfit` when a message about a known request raised
:class:`~resource_sharing.errors.IllegalTransition` (its unit of work rolled back, so
nothing changed): in a unit of work of its own it stores a
:class:`~resource_sharing.ports.StaffTask` on the request (``TaskList.PEER_MESSAGES``,
at the request's desk) holding the message, the reason and the choices of
:func:`resource_sharing.misfits.misfit_choices`, appends a ``PeerMessageNotApplied``
history entry (actor: the peer) and remembers the ERROR confirmation under the message's
identity, so the same message again gets the same answer and no second task.

:func:`resolve_misfit` carries out a staff choice as one recorded staff action with the
named actor: **apply** fires the table's staff override
(:class:`~resource_sharing.events.ApplyLenderMessage`), **ask status** sends a
StatusRequest (:class:`~resource_sharing.events.AskLenderStatus`), **ignore** only
records the decision. When the request has moved on so that the choice no longer
applies, the call raises and nothing changes.
"""

from __future__ import annotations

from datetime import datetime

from resource_sharing.effects import TaskList
from resource_sharing.errors import IllegalTransition, InvalidInput, NotFound
from resource_sharing.events import ApplyLenderMessage, AskLenderStatus
from resource_sharing.messages import (
    ErrorData,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.misfits import describe, misfit_choices, misfit_error
from resource_sharing.ports import StaffTask, TaskChoice, TaskResolution, UnitOfWork
from resource_sharing.records import Actor, Side
from resource_sharing.service._core import Shell, append_note, desk_of

__all__ = ["MESSAGE_CHOICES", "keep_misfit", "resolve_misfit"]

MESSAGE_CHOICES = frozenset({TaskChoice.APPLY, TaskChoice.IGNORE, TaskChoice.ASK_STATUS})
"""The choices of a task about a peer message (the others are a delivery's)."""

PeerAnswer = SupplyingAgencyMessage | RequestingAgencyMessage


def keep_misfit(
    shell: Shell,
    uow: UnitOfWork,
    message: PeerAnswer,
    error: IllegalTransition,
    now: datetime,
    message_id: str | None,
) -> ErrorData:
    """Store the task for a message that did not fit; returns the ISO error to answer."""
    side, request_id = _request_of(shell, uow, message)
    record = shell.load(uow, side, request_id)
    answer = misfit_error(record, message, error)
    sender = (
        message.header.supplying_agency
        if isinstance(message, SupplyingAgencyMessage)
        else message.header.requesting_agency
    )
    title = f"Not applied: {describe(message)}"
    uow.tasks.add(
        StaffTask(
            id=shell.ports.ids.new_id("task"),
            side=side,
            request_id=request_id,
            task_list=TaskList.PEER_MESSAGES,
            title=title,
            error=answer.value or answer.type.value,
            created_at=now,
            desk=desk_of(record),
            choices=misfit_choices(record, message),
            message=message,
        )
    )
    append_note(
        uow,
        side,
        request_id,
        now,
        Actor.peer(sender),
        record.state.value,
        event="PeerMessageNotApplied",
        detail=title,
        reason=f"{answer.type.value}: {answer.value}",
        message_id=message_id,
    )
    return answer


def _request_of(shell: Shell, uow: UnitOfWork, message: PeerAnswer) -> tuple[Side, str]:
    header = message.header
    if isinstance(message, SupplyingAgencyMessage):
        side, counterpart = Side.BORROWING, header.supplying_agency
    else:
        side, counterpart = Side.LENDING, header.requesting_agency
    found = uow.requests.find(side, header.requesting_agency_request_id, counterpart)
    if found is None:  # the inbox found it a moment ago, in the unit that rolled back
        raise NotFound(f"{side.value} request", header.requesting_agency_request_id)
    return side, found


def resolve_misfit(
    shell: Shell, task_id: str, choice: TaskChoice, *, by: str, note: str | None
) -> None:
    """Carry out a staff choice on a task about a peer message (see the module)."""
    if not by.strip():
        raise InvalidInput("by", "a staff action needs the name of the staff user")
    actor = Actor.staff(by.strip())
    now = shell.ports.clock.now()
    with shell.ports.store.transaction() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound("task", task_id)
        if task.resolution is not None:
            done = task.resolution
            raise InvalidInput(
                "task", f"{task_id} was resolved already ({done.choice.value} by {done.by})"
            )
        if choice not in task.choices or task.message is None:
            raise InvalidInput("choice", f"{choice.value} is not offered by {task_id}")
        record = shell.load(uow, task.side, task.request_id)
        if choice is TaskChoice.APPLY:
            assert isinstance(task.message, SupplyingAgencyMessage)  # only borrowing applies
            shell.step(uow, record, ApplyLenderMessage(task.message), now, actor)
        elif choice is TaskChoice.ASK_STATUS:
            shell.step(uow, record, AskLenderStatus(note), now, actor)
        else:
            append_note(
                uow,
                task.side,
                task.request_id,
                now,
                actor,
                record.state.value,
                event="ResolveTask",
                detail=f"ignore: {task.title}",
                reason=note or choice.value,
            )
        uow.tasks.resolve(task_id, TaskResolution(choice, actor, now, note))
