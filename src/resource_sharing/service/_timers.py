"""The timer scheduler: fires the deadlines that have come, one unit of work each.

:meth:`TimerScheduler.tick` asks the store which requests have a deadline at or before
now and applies :class:`~resource_sharing.events.TimerFired` for each of their due
deadlines, earliest first, as the system. A concurrency conflict (another process
changed the request between our load and our save) is retried from the load a few
times inside the scheduler (``delivery.conflict_retries``); a timer that still cannot
fire leaves a staff notice in the outbox, so nothing fails silently.
"""

from __future__ import annotations

from datetime import datetime
from typing import final

import attrs

from resource_sharing.effects import NotifyStaff
from resource_sharing.errors import ResourceSharingError
from resource_sharing.events import TimerFired
from resource_sharing.lifecycle import Outcome
from resource_sharing.ports import RequestKey
from resource_sharing.records import Actor
from resource_sharing.service._core import Shell

__all__ = ["TimerScheduler"]

TIMER = Actor.system("timer")


@final
@attrs.frozen
class TimersFailed:
    """The history's record of timers that could not fire (a staff notice went out)."""

    error: str
    """Why, in words."""


class TimerScheduler:
    """Fires an institution's due timers."""

    def __init__(self, shell: Shell) -> None:
        self._shell = shell

    def tick(self, now: datetime | None = None, *, limit: int = 10_000) -> int:
        """Fire every timer that is due at ``now`` (default: the clock); returns how many."""
        shell = self._shell
        now = now or shell.ports.clock.now()
        with shell.ports.store.transaction() as uow:
            due = list(uow.timers.due(now, limit=limit))
        return sum(self._fire(key, now) for key in due)

    def _fire(self, key: RequestKey, now: datetime) -> int:
        shell = self._shell
        side, request_id = key

        def fire_due() -> int:
            fired = 0
            with shell.ports.store.transaction() as uow:
                record = shell.load(uow, side, request_id)
                for deadline in sorted(d for d in record.deadlines if d.at <= now):
                    if deadline not in record.deadlines:
                        continue  # an earlier timer of this round replaced it
                    record, _ = shell.step(uow, record, TimerFired(deadline.kind), now, TIMER)
                    fired += 1
            return fired

        try:
            return shell.retrying(fire_due)
        except ResourceSharingError as error:
            self._tell_staff(key, now, str(error))
            return 0

    def _tell_staff(self, key: RequestKey, now: datetime, error: str) -> None:
        shell = self._shell
        with shell.ports.store.transaction() as uow:
            record = uow.requests.get(*key)
            if record is None:
                return
            text = f"Timers of {record.id} could not fire: {error}"
            outcome = Outcome(record, (NotifyStaff(record.id, text),), "timers_failed", False)
            shell.persist(uow, record, outcome, TimersFailed(error), now, TIMER)
