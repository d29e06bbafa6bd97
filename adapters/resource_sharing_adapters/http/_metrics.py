"""A node's Prometheus metrics (prometheus-client), served at ``GET /metrics``.

Each node has its own registry (several nodes in one process do not mix). Counted as
they happen:

- ``resource_sharing_messages_total{direction, kind, status}``: ISO 18626 messages
  received (``in``; status is the confirmation's, ``OK`` or ``ERROR``, or
  ``BadlyFormed`` for a body that is no message) and delivered (``out``; the partner's
  confirmation status, or ``failed`` when it could not be delivered);
- ``resource_sharing_deliveries_failed_total{partner, retryable}``: failed delivery
  attempts (each one is also logged at WARNING with the reason);
- ``resource_sharing_http_request_duration_seconds{route, method, status}``: HTTP
  latency, by route group (``iso18626``, ``/staff/tasks``..., ``/health``, ``/metrics``);
- ``resource_sharing_sweep_runs_total``: consistency sweep runs this process made;
- ``resource_sharing_sweep_requests_total{outcome}``: idle requests a run looked at, by
  what it did (``asked``, ``asked_recently``, ``rate_limited``, ``failed``);
- ``resource_sharing_sweep_status_requests_total{partner}``: StatusRequests it sent.

Read from the node's security counters at every scrape (issue 19's lock-outs and limits):

- ``resource_sharing_auth_failures_total{kind}``: failed peer or staff authentications;
- ``resource_sharing_lockouts_total{kind}``: credentials locked out after repeated failures;
- ``resource_sharing_requests_refused_total{kind, reason}``: requests refused unread
  (``rate_limited`` or ``locked_out``);
- ``resource_sharing_connection_events_total{event}``: connections cut at the edge
  (``header_timeout``, ``body_timeout``, ``too_large``) or dropped by the client
  (``disconnected``).

Read from the store at every scrape (so several processes on one database agree):

- ``resource_sharing_outbox_messages{status, port}``: outbox entries (peer messages,
  notices, circulation commands, print jobs) pending and given up on, by port;
- ``resource_sharing_outbox_oldest_pending_age_seconds``: age of the oldest pending one;
- ``resource_sharing_timers_due``: requests whose timer is due now (at most 1000 counted);
- ``resource_sharing_out_of_step_tasks``: open tasks on the ``out_of_step`` list (a
  partner's status answer that does not fit our state; at most 10 000 counted);
- ``resource_sharing_requests{side, state}``: requests by state: from the store's
  ``count_by_state()`` when it has one, else the open requests on the staff task lists
  (the states someone must act on).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from resource_sharing.directory import Partner
from resource_sharing.effects import TaskList
from resource_sharing.errors import DeliveryError
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.ports import OutboxStatus, PeerTransport
from resource_sharing.service import SweepReport
from resource_sharing_adapters.http import _logging

if TYPE_CHECKING:
    from resource_sharing_adapters.http._node import Node

__all__ = [
    "CONTENT_TYPE",
    "METRIC_NAMES",
    "MetricsMiddleware",
    "NodeMetrics",
    "ObservedTransport",
    "metrics_of",
]

log = logging.getLogger("resource_sharing.delivery")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text exposition format."""

METRIC_NAMES = (
    "resource_sharing_messages_total",
    "resource_sharing_deliveries_failed_total",
    "resource_sharing_http_request_duration_seconds",
    "resource_sharing_outbox_messages",
    "resource_sharing_outbox_oldest_pending_age_seconds",
    "resource_sharing_timers_due",
    "resource_sharing_out_of_step_tasks",
    "resource_sharing_sweep_runs_total",
    "resource_sharing_sweep_requests_total",
    "resource_sharing_sweep_status_requests_total",
    "resource_sharing_requests",
    "resource_sharing_auth_failures_total",
    "resource_sharing_lockouts_total",
    "resource_sharing_requests_refused_total",
    "resource_sharing_connection_events_total",
)
"""Every metric a node exports (the names dashboards and alerts use)."""

_TIMERS_COUNTED = 1000
_TASKS_COUNTED = 10_000


