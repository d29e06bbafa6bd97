"""The docs site's generated pages come from the code: diagrams, command help, links."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from resource_sharing_adapters.cli import main

ROOT = Path(__file__).resolve().parents[1]
HOOKS = runpy.run_path(str(ROOT / "tools" / "docs_hooks.py"))


@pytest.mark.parametrize("side", ["borrowing", "lending"])
def test_the_diagram_is_what_states_prints(side: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["states", side, "--format", "mermaid"]) == 0
    printed = capsys.readouterr().out
    page = HOOKS["render"](f"# x\n\n<!-- lifecycle: {side} -->\n")
    assert f"```mermaid\n{printed.rstrip()}\n```" in page


def test_the_pages_that_ask_for_diagrams_and_help_have_the_markers() -> None:
    diagrams = (ROOT / "docs" / "explanation" / "lifecycle-diagrams.md").read_text(encoding="utf-8")
    assert "<!-- lifecycle: borrowing -->" in diagrams
    assert "<!-- lifecycle: lending -->" in diagrams
    assert "<!-- cli-help -->" in (ROOT / "docs" / "reference" / "cli.md").read_text(
        encoding="utf-8"
    )


def test_the_cli_page_has_the_help_of_every_command() -> None:
    page = HOOKS["render"]("<!-- cli-help -->")
    for command in ("serve", "desk act", "desk failed", "simulate", "iso18626 validate"):
        assert f"### `resource-sharing {command}`" in page
    assert "receive            --barcode* TEXT" in page


def test_a_link_to_a_page_not_written_yet_becomes_text(tmp_path: Path) -> None:
    text = "See the [integration guide](../integration.md)."
    assert HOOKS["render"](text, tmp_path) == "See the integration guide."
    (tmp_path / "integration.md").write_text("# Integration\n", encoding="utf-8")
    assert HOOKS["render"](text, tmp_path) == text


def test_every_page_of_the_nav_exists() -> None:
    import re

    nav = re.findall(r":\s+([\w/-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), flags=re.M)
    assert len(nav) > 15
    missing = [page for page in nav if not (ROOT / "docs" / page).exists()]
    assert missing == []


def test_the_states_tables_of_the_lifecycles_page_are_the_tables() -> None:
    page = (ROOT / "docs" / "lifecycles.md").read_text(encoding="utf-8")
    assert page.count("<!-- states-table: ") == 2
    assert HOOKS["update_state_tables"](page) == page, (
        "docs/lifecycles.md is out of date: run python tools/docs_hooks.py --update-states"
    )


@pytest.mark.parametrize("side", ["borrowing", "lending"])
def test_the_states_table_is_what_states_prints(
    side: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["states", side, "--format", "markdown"]) == 0
    printed = capsys.readouterr().out
    stale = f"<!-- states-table: {side} -->\nold\n<!-- /states-table -->"
    page = HOOKS["update_state_tables"](stale)
    assert printed in page
    assert printed.startswith("| state | staff label |")
    assert f"| `{'created' if side == 'borrowing' else 'new'}` |" in printed


def test_a_stale_states_table_is_rewritten() -> None:
    stale = "# x\n\n<!-- states-table: lending -->\n\nEdges: 1.\n\n<!-- /states-table -->\n"
    fresh = HOOKS["update_state_tables"](stale)
    assert "Edges: 1." not in fresh
    assert "| `will_supply` | Will supply |" in fresh
    assert fresh.startswith("# x\n\n<!-- states-table: lending -->\n\n| state |")
