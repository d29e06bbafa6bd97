"""Staying in step with lenders: status answers held against our state, and the sweep.

A lender's answer to a StatusRequest (reason StatusRequestResponse), whoever asked
(staff through :meth:`BorrowingDesk.ask_lender_status`, the sweep, a claim timer), goes
through :func:`answer_status` instead of the plain step: the borrowing table applies
what it can (a lender that is ahead moves us on: its earlier message was lost), and
what it cannot is kept, not refused (the answer is valid; our state is what is off).
Then :func:`resource_sharing.consistency.compare` holds the status against the state
we are in: the history gets a ``StatusCompared`` entry with both sides, and a mismatch
becomes a stored task on the ``out_of_step`` list (one open task per request) showing
both sides and the suggested step; staff resolve it (done by hand, or drop it).

:class:`ConsistencySweep` is the scheduled side. :meth:`ConsistencySweep.run` first
claims the run in the store (``uow.sweep.claim``: one caller per ``interval`` whatever
the number of processes on the store), then reads the borrowing requests whose state
has not changed for ``idle_after`` (oldest first), lets
:func:`~resource_sharing.consistency.plan_sweep` choose within the per-lender limit,
and asks each chosen lender as its own unit of work (a concurrency conflict with
another step is retried; the step is the same ``AskLenderStatus`` staff use, by the
system actor ``sweep``). Time comes from the clock port or the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, final

import attrs

from resource_sharing.consistency import Comparison, SweepPolicy, compare, plan_sweep
from resource_sharing.effects import TaskList
from resource_sharing.errors import IllegalTransition, ResourceSharingError
from resource_sharing.events import AskLenderStatus, SupplierMessageReceived
from resource_sharing.lifecycle import Outcome
from resource_sharing.ports import StaffTask, TaskChoice, UnitOfWork
from resource_sharing.records import Actor, BorrowingRequest, HistoryEntry, Side
from resource_sharing.service._core import Shell, desk_of

__all__ = ["SWEEP", "SWEEP_JOB", "ConsistencySweep", "SweepReport", "answer_status"]

SWEEP = Actor.system("sweep")
"""Who the sweep's questions are recorded as."""
SWEEP_JOB = "consistency_sweep"
"""The sweep's name in the store's run claims."""
_OUT_OF_STEP_CHOICES = (TaskChoice.DONE_BY_HAND, TaskChoice.DROP)


def answer_status(
    shell: Shell,
    uow: UnitOfWork,
    stored: BorrowingRequest,
    event: SupplierMessageReceived,
    now: datetime,
    actor: Actor,
    *,
    message_id: str | None = None,
) -> Comparison | None:
    """Apply a lender's status answer, compare it with our state, and record both.

    Returns the comparison (None for an answer about an attempt the rota moved past,
    which is recorded and not compared). A :class:`~resource_sharing.errors.PeerError`
    (an unknown attempt, the wrong lender) propagates: that answer is refused.
    """
    try:
        outcome: Outcome[Any] = shell.decide(stored, event, now)
    except IllegalTransition as error:
        # valid as an answer, though our table cannot take the status: kept, compared
        outcome = Outcome(stored, (), f"{error.event} in {error.state}", applied=False)
    if outcome.trigger == "superseded_attempt":
        shell.persist(uow, stored, outcome, event, now, actor, message_id=message_id)
        return None
    saved, _ = shell.persist(uow, stored, outcome, event, now, actor, message_id=message_id)
    assert isinstance(saved, BorrowingRequest)
    message = event.message
    answered = saved.attempt_for(message.header.requesting_agency_request_id)
    before = stored.attempt_for(message.header.requesting_agency_request_id)
    closed = (
        outcome.applied
        and answered is not None
        and answered.outcome is not None
        and (before is None or before.outcome is None)
    )
    comparison = compare(saved.state, message.status, closed=closed)
    lender = message.header.supplying_agency
    detail = comparison.describe(lender)
    if not comparison.consistent:
        open_task = next(
            (
                task
                for task in uow.tasks.of_request(Side.BORROWING, saved.id)
                if task.task_list is TaskList.OUT_OF_STEP and task.resolution is None
            ),
            None,
        )
        if open_task is None:
            theirs = comparison.status.value if comparison.status else "no status"
            task = StaffTask(
                id=shell.ports.ids.new_id("task"),
                side=Side.BORROWING,
                request_id=saved.id,
                task_list=TaskList.OUT_OF_STEP,
                title=f"Out of step with {lender}: it reports {theirs}, we have {saved.state}",
                error=f"suggested: {comparison.suggestion}",
                created_at=now,
                desk=desk_of(saved),
                choices=_OUT_OF_STEP_CHOICES,
            )
            uow.tasks.add(task)
            detail += f" (task {task.id})"
        else:
            detail += f" (task {open_task.id} is still open)"
    uow.history.append(
        [
            HistoryEntry(
                request_id=saved.id,
                side=Side.BORROWING,
                sequence=uow.history.count(Side.BORROWING, saved.id) + 1,
                at=now,
                event="StatusCompared",
                from_state=saved.state.value,
                to_state=saved.state.value,
                actor=Actor.system("consistency"),
                detail=detail,
                reason="consistent" if comparison.consistent else "out_of_step",
                message_id=message_id,
            )
        ]
    )
    return comparison


