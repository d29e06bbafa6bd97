"""The host-system ports of a node: the journal defaults and the integrator's factories.

A node has no ILS of its own. By default its notices, circulation commands and print
jobs go to the **journal** (numbered, in the store, served by ``GET /staff/journal``; an
integrator can forward it), its holdings are the configuration's ``[[holdings]]`` and
every patron is accepted. An integrator replaces any of them without forking by naming a
**factory** in ``[ports.NAME]`` (``docs/http.md``)::

    [ports.circulation]
    factory = "my_ils.resource_sharing:circulation"   # or an entry point name
    url = "https://ils.example.org/ncip"               # the rest goes to the factory

A factory is ``module:callable`` (imported when the node starts), a name registered in
the entry point group ``resource_sharing.ports``, or a built-in name (``journal``,
``config``, ``accept``). It is called as ``factory(settings, context)`` with the rest of
its table (a dict, exactly as in the file) and a :class:`PortContext`, and returns the
port. What it returns is checked for the port's methods; a factory that cannot be found,
fails, or returns something else stops the node at start with an
:class:`~resource_sharing.errors.InvalidInput` naming the table.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, final

import attrs

from resource_sharing.calendar import Calendar
from resource_sharing.directory import Directory
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
    PrintPickSlip,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
)
from resource_sharing.errors import InvalidInput
from resource_sharing.memory import MemoryHoldings
from resource_sharing.ports import (
    AnyRequest,
    Circulation,
    Clock,
    Holding,
    HoldingsLocator,
    Notifier,
    PatronStanding,
    PatronValidator,
    Printer,
)
from resource_sharing.records import AgencyId, PatronRef
from resource_sharing.serialization import converter
from resource_sharing_adapters.http._config import PORT_NAMES, NodeConfig, PortConfig
from resource_sharing_adapters.http._logging import redact
from resource_sharing_adapters.storage import Feeds, JournalEntry

__all__ = [
    "ENTRY_POINT_GROUP",
    "AcceptingValidator",
    "Journal",
    "JournalCirculation",
    "JournalNotifier",
    "JournalPrinter",
    "PortContext",
    "PortFactory",
    "build_port",
    "build_ports",
    "port_context",
]

log = logging.getLogger("resource_sharing.node")

ENTRY_POINT_GROUP = "resource_sharing.ports"
"""The entry point group a package registers its port factories in."""

_LOG = "resource_sharing.ports"


@final
class Journal:
    """The node's journal of what it gave the host system, kept in ``feeds``.

    One entry per effect: recording an effect whose idempotency key was journalled
    already adds nothing (a delivery retried after a crash is journalled once).
    """

    def __init__(self, feeds: Feeds) -> None:
        self._feeds = feeds

    def record(self, kind: str, effect: Any, *, key: str | None = None) -> JournalEntry | None:
        """Append one effect and log it; None when ``key`` was journalled already."""
        detail = converter.unstructure(effect)
        request_id = getattr(effect, "request_id", None)
        command = type(effect).__name__
        entry = self._feeds.record_journal(kind, command, request_id, detail, key)
        if entry is not None:
            # ids only at INFO: a notice's detail names the patron (see http/_logging.py)
            ids = {"message_id": key} if key else None  # the outbox entry being delivered
            log.info("%s %s for request %s", kind, command, request_id, extra=ids)
            log.debug("%s %s: %s", kind, command, redact(detail), extra=ids)
        return entry

    def since(self, seq: int, limit: int = 1000) -> list[JournalEntry]:
        """Up to ``limit`` entries after ``seq``."""
        return list(self._feeds.journal_since(seq, limit))

    @property
    def last(self) -> int:
        """The number of the latest entry (0 when none)."""
        return self._feeds.last_journal()


@final
class JournalNotifier:
    """A :class:`~resource_sharing.ports.Notifier` that writes notices to the journal."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def notify_patron(self, notice: NotifyPatron, *, key: str | None = None) -> None:
        """Journal a patron notice (``patron_notice``)."""
        self._journal.record("patron_notice", notice, key=key)

    def notify_staff(self, notice: NotifyStaff, *, key: str | None = None) -> None:
        """Journal a staff notice (``staff_notice``)."""
        self._journal.record("staff_notice", notice, key=key)


