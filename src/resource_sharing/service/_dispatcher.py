"""The dispatcher: delivers the outbox to the ports, with retries, then staff tasks.

Theory of operation. One round (:meth:`Dispatcher.run`) claims, in one unit of work, a
batch of deliverable entries of every port (:meth:`~resource_sharing.ports.OutboxRepository.claim`:
oldest first, streams whole, under a lease in this dispatcher's ``owner`` name), delivers
them one by one through the routing table (:mod:`._routing`), passing each entry's
idempotency key, and writes the results in one more unit of work (a process that dies
before that delivers the round again after its restart, under the same keys):

- delivered: the entry is ``delivered``;
- a retryable :class:`~resource_sharing.errors.DeliveryError` (or an unexpected
  exception of the adapter, recorded in words): the entry waits for its next attempt
  (the port's :class:`~._retry.RetryPolicy`, jitter from the ``random`` port); the
  later entries of its stream in this batch are released untried, so a stream keeps
  its order;
- a refusal (``retryable=False``) or the last attempt: the entry is ``given_up`` and a
  :class:`~resource_sharing.ports.StaffTask` on its request says what failed, the last
  error, and the choices (see :mod:`._tasks`), in the same unit of work.

Every adapter call goes through the ``attempts`` port
(:class:`~resource_sharing.ports.AttemptRunner`), given the port's ``timeout``: a node's
runs it on a worker thread and makes one that overruns a failed attempt ("timed out
after N s").
A dispatcher releases its own claims left from before a restart on its first round
(others would wait for the lease); it never starts an attempt whose timeout could run
past its lease, and gives back, untried, the claimed entries it did not attempt (the
later entries of a stream whose earlier one failed in the round).
:meth:`Dispatcher.deliver_now` delivers one request's entries of one port
at once, inside a staff call (the lending desk's check-in needs the ILS's routing
answer); what fails there simply waits for the next round.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import final

import attrs

from resource_sharing.effects import SendMessage
from resource_sharing.errors import (
    DeliveryError,
    IllegalTransition,
    LeaseLost,
    ResourceSharingError,
)
from resource_sharing.events import DeliveryRefused
from resource_sharing.lifecycle import evolve
from resource_sharing.messages import Request
from resource_sharing.ports import OutboxEntry, OutboxStatus, Port, RequestKey, UnitOfWork
from resource_sharing.records import Actor, Side
from resource_sharing.service._core import Shell
from resource_sharing.service._retry import RetryPolicy
from resource_sharing.service._routing import NotYetKnown, route_of
from resource_sharing.service._tasks import note_give_up, raise_task

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
        return self._round(None, limit, None)[0]

    def deliver_now(self, port: Port, request: RequestKey) -> list[Delivered]:
        """Deliver one request's deliverable entries of one port now (first attempts)."""
        return self._round(port, None, request)[1]

    def _round(
        self, port: Port | None, limit: int | None, request: RequestKey | None
    ) -> tuple[DispatchReport, list[Delivered]]:
        if not self._recovered:
            self.recover()
        shell = self._shell
        ports, delivery = shell.ports, shell.settings.delivery
        now = ports.clock.now()
        with ports.store.transaction() as uow:
            claimed = uow.outbox.claim(
                port,
                now=now,
                limit=limit if limit is not None else delivery.batch,
                lease=delivery.lease,
                owner=self.owner,
                request=request,
            )
        if not claimed:
            return DispatchReport(), []
        results: list[_Result] = []
        held: set[str] = set()  # streams whose earlier entry did not go: the rest waits
        for entry in claimed:
            if entry.stream in held:
                results.append(_Result(entry, _UNTRIED))
                continue
            started = ports.clock.now()
            timeout = delivery.for_port(entry.port).timeout
            if entry.lease_until is not None and started + timeout > entry.lease_until:
                held.add(entry.stream)
                results.append(_Result(entry, _UNTRIED))
                continue
            try:
                deliver = route_of(entry.effect).deliver
                call = partial(deliver, ports, shell.settings.directory, entry.effect, entry.key)
                answer = ports.attempts.run(call, timeout=timeout, port=entry.port.value)
            except NotYetKnown as error:
                result = self._failed(entry, error.reason, True, started, delivery.unknown_request)
            except DeliveryError as error:
                result = self._failed(entry, error.reason, error.retryable, started)
            except ResourceSharingError as error:
                result = self._failed(entry, str(error), False, started)
            except Exception as error:
                result = self._failed(entry, f"{type(error).__name__}: {error}", True, started)
            else:
                changes = {
                    "status": OutboxStatus.DELIVERED,
                    "attempts": entry.attempts + 1,
                    "finished_at": started,
                }
                result = _Result(evolve(entry, changes), OutboxStatus.DELIVERED, answer)
            if result.outcome is not OutboxStatus.DELIVERED:
                held.add(entry.stream)
            results.append(result)
        written = self._write(results, ports.clock.now())
        sent = [r for r in written if r.outcome is OutboxStatus.DELIVERED]
        report = DispatchReport(
            len(sent),
            sum(r.outcome is OutboxStatus.PENDING for r in written),
            sum(r.outcome is OutboxStatus.GIVEN_UP for r in written),
        )
        return report, [Delivered(r.entry, r.answer) for r in sent]

    def _failed(
        self,
        entry: OutboxEntry,
        error: str,
        retryable: bool,
        now: datetime,
        policy: RetryPolicy | None = None,
    ) -> _Result:
        ports = self._shell.ports
        policy = policy or self._shell.settings.delivery.for_port(entry.port)
        attempts = entry.attempts + 1
        retry_at = policy.next_attempt(
            now, attempts, ports.random.random(), retryable=retryable, since=entry.created_at
        )
        if retry_at is not None:
            changes = {"attempts": attempts, "last_error": error, "next_attempt_at": retry_at}
            return _Result(evolve(entry, changes), OutboxStatus.PENDING)
        changes = {
            "status": OutboxStatus.GIVEN_UP,
            "attempts": attempts,
            "last_error": error,
            "finished_at": now,
        }
        return _Result(evolve(entry, changes), OutboxStatus.GIVEN_UP, refused=not retryable)

    def _write(self, results: Sequence[_Result], now: datetime) -> list[_Result]:
        """Store a round's results in one unit of work; returns those written.

        When another dispatcher took one of the entries over meanwhile (its lease ended)
        the unit is rolled back and each result is written on its own, that one skipped.
        """
        store = self._shell.ports.store
        try:
            with store.transaction() as uow:
                for result in results:
                    self._store(uow, result, now)
        except LeaseLost:
            kept = []
            for result in results:
                try:
                    with store.transaction() as uow:
                        self._store(uow, result, now)
                except LeaseLost:
                    continue
                kept.append(result)
            return kept
        return list(results)

    def _store(self, uow: UnitOfWork, result: _Result, now: datetime) -> None:
        uow.outbox.update(result.entry, owner=self.owner)
        if result.outcome is OutboxStatus.GIVEN_UP and not (
            result.refused and self._attempt_ended(uow, result.entry, now)
        ):
            raise_task(self._shell, uow, result.entry, now)

    def _attempt_ended(self, uow: UnitOfWork, entry: OutboxEntry, now: datetime) -> bool:
        """Feed a given-up borrowing Request back to its lifecycle; True when it took it.

        The borrowing table decides (``delivery_refused`` from ``sent``): the attempt ends
        with the refusal's words and the rota moves on, in this unit of work. Anything
        the table does not take (another state, an attempt already past) stays a task.
        """
        effect = entry.effect
        if entry.side is not Side.BORROWING or not isinstance(effect, SendMessage):
            return False
        if not isinstance(effect.message, Request):
            return False
        record = uow.requests.get(entry.side, entry.request_id)
        if record is None:
            return False
        reason = entry.last_error or "refused"
        event = DeliveryRefused(effect.message.header.requesting_agency_request_id, reason)
        try:
            outcome = self._shell.decide(record, event, now)
        except IllegalTransition:
            return False
        if not outcome.applied:
            return False
        note_give_up(uow, entry, now, record.state.value, route_of(effect).describe(effect))
        self._shell.persist(uow, record, outcome, event, now, SYSTEM)
        return True


_UNTRIED = None


@final
@attrs.frozen
class _Result:
    """What one attempt did: the entry as it is now, and its outcome (None: not tried)."""

    entry: OutboxEntry
    outcome: OutboxStatus | None
    answer: str | None = None
    refused: bool = False
    """The peer refused it (not retryable): a Request refused so ends its attempt. One
    that ran out of retries may have arrived, so it stays a task for staff."""
