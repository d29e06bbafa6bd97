"""In-memory parts an institution can run on without a host system behind it.

- :class:`MemoryHoldings`: a catalogue keyed by identifier or title (the holdings
  locator of a node whose configuration lists its holdings).
- :class:`EveryoneEligible`: the patron validator of an institution that does not ask
  its host system (every patron may place a request).
- :class:`MemoryPrinter`: keeps every print job (a node with no printer of its own).
- :class:`SeededRandom`: repeatable randomness for the dispatcher's backoff jitter.
- :class:`InlineAttempts`: adapter calls made in the dispatcher's own thread (in-process
  ports, which cannot hang).
- :class:`RecordingNotifier`, :class:`MemoryCirculation`: a notifier and a circulation
  that keep what they were given (once per idempotency key), for a simulation or a
  node with no host system behind it.
- :class:`FixedClock`, :class:`SequentialIds`: time and identifiers you control.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, final

from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    NotifyPatron,
    NotifyStaff,
    PlaceOnHoldShelf,
    PrintJob,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
)
from resource_sharing.errors import DeliveryError, InvalidInput
from resource_sharing.identifiers import normalise
from resource_sharing.ports import Holding, PatronStanding
from resource_sharing.records import Citation, Identifier, PatronRef

__all__ = [
    "EveryoneEligible",
    "FixedClock",
    "MemoryCirculation",
    "MemoryHoldings",
    "MemoryPrinter",
    "RecordingNotifier",
    "SeededRandom",
    "SequentialIds",
]


_KEYED_CODES = ("ISBN", "ISSN", "OCLC", "LCCN")
"""The identifier kinds a holdings key (a bare value) is read as, in canonical form."""


@final
class MemoryHoldings:
    """Our catalogue: holdings found by identifier value or by title."""

    def __init__(self, holdings: dict[str, Holding] | None = None) -> None:
        self.holdings: dict[str, Holding] = dict(holdings or {})
        """Keys are identifier values (e.g. an ISBN) or casefolded titles."""
        self._canonical: dict[Identifier, Holding] = {}
        for value, holding in self.holdings.items():  # a key names no code: try each
            for code in _KEYED_CODES:
                key = normalise(Identifier(code, value))
                if key is not None:
                    self._canonical.setdefault(key, holding)

    def locate(self, citation: Citation) -> Holding | None:
        """The holding for the first identifier or the title that matches.

        Identifiers match as given and then in canonical form
        (:func:`~resource_sharing.identifiers.normalise`): an ISBN-10 request finds an
        ISBN-13 key, ``(OCoLC)ocm00012345`` finds ``12345``.
        """
        idents = (*citation.item_ids, *citation.record_ids)
        for ident in idents:
            found = self.holdings.get(ident.value.replace("-", ""))
            if found is not None:
                return found
        for ident in idents:
            key = normalise(ident)
            found = self._canonical.get(key) if key is not None else None
            if found is not None:
                return found
        if citation.title:
            return self.holdings.get(citation.title.casefold())
        return None


@final
class EveryoneEligible:
    """A :class:`~resource_sharing.ports.PatronValidator` that accepts every patron."""

    def validate(self, patron: PatronRef) -> PatronStanding:
        """Eligible, as the patron was given."""
        return PatronStanding(True, patron=patron)


T = TypeVar("T")


@final
class InlineAttempts:
    """An :class:`~resource_sharing.ports.AttemptRunner` making each call in the caller's thread.

    It cannot stop a call that hangs: the bound is the adapter's own (a socket timeout).
    Right for ports in the same process (the in-memory ones, a simulation); a node runs
    ``resource_sharing_adapters.attempts.ThreadedAttempts``, which bounds every call.
    """

    def run(self, call: Callable[[], T], *, timeout: timedelta, port: str) -> T:
        """``call()``, whatever it takes."""
        return call()


@final
class SeededRandom:
    """A :class:`~resource_sharing.ports.RandomSource` that repeats for a seed (splitmix64).

    Pure arithmetic, so the core needs no random module; good for jitter, not for secrets.
    """

    _MASK = (1 << 64) - 1

    def __init__(self, seed: int = 0) -> None:
        self._state = seed & self._MASK

    def random(self) -> float:
        """The next number in ``[0, 1)``."""
        mask = self._MASK
        self._state = (self._state + 0x9E3779B97F4A7C15) & mask
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        return (z >> 11) / float(1 << 53)


@final
class MemoryPrinter:
    """A :class:`~resource_sharing.ports.Printer` that keeps each job once, by its key."""

    def __init__(self) -> None:
        self.jobs: dict[str, PrintJob] = {}
        """Every job printed, by idempotency key, in the order printed."""

    def print_document(self, job: PrintJob, *, key: str) -> None:
        """Keep the job (a repeat of a key is dropped)."""
        self.jobs.setdefault(key, job)


@final
class RecordingNotifier:
    """Keeps every notice once, by its idempotency key (a repeat of a key is dropped)."""

    def __init__(self) -> None:
        self.patron_notices: list[NotifyPatron] = []
        """Patron notices, in order."""
        self.staff_notices: list[NotifyStaff] = []
        """Staff notices, in order."""
        self.log: list[tuple[str, NotifyPatron | NotifyStaff]] = []
        """Every notice kept with its key, in order."""
        self._keys: set[str] = set()

    @property
    def keys(self) -> list[str]:
        """The key of every notice kept, in order."""
        return [key for key, _ in self.log]

    def notify_patron(self, notice: NotifyPatron, *, key: str) -> None:
        """Record a patron notice."""
        if key not in self._keys:
            self._keys.add(key)
            self.log.append((key, notice))
            self.patron_notices.append(notice)

    def notify_staff(self, notice: NotifyStaff, *, key: str) -> None:
        """Record a staff notice."""
        if key not in self._keys:
            self._keys.add(key)
            self.log.append((key, notice))
            self.staff_notices.append(notice)


@final
class MemoryCirculation:
    """A host system's circulation in memory: items, loans, the hold shelf, a command log.

    A repeat of a key is dropped (answered as the first time), as an ILS adapter that
    uses the key does. ``routing`` gives check-in's answer per barcode (the host
    system's routing instruction); without one, check-in answers None.
    """

    def __init__(self, routing: dict[str, str] | None = None) -> None:
        self.commands: list[Any] = []
        """Every command carried out, in order."""
        self.keys: list[str] = []
        """The key of every command carried out, in order."""
        self.temporary_items: dict[str, CreateTemporaryItem] = {}
        """Temporary items that exist now, by barcode."""
        self.hold_shelf: dict[str, PlaceOnHoldShelf] = {}
        """Items on the hold shelf, by barcode."""
        self.loans: dict[str, datetime] = {}
        """Open loans (to patrons or partners), barcode to due date."""
        self.routes: list[RouteItem] = []
        """Routing instructions given."""
        self.routing: dict[str, str] = dict(routing or {})
        """Check-in answers by barcode."""
        self._answers: dict[str, str | None] = {}

    def _first(self, key: str, command: object) -> bool:
        if key in self._answers:
            return False
        self._answers[key] = None
        self.keys.append(key)
        self.commands.append(command)
        return True

    def create_temporary_item(self, command: CreateTemporaryItem, *, key: str) -> None:
        """Create a temporary item (another item with its barcode is a refusal)."""
        if key in self._answers:
            return
        if command.barcode in self.temporary_items:
            raise DeliveryError(
                "circulation", f"barcode {command.barcode!r} already exists", retryable=False
            )
        self._first(key, command)
        self.temporary_items[command.barcode] = command

    def delete_temporary_item(self, command: DeleteTemporaryItem, *, key: str) -> None:
        """Delete a temporary item."""
        if self._first(key, command):
            self.temporary_items.pop(command.barcode, None)
            self.hold_shelf.pop(command.barcode, None)

    def place_on_hold_shelf(self, command: PlaceOnHoldShelf, *, key: str) -> None:
        """Put an item on the hold shelf."""
        if self._first(key, command):
            self.hold_shelf[command.barcode] = command

    def check_out_to_patron(self, command: CheckOutToPatron, *, key: str) -> None:
        """Lend an item to a patron."""
        if self._first(key, command):
            self.hold_shelf.pop(command.barcode, None)
            self.loans[command.barcode] = command.due

    def renew_patron_loan(self, command: RenewPatronLoan, *, key: str) -> None:
        """Move a loan's due date."""
        if self._first(key, command):
            self.loans[command.barcode] = command.due

    def recall_patron_loan(self, command: RecallPatronLoan, *, key: str) -> None:
        """Recall a loan to an earlier due date."""
        if self._first(key, command):
            self.loans[command.barcode] = command.due

    def check_out_to_partner(self, command: CheckOutToPartner, *, key: str) -> None:
        """Lend our item to a partner institution."""
        if self._first(key, command):
            self.loans[command.barcode] = command.due

    def check_in(self, command: CheckIn, *, key: str) -> str | None:
        """End the loan of an item; answers the routing configured for its barcode."""
        if self._first(key, command):
            self.loans.pop(command.barcode, None)
            self._answers[key] = self.routing.get(command.barcode)
        return self._answers[key]

    def route_item(self, command: RouteItem, *, key: str) -> None:
        """Record where an item goes next."""
        if self._first(key, command):
            self.routes.append(command)


@final
class FixedClock:
    """A clock that only moves when told."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise InvalidInput("now", "must be timezone-aware")
        self._now = now

    def now(self) -> datetime:
        """The current (fixed) time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward."""
        if delta < timedelta(0):
            raise InvalidInput("delta", "time does not go backwards")
        self._now += delta
        return self._now

    def set(self, now: datetime) -> None:
        """Set the clock (forward only)."""
        self.advance(now - self._now)


@final
class SequentialIds:
    """Identifiers ``<namespace><prefix>-<n>``, counted per prefix.

    The number is zero-padded so that ids sort in the order they were made, as
    :class:`~resource_sharing.ports.IdSource` asks.
    """

    def __init__(self, namespace: str = "") -> None:
        self._namespace = namespace
        self._counters: dict[str, int] = {}

    def new_id(self, prefix: str) -> str:
        """The next id for this prefix."""
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{self._namespace}{prefix}-{n:09d}"
