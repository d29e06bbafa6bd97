"""The printers: PDFs in a folder (atomic, a repeat overwrites), or piped to a real lp."""

from __future__ import annotations

import stat
from pathlib import Path

import attrs
import pytest

from resource_sharing.errors import DeliveryError, InvalidInput
from resource_sharing.records import AgencyId
from resource_sharing_adapters.printing import (
    CupsPrinter,
    FolderPrinter,
    LpNotFound,
    file_name,
    from_config,
)
from tests.adapters.documents_jobs import (
    BARCODES,
    DIRECTORY,
    HOLD,
    JOBS,
    LABEL,
    pdf_barcodes,
    pdf_text,
    renderer,
)


@pytest.mark.parametrize("kind", list(JOBS))
def test_each_job_becomes_one_pdf_named_by_its_key(tmp_path: Path, kind: str) -> None:
    printer = FolderPrinter(renderer(), tmp_path)
    printer.print_document(JOBS[kind], key=f"outbox/7:{kind}")
    (written,) = tmp_path.iterdir()
    assert written.name == file_name(f"outbox/7:{kind}") == f"outbox%2F7%3A{kind}.pdf"
    assert ("Code128", BARCODES[kind]) in pdf_barcodes(written.read_bytes())


def test_a_repeat_overwrites_instead_of_adding_a_file(tmp_path: Path) -> None:
    printer = FolderPrinter(renderer(), tmp_path, html=True)
    printer.print_document(LABEL, key="k-1")
    printer.print_document(LABEL, key="k-1")
    printer.print_document(HOLD, key="k-2")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "k-1.html",
        "k-1.pdf",
        "k-2.html",
        "k-2.pdf",
    ]
    assert "Ada L." in (tmp_path / "k-2.html").read_text()


def test_a_key_cannot_escape_the_folder(tmp_path: Path) -> None:
    printer = FolderPrinter(renderer(), tmp_path / "out")
    (tmp_path / "out").mkdir()
    printer.print_document(HOLD, key="../../etc/passwd")
    (written,) = (tmp_path / "out").iterdir()
    assert written.name == "%2E.%2F..%2Fetc%2Fpasswd.pdf"
    assert file_name(".hidden") == "%2Ehidden.pdf"


def test_a_missing_folder_is_a_permanent_failure(tmp_path: Path) -> None:
    printer = FolderPrinter(renderer(), tmp_path / "gone")
    with pytest.raises(DeliveryError) as raised:
        printer.print_document(HOLD, key="k")
    assert raised.value.retryable is False


def test_a_document_that_cannot_be_rendered_is_a_permanent_failure(tmp_path: Path) -> None:
    nowhere = attrs.evolve(LABEL, to=AgencyId("US-C"))
    with pytest.raises(DeliveryError) as raised:
        FolderPrinter(renderer(), tmp_path).print_document(nowhere, key="k")
    assert raised.value.retryable is False
    assert "no postal address for ISIL:US-C" in raised.value.reason
    assert list(tmp_path.iterdir()) == []


def _fake_lp(folder: Path, *, exit_status: int = 0) -> Path:
    """An lp that keeps its arguments and standard input, as CUPS would spool them."""
    script = folder / "lp"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{folder}/args.txt"\n'
        f'cat > "{folder}/job.pdf"\n'
        f"if [ {exit_status} -ne 0 ]; then\n"
        f'  echo "lp: The printer or class does not exist." >&2; exit {exit_status}\n'
        "fi\n"
        'echo "request id is ill-labels-42 (1 file(s))"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_cups_gets_the_pdf_with_the_key_as_title(tmp_path: Path) -> None:
    lp = _fake_lp(tmp_path)
    printer = CupsPrinter(renderer(), "ill-labels", lp=str(lp), options=["media=A6"])
    printer.print_document(LABEL, key="outbox-9")
    args = (tmp_path / "args.txt").read_text().split("\n")[:-1]
    assert args == ["-d", "ill-labels", "-t", "outbox-9", "-o", "media=A6", "--", "-"]
    spooled = (tmp_path / "job.pdf").read_bytes()
    assert ("Code128", "39000012345678") in pdf_barcodes(spooled)
    assert "B-0042" in pdf_text(spooled)


