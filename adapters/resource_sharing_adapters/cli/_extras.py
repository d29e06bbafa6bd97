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

__all__ = [
    "EXIT_MISSING_EXTRA",
    "EXTRAS",
    "EXTRA_OF_COMMAND",
    "EXTRA_OF_MODULE",
    "install_hint",
    "missing_extra",
]

EXIT_MISSING_EXTRA = 3
"""The exit status of a command whose extra is not installed."""

EXTRAS: Mapping[str, frozenset[str]] = {
    "cli": frozenset({"rich"}),
    "iso18626": frozenset({"lxml"}),
    "server": frozenset(
        {"starlette", "uvicorn", "httpx", "httpcore", "anyio", "lxml", "prometheus_client", "rich"}
    ),
    "postgres": frozenset({"psycopg", "psycopg_pool"}),
    "plot": frozenset({"matplotlib"}),
    "ncip": frozenset({"lxml", "httpx", "httpcore", "anyio", "starlette"}),
    "sru": frozenset({"httpx", "httpcore", "anyio", "lxml"}),
    "email": frozenset({"jinja2", "babel"}),
    "print": frozenset({"jinja2", "babel", "reportlab", "xhtml2pdf"}),
}
"""The top-level modules each extra of pyproject.toml brings."""

EXTRA_OF_COMMAND: Mapping[str, str] = {
    "iso18626": "iso18626",
    "ncip": "ncip",
    "rota": "cli",
    "serve": "server",
    "desk": "server",
    "simulate": "cli",
}
"""The extra each command needs first (a module of another extra names that one)."""

_PREFERRED = ("cli", "iso18626", "server", "postgres", "plot", "ncip", "sru", "email", "print")

EXTRA_OF_MODULE: Mapping[str, str] = {
    module: next(e for e in _PREFERRED if module in EXTRAS[e])
    for extra in _PREFERRED
    for module in EXTRAS[extra]
}
"""A module to the first extra that brings it (for a command with no extra of its own)."""


def install_hint(extra: str) -> str:
    """The pip command that installs ``extra``."""
    return f"pip install 'resource-sharing[{extra}]'"


def missing_extra(command: str, error: ModuleNotFoundError) -> str | None:
    """The one-line message for ``error`` raised by ``command``; None when no extra has it."""
    module = (error.name or "").split(".")[0]
    extra = EXTRA_OF_COMMAND.get(command)
    if extra is None or module not in EXTRAS[extra]:
        extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    return (
        f"resource-sharing {command} needs the {extra} extra ({module} is not installed): "
        f"{install_hint(extra)}"
    )
