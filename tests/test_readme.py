"""The README's example runs as written and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_using_it_example_runs_as_written_and_prints_its_comments() -> None:
    (block,) = python_blocks()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    printed = out.getvalue().splitlines()
    promised = [
        m.group(1).strip()
        for line in block.splitlines()
        if line.startswith("print(") and (m := re.search(r"#\s*(.*)$", line))
    ]
    assert printed == promised
    assert printed[0] == "will_supply"
