"""The consortium simulator: deterministic, metrics checked by hand, and its CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resource_sharing.simulation import (
    LenderBehaviour,
    NetworkFaults,
    PatronBehaviour,
    Scenario,
    Simulation,
    SplitMix64,
    gini,
    percentile,
    simulate,
)
from resource_sharing_adapters.cli import main
from resource_sharing_adapters.simulation_json import parse_scenario

EXAMPLES = Path(__file__).parents[3] / "examples" / "simulation"


def test_splitmix64_matches_the_reference_sequence() -> None:
    # The first outputs for seed 0 of the reference C implementation (Vigna).
    rng = SplitMix64(0)
    assert [rng.next_u64() for _ in range(3)] == [
        0xE220A8397B1DCDAF,
        0x6E789E6AA1B965F4,
        0x06C45D188009454F,
    ]


def test_gini_and_percentiles_by_hand() -> None:
    assert gini([5, 5, 5]) == 0.0
    assert gini([1, 3]) == pytest.approx(0.25)  # 2*(1+6)/(2*4) - 3/2
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)  # 2*16/16 - 5/4
    assert gini([]) == 0.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0  # nearest rank: ceil(0.5*4) = 2nd
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.9) == 4.0
    assert percentile([], 0.5) is None


FIXED = Scenario(
    institutions=2,
    requests=10,
    days=5,
    seed=3,
    titles=20,
    holders_per_title=(2, 2),  # both hold every work: each asks the other
    demand_skew=0.0,
    lender=LenderBehaviour(fill_rate=1.0, processing_days=(0, 0), shipping_days=(1, 1)),
    lenders={1: LenderBehaviour(fill_rate=0.0, processing_days=(0, 0), shipping_days=(1, 1))},
    patron=PatronBehaviour(
        pickup_days=(0, 0),
        use_days=(7, 7),
        renew_probability=0.0,
        late_probability=0.0,
        lost_probability=0.0,
    ),
)


def test_metrics_of_a_small_fixed_scenario_match_the_hand_count() -> None:
    simulation = Simulation(FIXED)
    by_borrower = {"SIM-000": 0, "SIM-001": 0}
    for _, borrower, _, _ in simulation.demand:
        by_borrower[borrower.value] += 1
    metrics = simulation.run()
    # Member 1 never supplies: member 0's requests (asked of 1) all go unfilled; member 0
    # supplies everything member 1 asks for, shipped at once, received one day later.
    filled = by_borrower["SIM-001"]
    assert metrics.requests == 10
    assert metrics.filled == filled
    assert metrics.unfilled == by_borrower["SIM-000"]
    assert metrics.fill_rate == filled / 10
    assert metrics.turnarounds == (1.0,) * filled
    assert metrics.turnaround_days["p50"] == 1.0
    assert metrics.rota_depth == {"mean": 1.0, "max": 1.0, "mean_filled": 1.0 if filled else 0.0}
    a, b = by_borrower["SIM-001"], by_borrower["SIM-000"]  # load of 0, of 1
    assert metrics.load == {"SIM-000": a, "SIM-001": b}
    assert metrics.load_gini == pytest.approx(abs(a - b) / (2 * (a + b)))
    assert metrics.loans_shipped == {"SIM-000": a, "SIM-001": 0}
    assert (metrics.overdue, metrics.lost, metrics.renewals) == (0, 0, 0)
    assert metrics.open_at_end == 0
    assert metrics.invariant_violations == ()


def test_the_simulator_is_deterministic_for_a_seed() -> None:
    scenario = Scenario(
        institutions=5,
        requests=300,
        days=30,
        faults=NetworkFaults(drop=0.05, lose_confirmation=0.05, duplicate=0.05),
    )
    first, second = simulate(scenario)[0], simulate(scenario)[0]
    assert first == second
    assert first.as_dict() == second.as_dict()
    assert first.invariant_violations == ()
    assert first.open_at_end == 0
    other = simulate(Scenario(institutions=5, requests=300, days=30, seed=2))[0]
    assert other.turnarounds != first.turnarounds


def test_example_scenarios_parse() -> None:
    for name in ("scenario.json", "compare_scorers.json"):
        scenario = parse_scenario(json.loads((EXAMPLES / name).read_text()))
        assert scenario.requests > 0
    compare = parse_scenario(json.loads((EXAMPLES / "compare_scorers.json").read_text()))
    assert [v.name for v in compare.runs()] == ["load", "fill_rate"]


def test_a_scenario_with_a_typo_is_refused() -> None:
    from resource_sharing.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown keys: institutionz"):
        parse_scenario({"institutionz": 3})


def test_cli_writes_json_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "sim.png"
    args = ["simulate", "--institutions", "4", "--requests", "60", "--days", "10"]
    assert main([*args, "--seed", "5", "--json", "--plot", str(png)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["requests"] == 60
    assert metrics["invariant_violation_count"] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_compares_variants_in_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = EXAMPLES / "compare_scorers.json"
    code = main(["simulate", "--scenario", str(scenario), "--requests", "80", "--days", "10"])
    assert code == 0
    out = capsys.readouterr().out
    assert "fill_rate" in out
    assert "load Gini" in out
