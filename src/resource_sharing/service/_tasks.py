"""Staff tasks: a delivery that gave up, stored on its request until staff decide.

When the dispatcher gives up on an outbox entry (too many failed attempts, or a refusal
that retrying cannot fix) it calls :func:`raise_task` in the same unit of work that marks
the entry ``given_up``: a :class:`~resource_sharing.ports.StaffTask` on the entry's
request (on the ``delivery_problems`` list, at the request's desk) says what failed, the
last error in words, and the choices, and the request's history records the give-up. The
task is state in the store: it survives restarts and shows in the task-list queries.

:class:`TaskDesk` carries out the staff choices, each a recorded staff action with the
named actor (on the task, and as a history entry of the request):

- **retry now**: the entry is pending again with the port's full retry policy and is
  delivered at once, inside the call (:meth:`TaskDesk.retry_now` returns whether it went);
- **mark as done by hand**: staff did it themselves; the entry is ``done_by_hand``;
- **drop**: it is not needed; the entry is ``dropped`` and nothing is delivered.

A borrowing Request (new or retry) the peer refuses (not retryable) is not a task: the
dispatcher feeds a ``DeliveryRefused`` event to the borrowing table, the attempt ends
with the refusal's words and the rota moves on (see :mod:`._dispatcher`); the history
shows the give-up. One that only ran out of retries may have arrived: it is a task.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from resource_sharing.effects import TaskList
from resource_sharing.errors import InvalidInput, NotFound
from resource_sharing.ports import (
    OutboxEntry,
    OutboxStatus,
    Port,
    StaffTask,
    TaskChoice,
    TaskResolution,
    UnitOfWork,
)
from resource_sharing.records import Actor
from resource_sharing.service._core import Shell, append_note, desk_of
from resource_sharing.service._misfits import MESSAGE_CHOICES, resolve_misfit
from resource_sharing.service._routing import route_of

if TYPE_CHECKING:
    from resource_sharing.service._dispatcher import Dispatcher

__all__ = ["PORT_NAMES", "TaskDesk", "note_give_up", "raise_task"]

PORT_NAMES = {
    Port.PEER: "Peer message",
    Port.CIRCULATION: "Circulation",
    Port.NOTIFIER: "Notice",
    Port.PRINTER: "Printing",
}
"""How staff read a port's name on a task."""

_ENTRY_STATUS = {
    TaskChoice.DONE_BY_HAND: OutboxStatus.DONE_BY_HAND,
    TaskChoice.DROP: OutboxStatus.DROPPED,
}


def raise_task(shell: Shell, uow: UnitOfWork, entry: OutboxEntry, now: datetime) -> StaffTask:
    """Store the task for an entry that gave up, and note the give-up in its history."""
    record = uow.requests.get(entry.side, entry.request_id)
    what = route_of(entry.effect).describe(entry.effect)
    task = StaffTask(
        id=shell.ports.ids.new_id("task"),
        side=entry.side,
        request_id=entry.request_id,
        task_list=TaskList.DELIVERY_PROBLEMS,
        title=f"{PORT_NAMES[entry.port]}: {what}",
        error=entry.last_error or "unknown error",
        created_at=now,
        entry_id=entry.id,
        port=entry.port,
        attempts=entry.attempts,
        desk=desk_of(record) if record is not None else None,
    )
    uow.tasks.add(task)
    state = record.state.value if record is not None else "-"
    _note(
        uow,
        entry,
        now,
        Actor.system("dispatcher"),
        state,
        event="DeliveryGaveUp",
        detail=f"{task.title} failed after {entry.attempts} attempt(s)",
        reason=task.error,
    )
    return task


def note_give_up(uow: UnitOfWork, entry: OutboxEntry, now: datetime, state: str, what: str) -> None:
    """Record a give-up the lifecycle took over (no task: the request moved on)."""
    _note(
        uow,
        entry,
        now,
        Actor.system("dispatcher"),
        state,
        event="DeliveryGaveUp",
        detail=f"{what} failed after {entry.attempts} attempt(s); the attempt ends",
        reason=entry.last_error or "unknown error",
    )


def _note(
    uow: UnitOfWork,
    entry: OutboxEntry,
    now: datetime,
    actor: Actor,
    state: str,
    *,
    event: str,
    detail: str,
    reason: str | None,
) -> None:
    append_note(
        uow,
        entry.side,
        entry.request_id,
        now,
        actor,
        state,
        event=event,
        detail=detail,
        reason=reason,
    )


def instruction_of(task: StaffTask) -> str:
    """A task's line on its list: what failed (or is off), why, and what staff may do."""
    choices = ", ".join(choice.value.replace("_", " ") for choice in task.choices)
    if task.entry_id is None:
        return f"{task.title}; {task.error}. Choose: {choices}"
    return f"{task.title} failed: {task.error}. Choose: {choices}"


