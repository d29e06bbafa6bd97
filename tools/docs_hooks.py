"""MkDocs hooks: pages made from the code at build time, so they cannot drift.

- ``<!-- lifecycle: borrowing -->`` (or ``lending``) becomes the lifecycle's Mermaid
  diagram, exactly what ``resource-sharing states borrowing --format mermaid`` prints;
- ``<!-- cli-help -->`` becomes the ``--help`` of every command of the command line;
- a link to a page another part of the project has not written yet (``integration.md``)
  becomes its plain text instead of a broken link.

The states tables of docs/lifecycles.md stay in the page's source, where a reader of the
repository sees them: between ``<!-- states-table: borrowing -->`` and
``<!-- /states-table -->`` stands what ``resource-sharing states borrowing --format markdown``
prints. ``python tools/docs_hooks.py --update-states`` rewrites them from the tables, and a
test fails when they differ.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from resource_sharing.borrowing import BORROWING
from resource_sharing.lending import LENDING
from resource_sharing.lifecycle import Lifecycle

__all__ = ["cli_help", "lifecycle_diagram", "on_page_markdown", "render", "update_state_tables"]

_LIFECYCLES: dict[str, Lifecycle[Any, Any, Any]] = {"borrowing": BORROWING, "lending": LENDING}
_DOCS = Path(__file__).resolve().parents[1] / "docs"
_MARKER = re.compile(r"<!-- lifecycle: (\w+) -->")
_LATER = ("integration.md",)
_STATES_TABLE = re.compile(r"(<!-- states-table: (\w+) -->\n).*?(<!-- /states-table -->)", re.S)


def lifecycle_diagram(name: str) -> str:
    """The Mermaid diagram of a lifecycle, as ``states NAME --format mermaid`` prints it."""
    return f"```mermaid\n{_LIFECYCLES[name].to_mermaid().rstrip()}\n```"


def _helps(parser: argparse.ArgumentParser, path: list[str]) -> list[tuple[str, str]]:
    found = [(" ".join(path), parser.format_help())]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.extend(_helps(sub, [*path, name]))
    return found


def cli_help() -> str:
    """The ``--help`` of every command, each under its own heading."""
    from resource_sharing_adapters.cli import build_parser

    parser = build_parser()
    parts = []
    for name, text in _helps(parser, ["resource-sharing"]):
        parts.append(f"### `{name}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


def render(markdown: str, docs: Path = _DOCS) -> str:
    """``markdown`` with every marker replaced (see the module's docstring)."""
    markdown = _MARKER.sub(lambda m: lifecycle_diagram(m.group(1)), markdown)
    if "<!-- cli-help -->" in markdown:
        markdown = markdown.replace("<!-- cli-help -->", cli_help())
    for page in _LATER:
        if not (docs / page).exists():
            markdown = re.sub(rf"\[([^\]]+)\]\((?:\.\./)?{re.escape(page)}\)", r"\1", markdown)
    return markdown


def update_state_tables(markdown: str) -> str:
    """``markdown`` with the text between each states-table marker made anew from its table."""
    return _STATES_TABLE.sub(
        lambda m: f"{m.group(1)}\n{_LIFECYCLES[m.group(2)].to_markdown()}\n{m.group(3)}", markdown
    )


def on_page_markdown(markdown: str, **_: Any) -> str:
    """The MkDocs hook: render every page's markers."""
    return render(markdown)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--update-states"]:
        sys.exit("usage: python tools/docs_hooks.py --update-states")
    page = _DOCS / "lifecycles.md"
    page.write_text(update_state_tables(page.read_text(encoding="utf-8")), encoding="utf-8")
