"""The Printer port: print jobs as PDF files in a folder, or on a CUPS queue with ``lp``.

- :class:`FolderPrinter`: ``{key}.pdf`` per job, written atomically (a repeat overwrites).
- :class:`CupsPrinter`: the PDF piped to ``lp``; :class:`LpNotFound` when there is none.
- :func:`from_config`: the ``[ports.printer]`` factory (``docs/integration.md``, "Printing");
  :func:`renderer_from_config` for the documents alone.
- :func:`file_name`, :func:`write_atomically`.

The documents themselves are laid out by :mod:`resource_sharing_adapters.documents`.
"""

from __future__ import annotations

from resource_sharing_adapters.printing._config import from_config, renderer_from_config
from resource_sharing_adapters.printing._printers import (
    CupsPrinter,
    FolderPrinter,
    LpNotFound,
    file_name,
    write_atomically,
)

__all__ = [
    "CupsPrinter",
    "FolderPrinter",
    "LpNotFound",
    "file_name",
    "from_config",
    "renderer_from_config",
    "write_atomically",
]
