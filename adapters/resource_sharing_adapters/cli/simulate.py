"""``resource-sharing simulate``: run the consortium simulator and report its metrics.

``simulate --institutions 50 --requests 100000 --days 365 --seed 1 [--scenario FILE]
[--json] [--plot PATH]`` runs every variant of the scenario (``docs/simulation.md``) on
the same demand, with a progress bar (on stderr, and only when it is a terminal: piped,
the command prints its result alone) and a summary table; ``--json`` prints the metrics
as JSON instead, ``--plot PATH`` writes a PNG of the turnaround distribution and of the
load per lender (matplotlib, the ``plot`` extra). Exits 1 when an invariant was broken,
2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from resource_sharing.errors import InvalidInput
from resource_sharing.simulation import Metrics, Simulation
from resource_sharing_adapters.simulation_json import load_scenario, parse_scenario

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["plot", "register", "run", "table"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``simulate`` command to the CLI."""
    parser = subparsers.add_parser(
        "simulate",
        help="simulate a consortium on the real services and report its metrics",
        description=(
            "Simulate a consortium (demand, lenders, patrons, an unreliable network) on the "
            "real services; report fill rate, turnaround, rota depth, load and invariants."
        ),
    )
    parser.add_argument("--scenario", type=Path, metavar="FILE", help="scenario JSON")
    parser.add_argument("--institutions", type=int, help="members (overrides the scenario)")
    parser.add_argument("--requests", type=int, help="requests placed (overrides)")
    parser.add_argument("--days", type=int, help="days of demand (overrides)")
    parser.add_argument("--seed", type=int, help="the seed of every draw (overrides)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--plot", type=Path, metavar="PATH", help="write a PNG")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the simulation; 0 when no invariant broke, 1 otherwise, 2 on bad input."""
    try:
        overrides = {
            "institutions": args.institutions,
            "requests": args.requests,
            "days": args.days,
            "seed": args.seed,
        }
        if args.scenario is not None:
            scenario = load_scenario(args.scenario)
            data = {k: v for k, v in overrides.items() if v is not None}
            if data:
                scenario = parse_scenario(
                    json.loads(args.scenario.read_text(encoding="utf-8")), **data
                )
        else:
            scenario = parse_scenario({}, **overrides)
    except InvalidInput as exc:
        print(f"resource-sharing simulate: {exc}", file=sys.stderr)
        return 2
    from rich.console import Console  # the cli extra
    from rich.progress import Progress, TaskID

    if args.plot is not None:
        import matplotlib  # noqa: F401  (the plot extra: say so before a long run, not after)
    # The bar goes to stderr, and only on a terminal: a pipe or a file gets the result alone.
    console = Console(file=sys.stderr)
    results: list[Metrics] = []
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        for variant in scenario.runs():
            task = progress.add_task(f"simulating {variant.name}", total=scenario.requests)

            def advance(done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            results.append(Simulation(scenario, variant, progress=advance).run())
    if args.json:
        document = [m.as_dict() for m in results]
        print(json.dumps(document if len(document) > 1 else document[0], indent=2))
    else:
        width = None if sys.stdout.isatty() else 120
        Console(file=sys.stdout, width=width).print(table(results))
        for metrics in results:
            for violation in metrics.invariant_violations[:20]:
                print(f"invariant violated ({metrics.variant}): {violation}")
    if args.plot is not None:
        plot(results, args.plot)
    return 1 if any(m.invariant_violations for m in results) else 0


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _depth(m: Metrics) -> str:
    return f"{m.rota_depth['mean']:.2f} / {m.rota_depth['max']:.0f}"


def _faults(m: Metrics) -> str:
    faults = m.messages
    return f"{faults['dropped']} / {faults['duplicated']} / {faults['confirmation_lost']}"


def table(results: list[Metrics]) -> Table:
    """The summary as a ``rich`` table: one column per variant."""
    from rich.table import Table

    summary = Table(title="Consortium simulation")
    summary.add_column("metric")
    for metrics in results:
        summary.add_column(metrics.variant, justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("requests", [str(m.requests) for m in results]),
        ("filled", [str(m.filled) for m in results]),
        ("fill rate", [f"{m.fill_rate:.1%}" for m in results]),
        ("turnaround p50 (days)", [_days(m.turnaround_days["p50"]) for m in results]),
        ("turnaround p90 (days)", [_days(m.turnaround_days["p90"]) for m in results]),
        ("turnaround p99 (days)", [_days(m.turnaround_days["p99"]) for m in results]),
        ("rota depth mean / max", [_depth(m) for m in results]),
        ("load Gini", [f"{m.load_gini:.3f}" for m in results]),
        ("overdue", [str(m.overdue) for m in results]),
        ("lost", [str(m.lost) for m in results]),
        ("renewals", [str(m.renewals) for m in results]),
        ("messages delivered", [str(m.messages["delivered"]) for m in results]),
        ("dropped / dup / conf. lost", [_faults(m) for m in results]),
        ("open at end", [str(m.open_at_end) for m in results]),
        ("invariant violations", [str(len(m.invariant_violations)) for m in results]),
    ]  # fmt: skip
    for name, values in rows:
        summary.add_row(name, *values)
    return summary


def plot(results: list[Metrics], path: Path) -> None:
    """Write a PNG: turnaround histogram and load per lender, one row per variant."""
    import matplotlib  # the plot extra: imported only when plotting

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(results), 2, figsize=(12, 4 * len(results)), squeeze=False)
    for row, metrics in enumerate(results):
        left, right = axes[row]
        left.hist(metrics.turnarounds, bins=40, color="#4472c4")
        left.set_title(f"{metrics.variant}: turnaround (request to receipt)")
        left.set_xlabel("days")
        left.set_ylabel("requests")
        names = list(metrics.load)
        right.bar(range(len(names)), [metrics.load[n] for n in names], color="#ed7d31")
        right.set_title(f"{metrics.variant}: load per lender (Gini {metrics.load_gini:.3f})")
        right.set_xlabel("lender")
        right.set_ylabel("requests received")
        right.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
