"""Whatever the outbox repeats or loses, the ILS ends as if each step had run once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
)
from resource_sharing.records import AgencyId, Citation, PatronRef
from resource_sharing_adapters.ncip import NcipCirculation, NcipClient, NcipUnavailable
from tests.adapters.ncip.corpus_ncip import require_ncip
from tests.adapters.ncip.loopback_ils import Item, LoopbackIls, User, config_for

_DUE = datetime(2026, 10, 5, tzinfo=UTC)
_ADA = PatronRef("p-1", "Ada")
_STEPS = (
    ("create", CreateTemporaryItem("B-1", "T-1", Citation(title="x"), AgencyId("US-C"), _ADA)),
    ("lend", CheckOutToPatron("B-1", "T-1", _ADA, _DUE)),
    ("ship", CheckOutToPartner("L-1", "C-1", AgencyId("US-A"), _DUE + timedelta(days=7))),
    ("return", CheckIn("B-1", "T-1")),
    ("back", CheckIn("L-1", "C-1")),
    ("delete", DeleteTemporaryItem("B-1", "T-1")),
)
# Per step: how often the dispatcher delivers it, whether the first answer is lost, and
# whether the node restarted (a fresh adapter that remembers nothing) before it.
deliveries = st.lists(
    st.tuples(st.integers(1, 3), st.booleans(), st.booleans()),
    min_size=len(_STEPS),
    max_size=len(_STEPS),
)


def _run(adapter: NcipCirculation, step: str, command: object, key: str) -> None:
    method = {
        "create": adapter.create_temporary_item,
        "lend": adapter.check_out_to_patron,
        "ship": adapter.check_out_to_partner,
        "return": adapter.check_in,
        "back": adapter.check_in,
        "delete": adapter.delete_temporary_item,
    }[step]
    method(command, key=key)  # type: ignore[operator]


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries)
def test_repeated_and_lost_deliveries_leave_the_ils_as_one_delivery_would(
    plan: list[tuple[int, bool, bool]],
) -> None:
    ils = LoopbackIls(require_ncip() / "ncip_v2_02.xsd", lifetime=30.0).start()
    try:
        ils.state.users.update({"p-1": User("p-1", "Ada"), "INST-US-A": User("INST-US-A", "A")})
        ils.state.items["C-1"] = Item("C-1", "Dune")
        adapter = NcipCirculation(NcipClient(config_for(ils)))
        for (step, command), (times, lose_first, restart) in zip(_STEPS, plan, strict=True):
            if restart:
                adapter = NcipCirculation(NcipClient(config_for(ils)))
            if lose_first:
                ils.faults.append("drop")
            outcomes: list[NcipUnavailable | None] = []
            for _ in range(times + int(lose_first)):
                try:
                    _run(adapter, step, command, key=f"k-{step}")
                    outcomes.append(None)
                except NcipUnavailable as exc:
                    outcomes.append(exc)
            failures = [error for error in outcomes if error is not None]
            assert all(error.retryable for error in failures)
            assert len(failures) == int(lose_first)
            assert outcomes[-1] is None
        assert ils.state.invalid == []
        assert list(ils.state.items) == ["C-1"]
        assert ils.state.deleted == ["T-1"]
        assert ils.state.loans == {}
        assert ils.state.holds == []
    finally:
        ils.stop()
