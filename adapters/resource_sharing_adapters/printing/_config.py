r"""The ``[ports.printer]`` table of a node's TOML: the printer's factory.

::

    [ports.printer]
    factory = "print"                    # or "resource_sharing_adapters.printing:from_config"
    mode = "folder"                      # folder (PDF files) or cups (lp)
    folder = "print-out"                 # folder mode: where {key}.pdf goes
    html = false                         # folder mode: also write {key}.html
    queue = "ill-labels"                 # cups mode: the destination (default: CUPS's default)
    lp = "lp"                            # cups mode: the command
    options = ["media=A6"]               # cups mode: lp -o options
    keep_folder = "printed"              # cups mode: keep each sent PDF, drop repeats of a key
    timeout_seconds = 30
    institution = "Example Library"      # default: the node's name
    address = "Example Library\\nILL office\\n1 Main St"   # our return address
    template_folder = "slips"            # overrides of the document templates
    patron_form = "initial"              # initial, initials, last4, id, full
    locale = "en_GB"                     # how dates are written
    timezone = "Europe/London"

Every problem is an :class:`~resource_sharing.errors.InvalidInput` naming its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel import UnknownLocaleError

from resource_sharing.errors import InvalidInput
from resource_sharing_adapters._structuring import key_at
from resource_sharing_adapters.documents import DocumentRenderer, Institution, PatronForm
from resource_sharing_adapters.printing._printers import CupsPrinter, FolderPrinter

__all__ = ["from_config", "renderer_from_config"]


_WHERE = ""
_DOCUMENT_KEYS = frozenset(
    {"institution", "address", "template_folder", "patron_form", "locale", "timezone"}
)
_KEYS = _DOCUMENT_KEYS | {
    "factory",
    "mode",
    "folder",
    "html",
    "queue",
    "lp",
    "options",
    "keep_folder",
    "timeout_seconds",
}


def _get(table: Mapping[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = table.get(key, default)
    if value is not None and (
        not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool)
    ):
        raise InvalidInput(key_at(_WHERE, key), f"unexpected value {value!r}")
    return value


def _base(context: Any) -> Path:
    base = getattr(context, "base", None)
    if base is None:
        source = getattr(context, "source", None)
        return Path(source).resolve().parent if source else Path.cwd()
    return Path(base)


def renderer_from_config(table: Mapping[str, Any], context: Any = None) -> DocumentRenderer:
    """The document renderer the table describes (the keys ``institution`` ... ``timezone``)."""
    base = _base(context)
    directory = getattr(context, "directory", None)
    folder = _get(table, "template_folder", str)
    if folder and not (base / folder).is_dir():
        raise InvalidInput(key_at(_WHERE, "template_folder"), f"{base / folder} is not a folder")
    form = _get(table, "patron_form", str, "initial")
    try:
        patron_form = PatronForm(form)
    except ValueError:
        choices = ", ".join(f.value for f in PatronForm)
        raise InvalidInput(
            key_at(_WHERE, "patron_form"), f"{form!r} is not one of {choices}"
        ) from None
    institution = Institution(
        name=_get(table, "institution", str) or getattr(context, "name", "") or "",
        address=_get(table, "address", str, ""),
        agency=getattr(context, "agency", None),
    )
    try:
        return DocumentRenderer(
            institution,
            directory.get if directory is not None else (lambda agency: None),
            template_folder=(base / folder) if folder else None,
            patron_form=patron_form,
            locale=_get(table, "locale", str, "en"),
            timezone=_get(table, "timezone", str, "UTC"),
        )
    except (UnknownLocaleError, ValueError) as exc:
        raise InvalidInput(key_at(_WHERE, "locale"), f"unknown locale: {exc}") from None
    except KeyError as exc:
        raise InvalidInput(key_at(_WHERE, "timezone"), f"unknown time zone {exc}") from None


def from_config(table: Mapping[str, Any], context: Any = None) -> FolderPrinter | CupsPrinter:
    """The ``[ports.printer]`` factory: a :class:`FolderPrinter` or a :class:`CupsPrinter`.

    ``context`` is the node's port context (``name``, ``agency``, ``directory`` for the
    partners' addresses, ``base`` for relative paths), or None.
    """
    unknown = set(table) - _KEYS
    if unknown:
        raise InvalidInput(", ".join(sorted(unknown)), "unknown key(s)")
    renderer = renderer_from_config(table, context)
    base = _base(context)
    mode = _get(table, "mode", str, "folder")
    if mode == "folder":
        folder = _get(table, "folder", str)
        if not folder:
            raise InvalidInput(
                key_at(_WHERE, "folder"), "required in folder mode: where the PDFs go"
            )
        path = base / folder
        if not path.is_dir():
            raise InvalidInput(key_at(_WHERE, "folder"), f"{path} is not a folder")
        return FolderPrinter(renderer, path, html=_get(table, "html", bool, False))
    if mode == "cups":
        options = _get(table, "options", list, [])
        if not all(isinstance(o, str) for o in options):
            raise InvalidInput(key_at(_WHERE, "options"), "expected a list of lp -o options")
        timeout = table.get("timeout_seconds", 30.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidInput(key_at(_WHERE, "timeout_seconds"), "expected a positive number")
        keep = _get(table, "keep_folder", str)
        if keep and not (base / keep).is_dir():
            raise InvalidInput(key_at(_WHERE, "keep_folder"), f"{base / keep} is not a folder")
        return CupsPrinter(
            renderer,
            _get(table, "queue", str),
            lp=_get(table, "lp", str, "lp"),
            options=options,
            timeout_seconds=float(timeout),
            keep_folder=(base / keep) if keep else None,
        )
    raise InvalidInput(key_at(_WHERE, "mode"), f"{mode!r} is not folder or cups")
