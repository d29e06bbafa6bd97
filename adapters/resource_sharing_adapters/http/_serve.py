"""Run a node with uvicorn: the endpoint, the staff API, the dispatcher and the timers.

:func:`server_config` is where the configuration's edges meet uvicorn: the connection
limits of ``[server.limits]`` (header and body read timeouts, keep-alive, concurrent
connections, header size; see ``_connections``), TLS from ``[server.tls]`` (see
``_tls``), and a bounded graceful shutdown.
"""

from __future__ import annotations

import logging.config
import math
import ssl
from collections.abc import Callable
from typing import Any

import attrs
import uvicorn

from resource_sharing_adapters.http._app import create_app
from resource_sharing_adapters.http._config import NodeConfig
from resource_sharing_adapters.http._connections import protocol_class
from resource_sharing_adapters.http._limits import SecurityCounters
from resource_sharing_adapters.http._logging import configure_logging, uvicorn_log_config
from resource_sharing_adapters.http._node import Node
from resource_sharing_adapters.http._tls import server_context

__all__ = ["serve", "server_config"]


def server_config(
    app: Any,
    config: NodeConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "info",
    counters: SecurityCounters | None = None,
) -> uvicorn.Config:
    """The uvicorn configuration that serves ``app`` within the node's limits and TLS.

    ``counters`` receives the header timeouts (the app's own middleware counts the rest).
    """
    server = config.server
    limits = server.limits
    factory: Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext] | None = None
    tls = server.tls
    if tls is not None:

        def factory(
            _config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]
        ) -> ssl.SSLContext:
            return server_context(tls)

    return uvicorn.Config(
        app,
        host=host or server.host,
        port=port if port is not None else server.port,
        log_level=log_level,
        access_log=log_level == "debug",
        lifespan="on",
        http=protocol_class(limits, counters),
        timeout_keep_alive=max(1, math.ceil(limits.keep_alive_seconds)),
        limit_concurrency=limits.max_connections,
        h11_max_incomplete_event_size=limits.max_header_bytes,
        ssl_context_factory=factory,
        ssl_certfile=str(tls.certificate) if tls is not None else None,
        ssl_keyfile=str(tls.key) if tls is not None else None,
        timeout_graceful_shutdown=10,
    )


def serve(
    config: NodeConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "info",
    log_format: str = "text",
) -> None:
    """Serve one institution until interrupted (SIGINT or SIGTERM), then close its store.

    ``host`` and ``port`` override the configuration's (which listens on 127.0.0.1);
    ``log_format`` is ``text`` or ``json`` (one object per line, ``http/_logging.py``).
    """
    configure_logging(log_level, log_format)
    if host is not None or port is not None:  # the node's owner id names where it listens
        listen = attrs.evolve(
            config.server,
            host=host or config.server.host,
            port=port if port is not None else config.server.port,
        )
        config = attrs.evolve(config, server=listen)
    node = Node(config)
    try:
        app = create_app(node)
        counters = node.authenticator.guard.counters
        settings = server_config(
            app, config, host=host, port=port, log_level=log_level, counters=counters
        )
        # uvicorn's own lines in the node's format (after uvicorn set up its defaults)
        logging.config.dictConfig(uvicorn_log_config(log_level, log_format))
        uvicorn.Server(settings).run()
    finally:
        node.close()