@final
class JournalCirculation:
    """A :class:`~resource_sharing.ports.Circulation` that journals every command.

    Entries have kind ``circulation`` and the command's class name; ``check_in`` gives
    no routing instruction of its own (the request's instruction stands).
    """

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def _record(self, command: object, key: str | None) -> None:
        self._journal.record("circulation", command, key=key)

    def create_temporary_item(
        self, command: CreateTemporaryItem, *, key: str | None = None
    ) -> None:
        """Journal the temporary item to create."""
        self._record(command, key)

    def delete_temporary_item(
        self, command: DeleteTemporaryItem, *, key: str | None = None
    ) -> None:
        """Journal the temporary item to delete."""
        self._record(command, key)

    def place_on_hold_shelf(self, command: PlaceOnHoldShelf, *, key: str | None = None) -> None:
        """Journal the hold-shelf placement."""
        self._record(command, key)

    def check_out_to_patron(self, command: CheckOutToPatron, *, key: str | None = None) -> None:
        """Journal the loan to the patron."""
        self._record(command, key)

    def renew_patron_loan(self, command: RenewPatronLoan, *, key: str | None = None) -> None:
        """Journal the patron loan's new due date."""
        self._record(command, key)

    def recall_patron_loan(self, command: RecallPatronLoan, *, key: str | None = None) -> None:
        """Journal the recall of the patron loan."""
        self._record(command, key)

    def check_out_to_partner(self, command: CheckOutToPartner, *, key: str | None = None) -> None:
        """Journal the loan to the borrowing institution."""
        self._record(command, key)

    def check_in(self, command: CheckIn, *, key: str | None = None) -> str | None:
        """Journal the check-in; there is no host system to say where the item goes."""
        self._record(command, key)
        return None

    def route_item(self, command: RouteItem, *, key: str | None = None) -> None:
        """Journal where the item goes next."""
        self._record(command, key)

    def print_pick_slip(self, command: PrintPickSlip, *, key: str | None = None) -> None:
        """Journal the pick slip (kind ``circulation``, as before the Printer port)."""
        self._record(command, key)


@final
class JournalPrinter:
    """A :class:`~resource_sharing.ports.Printer` that journals every job (kind ``print``)."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def print_document(self, job: PrintJob, *, key: str) -> None:
        """Journal the document to print."""
        self._journal.record("print", job, key=key)


@final
class AcceptingValidator:
    """A :class:`~resource_sharing.ports.PatronValidator` with no host system: all may ask."""

    def validate(self, patron: PatronRef) -> PatronStanding:
        """Every patron is eligible, as given."""
        return PatronStanding(eligible=True, patron=patron)


@final
@attrs.frozen
class PortContext:
    """What a port factory is given besides its own table."""

    agency: AgencyId
    """The institution the node is."""
    name: str
    """Its display name."""
    directory: Directory
    """Its partners."""
    base: Path
    """The configuration file's folder: resolve relative paths of the settings here."""
    log: logging.Logger
    """A logger for the port (``resource_sharing.ports.<name>``)."""
    journal: Journal
    """The node's journal (to keep recording there, e.g. around a real adapter)."""
    clock: Clock
    """The node's clock."""
    holdings: Mapping[str, Holding]
    """The catalogue of ``[[holdings]]``, by identifier or casefolded title."""
    calendar: Calendar = attrs.field(factory=Calendar)
    """Our opening days and time zone (a notifier's or printer's default zone)."""
    request: Callable[[str], AnyRequest | None] = lambda request_id: None
    """A stored request by id, either side (a notice's title and pickup location)."""


PortFactory = Callable[[Mapping[str, Any], PortContext], object]
"""``factory(settings, context) -> port``: the signature ``[ports.NAME]`` names."""


def _journal_circulation(settings: Mapping[str, Any], context: PortContext) -> object:
    return JournalCirculation(context.journal)


def _journal_notifier(settings: Mapping[str, Any], context: PortContext) -> object:
    return JournalNotifier(context.journal)


def _journal_printer(settings: Mapping[str, Any], context: PortContext) -> object:
    return JournalPrinter(context.journal)


def _config_holdings(settings: Mapping[str, Any], context: PortContext) -> object:
    return MemoryHoldings(dict(context.holdings))