@final
@attrs.frozen
class SweepReport:
    """What one sweep run did (the counts the node logs and exports)."""

    ran: bool
    """The run was ours (False: not due, or another process has this period's run)."""
    idle: int = 0
    """Idle open borrowing requests looked at."""
    asked: int = 0
    """StatusRequests written to the outbox."""
    asked_recently: int = 0
    """Idle requests skipped: asked within ``idle_after``."""
    rate_limited: int = 0
    """Idle requests left for a later run by the per-lender limit."""
    failed: int = 0
    """Questions that could not be asked (the request changed meanwhile, and so on)."""
    per_lender: dict[str, int] = attrs.field(factory=dict)
    """StatusRequests per lender."""

    def describe(self) -> str:
        """The run in one line."""
        if not self.ran:
            return "consistency sweep: not due (or run by another process)"
        lenders = ", ".join(f"{k} {v}" for k, v in sorted(self.per_lender.items())) or "none"
        return (
            f"consistency sweep: {self.idle} idle, {self.asked} asked ({lenders}),"
            f" {self.asked_recently} asked recently, {self.rate_limited} rate-limited,"
            f" {self.failed} failed"
        )


class ConsistencySweep:
    """Asks lenders about idle borrowing requests, within limits (see the module doc)."""

    def __init__(self, shell: Shell, policy: SweepPolicy, *, owner: str = "local") -> None:
        self._shell = shell
        self.policy = policy
        """When it runs and how hard it asks."""
        self.owner = owner
        """This process's name in the run claims."""

    def run(self, now: datetime | None = None, *, force: bool = False) -> SweepReport:
        """One run if it is due (``force``: now, whatever the schedule; still claimed)."""
        shell = self._shell
        policy = self.policy
        now = now or shell.ports.clock.now()
        if not policy.enabled and not force:
            return SweepReport(ran=False)
        with shell.ports.store.transaction() as uow:
            every = policy.interval
            if not uow.sweep.claim(SWEEP_JOB, now=now, every=every, owner=self.owner, force=force):
                return SweepReport(ran=False)
        with shell.ports.store.transaction() as uow:
            keys = uow.sweep.idle(
                Side.BORROWING, before=now - policy.idle_after, limit=policy.scan_limit
            )
            candidates = [
                r for key in keys if isinstance(r := uow.requests.get(*key), BorrowingRequest)
            ]
        plan = plan_sweep(candidates, now, policy)
        lenders = {r.id: str(r.attempts[-1].lender) for r in candidates if r.attempts}
        asked: dict[str, int] = {}
        failed = 0
        for request_id in plan.ask:
            if self._ask(request_id, now):
                lender = lenders[request_id]
                asked[lender] = asked.get(lender, 0) + 1
            else:
                failed += 1
        return SweepReport(
            ran=True,
            idle=len(candidates),
            asked=sum(asked.values()),
            asked_recently=plan.asked_recently,
            rate_limited=sum(plan.rate_limited.values()),
            failed=failed,
            per_lender=asked,
        )

    def _ask(self, request_id: str, now: datetime) -> bool:
        shell = self._shell
        idle_after = self.policy.idle_after

        def ask_once() -> bool:
            with shell.ports.store.transaction() as uow:
                record = shell.load(uow, Side.BORROWING, request_id)
                assert isinstance(record, BorrowingRequest)
                attempt = record.attempts[-1] if record.attempts else None
                asked_at = attempt.status_asked_at if attempt else None
                if asked_at is not None and now - asked_at < idle_after:
                    return True  # another process asked meanwhile: done
                shell.step(uow, record, AskLenderStatus(), now, SWEEP)
            return True

        try:
            return shell.retrying(ask_once)
        except ResourceSharingError:
            return False  # its state changed meanwhile (no longer idle, or closed)
