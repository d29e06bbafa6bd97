"""``resource-sharing rota explain``: build a request's rota and show why, as a table.

``rota explain --directory DIR.json --request REQ.json`` reads the two documents described
in ``docs/rota.md``, builds the rota with :func:`resource_sharing.rota.build_rota` and
prints every candidate: the kept ones in the order they will be asked, then the dropped
ones with the reason, each with its score components. Bad input prints a message on
stderr and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from resource_sharing.errors import InvalidInput
from resource_sharing.rota import Rota, build_rota
from resource_sharing_adapters.cli._io import print_json
from resource_sharing_adapters.rota_json import load_directory, load_request

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["as_json", "explain", "register", "render"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``rota`` command (``explain``) to the CLI."""
    parser = subparsers.add_parser(
        "rota",
        help="build and explain a request's rota of lenders",
        description="Build and explain a request's rota of lenders.",
    )
    commands = parser.add_subparsers(dest="rota_command", required=True, metavar="ACTION")
    explain_parser = commands.add_parser(
        "explain",
        help="print every candidate lender: kept or dropped, why, and its scores",
        description=(
            "Build the rota for REQ.json against DIR.json and print every candidate lender: "
            "kept (in rota order) or dropped (with the reason), with its score components."
        ),
    )
    explain_parser.add_argument(
        "--directory", required=True, type=Path, metavar="DIR.json", help="partners and policy"
    )
    explain_parser.add_argument(
        "--request", required=True, type=Path, metavar="REQ.json", help="request and facts"
    )
    explain_parser.add_argument(
        "--json",
        action="store_true",
        help="print the rota and every candidate as JSON instead of a table",
    )
    explain_parser.set_defaults(handler=explain)


def explain(args: argparse.Namespace) -> int:
    """Print the explanation of the rota for ``args.request``; 2 on bad input."""
    from rich.console import Console  # the cli extra

    try:
        directory, policy = load_directory(args.directory)
        request, context = load_request(args.request)
        rota = build_rota(request, directory, context, policy)
    except InvalidInput as exc:
        print(f"resource-sharing rota explain: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print_json(as_json(rota))
        return 0
    width = None if sys.stdout.isatty() else 200
    Console(file=sys.stdout, width=width).print(render(rota))
    return 0


def as_json(rota: Rota) -> dict[str, object]:
    """The explanation as JSON-ready data: the selection and one object per candidate."""
    explanation = rota.explanation
    return {
        "request": explanation.request_id,
        "selection": explanation.selection,
        "rule": explanation.rule,
        "templates": list(explanation.templates),
        "scorers": [{"name": n, "weight": w} for n, w in explanation.scorers],
        "candidates": [
            {
                "agency": str(r.agency),
                "name": r.name,
                "source": r.source,
                "tier": r.tier,
                "rank": r.rank,
                "kept": r.kept,
                "fallback": r.fallback,
                "dropped": None if r.drop is None else r.drop.reason.value,
                "why": None if r.drop is None else r.drop.detail,
                "scores": {c.scorer: c.value for c in r.components},
                "total": r.total,
            }
            for r in explanation.reports()
        ],
    }


def render(rota: Rota) -> Table:
    """The explanation as a ``rich`` table: one row per candidate."""
    from rich.table import Table

    explanation = rota.explanation
    templates = ", ".join(explanation.templates) or "none"
    table = Table(
        title=f"Rota for request {explanation.request_id}",
        caption=f"selection: {explanation.selection}; templates: {templates}",
    )
    table.add_column("#", justify="right")
    table.add_column("agency")
    table.add_column("name")
    table.add_column("source")
    table.add_column("tier", justify="right")
    table.add_column("outcome")
    table.add_column("why")
    for name, weight in explanation.scorers:
        table.add_column(f"{name}\nx{weight:g}", justify="right")
    table.add_column("total", justify="right")
    for report in explanation.reports():
        if report.drop is None:
            outcome = "fallback" if report.fallback else "kept"
            why = ""
        else:
            outcome = f"dropped: {report.drop.reason.value}"
            why = report.drop.detail
        values = {c.scorer: f"{c.value:.3f}" for c in report.components}
        total = report.total
        table.add_row(
            str(report.rank) if report.rank is not None else "-",
            str(report.agency),
            report.name,
            report.source,
            str(report.tier),
            outcome,
            why,
            *(values.get(name, "") for name, _ in explanation.scorers),
            f"{total:.3f}" if total is not None else "",
            style=None if report.kept else "dim",
        )
    return table
