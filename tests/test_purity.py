"""The core imports only the standard library, attrs, cattrs and transitions.

import-linter forbids the known I/O modules; this test closes the list from the other
side: any third-party import that is not one of the three allowed fails.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "src" / "resource_sharing"
ALLOWED_THIRD_PARTY = {"attrs", "attr", "cattrs", "transitions"}
FORBIDDEN_STDLIB = {
    "sqlite3", "socket", "http", "urllib", "smtplib", "asyncio", "subprocess",
    "threading", "multiprocessing", "logging", "ssl", "select", "selectors",
    "shutil", "tempfile", "email", "ftplib", "concurrent", "random", "secrets",
}  # fmt: skip


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_only_stdlib_and_allowed_packages() -> None:
    offenders: dict[str, set[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        roots = _imported_roots(path) - {"resource_sharing", "__future__"}
        bad = {
            root
            for root in roots
            if root in FORBIDDEN_STDLIB
            or (root not in sys.stdlib_module_names and root not in ALLOWED_THIRD_PARTY)
        }
        if bad:
            offenders[str(path.relative_to(CORE))] = bad
    assert offenders == {}


def test_the_package_root_exports_what_it_lists() -> None:
    import resource_sharing

    missing = [n for n in resource_sharing.__all__ if not hasattr(resource_sharing, n)]
    assert missing == []


def test_importing_the_core_imports_no_adapter_and_no_io_module() -> None:
    code = (
        "import sys, resource_sharing, resource_sharing.service, resource_sharing.testing;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " {'resource_sharing_adapters', 'sqlite3', 'socket', 'lxml', 'psycopg', 'httpx'});"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
