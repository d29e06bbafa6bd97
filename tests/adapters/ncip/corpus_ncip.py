"""Where the shared NCIP material is (``../shared/ncip`` beside the repository), read at test time.

``$RS_NCIP_DIR`` overrides the place. When the folder is missing a test fails under CI
(``CI`` set) and is skipped, with the reason, elsewhere; nothing is ever copied into the
repository.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

NCIP_ENV = "RS_NCIP_DIR"
_DEFAULT = Path(__file__).resolve().parents[3].parent / "shared" / "ncip"


def ncip_dir() -> Path | None:
    """The shared NCIP folder, if it holds the schema and the samples' MANIFEST."""
    found = Path(os.environ.get(NCIP_ENV) or _DEFAULT)
    if (found / "ncip_v2_02.xsd").is_file() and (found / "samples" / "MANIFEST.tsv").is_file():
        return found
    return None


def require_ncip() -> Path:
    """The shared NCIP folder; fails the test under CI, skips it elsewhere, when missing."""
    found = ncip_dir()
    if found is None:
        reason = f"no ../shared/ncip (or ${NCIP_ENV}) with ncip_v2_02.xsd and samples/MANIFEST.tsv"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def manifest_rows() -> list[dict[str, str]]:
    """The samples' MANIFEST rows (empty when the folder is missing)."""
    found = ncip_dir()
    if found is None:
        return []
    with (found / "samples" / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
