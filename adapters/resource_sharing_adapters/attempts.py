"""Every adapter call of a node's dispatcher lasts at most its port's timeout.

:class:`ThreadedAttempts` is the :class:`~resource_sharing.ports.AttemptRunner` a node
runs (``Ports(attempts=ThreadedAttempts())``). Theory of operation. A port can hang (an
ILS that takes the connection and never answers, a stalled SMTP server, a blocked print
queue), and Python cannot interrupt a call in progress. So every call goes to a worker
thread, and the dispatcher waits at most the port's
:attr:`~resource_sharing.service.RetryPolicy.timeout` for it. A call that overruns is
abandoned: the attempt fails with "timed out after N s" (a retryable
:class:`~resource_sharing.errors.DeliveryError`) and is retried under the port's policy
like any other failure, until it gives up into a staff task. The port gets the same
idempotency key on the retry, so it can drop a repeat if the abandoned call got through
after all. The worker still inside that call is left to finish on its own (a daemon
thread, which never keeps the process alive, and whose late answer nobody reads); the
next call takes another worker.

The workers are shared by every dispatcher of the process: a call takes an idle one (or
starts one), which goes back to the idle ones when its call returns, late or not (a few
stay; the others end). Concurrent calls (a node's dispatch loop, a staff call delivering
a check-in at once) never wait behind each other. A call runs in a copy of the caller's
context (:mod:`contextvars`: a node's log lines keep their request id).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar, final

from resource_sharing.errors import DeliveryError

__all__ = ["ThreadedAttempts"]

T = TypeVar("T")


_MAX_IDLE = 4
"""Idle workers kept for the next calls; a worker finding this many idle ends."""

_lock = threading.Lock()
_idle: list[_Worker] = []


@final
class _Job:
    """One call handed to a worker, and what came of it."""

    __slots__ = ("answer", "call", "context", "done", "error")

    def __init__(self, call: Callable[[], object]) -> None:
        self.call = call
        self.context = contextvars.copy_context()
        self.done = threading.Event()
        self.answer: object = None
        self.error: BaseException | None = None


@final
class _Worker:
    """A daemon thread running the jobs put in its queue, one after the other."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="rs-delivery-attempt", daemon=True).start()

    def _loop(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                job.answer = job.context.run(job.call)
            except BaseException as error:  # handed to the waiting thread, which raises it
                job.error = error
            with _lock:  # idle again before the caller wakes, so its next call reuses us
                stays = len(_idle) < _MAX_IDLE
                if stays:
                    _idle.append(self)
            job.done.set()
            if not stays:
                return


def _take() -> _Worker:
    with _lock:
        if _idle:
            return _idle.pop()
    return _Worker()


@final
class ThreadedAttempts:
    """Makes each call on a worker thread, for at most its timeout (see the module)."""

    def run(self, call: Callable[[], T], *, timeout: timedelta, port: str) -> T:
        """``call()``'s answer or its exception (raised here, in the caller's thread).

        Past ``timeout``: :class:`DeliveryError` "timed out after N s", retryable.
        """
        job = _Job(call)
        _take().jobs.put(job)
        seconds = timeout.total_seconds()
        if not job.done.wait(seconds):
            raise DeliveryError(port, f"timed out after {seconds:g} s")
        if job.error is not None:
            raise job.error
        return job.answer  # type: ignore[return-value]  # what ``call`` returned