def _accept(settings: Mapping[str, Any], context: PortContext) -> object:
    return AcceptingValidator()


_BUILT_IN: dict[str, tuple[str, dict[str, PortFactory]]] = {
    "circulation": ("journal", {"journal": _journal_circulation}),
    "notifier": ("journal", {"journal": _journal_notifier}),
    "holdings": ("config", {"config": _config_holdings}),
    "printer": ("journal", {"journal": _journal_printer}),
    "patron_validator": ("accept", {"accept": _accept}),
}

_PROTOCOLS: dict[str, type] = {
    "circulation": Circulation,
    "notifier": Notifier,
    "holdings": HoldingsLocator,
    "printer": Printer,
    "patron_validator": PatronValidator,
}


def _methods(protocol: type) -> list[str]:
    return sorted(
        name for name, value in vars(protocol).items() if callable(value) and name[0] != "_"
    )


def _resolve(port: str, reference: str, where: str) -> PortFactory:
    built_in = _BUILT_IN[port][1].get(reference)
    if built_in is not None:
        return built_in
    found: Any
    if ":" in reference:
        module_name, _, attribute = reference.partition(":")
        try:
            found = importlib.import_module(module_name)
        except ImportError as exc:
            raise InvalidInput(where, f"cannot import {module_name!r}: {exc}") from exc
        for part in attribute.split("."):
            found = getattr(found, part, None)
            if found is None:
                raise InvalidInput(where, f"{module_name!r} has no {attribute!r}")
    else:
        points = entry_points(group=ENTRY_POINT_GROUP, name=reference)
        if not points:
            known = ", ".join(sorted(_BUILT_IN[port][1]))
            raise InvalidInput(
                where,
                f"{reference!r} is neither 'module:callable', a built-in ({known}) nor an"
                f" entry point in {ENTRY_POINT_GROUP!r}",
            )
        try:
            found = next(iter(points)).load()
        except Exception as exc:
            raise InvalidInput(where, f"entry point {reference!r} failed to load: {exc}") from exc
    if not callable(found):
        raise InvalidInput(where, f"{reference!r} is not callable")
    factory: PortFactory = found
    return factory


def build_port(name: str, spec: PortConfig | None, context: PortContext) -> object:
    """The port ``name`` made by its configured factory (or the default one)."""
    where = f"ports.{name}"
    reference = spec.factory if spec is not None else _BUILT_IN[name][0]
    factory = _resolve(name, reference, f"{where}.factory")
    settings = dict(spec.settings) if spec is not None else {}
    try:
        port = factory(settings, attrs.evolve(context, log=logging.getLogger(f"{_LOG}.{name}")))
    except InvalidInput as exc:
        raise InvalidInput(where, str(exc)) from exc
    except Exception as exc:
        raise InvalidInput(where, f"{reference} failed: {type(exc).__name__}: {exc}") from exc
    missing = [m for m in _methods(_PROTOCOLS[name]) if not callable(getattr(port, m, None))]
    if missing:
        raise InvalidInput(
            where, f"{reference} returned {type(port).__name__}, without {', '.join(missing)}"
        )
    if spec is not None:
        log.info("port %s: %s", name, reference)
    return port


def build_ports(
    config: NodeConfig,
    journal: Journal,
    clock: Clock,
    request: Callable[[str], AnyRequest | None] | None = None,
) -> dict[str, object]:
    """Every host-system port of the node, by name (see :data:`PORT_NAMES`).

    ``request`` reads a stored request by id (the node's store), for ports that show
    more than their effect carries.
    """
    context = port_context(config, journal, clock, request)
    return {name: build_port(name, config.ports.get(name), context) for name in PORT_NAMES}


def port_context(
    config: NodeConfig,
    journal: Journal,
    clock: Clock,
    request: Callable[[str], AnyRequest | None] | None = None,
) -> PortContext:
    """What the node's port factories are given besides their own tables."""
    return PortContext(
        agency=config.agency,
        name=config.name,
        directory=config.directory,
        base=config.base or Path.cwd(),
        log=logging.getLogger(_LOG),
        journal=journal,
        clock=clock,
        holdings=config.holdings,
        calendar=config.calendar,
        request=request or (lambda request_id: None),
    )
