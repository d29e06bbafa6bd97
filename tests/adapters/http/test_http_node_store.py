"""A node's store, change feed and journal, and the ports its configuration names."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from resource_sharing.effects import NoticeKind, NotifyPatron
from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId, Citation, PatronRef
from resource_sharing.service import DeliveryPolicy
from resource_sharing_adapters.http import (
    JournalCirculation,
    Node,
    create_app,
    load_config,
    parse_config,
)
from resource_sharing_adapters.http._node import delivery_policy, owner_of
from resource_sharing_adapters.storage import MemoryFeeds
from resource_sharing_adapters.storage.sqlite import SQLiteStore
from tests.adapters.http import port_factories

STAFF = {"Authorization": "Bearer t0ken"}

_TOML = """
[institution]
agency = "ISIL:US-A"
name = "Alpha"

[server]
staff_token = "t0ken"

[[partners]]
agency = "ISIL:US-B"
protocol = { endpoint = "http://127.0.0.1:9/iso18626" }
inbound = { account_id = "US-B", security_code = "s" }
"""


def _file(folder: Path, extra: str = "", name: str = "alpha.toml") -> Path:
    path = folder / name
    path.write_text(_TOML + extra, encoding="utf-8")
    return path


def _place(node: Node, patron: str) -> None:
    node.institution.borrowing.place_request(
        PatronRef(patron, "Ada"), Citation(title="Dune"), rota=[AgencyId.parse("ISIL:US-B")]
    )


def test_without_a_store_table_the_data_is_in_sqlite_beside_the_config(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(_file(tmp_path))
    assert config.store.kind == "sqlite"
    assert config.store.implicit
    assert config.store.target == str(tmp_path / "alpha.sqlite3")
    with caplog.at_level(logging.INFO, logger="resource_sharing.node"):
        node = Node(config)
    try:
        assert isinstance(node.raw_store, SQLiteStore)
        assert (tmp_path / "alpha.sqlite3").exists()
        said = [r.getMessage() for r in caplog.records]
        assert any(str(tmp_path / "alpha.sqlite3") in m and "no [store]" in m for m in said)
    finally:
        node.close()


def test_a_memory_store_only_when_asked_and_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(_file(tmp_path, "\n[store]\nmemory = true\n"))
    assert config.store.kind == "memory"
    with caplog.at_level(logging.INFO, logger="resource_sharing.node"):
        node = Node(config)
    try:
        assert isinstance(node.feeds, MemoryFeeds)
        warned = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert any("lost when the node stops" in r.getMessage() for r in warned)
        _place(node, "p-1")
        assert node.feed.last >= 1
    finally:
        node.close()


def test_a_schema_belongs_to_a_postgresql_store_only(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="schema"):
        load_config(_file(tmp_path, '\n[store]\nsqlite = "a.db"\nschema = "x"\n'))
    config = load_config(
        _file(tmp_path, '\n[store]\npostgres = "postgresql://db/x"\nschema = "alpha"\n')
    )
    assert (config.store.kind, config.store.schema) == ("postgres", "alpha")
    assert "postgresql://" not in repr(config.store)  # a conninfo may hold a password
    assert config.store.describe() == "PostgreSQL, schema alpha"


def test_the_feed_and_journal_continue_their_numbers_after_a_restart(tmp_path: Path) -> None:
    path = _file(tmp_path)
    node = Node(load_config(path))
    _place(node, "p-1")
    node.journal.record("patron_notice", _notice(), key="effect-1")
    changes, journal = node.feed.last, node.journal.last
    assert changes >= 1
    assert node.journal.since(journal - 1)[0].key == "effect-1"
    node.close()

    again = Node(load_config(path))
    try:
        _place(again, "p-2")
        assert again.journal.record("patron_notice", _notice(), key="effect-1") is None
        again.journal.record("patron_notice", _notice(), key="effect-2")
        with TestClient(create_app(again, background=False)) as client:
            info = client.get("/staff/info", headers=STAFF).json()
            fresh = client.get(f"/staff/changes?since={changes}", headers=STAFF).json()
            entries = client.get(f"/staff/journal?since={journal}", headers=STAFF).json()
            paged = client.get("/staff/changes?since=0&limit=1", headers=STAFF).json()
            refused = client.get("/staff/changes?limit=0", headers=STAFF)
        assert info["changes"] == fresh[-1]["seq"] > changes
        assert [c["seq"] for c in fresh] == list(range(changes + 1, info["changes"] + 1))
        assert info["journal"] == entries[-1]["seq"]
        assert [e["seq"] for e in entries] == list(range(journal + 1, info["journal"] + 1))
        assert (entries[-1]["key"], entries[-1]["kind"]) == ("effect-2", "patron_notice")
        assert entries[-1]["detail"]["detail"] == "pickup"
        assert "effect-1" not in [e["key"] for e in entries]
        assert [c["seq"] for c in paged] == [1]
        assert refused.status_code == 400
    finally:
        again.close()


def _notice() -> NotifyPatron:
    return NotifyPatron(PatronRef("p-1"), NoticeKind.ITEM_AVAILABLE, "b-1", detail="pickup")


# -- ports -------------------------------------------------------------------------------


def _ports(tmp_path: Path, table: dict[str, Any]) -> Any:
    data: dict[str, Any] = {
        "institution": {"agency": "ISIL:US-A", "name": "Alpha"},
        "store": {"memory": True},
        "ports": table,
        "holdings": [{"identifier": "978-0", "barcode": "A-1"}],
    }
    return parse_config(data, base=tmp_path)


def test_a_port_factory_is_called_with_its_table_and_the_node_context(tmp_path: Path) -> None:
    port_factories.MADE.clear()
    config = _ports(
        tmp_path,
        {
            "circulation": {
                "factory": "tests.adapters.http.port_factories:recording_circulation",
                "url": "x",
                "n": 2,
            }
        },
    )
    node = Node(config)
    try:
        ((settings, context),) = port_factories.MADE
        assert settings == {"url": "x", "n": 2}
        assert context.agency == AgencyId.parse("ISIL:US-A")
        assert context.name == "Alpha"
        assert context.base == tmp_path
        assert context.log.name == "resource_sharing.ports.circulation"
        assert context.journal is node.journal
        assert "9780" in context.holdings
        assert node.institution is not None
        assert isinstance(node.ports["circulation"], JournalCirculation)
    finally:
        node.close()


def test_a_port_may_be_named_by_a_string_and_defaults_are_the_journal(tmp_path: Path) -> None:
    node = Node(_ports(tmp_path, {"notifier": "journal", "printer": "journal"}))
    try:
        assert {type(p).__name__ for p in node.ports.values()} == {
            "JournalCirculation",
            "JournalNotifier",
            "JournalPrinter",
            "MemoryHoldings",
            "AcceptingValidator",
        }
    finally:
        node.close()


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"circulation": {"factory": "no_such_module:make"}}, "cannot import 'no_such_module'"),
        (
            {"circulation": {"factory": "tests.adapters.http.port_factories:nothing"}},
            "has no 'nothing'",
        ),
        (
            {"circulation": {"factory": "tests.adapters.http.port_factories:broken"}},
            "the ILS is down",
        ),
        (
            {"circulation": {"factory": "tests.adapters.http.port_factories:incomplete"}},
            "without check_in",
        ),
        ({"circulation": {"factory": "no-such-entry-point"}}, "resource_sharing.ports"),
        ({"circulation": {"url": "x"}}, "ports.circulation.factory"),
        ({"ils": {"factory": "x:y"}}, "unknown port"),
    ],
)
def test_a_bad_port_factory_stops_the_node_with_a_readable_reason(
    tmp_path: Path, table: dict[str, Any], says: str
) -> None:
    with pytest.raises(InvalidInput, match="ports") as refused:
        Node(_ports(tmp_path, table))
    assert says in str(refused.value)


# -- delivery settings -------------------------------------------------------------------


def test_delivery_keys_make_the_policy_of_each_port_and_the_lease(tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "institution": {"agency": "ISIL:US-A"},
        "store": {"memory": True},
        "delivery": {
            "max_attempts": 3,
            "lease_seconds": 42.0,
            "printer": {"max_attempts": 9, "retry_base_seconds": 0.5},
        },
    }
    policy = delivery_policy(parse_config(data, base=tmp_path).delivery)
    assert policy.lease == timedelta(seconds=42)
    assert [p.max_attempts for p in (policy.peer, policy.circulation, policy.notifier)] == [3] * 3
    assert (policy.printer.max_attempts, policy.printer.base_delay) == (9, timedelta(seconds=0.5))
    library = DeliveryPolicy()
    assert policy.notifier.base_delay == library.notifier.base_delay  # not given: the default
    untouched = delivery_policy(parse_config({"institution": {"agency": "US-A"}}).delivery)
    assert untouched.circulation == library.circulation
    assert untouched.peer.timeout == timedelta(seconds=10)  # [delivery] timeout's default
    assert untouched.unknown_request == library.unknown_request


def test_the_retry_window_and_the_unknown_request_retries_are_configured(tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "institution": {"agency": "ISIL:US-A"},
        "delivery": {
            "window_seconds": 7200.0,
            "unknown_request": {"max_attempts": 4, "retry_base_seconds": 1.0},
            "circulation": {"window_seconds": 60.0},
        },
    }
    policy = delivery_policy(parse_config(data, base=tmp_path).delivery)
    assert policy.peer.window == timedelta(hours=2)
    assert policy.notifier.window == timedelta(hours=2)  # given in [delivery]: every port
    assert policy.circulation.window == timedelta(minutes=1)
    unknown = policy.unknown_request
    assert (unknown.max_attempts, unknown.base_delay) == (4, timedelta(seconds=1))
    assert unknown.window == timedelta(hours=2)
    assert unknown.max_delay == DeliveryPolicy().unknown_request.max_delay


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"lease_seconds": 0}, "lease_seconds"),
        ({"notifier": {"max_attempts": 0}}, "delivery.notifier.max_attempts"),
        ({"printer": {"colour": True}}, "colour"),
        ({"window_seconds": 0}, "window_seconds"),
        ({"unknown_request": {"window_seconds": -1}}, "delivery.unknown_request.window_seconds"),
    ],
)
def test_bad_delivery_keys_are_refused(table: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_config({"institution": {"agency": "US-A"}, "delivery": table})


def test_each_process_has_its_own_owner_id_the_same_after_a_restart(tmp_path: Path) -> None:
    def config(port: int, owner: str | None = None) -> Any:
        delivery = {"owner": owner} if owner else {}
        return parse_config(
            {
                "institution": {"agency": "ISIL:US-A"},
                "server": {"port": port},
                "store": {"memory": True},
                "delivery": delivery,
            },
            base=tmp_path,
        )

    first, second = owner_of(config(8701)), owner_of(config(8702))
    assert first != second
    assert first == owner_of(config(8701))
    assert first.startswith("ISIL:US-A@")
    assert owner_of(config(8701, "gamma-1")) == "gamma-1"
    node = Node(config(8703))
    try:
        assert node.owner == owner_of(config(8703))
    finally:
        node.close()


@pytest.mark.parametrize("version", ["1.2", "2021-2"])
def test_a_partner_speaks_a_version_the_codec_writes(version: str) -> None:
    partner = {"agency": "ISIL:US-B", "protocol": {"iso18626_version": version}}
    config = parse_config({"institution": {"agency": "US-A"}, "partners": [partner]})
    found = config.directory.get(AgencyId("US-B"))
    assert found is not None
    assert found.protocol.iso18626_version == version


def test_a_partner_version_the_codec_cannot_write_is_refused() -> None:
    partner = {"agency": "ISIL:US-B", "protocol": {"iso18626_version": "2021-3"}}
    with pytest.raises(InvalidInput, match=r"iso18626_version.*1\.2, 2021-2.*'2021-3'"):
        parse_config({"institution": {"agency": "US-A"}, "partners": [partner]})
