"""The tables themselves: sound, complete against the field's vocabulary, exported faithfully."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from resource_sharing import borrowing, lending
from resource_sharing.borrowing import BORROWING
from resource_sharing.iso18626 import Action, Status
from resource_sharing.lending import LENDING
from resource_sharing.lifecycle import EXPORT_SCHEMA_VERSION, Lifecycle
from resource_sharing_adapters.cli import main

BOTH = pytest.mark.parametrize("lifecycle", [BORROWING, LENDING], ids=["borrowing", "lending"])

ILL_SYSTEMS = Path(__file__).resolve().parents[3] / "shared" / "field" / "ILL-SYSTEMS.md"

# ILL-SYSTEMS.md §1.2 (borrowing) and §1.3 (lending), as listed there.
ALMA_BORROWING = {
    "Canceled by partner", "Canceled by patron", "Canceled by staff",
    "Digitally received by library", "Expired", "Request completed", "Conditional",
    "Created borrowing request", "Damaged communicated", "Declared lost by partner",
    "Exported to third party", "Externally obtained", "Lender check in",
    "Loaned item to patron", "Locate failed", "Locate in process", "Lost communicated",
    "Mediated patron renewal", "Overdue request", "Pending approval",
    "Physically received by library", "Ready to be sent", "Recalled by partner",
    "Received – not for loan", "Rejected by partner", "Renew request not accepted",
    "Renew requested", "Renewed by partner", "Report damaged item to partner",
    "Report lost item to partner", "Request accepted", "Request sent to partner",
    "Returned by patron", "Returned item to partner", "Shipped digitally",
    "Shipped physically", "Waiting for cancel response", "Will supply", "Automatic renew",
    "Bad citation", "Cancel request not accepted", "Claimed", "Deleted", "Delivered",
    "Local holding", "Lost and fee paid", "Manual renew", "Reactivated",
    "Waiting for receive digitally",
}  # fmt: skip
ALMA_LENDING = {
    "Created lending request", "Being processed", "Will supply", "Conditional",
    "Locate failed", "Expired", "Shipped physically", "Shipped digitally",
    "Received by partner", "Renew requested", "Recalled", "Overdue request",
    "Returned by partner", "Lost", "Damaged communicated", "Lost communicated", "Cancelled",
    "Rejected the borrower request", "Request completed",
}  # fmt: skip


@BOTH
def test_the_table_is_sound(lifecycle: Lifecycle[Any, Any, Any]) -> None:
    assert lifecycle.check() == []
    assert lifecycle.reachable() == frozenset(lifecycle.states)
    assert lifecycle.can_end() == frozenset(lifecycle.states)


@BOTH
def test_the_shared_machine_agrees_with_the_lookup(
    lifecycle: Lifecycle[Any, Any, Any],
) -> None:
    machine = lifecycle.machine
    assert set(machine.states) == {state.value for state in lifecycle.states}
    assert machine.initial == lifecycle.initial.value
    for edge in lifecycle.edges:
        found = machine.get_transitions(edge.trigger.value, edge.source.value, edge.dest.value)
        assert found, edge
    total = sum(
        len(machine.get_transitions(t.value, s.value))
        for t in lifecycle.triggers
        for s in lifecycle.states
    )
    assert total == len(lifecycle.edges)
    assert not machine.models  # shared, never attached to a request


def test_every_iso_status_moves_the_borrowing_side() -> None:
    assert set(borrowing._BY_STATUS) == set(Status)
    used = {edge.trigger for edge in BORROWING.edges}
    assert set(borrowing._BY_STATUS.values()) <= used
    rows = {row.name for row in BORROWING.coverage if row.kind == "iso18626-status"}
    assert rows == {status.value for status in Status}


def test_every_iso_action_moves_the_lending_side() -> None:
    assert set(lending._BY_ACTION) == set(Action)
    used = {edge.trigger for edge in LENDING.edges}
    assert set(lending._BY_ACTION.values()) <= used
    rows = {row.name for row in LENDING.coverage if row.kind == "iso18626-action"}
    assert rows == {action.value for action in Action}


def _alma_rows(lifecycle: Lifecycle[Any, Any, Any]) -> set[str]:
    return {row.name for row in lifecycle.coverage if row.kind == "alma"}


def test_every_alma_status_is_modelled_or_named() -> None:
    assert _alma_rows(BORROWING) >= ALMA_BORROWING
    assert _alma_rows(LENDING) >= ALMA_LENDING
    for lifecycle in (BORROWING, LENDING):
        for row in lifecycle.coverage:
            assert row.treatment
            if row.modelled and row.kind != "iso18626-reason":  # names what models it
                vocabulary = {s.value for s in lifecycle.states}
                vocabulary |= {t.value for t in lifecycle.triggers}
                assert set(re.findall(r"[a-z_]+", row.treatment)) & vocabulary, row


@pytest.mark.skipif(not ILL_SYSTEMS.exists(), reason="the shared field notes are not here")
def test_the_alma_list_above_is_ill_systems_section_1_2() -> None:
    text = ILL_SYSTEMS.read_text(encoding="utf-8")
    section = text[text.index("### 1.2") : text.index("### 1.3")]
    names: set[str] = set()
    for label in ('may be removed"):', "**Non-final:**", "union list adds:"):
        chunk = section[section.index(label) + len(label) :]
        chunk = re.split(r"\.\s|\(\*|\(\[", chunk, maxsplit=1)[0]
        for part in chunk.split(","):
            name = re.sub(r"\(.*?\)|\*", "", " ".join(part.split())).strip()
            if name:
                names.add(name)
    assert names == ALMA_BORROWING


@BOTH
def test_json_export_schema(lifecycle: Lifecycle[Any, Any, Any]) -> None:
    data = json.loads(json.dumps(lifecycle.to_dict()))
    assert set(data) == {
        "schema_version", "lifecycle", "initial", "states", "triggers", "edges", "coverage",
    }  # fmt: skip
    assert data["schema_version"] == EXPORT_SCHEMA_VERSION
    assert data["lifecycle"] == lifecycle.name
    names = {state["name"] for state in data["states"]}
    assert data["initial"] in names
    for state in data["states"]:
        assert set(state) == {
            "name", "label", "terminal", "needs_attention", "task_list", "instruction",
            "iso_status", "timers", "accepts",
        }  # fmt: skip
        assert set(state["accepts"]) <= set(data["triggers"])
    for edge in data["edges"]:
        assert set(edge) == {"source", "trigger", "dest", "guard", "action"}
        assert {edge["source"], edge["dest"]} <= names
    assert len(data["edges"]) == len(lifecycle.edges)
    for row in data["coverage"]:
        assert set(row) == {"name", "kind", "modelled", "treatment"}


@BOTH
def test_diagrams_show_every_edge(lifecycle: Lifecycle[Any, Any, Any]) -> None:
    mermaid = lifecycle.to_mermaid().splitlines()
    dot = lifecycle.to_dot()
    assert mermaid[0] == "stateDiagram-v2"
    for edge in lifecycle.edges:
        line = f"    {edge.source.value} --> {edge.dest.value}: {edge.trigger.value}"
        if edge.guard is not None:
            line += f" [{edge.guard_name}]"
        assert line in mermaid
        assert f'"{edge.source.value}" -> "{edge.dest.value}"' in dot
    assert dot.startswith(f'digraph "{lifecycle.name}"')
    assert dot.rstrip().endswith("}")


@pytest.mark.parametrize("side", ["borrowing", "lending"])
def test_cli_prints_the_json_table(side: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["states", side]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = (BORROWING if side == "borrowing" else LENDING).to_dict()
    assert printed == json.loads(json.dumps(expected))


@pytest.mark.parametrize(("fmt", "start"), [("mermaid", "stateDiagram-v2"), ("dot", "digraph")])
def test_cli_prints_diagrams(fmt: str, start: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["states", "lending", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.startswith(start)
    assert out == (LENDING.to_mermaid() if fmt == "mermaid" else LENDING.to_dot())


def test_cli_refuses_an_unknown_side(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["states", "borrowed"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_seed_step_is_accounted_for_on_both_sides() -> None:
    from resource_sharing.borrowing import BORROWING
    from resource_sharing.lending import LENDING

    for lifecycle, at_least in ((BORROWING, 10), (LENDING, 12)):
        seed = [row for row in lifecycle.coverage if row.kind == "seed"]
        assert len(seed) >= at_least
        assert all(row.modelled and row.treatment for row in seed)


def test_every_timer_a_state_keeps_can_fire_there() -> None:
    from resource_sharing.borrowing import BORROWING
    from resource_sharing.lending import LENDING

    for lifecycle in (BORROWING, LENDING):
        assert lifecycle.timer_triggers
        for state, info in lifecycle.states.items():
            for kind in info.timers:
                trigger = lifecycle.timer_triggers[kind]
                assert lifecycle.edges_for(state, trigger), (state, kind)
