"""Run a node with uvicorn: the endpoint, the staff API, the dispatcher and the timers."""

from __future__ import annotations

import logging

import attrs
import uvicorn

from resource_sharing_adapters.http._app import create_app
from resource_sharing_adapters.http._config import NodeConfig
from resource_sharing_adapters.http._node import Node

__all__ = ["serve"]


def serve(
    config: NodeConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    log_level: str = "info",
) -> None:
    """Serve one institution until interrupted (SIGINT or SIGTERM), then close its store.

    ``host`` and ``port`` override the configuration's (which listens on 127.0.0.1).
    """
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
        uvicorn.run(
            app,
            host=host or config.server.host,
            port=port if port is not None else config.server.port,
            log_level=log_level,
            access_log=log_level == "debug",
            lifespan="on",
        )
    finally:
        node.close()
