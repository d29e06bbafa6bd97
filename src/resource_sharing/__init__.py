"""resource-sharing: peer-to-peer interlibrary loan as a pure, typed core.

The names here are the ones most integrations start from; every module documents the
rest (:mod:`resource_sharing.borrowing`, :mod:`~resource_sharing.lending`,
:mod:`~resource_sharing.rota`, :mod:`~resource_sharing.policies`,
:mod:`~resource_sharing.service`, :mod:`~resource_sharing.ports`,
:mod:`~resource_sharing.testing`). Adapters (storage, ISO 18626 XML and HTTP, the CLI)
live in the separate ``resource_sharing_adapters`` package and are never imported here.
"""

from __future__ import annotations

from resource_sharing.borrowing import (
    BORROWING,
    BorrowingContext,
    BorrowingPolicy,
    EndOfRota,
    handle_borrowing,
)
from resource_sharing.directory import Directory, Partner, PartnerTerms
from resource_sharing.errors import (
    ConcurrencyConflict,
    DeliveryError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PeerError,
    ResourceSharingError,
    UsageError,
    WrongCounterpart,
)
from resource_sharing.lending import (
    LENDING,
    LendingContext,
    LendingPolicy,
    handle_lending,
    new_lending_request,
)
from resource_sharing.lifecycle import Outcome
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    Identifier,
    ItemRef,
    LendingRequest,
    PatronRef,
    RotaEntry,
)
from resource_sharing.rota import RotaContext, RotaPolicy, build_rota
from resource_sharing.states import BorrowingState, LendingState

__version__ = "0.1.0.dev0"
"""The package version."""

__all__ = [
    "BORROWING",
    "LENDING",
    "AgencyId",
    "BorrowingContext",
    "BorrowingPolicy",
    "BorrowingRequest",
    "BorrowingState",
    "Citation",
    "ConcurrencyConflict",
    "DeliveryError",
    "Directory",
    "EndOfRota",
    "Identifier",
    "IllegalTransition",
    "InvalidInput",
    "ItemRef",
    "LendingContext",
    "LendingPolicy",
    "LendingRequest",
    "LendingState",
    "NotFound",
    "Outcome",
    "Partner",
    "PartnerTerms",
    "PatronRef",
    "PeerError",
    "ResourceSharingError",
    "RotaContext",
    "RotaEntry",
    "RotaPolicy",
    "UsageError",
    "WrongCounterpart",
    "__version__",
    "build_rota",
    "handle_borrowing",
    "handle_lending",
    "new_lending_request",
]
