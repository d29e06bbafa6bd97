"""Every printer of a node passes the Printer contract: what is printed says what was asked.

The folder printer's PDFs and the PDFs a fake ``lp`` spools are read back with pypdf (the
text) and zxing-cpp (the barcodes); the journal printer's entries are read from the
journal the staff API serves.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from resource_sharing.directory import Directory
from resource_sharing.ports import Printer
from resource_sharing.records import AgencyId
from resource_sharing.testing.port_contracts import PrinterContract, PrintSeen
from resource_sharing_adapters.documents import DocumentRenderer, Institution
from resource_sharing_adapters.http import Journal, JournalPrinter
from resource_sharing_adapters.printing import CupsPrinter, FolderPrinter
from resource_sharing_adapters.storage import MemoryFeeds
from tests.adapters.documents_jobs import pdf_barcodes, pdf_text

HOME = Institution("Contract Library", "1 Home Road\nHometown", AgencyId("CONTRACT-US"))


def _page(key: str, pdf: bytes) -> PrintSeen:
    barcodes = " ".join(text for _, text in pdf_barcodes(pdf))
    return PrintSeen(key, f"{pdf_text(pdf)}\n{barcodes}")


class TestFolderPrinter(PrinterContract):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path / "print-out"
        self.folder.mkdir()

    def make_printer(self, directory: Directory) -> Printer:
        return FolderPrinter(DocumentRenderer(HOME, directory.get), self.folder)

    def printed(self, printer: Printer) -> list[PrintSeen]:
        assert isinstance(printer, FolderPrinter)
        return [_page(pdf.stem, pdf.read_bytes()) for pdf in sorted(self.folder.glob("*.pdf"))]


def _spooling_lp(folder: Path) -> Path:
    """An ``lp`` that spools each job into ``folder/spool`` as ``<n>-<title>.pdf``."""
    spool = folder / "spool"
    spool.mkdir()
    script = folder / "lp"
    script.write_text(
        "#!/bin/sh\n"
        'title=""\n'
        'while [ $# -gt 0 ]; do case "$1" in -t) title="$2"; shift 2;; --) shift;; *) shift;; esac;'
        " done\n"
        f'n=$(ls "{spool}" | wc -l)\n'
        f'cat > "{spool}/$n-$title.pdf"\n'
        'echo "request id is contract-$n (1 file(s))"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


class TestCupsPrinter(PrinterContract):
    """CUPS without a keep folder: a repeat is sent again, and must be the same page."""

    @pytest.fixture(autouse=True)
    def _lp(self, tmp_path: Path) -> None:
        self.lp = _spooling_lp(tmp_path)
        self.spool = tmp_path / "spool"

    def make_printer(self, directory: Directory) -> Printer:
        renderer = DocumentRenderer(HOME, directory.get)
        return CupsPrinter(renderer, "contract-queue", lp=str(self.lp))

    def printed(self, printer: Printer) -> list[PrintSeen]:
        jobs = sorted(self.spool.glob("*.pdf"), key=lambda p: int(p.name.split("-", 1)[0]))
        return [_page(p.stem.split("-", 1)[1], p.read_bytes()) for p in jobs]


class TestCupsPrinterKeepingJobs(TestCupsPrinter):
    """With a keep folder a key is sent once."""

    def make_printer(self, directory: Directory) -> Printer:
        kept = self.spool.parent / "kept"
        kept.mkdir(exist_ok=True)
        renderer = DocumentRenderer(HOME, directory.get)
        return CupsPrinter(renderer, lp=str(self.lp), keep_folder=kept)


class TestJournalPrinter(PrinterContract):
    def make_printer(self, directory: Directory) -> Printer:
        self.journal = Journal(MemoryFeeds())
        return JournalPrinter(self.journal)

    def printed(self, printer: Printer) -> list[PrintSeen]:
        return [
            PrintSeen(entry.key or "", json.dumps(entry.detail))
            for entry in self.journal.since(0)
            if entry.kind == "print"
        ]
