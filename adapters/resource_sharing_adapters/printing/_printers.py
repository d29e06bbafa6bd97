"""The Printer port: each print job as a PDF in a folder, or sent to a CUPS queue with ``lp``.

- :class:`FolderPrinter` writes ``{key}.pdf`` (the effect's idempotency key, made safe for
  a file name) into a folder a print server, a hot folder or a person watches. The file
  is written beside its final name and renamed into place, so a reader never sees half a
  PDF, and a retry of the same job overwrites the same file instead of adding a second.
- :class:`CupsPrinter` pipes the PDF to ``lp`` (``-d`` queue, ``-t`` the key as the job
  title, ``-o`` options). ``lp`` cannot drop a repeat itself; given a ``keep_folder`` the
  printer keeps each job's PDF there, as the folder printer does, and does not send a key
  it has already sent.

Failures are :class:`~resource_sharing.errors.DeliveryError`: a document that cannot be
rendered (a template, a partner without an address), a folder that is missing or not
writable, or a missing ``lp`` are not retryable; a full disk, a failing or slow ``lp``
are. :class:`LpNotFound` is raised at construction when ``lp`` is not there.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from resource_sharing.effects import PrintJob
from resource_sharing.errors import DeliveryError, InvalidInput
from resource_sharing_adapters.documents import DocumentError, DocumentRenderer, document_kind

__all__ = ["CupsPrinter", "FolderPrinter", "LpNotFound", "file_name", "write_atomically"]

_log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-]")
_PERMANENT = {errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR, errno.EROFS, errno.EISDIR}


def file_name(key: str, suffix: str = ".pdf") -> str:
    """A file name for an idempotency key: unsafe characters as ``%XX``, never hidden.

    >>> file_name("outbox/42:print")
    'outbox%2F42%3Aprint.pdf'
    """
    safe = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), key)
    if safe.startswith("."):
        safe = "%2E" + safe[1:]
    return safe[:200] + suffix


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".printing-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _render(renderer: DocumentRenderer, job: PrintJob, who: str) -> bytes:
    try:
        return renderer.pdf(job)
    except DocumentError as exc:
        raise DeliveryError(who, str(exc), retryable=False) from exc


class FolderPrinter:
    """Writes each print job as ``{key}.pdf`` into ``folder`` (see the module).

    With ``html`` the job's HTML page is written beside it as ``{key}.html`` too.
    """

    def __init__(self, renderer: DocumentRenderer, folder: str | Path, *, html: bool = False):
        self.renderer = renderer
        """Lays the documents out."""
        self.folder = Path(folder)
        """Where the PDFs go."""
        self.html = html
        """Also write the HTML page."""

    def path_for(self, key: str) -> Path:
        """Where the job with this key is written."""
        return self.folder / file_name(key)

    def print_document(self, job: PrintJob, *, key: str) -> None:
        """Write the job's PDF (a repeat of the key overwrites it); DeliveryError if not."""
        who = f"printer folder {self.folder}"
        pdf = _render(self.renderer, job, who)
        target = self.path_for(key)
        try:
            write_atomically(target, pdf)
            if self.html:
                write_atomically(target.with_suffix(".html"), self.renderer.html(job).encode())
        except OSError as exc:
            raise DeliveryError(
                who,
                f"cannot write {target.name}: {exc.strerror or exc}",
                retryable=exc.errno not in _PERMANENT,
            ) from None
        _log.info("printed %s for request %s to %s", document_kind(job), job.request_id, target)


class LpNotFound(InvalidInput):
    """The ``lp`` command (CUPS) is not installed or not on the PATH."""

    def __init__(self, command: str) -> None:
        super().__init__(
            "lp", f"{command!r} not found: install CUPS (cups-client) or print to a folder"
        )
        self.command = command
        """The command looked for."""


class CupsPrinter:
    """Sends each print job's PDF to a CUPS queue with ``lp`` (see the module).

    ``queue`` None prints to the default destination; ``options`` are ``-o`` values
    (``media=A6``, ``fit-to-page``); ``timeout_seconds`` bounds one ``lp``.
    """

    def __init__(
        self,
        renderer: DocumentRenderer,
        queue: str | None = None,
        *,
        lp: str = "lp",
        options: Sequence[str] = (),
        timeout_seconds: float = 30.0,
        keep_folder: str | Path | None = None,
    ) -> None:
        found = shutil.which(lp)
        if found is None:
            raise LpNotFound(lp)
        self.renderer = renderer
        """Lays the documents out."""
        self.queue = queue
        """The CUPS destination (None: the default one)."""
        self.lp = found
        """The ``lp`` command found."""
        self.options = tuple(options)
        """``-o`` options."""
        self.timeout_seconds = timeout_seconds
        """Bound on one ``lp`` run."""
        self.keep = FolderPrinter(renderer, keep_folder) if keep_folder is not None else None
        """Where sent jobs are kept (and repeats recognised), if anywhere."""

    def command(self, key: str) -> list[str]:
        """The ``lp`` command line for a job (the PDF comes on standard input)."""
        line = [self.lp]
        if self.queue:
            line += ["-d", self.queue]
        line += ["-t", key]
        for option in self.options:
            line += ["-o", option]
        return [*line, "--", "-"]

    def print_document(self, job: PrintJob, *, key: str) -> None:
        """Send the job's PDF to the queue; a key already sent (``keep_folder``) is dropped."""
        who = f"CUPS queue {self.queue or '(default)'}"
        if self.keep is not None and self.keep.path_for(key).exists():
            _log.info(
                "%s for request %s already sent (%s)", document_kind(job), job.request_id, key
            )
            return
        pdf = _render(self.renderer, job, who)
        try:
            done = subprocess.run(
                self.command(key),
                input=pdf,
                capture_output=True,
                timeout=self.timeout_seconds,
                check=False,
            )
        except FileNotFoundError:
            raise DeliveryError(who, f"{self.lp} is no longer there", retryable=False) from None
        except subprocess.TimeoutExpired:
            raise DeliveryError(who, f"lp did not finish within {self.timeout_seconds} s") from None
        except OSError as exc:
            raise DeliveryError(who, f"cannot run lp: {exc}") from None
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
            raise DeliveryError(who, f"lp failed: {said}", retryable=True)
        if self.keep is not None:
            try:
                write_atomically(self.keep.path_for(key), pdf)
            except OSError as exc:
                _log.warning("%s sent but not kept: %s", key, exc)
        _log.info(
            "sent %s for request %s to %s: %s",
            document_kind(job),
            job.request_id,
            who,
            done.stdout.decode(errors="replace").strip(),
        )
