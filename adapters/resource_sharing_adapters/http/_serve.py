"""Run a node with uvicorn: the endpoint, the staff API, the dispatcher and the timers."""

from __future__ import annotations

import uvicorn

from resource_sharing_adapters.http._app import create_app
from resource_sharing_adapters.http._config import NodeConfig
from resource_sharing_adapters.http._logging import configure_logging, uvicorn_log_config
from resource_sharing_adapters.http._node import Node

__all__ = ["serve"]


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
    node = Node(config)
    try:
        app = create_app(node)
        uvicorn.run(
            app,
            host=host or config.server.host,
            port=port if port is not None else config.server.port,
            log_level=log_level,
            log_config=uvicorn_log_config(log_level, log_format),
            access_log=log_level == "debug",
            lifespan="on",
        )
    finally:
        node.close()
