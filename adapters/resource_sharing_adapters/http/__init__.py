"""ISO 18626 over HTTP: a runnable institution node.

- :class:`HttpTransport`: the :class:`~resource_sharing.ports.PeerTransport` that POSTs
  messages with httpx (per-partner endpoint, version, headers and credentials).
- :class:`Authenticator` and :class:`Credentials`: per-partner credentials checked on
  every inbound message.
- :class:`Node`: an institution wired to a store, the transport, the host-system ports
  (the journal of notices, circulation commands and print jobs unless ``[ports]`` names
  factories: :class:`PortContext`), and the dispatcher and timer threads.
- :func:`create_app`: the Starlette app (the ISO 18626 endpoint and the staff API).
- :func:`load_config`: the TOML configuration (``docs/http.md``).
- :class:`StaffClient`: the staff API from Python (the ``desk`` CLI and the demo use it).
- :func:`serve`: run a node with uvicorn (:func:`server_config` applies the connection
  limits, :class:`ConnectionLimits`, and TLS, :class:`ServerTLS`).
- :class:`Guard`, :class:`SecurityConfig`, :class:`SecurityCounters`: credential rate
  limits, lock-outs and the counters a metrics exporter can subscribe to.
"""

from __future__ import annotations

from resource_sharing_adapters.http._app import ACTIONS, XML_MEDIA_TYPES, create_app, summary
from resource_sharing_adapters.http._auth import (
    AUTHENTICATION_FAILED,
    AuthenticationFailed,
    Authenticator,
    Credentials,
    Origin,
    PeerCredentials,
    StaffAuthenticator,
    Throttled,
    recipient_of,
    sender_of,
)
from resource_sharing_adapters.http._client import (
    MESSAGE_ID_HEADER,
    XML_CONTENT_TYPE,
    HttpTransport,
    with_credentials,
)
from resource_sharing_adapters.http._config import (
    DEFAULT_PATH,
    PORT_NAMES,
    DeliveryConfig,
    NodeConfig,
    PortConfig,
    ServerConfig,
    StoreConfig,
    load_config,
    parse_config,
)
from resource_sharing_adapters.http._connections import (
    ConnectionLimits,
    EdgeMiddleware,
    protocol_class,
)
from resource_sharing_adapters.http._limits import (
    Guard,
    Limiter,
    SecurityConfig,
    SecurityCounters,
    Verdict,
)
from resource_sharing_adapters.http._node import (
    ChangeFeed,
    Node,
    SerialStore,
    ShiftedClock,
    UniqueIds,
    open_store,
)
from resource_sharing_adapters.http._ports import (
    ENTRY_POINT_GROUP,
    AcceptingValidator,
    Journal,
    JournalCirculation,
    JournalNotifier,
    JournalPrinter,
    PortContext,
    PortFactory,
    build_port,
    build_ports,
)
from resource_sharing_adapters.http._serve import serve, server_config
from resource_sharing_adapters.http._staff_client import StaffClient, StaffError
from resource_sharing_adapters.http._tls import (
    ClientTLS,
    PeerCertificate,
    ServerTLS,
    client_context,
    server_context,
)
from resource_sharing_adapters.storage import Change, JournalEntry

__all__ = [
    "ACTIONS",
    "AUTHENTICATION_FAILED",
    "DEFAULT_PATH",
    "ENTRY_POINT_GROUP",
    "MESSAGE_ID_HEADER",
    "PORT_NAMES",
    "XML_CONTENT_TYPE",
    "XML_MEDIA_TYPES",
    "AcceptingValidator",
    "AuthenticationFailed",
    "Authenticator",
    "Change",
    "ChangeFeed",
    "ClientTLS",
    "ConnectionLimits",
    "Credentials",
    "DeliveryConfig",
    "EdgeMiddleware",
    "Guard",
    "HttpTransport",
    "Journal",
    "JournalCirculation",
    "JournalEntry",
    "JournalNotifier",
    "JournalPrinter",
    "Limiter",
    "Node",
    "NodeConfig",
    "Origin",
    "PeerCertificate",
    "PeerCredentials",
    "PortConfig",
    "PortContext",
    "PortFactory",
    "SecurityConfig",
    "SecurityCounters",
    "SerialStore",
    "ServerConfig",
    "ServerTLS",
    "ShiftedClock",
    "StaffAuthenticator",
    "StaffClient",
    "StaffError",
    "StoreConfig",
    "Throttled",
    "UniqueIds",
    "Verdict",
    "build_port",
    "build_ports",
    "client_context",
    "create_app",
    "load_config",
    "open_store",
    "parse_config",
    "protocol_class",
    "recipient_of",
    "sender_of",
    "serve",
    "server_config",
    "server_context",
    "summary",
    "with_credentials",
]
