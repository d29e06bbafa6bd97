"""Which extra a command needs, and the one line that says so when it is missing.

Every command imports its optional libraries only when it runs (``--help`` needs none of
them). When one is missing, :func:`missing_extra` names the extra that brings it, and
the command line prints ``resource-sharing serve needs the server extra: pip install
'resource-sharing[server]'`` and exits with :data:`EXIT_MISSING_EXTRA`, never a
traceback. A module that no extra provides is a bug, not a missing extra: its error is
left alone.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["EXIT_MISSING_EXTRA", "EXTRA_OF_MODULE", "install_hint", "missing_extra"]

EXIT_MISSING_EXTRA = 3
"""The exit status of a command whose extra is not installed."""

EXTRA_OF_MODULE: Mapping[str, str] = {
    "rich": "cli",
    "lxml": "iso18626",
    "starlette": "server",
    "uvicorn": "server",
    "httpx": "server",
    "httpcore": "server",
    "anyio": "server",
    "prometheus_client": "server",
    "psycopg": "postgres",
    "psycopg_pool": "postgres",
    "matplotlib": "plot",
}
"""The top-level module an extra brings, to the extra's name (pyproject.toml)."""


def install_hint(extra: str) -> str:
    """The pip command that installs ``extra``."""
    return f"pip install 'resource-sharing[{extra}]'"


def missing_extra(command: str, error: ModuleNotFoundError) -> str | None:
    """The one-line message for ``error`` raised by ``command``; None when no extra has it."""
    module = (error.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    return (
        f"resource-sharing {command} needs the {extra} extra ({module} is not installed): "
        f"{install_hint(extra)}"
    )