class TaskDesk:
    """Staff choices on stored tasks.

    Retry now, mark done by hand, drop; on a peer message that did not fit: apply,
    ignore, ask status.
    """

    def __init__(self, shell: Shell, dispatcher: Dispatcher) -> None:
        self._shell = shell
        self._dispatcher = dispatcher

    def get(self, task_id: str) -> StaffTask:
        """One stored task (:class:`NotFound` when there is none)."""
        with self._shell.ports.store.transaction() as uow:
            task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound("task", task_id)
        return task

    def open(
        self,
        *,
        task_list: TaskList | None = TaskList.DELIVERY_PROBLEMS,
        desk: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[StaffTask]:
        """The tasks of one list (None: every list) staff have not resolved yet, oldest first."""
        with self._shell.ports.store.transaction() as uow:
            return uow.tasks.open(task_list=task_list, desk=desk, limit=limit, offset=offset)

    def retry_now(self, task_id: str, *, by: str, note: str | None = None) -> bool:
        """Deliver the failed effect again now; True when this first attempt went through.

        When it fails again it keeps retrying with the port's policy (and becomes a new
        task if it gives up again).
        """
        entry = self._resolve(task_id, TaskChoice.RETRY_NOW, by, note)
        if entry is None:
            return False
        delivered = self._dispatcher.deliver_now(entry.port, (entry.side, entry.request_id))
        return any(d.entry.id == entry.id for d in delivered)

    def mark_done(self, task_id: str, *, by: str, note: str | None = None) -> StaffTask:
        """Staff carried the effect out by hand; it will not be delivered."""
        self._resolve(task_id, TaskChoice.DONE_BY_HAND, by, note)
        return self.get(task_id)

    def drop(self, task_id: str, *, by: str, note: str | None = None) -> StaffTask:
        """The effect is not needed any more; it will not be delivered."""
        self._resolve(task_id, TaskChoice.DROP, by, note)
        return self.get(task_id)

    def resolve(
        self, task_id: str, choice: TaskChoice, *, by: str, note: str | None = None
    ) -> StaffTask:
        """Carry out one of the task's choices (see :meth:`retry_now` and the others).

        On a peer message's task: apply, ignore or ask status (:mod:`._misfits`).
        """
        if choice in MESSAGE_CHOICES:
            resolve_misfit(self._shell, task_id, choice, by=by, note=note)
        elif choice is TaskChoice.RETRY_NOW:
            self.retry_now(task_id, by=by, note=note)
        else:
            self._resolve(task_id, choice, by, note)
        return self.get(task_id)

    def _resolve(
        self, task_id: str, choice: TaskChoice, by: str, note: str | None
    ) -> OutboxEntry | None:
        if not by.strip():
            raise InvalidInput("by", "a staff action needs the name of the staff user")
        shell = self._shell
        actor = Actor.staff(by.strip())
        now = shell.ports.clock.now()
        with shell.ports.store.transaction() as uow:
            task = uow.tasks.get(task_id)
            if task is None:
                raise NotFound("task", task_id)
            if task.resolution is not None:
                done = task.resolution
                raise InvalidInput(
                    "task",
                    f"{task_id} was resolved already ({done.choice.value} by {done.by})",
                )
            if choice not in task.choices:
                raise InvalidInput("choice", f"{choice.value} is not offered by {task_id}")
            if task.entry_id is None:
                # a task about the request itself (out of step with the lender): staff
                # settled it by hand, or judged it not worth acting on
                uow.tasks.resolve(task_id, TaskResolution(choice, actor, now, note))
                record = uow.requests.get(task.side, task.request_id)
                append_note(
                    uow,
                    task.side,
                    task.request_id,
                    now,
                    actor,
                    record.state.value if record is not None else "-",
                    event="ResolveTask",
                    detail=f"{choice.value.replace('_', ' ')}: {task.title}",
                    reason=note or choice.value,
                )
                return None
            entry = uow.outbox.get(task.entry_id)
            if entry is None or entry.status is not OutboxStatus.GIVEN_UP:
                raise InvalidInput("task", f"{task_id} has no given-up delivery to act on")
            if choice is TaskChoice.RETRY_NOW:
                changed = attrs.evolve(
                    entry,
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    finished_at=None,
                )
            else:
                changed = attrs.evolve(entry, status=_ENTRY_STATUS[choice], finished_at=now)
            uow.outbox.update(changed)
            uow.tasks.resolve(task_id, TaskResolution(choice, actor, now, note))
            record = uow.requests.get(entry.side, entry.request_id)
            _note(
                uow,
                entry,
                now,
                actor,
                record.state.value if record is not None else "-",
                event="ResolveTask",
                detail=f"{choice.value.replace('_', ' ')}: {task.title}",
                reason=note or choice.value,
            )
        return changed
