"""``GET /health``: is this node able to do its work, and if not, what is wrong.

Two checks, each with a word and, when it fails, a sentence a person can act on:

- **store**: a unit of work opens and reads (the outbox's entries given up on); a store that
  cannot be reached or read is unhealthy;
- **dispatcher**: when the node runs its background loops, the dispatcher thread is
  alive, and no pending outbox entry has waited past its next attempt by more than
  ``lag_seconds`` (the dispatcher is stuck or far behind). Failed deliveries (given up
  on) are reported, not unhealthy: they are on a staff task list.

The answer is JSON: ``{"ok": true|false, "agency", "checks": {name: {"ok", "detail"}},
"problems": [sentences]}``, with 200 when every check passed and 503 otherwise.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from resource_sharing.ports import OutboxStatus

if TYPE_CHECKING:
    from resource_sharing_adapters.http._node import Node

__all__ = ["check_health"]


def _store(node: Node) -> tuple[bool, str, int]:
    try:
        with node.store.transaction() as uow:
            failed = len(uow.outbox.entries(status=OutboxStatus.GIVEN_UP))
    except Exception as exc:  # any failure of the store is the answer, not a 500
        return False, f"the store cannot be read: {type(exc).__name__}: {exc}", 0
    return True, f"{node.config.store.kind} store readable", failed


def _dispatcher(node: Node, lag_seconds: float) -> tuple[bool, str]:
    threads: list[threading.Thread] = list(getattr(node, "_threads", []))
    if threads:
        dead = [t.name for t in threads if not t.is_alive()]
        if dead:
            return False, f"background thread(s) stopped: {', '.join(dead)}"
    now = node.clock.now()
    try:
        with node.store.transaction() as uow:
            pending = list(uow.outbox.entries(status=OutboxStatus.PENDING))
    except Exception as exc:  # reported by the store check too
        return False, f"the outbox cannot be read: {type(exc).__name__}"
    late = [m for m in pending if now - m.next_attempt_at > timedelta(seconds=lag_seconds)]
    if late:
        oldest = min(m.next_attempt_at for m in late)
        behind = int((now - oldest).total_seconds())
        return False, (
            f"the dispatcher is behind: {len(late)} outbox entry(ies) overdue for delivery, "
            f"the oldest by {behind} s"
        )
    running = "running" if threads else "not started in this process"
    return True, f"dispatcher {running}; {len(pending)} outbox entry(ies) pending"


def check_health(node: Node, *, lag_seconds: float | None = None) -> tuple[int, dict[str, Any]]:
    """The HTTP status (200 or 503) and the JSON answer of ``/health``."""
    if lag_seconds is None:
        delivery = node.config.delivery
        lag_seconds = max(60.0, 10 * delivery.dispatch_interval_seconds) + delivery.timeout_seconds
    store_ok, store_detail, failed = _store(node)
    dispatch_ok, dispatch_detail = _dispatcher(node, lag_seconds)
    if failed:
        dispatch_detail += f"; {failed} delivery(ies) given up on (see desk failed)"
    checks = {
        "store": {"ok": store_ok, "detail": store_detail},
        "dispatcher": {"ok": dispatch_ok, "detail": dispatch_detail},
    }
    problems = [c["detail"] for c in checks.values() if not c["ok"]]
    ok = not problems
    body = {"ok": ok, "agency": str(node.agency), "checks": checks, "problems": problems}
    return (200 if ok else 503), body