class _StoreCollector(Collector):
    """The gauges read from the node's store at scrape time."""

    def __init__(self, node: Node) -> None:
        self._node = weakref.ref(node)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        node = self._node()
        if node is None:
            return
        now = node.clock.now()
        outbox = GaugeMetricFamily(
            "resource_sharing_outbox_messages",
            "Outbox entries waiting or given up on, by status and port",
            labels=["status", "port"],
        )
        oldest = GaugeMetricFamily(
            "resource_sharing_outbox_oldest_pending_age_seconds",
            "Age of the oldest message waiting to be delivered (0 when none)",
        )
        timers = GaugeMetricFamily(
            "resource_sharing_timers_due", "Requests whose timer is due now (at most 1000)"
        )
        out_of_step = GaugeMetricFamily(
            "resource_sharing_out_of_step_tasks",
            "Open tasks on the out_of_step list (a partner's status that does not fit ours)",
        )
        requests = GaugeMetricFamily(
            "resource_sharing_requests",
            "Requests by side and state (without a store count: those on a task list)",
            labels=["side", "state"],
        )
        with node.store.transaction() as uow:
            pending = uow.outbox.entries(status=OutboxStatus.PENDING)
            given_up = uow.outbox.entries(status=OutboxStatus.GIVEN_UP)
            due = uow.timers.due(now, _TIMERS_COUNTED)
            drifted = uow.tasks.open(task_list=TaskList.OUT_OF_STEP, limit=_TASKS_COUNTED)
            tally = _by_state(node, uow)
        for status, entries in (("pending", pending), ("given_up", given_up)):
            by_port = Tally(entry.port.value for entry in entries)
            for port in sorted(by_port):
                outbox.add_metric([status, port], by_port[port])
            if not by_port:
                outbox.add_metric([status, "peer"], 0)
        ages = [(now - m.created_at).total_seconds() for m in pending]
        oldest.add_metric([], max(ages, default=0.0))
        timers.add_metric([], len(due))
        out_of_step.add_metric([], len(drifted))
        for (side, state), count in sorted(tally.items()):
            requests.add_metric([side, state], count)
        yield from (outbox, oldest, timers, out_of_step, requests)


_SECURITY = (
    # (counter name in SecurityCounters, metric name, help, label names)
    ("auth_failures", "resource_sharing_auth_failures", "Failed authentications", ("kind",)),
    ("lockouts", "resource_sharing_lockouts", "Credentials locked out", ("kind",)),
    ("refused", "resource_sharing_requests_refused", "Requests refused unread", ("kind", "reason")),
    ("connections", "resource_sharing_connection_events", "Connections cut or dropped", ("event",)),
)


class _SecurityCollector(Collector):
    """The security counters (lock-outs, rate limits, connection events) as counters."""

    def __init__(self, node: Node) -> None:
        self._node = weakref.ref(node)

    def collect(self) -> Iterator[CounterMetricFamily]:
        node = self._node()
        if node is None:
            return
        counts = node.authenticator.guard.counters.snapshot()
        for name, metric, text, labels in _SECURITY:
            family = CounterMetricFamily(metric, text, labels=list(labels))
            for found, values, count in counts:
                if found == name:
                    family.add_metric([values.get(label, "") for label in labels], count)
            yield family


def _by_state(node: Node, uow: Any) -> Tally[tuple[str, str]]:
    counter = getattr(node.raw_store, "count_by_state", None)
    if callable(counter):
        return Tally({(str(side), str(state)): int(n) for (side, state), n in counter().items()})
    tally: Tally[tuple[str, str]] = Tally()
    for task_list in TaskList:
        for task in uow.tasks.listed(task_list, limit=_TASKS_COUNTED):
            tally[(task.side.value, task.state)] += 1
    return tally


