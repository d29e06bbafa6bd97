"""The node configuration: one TOML file per institution (documented in ``docs/http.md``).

:func:`load_config` reads the file with :mod:`tomllib` and :func:`parse_config` turns its
tables into a :class:`NodeConfig`: who we are, where we listen, the store, the delivery
and timer settings, the policies, the partner directory (with the credentials exchanged
with each partner) and the holdings the lending desk locates in. Unknown keys are refused
(a misspelt setting is an error, not silently ignored); every problem is an
:class:`~resource_sharing.errors.InvalidInput` naming the place in the file. Secrets may
be given indirectly, as the name of an environment variable (``..._env`` keys) or of a
file that holds them (``..._file`` keys). ``[consortium] directory`` includes a shared
directory file of the consortium's partners (:mod:`._consortium`).

Without a ``[store]`` table the node keeps its data in an SQLite file beside the
configuration (``institution.toml`` -> ``institution.sqlite3``); a memory store only when
asked (``memory = true``). ``[ports]`` names a factory for each port the integrator
replaces (see :mod:`resource_sharing_adapters.http._ports`).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast, final

import attrs

from resource_sharing.borrowing import BorrowingPolicy
from resource_sharing.calendar import Calendar
from resource_sharing.consistency import SweepPolicy
from resource_sharing.directory import Directory
from resource_sharing.errors import InvalidInput
from resource_sharing.lending import LendingPolicy
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId, ItemRef
from resource_sharing.rota import RotaPolicy
from resource_sharing_adapters._structuring import base_converter
from resource_sharing_adapters._structuring import structure as _structure
from resource_sharing_adapters.http._auth import Credentials, PeerCredentials
from resource_sharing_adapters.http._connections import ConnectionLimits
from resource_sharing_adapters.http._consortium import with_consortium
from resource_sharing_adapters.http._limits import SecurityConfig
from resource_sharing_adapters.http._tls import ServerTLS, parse_client_tls, parse_server_tls
from resource_sharing_adapters.iso18626 import Version
from resource_sharing_adapters.rota_json import parse_directory

if TYPE_CHECKING:
    from resource_sharing_adapters.sru import SruTarget

__all__ = [
    "DEFAULT_PATH",
    "PORT_NAMES",
    "ConsoleConfig",
    "DeliveryConfig",
    "NcipInboundConfig",
    "NodeConfig",
    "PortConfig",
    "ServerConfig",
    "StoreConfig",
    "load_config",
    "parse_config",
    "structure",
]

T = TypeVar("T")

DEFAULT_PATH = "/iso18626"
"""Where peers POST ISO 18626 messages, unless configured otherwise."""


@final
@attrs.frozen
class ServerConfig:
    """Where the node listens."""

    host: str = "127.0.0.1"
    """The interface (loopback unless told otherwise)."""
    port: int = 8626
    """The TCP port."""
    path: str = DEFAULT_PATH
    """The path peers POST ISO 18626 messages to."""
    max_body_bytes: int = 1 << 20
    """Larger bodies get 413."""
    staff_token: str | None = attrs.field(default=None, repr=False)
    """The bearer token of the staff API (None: the staff API is off)."""
    public_url: str | None = None
    """The URL peers reach us at (informational; defaults to http://host:port/path)."""
    limits: ConnectionLimits = attrs.field(factory=ConnectionLimits)
    """``[server.limits]``: read timeouts, keep-alive, connections, header size."""
    tls: ServerTLS | None = None
    """``[server.tls]``: terminate TLS (and verify client certificates); None: plain HTTP."""

    @property
    def url(self) -> str:
        """The ISO 18626 endpoint URL."""
        return self.public_url or f"{self.base_url}{self.path}"

    @property
    def base_url(self) -> str:
        """The node's base URL (the staff API is under ``/staff``)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"


@final
@attrs.frozen
class StoreConfig:
    """Which request store: SQLite (a file), PostgreSQL (a conninfo) or memory."""

    kind: str = "memory"
    """``sqlite``, ``postgres`` or ``memory``."""
    target: str | None = attrs.field(default=None, repr=False)
    """The SQLite file or the PostgreSQL conninfo (which may hold a password)."""
    schema: str | None = None
    """PostgreSQL: the schema the store lives in (None: the server's search path)."""
    pool_min_size: int = 1
    """PostgreSQL: connections the pool keeps open."""
    pool_max_size: int = 8
    """PostgreSQL: connections the pool opens at most (per process)."""
    implicit: bool = False
    """Chosen because the configuration has no ``[store]``: the SQLite file beside it."""

    def describe(self) -> str:
        """Where the data is, in words for the start-up log (no password)."""
        if self.kind == "sqlite":
            return f"SQLite file {self.target}"
        if self.kind == "postgres":
            where = f"schema {self.schema}" if self.schema else "the default schema"
            return f"PostgreSQL, {where}"
        return "memory (nothing survives the process)"


@final
@attrs.frozen
class NcipInboundConfig:
    """``[ncip_inbound]``: where the ILS posts a local patron's hold on a lent item (NCIP)."""

    path: str = "/ncip"
    """The path the ILS POSTs to (RequestItem, ItemRequested or ItemRecalled)."""
    api_key: str = attrs.field(default="", repr=False)
    """The key the ILS sends in ``api_key_header`` (required: no key, no route)."""
    api_key_header: str = "X-Api-Key"
    """The header that carries the key."""
    agency: str | None = None
    """Our FromAgencyId in the answers (None: the node's agency)."""


PORT_NAMES = ("circulation", "notifier", "holdings", "printer", "patron_validator")
"""The ports ``[ports]`` may name a factory for, in the order the node builds them."""


@final
@attrs.frozen
class PortConfig:
    """One ``[ports.NAME]`` table: the factory that makes the port, and its settings."""

    factory: str
    """``module:callable``, or the name of an entry point in ``resource_sharing.ports``."""
    settings: Mapping[str, Any] = attrs.field(factory=dict)
    """The rest of the table, given to the factory as it is."""


@final
@attrs.frozen
class DeliveryConfig:
    """Outbound delivery, the dispatcher and the timers."""

    timeout_seconds: float = 10.0
    """Bound of one HTTP exchange with a peer."""
    max_attempts: int = 8
    """Failed deliveries before a message becomes a staff task."""
    retry_base_seconds: float = 30.0
    """First retry delay (doubles every failure)."""
    retry_max_seconds: float = 6 * 3600.0
    """Longest retry delay."""
    window_seconds: float | None = None
    """The longest time from a message's creation in which it is retried (None: only
    ``max_attempts`` bounds it)."""
    dispatch_interval_seconds: float = 1.0
    """How often the dispatcher looks at the outbox (it is also woken after each change)."""
    tick_interval_seconds: float = 60.0
    """How often the timers run."""
    lease_seconds: float = 300.0
    """How long a dispatcher's claim on outbox entries holds: after it, another process
    of the institution takes over the entries of one that died."""
    owner: str | None = None
    """This process's name in outbox claims (None: ``agency@host:port``). Each process
    of one institution needs its own, the same after a restart."""
    given: frozenset[str] = frozenset()
    """The retry keys given in ``[delivery]`` itself (they apply to every port)."""
    per_port: Mapping[str, Mapping[str, float]] = attrs.field(factory=dict)
    """``[delivery.PORT]`` retry keys by port (``peer``, ``circulation``, ...), and
    ``[delivery.unknown_request]`` for the "unknown request id" retries."""


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise InvalidInput(f"console.{attribute.name}", f"must be > 0, got {value!r}")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise InvalidInput(f"console.{attribute.name}", f"must be >= 0, got {value!r}")


def _policies(instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value or any(not p.strip() or len(p) > 100 for p in value):
        raise InvalidInput("console.item_policies", "one or more names of 1 to 100 characters")


@final
@attrs.frozen
class ConsoleConfig:
    """``[console]``: the staff console's sessions, lock-outs, templates and receiving."""

    session_hours: float = attrs.field(default=8.0, validator=_positive)
    """A session ends this long after its login (on the node's clock)."""
    idle_minutes: float = attrs.field(default=60.0, validator=_not_negative)
    """A session unused this long ends (0: no idle limit). The live lists' refreshes
    do not count as use."""
    max_failed_logins: int = attrs.field(default=5, validator=_positive)
    """Wrong passwords in a row that lock an account."""
    lockout_minutes: float = attrs.field(default=15.0, validator=_positive)
    """How long such a lock lasts."""
    templates: str | None = None
    """A folder of templates that override the console's own (same file names); relative
    to the configuration file."""
    item_policies: tuple[str, ...] = attrs.field(
        default=("Resource sharing loan",), validator=_policies
    )
    """The item policies staff choose from for a temporary item (the first is the default)."""
    network_unique_barcodes: bool = False
    """Receive by the lender's barcode alone (a consortium whose barcodes are unique
    across the network): the scan receives the item, with no temporary-item page."""


@final
@attrs.frozen
class NodeConfig:
    """Everything one running institution needs."""

    agency: AgencyId
    """Who we are."""
    name: str = ""
    """Our display name."""
    server: ServerConfig = attrs.field(factory=ServerConfig)
    """Where we listen."""
    store: StoreConfig = attrs.field(factory=StoreConfig)
    """Where requests are kept."""
    delivery: DeliveryConfig = attrs.field(factory=DeliveryConfig)
    """Delivery, dispatcher and timer settings."""
    sweep: SweepPolicy = attrs.field(factory=SweepPolicy)
    """``[sweep]``: the consistency sweep (idle period, interval, questions per lender)."""
    directory: Directory = attrs.field(factory=Directory)
    """Our partners."""
    rota: RotaPolicy = attrs.field(factory=RotaPolicy)
    """How rotas are built."""
    credentials: Mapping[AgencyId, PeerCredentials] = attrs.field(factory=dict)
    """Credentials exchanged with each partner."""
    partner_sru: Mapping[AgencyId, SruTarget] = attrs.field(factory=dict)
    """Each partner's SRU catalogue (``[partners.sru]``), asked at intake for the rota."""
    calendar: Calendar = attrs.field(factory=Calendar)
    """Our opening days and time zone."""
    borrowing: BorrowingPolicy = attrs.field(factory=BorrowingPolicy)
    """Borrowing rules."""
    lending: LendingPolicy = attrs.field(factory=LendingPolicy)
    """Lending rules."""
    auto_locate: bool = True
    """Lending: look incoming requests up in our holdings at once."""
    mediated_borrowing: bool = False
    """Borrowing: staff approve every new request."""
    max_open_requests_per_patron: int | None = 25
    """More open requests send a new one to review (None, or 0 in the file: no limit)."""
    holdings: Mapping[str, Holding] = attrs.field(factory=dict)
    """Our catalogue, keyed by identifier (hyphens removed) or casefolded title."""
    clock_start: datetime | None = None
    """Run the clock from this moment (shifted real time; None: the real time)."""
    clock_adjustable: bool = False
    """The staff API may move the clock forward (demos and tests only)."""
    security: SecurityConfig = attrs.field(factory=SecurityConfig)
    """``[security]``: rate limits and lock-outs of peer credentials and staff tokens."""
    console: ConsoleConfig = attrs.field(factory=ConsoleConfig)
    """``[console]``: the staff console's settings."""
    ports: Mapping[str, PortConfig] = attrs.field(factory=dict)
    """The factories of the ports the integrator replaces, by port name."""
    ncip_inbound: NcipInboundConfig | None = None
    """``[ncip_inbound]``: the NCIP route the ILS posts local holds to (None: off)."""
    base: Path | None = None
    """The folder relative paths are relative to (the configuration file's)."""
    source: Path | None = None
    """The file it was read from."""


# -- reading -----------------------------------------------------------------------------


_CONVERTER = base_converter()


def structure(data: Any, cls: type[T], where: str) -> T:
    """``data`` (TOML or JSON values) as a ``cls``; InvalidInput naming ``where`` if not."""
    return _structure(_CONVERTER, data, cls, where)


class _Table:
    """A TOML table read key by key; what is left at the end is an unknown key."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise InvalidInput(where, f"expected a table, got {type(data).__name__}")
        self.data: dict[str, Any] = dict(data)
        self.where = where

    def take(self, key: str, kind: type[T], default: T) -> T:
        value = self.data.pop(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if value is not None and not isinstance(value, kind):
            raise InvalidInput(f"{self.where}.{key}", f"expected {kind.__name__}, got {value!r}")
        return cast(T, value)

    def secret(self, key: str) -> str | None:
        direct = self.take(key, str, None)
        variable = self.take(f"{key}_env", str, None)
        file = self.take(f"{key}_file", str, None)
        if file is not None:
            return _secret_file(file, f"{self.where}.{key}_file")
        if variable is not None:
            found = os.environ.get(variable)
            if found is None:
                raise InvalidInput(f"{self.where}.{key}_env", f"${variable} is not set")
            return found
        return direct

    def table(self, key: str) -> _Table:
        return _Table(self.data.pop(key, {}), f"{self.where}.{key}" if self.where else key)

    def done(self) -> None:
        if self.data:
            names = ", ".join(sorted(self.data))
            raise InvalidInput(self.where or "config", f"unknown key(s): {names}")


def _secret_file(name: str, where: str) -> str:
    """A secret kept in a file (e.g. a systemd credential or a mounted secret)."""
    path = Path(os.path.expandvars(name)).expanduser()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidInput(where, f"cannot read {path}: {exc.strerror or exc}") from None
    if not text:
        raise InvalidInput(where, f"{path} is empty")
    return text


def _credentials(table: _Table, base: Path) -> Credentials:
    tls = table.data.pop("tls", None)
    found = Credentials(
        account_id=table.take("account_id", str, None),
        security_code=table.secret("security_code"),
        authorization=table.secret("authorization"),
        client_certificate=table.take("client_certificate", str, None),
        tls=parse_client_tls(tls, base, f"{table.where}.tls") if tls is not None else None,
    )
    table.done()
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return value


def _partner_sru(partners: list[Any]) -> tuple[list[Any], dict[AgencyId, SruTarget]]:
    """The partners without their ``sru`` tables, and those tables as SRU targets."""
    if not any(isinstance(p, dict) and "sru" in p for p in partners):
        return partners, {}
    try:
        from resource_sharing_adapters.sru import split_partner_sru
    except ImportError as exc:  # the sru extra (httpx, lxml) is not installed
        raise InvalidInput(
            "partners.sru", f"needs the sru extra (pip install 'resource-sharing[sru]'): {exc}"
        ) from None
    rest, targets = split_partner_sru(partners)
    return rest, targets


def _directory(
    partners: Any, rota: _Table, base: Path
) -> tuple[Directory, RotaPolicy, dict[AgencyId, PeerCredentials], dict[AgencyId, SruTarget]]:
    if not isinstance(partners, list):
        raise InvalidInput("partners", "expected an array of tables ([[partners]])")
    partners, sru = _partner_sru(partners)
    documents: list[dict[str, Any]] = []
    credentials: dict[AgencyId, PeerCredentials] = {}
    for n, raw in enumerate(partners):
        where = f"partners[{n}]"
        if not isinstance(raw, dict):
            raise InvalidInput(where, "expected a table")
        entry = dict(raw)
        inbound = _credentials(_Table(entry.pop("inbound", {}), f"{where}.inbound"), base)
        outbound = _credentials(_Table(entry.pop("outbound", {}), f"{where}.outbound"), base)
        protocol = entry.get("protocol")
        if isinstance(protocol, dict) and isinstance(protocol.get("headers"), dict):
            protocol = dict(protocol)
            protocol["headers"] = [[str(k), str(v)] for k, v in protocol["headers"].items()]
            entry["protocol"] = protocol
        agency = structure(entry.get("agency"), AgencyId, "partners.agency")
        credentials[agency] = PeerCredentials(inbound=inbound, outbound=outbound)
        documents.append(entry)
    document = {"partners": documents, **rota.data}
    directory, policy = parse_directory(json.dumps(_jsonable(document)), "partners/rota")
    for partner in directory.partners.values():
        if partner.protocol.iso18626_version not in _VERSIONS:
            raise InvalidInput(
                f"partners ({partner.agency}).protocol.iso18626_version",
                f"expected one of {', '.join(_VERSIONS)}, got "
                f"{partner.protocol.iso18626_version!r}",
            )
    return directory, policy, credentials, sru


def _holdings(rows: Any) -> dict[str, Holding]:
    if not isinstance(rows, list):
        raise InvalidInput("holdings", "expected an array of tables ([[holdings]])")
    found: dict[str, Holding] = {}
    for n, raw in enumerate(rows):
        table = _Table(raw, f"holdings[{n}]")
        ident = table.take("identifier", str, None)
        title = table.take("title", str, None)
        available = table.take("available", bool, True)
        item = structure(table.data, ItemRef, table.where)
        if ident is None and title is None:
            raise InvalidInput(table.where, "needs an identifier (e.g. an ISBN) or a title")
        holding = Holding(item, available=available)
        if ident is not None:
            found[ident.replace("-", "").replace(" ", "")] = holding
        if title is not None:
            found[title.casefold()] = holding
    return found


def _store(table: _Table, base: Path, stem: str) -> StoreConfig:
    sqlite = table.take("sqlite", str, None)
    postgres = table.secret("postgres")
    schema = table.take("schema", str, None)
    pool_min = table.take("pool_min_size", int, None)
    pool_max = table.take("pool_max_size", int, None)
    memory = table.take("memory", bool, False)
    table.done()
    pool = _pool(pool_min, pool_max, postgres is not None)
    chosen = [k for k, v in (("sqlite", sqlite), ("postgres", postgres), ("memory", memory)) if v]
    if len(chosen) > 1:
        raise InvalidInput("store", f"choose one store, not {' and '.join(chosen)}")
    if schema is not None and postgres is None:
        raise InvalidInput("store.schema", "only a PostgreSQL store has a schema")
    if sqlite is not None:
        path = Path(sqlite).expanduser()
        return StoreConfig("sqlite", str(path if path.is_absolute() else base / path))
    if postgres is not None:
        return StoreConfig(
            "postgres",
            postgres,
            schema=schema,
            pool_min_size=pool[0],
            pool_max_size=pool[1],
        )
    if memory:
        return StoreConfig("memory")
    return StoreConfig("sqlite", str(base / f"{stem}.sqlite3"), implicit=True)


def _pool(low: int | None, high: int | None, postgres: bool) -> tuple[int, int]:
    if (low is not None or high is not None) and not postgres:
        raise InvalidInput("store.pool_max_size", "only a PostgreSQL store has a pool")
    pool = (1 if low is None else low, 8 if high is None else high)
    if pool[0] < 0 or pool[1] < max(1, pool[0]):
        raise InvalidInput(
            "store", "need 0 <= pool_min_size <= pool_max_size and pool_max_size >= 1"
        )
    return pool


_VERSIONS = tuple(v.value for v in Version)

_RETRY_KEYS = (
    "max_attempts",
    "retry_base_seconds",
    "retry_max_seconds",
    "timeout_seconds",
    "window_seconds",
)
_DELIVERY_PORTS = ("peer", "unknown_request", "circulation", "notifier", "printer")


def _retry_table(table: _Table) -> dict[str, float]:
    found: dict[str, float] = {}
    for key in _RETRY_KEYS:
        if key in table.data:
            value = table.take(key, int if key == "max_attempts" else float, 0)
            if value <= 0:
                raise InvalidInput(f"{table.where}.{key}", "must be > 0")
            found[key] = value
    table.done()
    return found


def _ports(table: _Table) -> dict[str, PortConfig]:
    found: dict[str, PortConfig] = {}
    for name in PORT_NAMES:
        if name not in table.data:
            continue
        raw = table.data.pop(name)
        where = f"ports.{name}"
        if isinstance(raw, str):
            raw = {"factory": raw}
        entry = _Table(raw, where)
        factory = entry.take("factory", str, None)
        if not factory:
            raise InvalidInput(
                f"{where}.factory", "required: 'module:callable' or an entry point name"
            )
        found[name] = PortConfig(factory, dict(entry.data))
    if table.data:
        names = ", ".join(sorted(table.data))
        raise InvalidInput("ports", f"unknown port(s): {names} (known: {', '.join(PORT_NAMES)})")
    return found


_RESERVED_PATHS = ("/staff", "/health", "/metrics", "/live", "/login", "/static")


def _ncip_inbound(table: _Table, server: ServerConfig) -> NcipInboundConfig | None:
    if not table.data:
        return None
    found = NcipInboundConfig(
        path=table.take("path", str, "/ncip"),
        api_key=table.secret("api_key") or "",
        api_key_header=table.take("api_key_header", str, "X-Api-Key"),
        agency=table.take("agency", str, None),
    )
    table.done()
    if not found.path.startswith("/") or found.path == server.path:
        raise InvalidInput(
            "ncip_inbound.path", f"must start with '/' and not be {server.path!r} (ISO 18626)"
        )
    if found.path.startswith(_RESERVED_PATHS):
        raise InvalidInput("ncip_inbound.path", f"{found.path!r} is taken by the node")
    if len(found.api_key) < 16:
        raise InvalidInput(
            "ncip_inbound.api_key",
            "required, at least 16 characters (api_key, api_key_env or api_key_file):"
            " the ILS must prove who it is",
        )
    return found


def _sweep(table: _Table) -> SweepPolicy:
    """The consistency sweep's policy from ``[sweep]``.

    Keys: ``enabled``, ``idle_after_days``, ``interval_minutes``, ``per_peer``,
    ``scan_limit`` (the defaults are :class:`~resource_sharing.consistency.SweepPolicy`'s).
    """
    default = SweepPolicy()
    days = table.take("idle_after_days", float, default.idle_after / timedelta(days=1))
    minutes = table.take("interval_minutes", float, default.interval / timedelta(minutes=1))
    try:
        policy = SweepPolicy(
            enabled=table.take("enabled", bool, default.enabled),
            idle_after=timedelta(days=days),
            interval=timedelta(minutes=minutes),
            per_peer=table.take("per_peer", int, default.per_peer),
            scan_limit=table.take("scan_limit", int, default.scan_limit),
        )
    except ValueError as exc:
        raise InvalidInput("sweep", str(exc)) from None
    table.done()
    return policy


def parse_config(
    data: Mapping[str, Any], *, base: Path | None = None, stem: str = "resource-sharing"
) -> NodeConfig:
    """A node configuration from parsed TOML; relative paths are relative to ``base``.

    Without a ``[store]`` table the store is the SQLite file ``<stem>.sqlite3`` in ``base``
    (:func:`load_config` passes the configuration file's name).
    """
    top = _Table(dict(data), "")
    base = base or Path.cwd()

    inst = top.table("institution")
    agency = (
        structure(inst.take("agency", str, ""), AgencyId, "institution.agency")
        if inst.data.get("agency")
        else None
    )
    if agency is None:
        raise InvalidInput("institution.agency", "required (e.g. 'ISIL:US-A')")
    inst.data.pop("agency", None)
    name = inst.take("name", str, "")
    auto_locate = inst.take("auto_locate", bool, True)
    mediated = inst.take("mediated_borrowing", bool, False)
    limit: int | None = inst.take("max_open_requests_per_patron", int, 25) or None
    calendar = structure(inst.data.pop("calendar", {}), Calendar, "institution.calendar")
    inst.done()

    srv = top.table("server")
    limits = structure(srv.data.pop("limits", {}), ConnectionLimits, "server.limits")
    tls_table = srv.data.pop("tls", None)
    tls = parse_server_tls(tls_table, base) if tls_table is not None else None
    server = ServerConfig(
        host=srv.take("host", str, "127.0.0.1"),
        port=srv.take("port", int, 8626),
        path=srv.take("path", str, DEFAULT_PATH),
        max_body_bytes=srv.take("max_body_bytes", int, 1 << 20),
        staff_token=srv.secret("staff_token"),
        public_url=srv.take("public_url", str, None),
        limits=limits,
        tls=tls,
    )
    srv.done()
    if not server.path.startswith("/") or server.path.startswith("/staff"):
        raise InvalidInput("server.path", "must start with '/' and not be under /staff")

    store = _store(top.table("store"), base, stem)
    ports = _ports(top.table("ports"))
    ncip_inbound = _ncip_inbound(top.table("ncip_inbound"), server)

    dly = top.table("delivery")
    given = frozenset(k for k in _RETRY_KEYS if k in dly.data)
    per_port = {port: _retry_table(dly.table(port)) for port in _DELIVERY_PORTS if port in dly.data}
    delivery = DeliveryConfig(
        timeout_seconds=dly.take("timeout_seconds", float, 10.0),
        max_attempts=dly.take("max_attempts", int, 8),
        retry_base_seconds=dly.take("retry_base_seconds", float, 30.0),
        retry_max_seconds=dly.take("retry_max_seconds", float, 6 * 3600.0),
        window_seconds=dly.take("window_seconds", float, None),
        dispatch_interval_seconds=dly.take("dispatch_interval_seconds", float, 1.0),
        tick_interval_seconds=dly.take("tick_interval_seconds", float, 60.0),
        lease_seconds=dly.take("lease_seconds", float, 300.0),
        owner=dly.take("owner", str, None),
        given=given,
        per_port=per_port,
    )
    dly.done()
    if delivery.max_attempts < 1 or delivery.timeout_seconds <= 0:
        raise InvalidInput("delivery", "max_attempts must be >= 1 and timeout_seconds > 0")
    if delivery.lease_seconds <= 0:
        raise InvalidInput("delivery.lease_seconds", "must be > 0")
    if delivery.window_seconds is not None and delivery.window_seconds <= 0:
        raise InvalidInput("delivery.window_seconds", "must be > 0")

    sweep = _sweep(top.table("sweep"))

    clk = top.table("clock")
    start = clk.data.pop("start", None)
    clock_start = structure(start, datetime, "clock.start") if start is not None else None
    adjustable = clk.take("adjustable", bool, False)
    clk.done()

    borrowing = structure(top.data.pop("borrowing", {}), BorrowingPolicy, "borrowing")
    lending = structure(top.data.pop("lending", {}), LendingPolicy, "lending")
    partners = with_consortium(
        top.data.pop("consortium", None), top.data.pop("partners", []), base, agency
    )
    directory, rota, credentials, partner_sru = _directory(partners, top.table("rota"), base)
    security = structure(top.data.pop("security", {}), SecurityConfig, "security")
    console = structure(top.data.pop("console", {}), ConsoleConfig, "console")
    if console.templates is not None:
        console = attrs.evolve(console, templates=str(base / console.templates))
    holdings = _holdings(top.data.pop("holdings", []))
    top.done()
    return NodeConfig(
        agency=agency,
        name=name,
        server=server,
        store=store,
        delivery=delivery,
        sweep=sweep,
        directory=directory,
        rota=rota,
        credentials=credentials,
        partner_sru=partner_sru,
        calendar=calendar,
        borrowing=borrowing,
        lending=lending,
        auto_locate=auto_locate,
        mediated_borrowing=mediated,
        max_open_requests_per_patron=limit,
        holdings=holdings,
        clock_start=clock_start,
        clock_adjustable=adjustable,
        security=security,
        console=console,
        ports=ports,
        ncip_inbound=ncip_inbound,
        base=base,
    )


def load_config(path: str | os.PathLike[str]) -> NodeConfig:
    """Read a node configuration file (TOML)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(str(file), f"cannot read it: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(str(file), f"not valid TOML: {exc}") from exc
    try:
        config = parse_config(data, base=file.resolve().parent, stem=file.stem)
    except InvalidInput as exc:
        raise InvalidInput(str(file), str(exc)) from exc
    return attrs.evolve(config, source=file)
