"""The dispatcher: delivers the outbox to the ports, with retries, then staff tasks.

Theory of operation. One round (:meth:`Dispatcher.run`) takes each port in turn, claims
a batch of its deliverable entries (:meth:`~resource_sharing.ports.OutboxRepository.claim`:
oldest first, streams whole, under a lease in this dispatcher's ``owner`` name) and
delivers them one by one through the routing table (:mod:`._routing`), passing each
entry's idempotency key. Each result is written in its own small unit of work:

- delivered: the entry is ``delivered``;
- a retryable :class:`~resource_sharing.errors.DeliveryError` (or an unexpected
  exception of the adapter, recorded in words): the entry waits for its next attempt
  (the port's :class:`~._retry.RetryPolicy`, jitter from the ``random`` port); the
  later entries of its stream in this batch are released untried, so a stream keeps
  its order;
- a refusal (``retryable=False``) or the last attempt: the entry is ``given_up`` and a
  :class:`~resource_sharing.ports.StaffTask` on its request says what failed, the last
  error, and the choices (see :mod:`._tasks`), in the same unit of work.

A dispatcher releases its own claims left from before a restart on its first round
(others would wait for the lease); it never starts an attempt whose timeout could run
past its lease, and gives back, untried, the claimed entries it did not attempt.
:meth:`Dispatcher.deliver_now` delivers one request's entries of one port
at once, inside a staff call (the lending desk's check-in needs the ILS's routing
answer); what fails there simply waits for the next round.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import final

import attrs

from resource_sharing.errors import DeliveryError, LeaseLost, ResourceSharingError
from resource_sharing.ports import OutboxEntry, OutboxStatus, Port, RequestKey
from resource_sharing.records import Actor
from resource_sharing.service._core import Shell
from resource_sharing.service._routing import route_of
from resource_sharing.service._tasks import raise_task

__all__ = ["Delivered", "DispatchReport", "Dispatcher"]

SYSTEM = Actor.system("dispatcher")


@final
@attrs.frozen
class DispatchReport:
    """What one dispatch round did."""

    sent: int = 0
    """Entries delivered."""
    retried: int = 0
    """Entries that failed and will be retried."""
    given_up: int = 0
    """Entries that failed for good and became staff tasks."""

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            self.sent + other.sent,
            self.retried + other.retried,
            self.given_up + other.given_up,
        )


@final
@attrs.frozen
class Delivered:
    """One entry delivered, with the port's answer (a check-in's routing instruction)."""

    entry: OutboxEntry
    """The entry as delivered."""
    answer: str | None
    """What the port said, in words, when it says anything."""


class Dispatcher:
    """Delivers one institution's outbox under one owner id (one per process)."""

    def __init__(self, shell: Shell, *, owner: str = "local") -> None:
        self._shell = shell
        self.owner = owner
        """The name this dispatcher claims entries under (stable across its restarts)."""
        self._recovered = False

    def recover(self) -> int:
        """Release the claims this owner left before a restart; returns how many."""
        ports = self._shell.ports
        with ports.store.transaction() as uow:
            released = uow.outbox.release(self.owner)
        self._recovered = True
        return released

    def run(self, limit: int | None = None) -> DispatchReport:
        """One round over every port; returns what it did."""
        if not self._recovered:
            self.recover()
        report = DispatchReport()
        for port in Port:
            report += self._round(port, limit, None)[0]
        return report

    def deliver_now(self, port: Port, request: RequestKey) -> list[Delivered]:
        """Deliver one request's deliverable entries of one port now (first attempts)."""
        if not self._recovered:
            self.recover()
        return self._round(port, None, request)[1]

    def _round(
        self, port: Port, limit: int | None, request: RequestKey | None
    ) -> tuple[DispatchReport, list[Delivered]]:
        shell = self._shell
        ports, delivery = shell.ports, shell.settings.delivery
        policy = delivery.for_port(port)
        now = ports.clock.now()
        with ports.store.transaction() as uow:
            claimed = list(
                uow.outbox.claim(
                    port,
                    now=now,
                    limit=limit if limit is not None else delivery.batch,
                    lease=delivery.lease,
                    owner=self.owner,
                    request=request,
                )
            )
        sent = retried = given_up = 0
        done: list[Delivered] = []
        held: set[str] = set()  # streams whose earlier entry did not go: the rest waits
        untried: list[OutboxEntry] = []
        for entry in claimed:
            if entry.stream in held:
                untried.append(entry)
                continue
            started = ports.clock.now()
            if entry.lease_until is not None and started + policy.timeout > entry.lease_until:
                held.add(entry.stream)
                untried.append(entry)
                continue
            try:
                answer = route_of(entry.effect).deliver(
                    ports, shell.settings.directory, entry.effect, entry.key
                )
            except DeliveryError as error:
                outcome = self._failed(entry, error.reason, error.retryable, started)
            except ResourceSharingError as error:
                outcome = self._failed(entry, str(error), False, started)
            except Exception as error:
                outcome = self._failed(entry, f"{type(error).__name__}: {error}", True, started)
            else:
                finished = attrs.evolve(
                    entry,
                    status=OutboxStatus.DELIVERED,
                    attempts=entry.attempts + 1,
                    finished_at=started,
                )
                if self._write(finished):
                    sent += 1
                    done.append(Delivered(finished, answer))
                continue
            held.add(entry.stream)
            if outcome is OutboxStatus.GIVEN_UP:
                given_up += 1
            elif outcome is OutboxStatus.PENDING:
                retried += 1
        if untried:
            self._unclaim(untried)
        return DispatchReport(sent, retried, given_up), done

    def _unclaim(self, entries: Sequence[OutboxEntry]) -> None:
        """Give back claimed entries that were not tried (unchanged, claim cleared)."""
        for entry in entries:
            self._write(entry)

    def _failed(
        self, entry: OutboxEntry, error: str, retryable: bool, now: datetime
    ) -> OutboxStatus | None:
        ports = self._shell.ports
        policy = self._shell.settings.delivery.for_port(entry.port)
        attempts = entry.attempts + 1
        retry_at = policy.next_attempt(now, attempts, ports.random.random(), retryable=retryable)
        if retry_at is not None:
            waiting = attrs.evolve(
                entry, attempts=attempts, last_error=error, next_attempt_at=retry_at
            )
            return OutboxStatus.PENDING if self._write(waiting) else None
        gone = attrs.evolve(
            entry,
            status=OutboxStatus.GIVEN_UP,
            attempts=attempts,
            last_error=error,
            finished_at=now,
        )
        try:
            with ports.store.transaction() as uow:
                uow.outbox.update(gone, owner=self.owner)
                raise_task(self._shell, uow, gone, now)
        except LeaseLost:
            return None
        return OutboxStatus.GIVEN_UP

    def _write(self, entry: OutboxEntry) -> bool:
        """Store a result; False when another dispatcher took the entry over meanwhile."""
        try:
            with self._shell.ports.store.transaction() as uow:
                uow.outbox.update(entry, owner=self.owner)
        except LeaseLost:
            return False
        return True