class NodeMetrics:
    """One node's registry and the counters its hooks update."""

    def __init__(self, node: Node) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        """What ``/metrics`` shows."""
        self.messages = Counter(
            "resource_sharing_messages",
            "ISO 18626 messages received (in) and delivered (out), by kind and status",
            ["direction", "kind", "status"],
            registry=self.registry,
        )
        self.deliveries_failed = Counter(
            "resource_sharing_deliveries_failed",
            "Failed delivery attempts, by partner and whether they will be retried",
            ["partner", "retryable"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "resource_sharing_http_request_duration_seconds",
            "HTTP request latency, by route group, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.sweep_runs = Counter(
            "resource_sharing_sweep_runs",
            "Consistency sweep runs made by this process",
            registry=self.registry,
        )
        self.sweep_requests = Counter(
            "resource_sharing_sweep_requests",
            "Idle requests a sweep run looked at, by what it did with them",
            ["outcome"],
            registry=self.registry,
        )
        self.sweep_status_requests = Counter(
            "resource_sharing_sweep_status_requests",
            "StatusRequests the sweep sent, by partner",
            ["partner"],
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(node))
        self.registry.register(_SecurityCollector(node))
        self._iso_path = node.config.server.path

    def received(self, confirmation: Confirmation, *, badly_formed: bool = False) -> None:
        """Count an inbound message by the confirmation it got (or a body that was none)."""
        kind = confirmation.confirms.value if confirmation.confirms is not None else "unknown"
        status = "BadlyFormed" if badly_formed else confirmation.status.value
        self.messages.labels("in", kind, status).inc()

    def swept(self, report: SweepReport) -> None:
        """Count one sweep run."""
        self.sweep_runs.inc()
        for outcome in ("asked", "asked_recently", "rate_limited", "failed"):
            self.sweep_requests.labels(outcome).inc(getattr(report, outcome))
        for partner, count in report.per_lender.items():
            self.sweep_status_requests.labels(partner).inc(count)

    def route(self, path: str) -> str:
        """The route group of ``path`` (bounded label values)."""
        if path == self._iso_path:
            return "iso18626"
        if path.startswith("/staff/"):
            parts = path.split("/")
            group = parts[2] if len(parts) > 2 else ""
            if group in ("borrowing", "lending") and len(parts) > 4:
                return f"/staff/{group}/action"
            return f"/staff/{group}"
        if path in ("/health", "/metrics"):
            return path
        return "other"

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)


_BY_NODE: weakref.WeakKeyDictionary[Any, NodeMetrics] = weakref.WeakKeyDictionary()


def metrics_of(node: Node) -> NodeMetrics:
    """The node's metrics (made on first use)."""
    found = _BY_NODE.get(node)
    if found is None:
        found = _BY_NODE[node] = NodeMetrics(node)
    return found


class ObservedTransport:
    """A :class:`~resource_sharing.ports.PeerTransport` that counts and logs deliveries.

    Each delivery runs with the outbox message's id as :data:`_logging.message_id`; a
    failed one is logged at WARNING with the partner, the reason and whether it will be
    retried.
    """

    def __init__(self, inner: PeerTransport, node: Node) -> None:
        self.inner = inner
        """The transport that does the work."""
        self._node = weakref.ref(node)

    def send(self, partner: Partner, message: PeerMessage, message_id: str) -> Confirmation:
        """Deliver through the inner transport; count it, and log it when it fails."""
        node = self._node()
        metrics = metrics_of(node) if node is not None else None
        kind = message.kind.value
        token = _logging.message_id.set(message_id)
        try:
            confirmation = self.inner.send(partner, message, message_id)
        except DeliveryError as error:
            log.warning(
                "delivery of %s %s to %s failed (%s): %s",
                kind,
                message_id,
                partner.agency,
                "will retry" if error.retryable else "not retryable",
                error.reason,
            )
            if metrics is not None:
                metrics.messages.labels("out", kind, "failed").inc()
                metrics.deliveries_failed.labels(
                    str(partner.agency), str(error.retryable).lower()
                ).inc()
            raise
        finally:
            _logging.message_id.reset(token)
        if metrics is not None:
            metrics.messages.labels("out", kind, confirmation.status.value).inc()
        return confirmation

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class MetricsMiddleware:
    """ASGI middleware: times every HTTP request into the node's latency histogram."""

    def __init__(
        self, app: Callable[[_Scope, _Receive, _Send], Awaitable[None]], *, node: Node
    ) -> None:
        self.app = app
        self.metrics = metrics_of(node)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = "500"

        async def send_and_note(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = self.metrics.route(str(scope.get("path", "")))
            self.metrics.latency.labels(route, scope.get("method", ""), status).observe(
                time.perf_counter() - started
            )
