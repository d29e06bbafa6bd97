"""Application services: an institution's desks, peer inbox, timers, dispatcher and tasks.

They load a request, call the pure core, and persist the new request, its history and
every effect it sends out in one unit of work through the ports; the dispatcher then
delivers the outbox to the ports with a retry policy per port, and a delivery that gives
up becomes a staff task. :class:`Institution` is the composition of these parts.
"""

from __future__ import annotations

from resource_sharing.service._consistency import ConsistencySweep, SweepReport, answer_status
from resource_sharing.service._core import Hints, Ports, Settings, Shell, index_of
from resource_sharing.service._dispatcher import Delivered, Dispatcher, DispatchReport
from resource_sharing.service._institution import (
    BorrowingDesk,
    Institution,
    LendingDesk,
    PeerInbox,
    ScanResult,
    content_digest,
)
from resource_sharing.service._retry import DeliveryPolicy, RetryPolicy
from resource_sharing.service._routing import ROUTES, Route, UnknownEffect, route_of
from resource_sharing.service._tasks import TaskDesk, instruction_of
from resource_sharing.service._timers import TimerScheduler

__all__ = [
    "ROUTES",
    "BorrowingDesk",
    "ConsistencySweep",
    "Delivered",
    "DeliveryPolicy",
    "DispatchReport",
    "Dispatcher",
    "Hints",
    "Institution",
    "LendingDesk",
    "PeerInbox",
    "Ports",
    "RetryPolicy",
    "Route",
    "ScanResult",
    "Settings",
    "Shell",
    "SweepReport",
    "TaskDesk",
    "TimerScheduler",
    "UnknownEffect",
    "answer_status",
    "content_digest",
    "index_of",
    "instruction_of",
    "route_of",
]
