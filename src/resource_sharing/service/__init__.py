"""Application services: an institution's desks, peer inbox, timers and outbox dispatcher.

They load a request, call the pure core, and persist the new request, its history and its
outgoing messages in one unit of work through the ports.
"""

from __future__ import annotations

from resource_sharing.service._core import Ports, Settings, Shell, index_of
from resource_sharing.service._institution import (
    BorrowingDesk,
    DispatchReport,
    Institution,
    LendingDesk,
    PeerInbox,
    ScanResult,
)

__all__ = [
    "BorrowingDesk",
    "DispatchReport",
    "Institution",
    "LendingDesk",
    "PeerInbox",
    "Ports",
    "ScanResult",
    "Settings",
    "Shell",
    "index_of",
]