def test_cups_with_a_keep_folder_sends_a_key_once(tmp_path: Path) -> None:
    lp = _fake_lp(tmp_path)
    kept = tmp_path / "kept"
    kept.mkdir()
    printer = CupsPrinter(renderer(), lp=str(lp), keep_folder=kept)
    printer.print_document(HOLD, key="k-7")
    (tmp_path / "job.pdf").unlink()
    printer.print_document(HOLD, key="k-7")
    assert not (tmp_path / "job.pdf").exists()
    assert [p.name for p in kept.iterdir()] == ["k-7.pdf"]
    args = (tmp_path / "args.txt").read_text().split("\n")
    assert "-d" not in args  # the default destination


def test_a_failing_lp_is_retryable(tmp_path: Path) -> None:
    printer = CupsPrinter(renderer(), "nope", lp=str(_fake_lp(tmp_path, exit_status=1)))
    with pytest.raises(DeliveryError) as raised:
        printer.print_document(HOLD, key="k")
    assert raised.value.retryable is True
    assert "does not exist" in raised.value.reason


def test_a_missing_lp_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LpNotFound, match="install CUPS"):
        CupsPrinter(renderer(), "q", lp=str(tmp_path / "no-lp-here"))
    lp = _fake_lp(tmp_path)
    printer = CupsPrinter(renderer(), "q", lp=str(lp))
    lp.unlink()
    with pytest.raises(DeliveryError) as raised:
        printer.print_document(HOLD, key="k")
    assert raised.value.retryable is False


@attrs.frozen
class _Context:
    name: str
    agency: AgencyId
    base: Path
    directory: object = DIRECTORY


def test_the_printer_factory_in_folder_and_cups_mode(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    context = _Context("Borrower A Library", AgencyId("US-A"), tmp_path)
    printer = from_config(
        {"mode": "folder", "folder": "out", "address": "2 Elm Street", "patron_form": "last4"},
        context,
    )
    assert isinstance(printer, FolderPrinter)
    printer.print_document(HOLD, key="k")
    text = pdf_text((tmp_path / "out" / "k.pdf").read_bytes())
    assert "…1815" in text
    assert "Borrower A Library" in text
    printer.print_document(LABEL, key="l")
    assert "2 Elm Street" in pdf_text((tmp_path / "out" / "l.pdf").read_bytes())
    lp = _fake_lp(tmp_path)
    cups = from_config(
        {"mode": "cups", "lp": str(lp), "queue": "q1", "options": ["fit-to-page"]}, context
    )
    assert isinstance(cups, CupsPrinter)
    assert cups.command("k")[:4] == [str(lp), "-d", "q1", "-t"]


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ({"mode": "fax"}, "mode"),
        ({"mode": "folder"}, "folder"),
        ({"mode": "folder", "folder": "missing"}, "folder"),
        ({"mode": "folder", "folder": ".", "colour": "red"}, "colour"),
        ({"mode": "folder", "folder": ".", "patron_form": "surname"}, "patron_form"),
        ({"mode": "folder", "folder": ".", "locale": "xx_NOPE"}, "locale"),
        ({"mode": "folder", "folder": ".", "timezone": "Mars/Olympus"}, "timezone"),
        ({"mode": "folder", "folder": ".", "html": "yes"}, "html"),
        ({"mode": "cups", "lp": "/no/such/lp"}, "lp"),
        ({"mode": "cups", "timeout_seconds": 0}, "timeout_seconds"),
    ],
)
def test_bad_printer_tables_are_refused_naming_the_key(
    tmp_path: Path, table: dict[str, object], where: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        from_config(table, _Context("A", AgencyId("US-A"), tmp_path))
    assert str(raised.value).startswith(where)
