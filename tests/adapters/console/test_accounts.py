"""Staff accounts: hashing, lock-out, tokens and sessions' generations, on every store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.errors import InvalidInput, NotFound
from resource_sharing_adapters.console import (
    Accounts,
    AccountStore,
    LoginRefused,
    MemoryAccountStore,
    Role,
    SqlAccountStore,
)

NOW = datetime(2026, 9, 7, 9, tzinfo=UTC)
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    if request.param == "memory":
        yield MemoryAccountStore()
        return
    if request.param == "sqlite":
        from resource_sharing_adapters.storage.sqlite import SQLiteStore

        sql = SQLiteStore(tmp_path / "node.sqlite3")
        yield SqlAccountStore(sql)
        sql.close()
        return
    import os
    import uuid

    url = os.environ.get("RS_POSTGRES_URL")
    if not url:
        pytest.fail("RS_POSTGRES_URL is not set")
    from resource_sharing_adapters.storage.postgres import PostgresStore

    pg = PostgresStore(url, schema=f"t_{uuid.uuid4().hex[:12]}")
    yield SqlAccountStore(pg)
    pg.close()


def test_a_user_logs_in_with_the_right_password_only(store: AccountStore) -> None:
    accounts = Accounts(store, hasher=FAST)
    accounts.add("Ada", "correct horse", [Role.BORROWING], desk="Main", display_name="Ada L.")
    user = accounts.login("ada", "correct horse", NOW)
    assert (user.username, user.desk, user.display_name) == ("ada", "Main", "Ada L.")
    assert user.may(Role.BORROWING)
    assert not user.may(Role.LENDING)
    assert "correct horse" not in store.get("ada").password_hash  # type: ignore[union-attr]
    with pytest.raises(LoginRefused, match="Wrong user name or password"):
        accounts.login("ada", "wrong horse", NOW)
    with pytest.raises(LoginRefused, match="Wrong user name or password"):
        accounts.login("nobody", "correct horse", NOW)


def test_repeated_failures_lock_the_account_until_the_lock_ends(store: AccountStore) -> None:
    accounts = Accounts(store, hasher=FAST, max_failures=3, lockout=timedelta(minutes=10))
    accounts.add("bo", "correct horse", [Role.LENDING])
    for _ in range(2):
        with pytest.raises(LoginRefused, match="Wrong"):
            accounts.login("bo", "nope nope", NOW)
    with pytest.raises(LoginRefused, match="locked after 3 failed logins"):
        accounts.login("bo", "nope nope", NOW)
    with pytest.raises(LoginRefused, match="locked"):
        accounts.login("bo", "correct horse", NOW + timedelta(minutes=9))
    assert accounts.login("bo", "correct horse", NOW + timedelta(minutes=10)).username == "bo"


def test_disable_passwd_and_logout_end_sessions(store: AccountStore) -> None:
    accounts = Accounts(store, hasher=FAST)
    user = accounts.add("cy", "correct horse", [Role.ADMIN])
    assert accounts.current("cy", user.generation) is not None
    accounts.end_sessions("cy")
    assert accounts.current("cy", user.generation) is None
    changed = accounts.set_password("cy", "battery staple")
    assert accounts.login("cy", "battery staple", NOW).generation == changed.generation
    accounts.disable("cy")
    assert accounts.current("cy", changed.generation) is None
    with pytest.raises(LoginRefused, match="disabled"):
        accounts.login("cy", "battery staple", NOW)


def test_api_tokens_are_stored_hashed_and_replaced(store: AccountStore) -> None:
    accounts = Accounts(store, hasher=FAST)
    accounts.add("di", "correct horse", [Role.LENDING])
    first = accounts.new_token("di")
    assert accounts.by_token(first).username == "di"  # type: ignore[union-attr]
    assert store.get("di").token_hash != first  # type: ignore[union-attr]
    second = accounts.new_token("di")
    assert accounts.by_token(first) is None
    assert accounts.by_token(second) is not None
    accounts.disable("di")
    assert accounts.by_token(second) is None


def test_bad_names_passwords_and_duplicates_are_refused(store: AccountStore) -> None:
    accounts = Accounts(store, hasher=FAST)
    accounts.add("ed", "correct horse", [Role.BORROWING])
    with pytest.raises(InvalidInput, match="exists"):
        accounts.add("ED", "correct horse", [Role.BORROWING])
    with pytest.raises(InvalidInput, match="password"):
        accounts.add("fay", "short", [Role.BORROWING])
    with pytest.raises(InvalidInput, match="username"):
        accounts.add("a b", "correct horse", [Role.BORROWING])
    with pytest.raises(InvalidInput, match="roles"):
        accounts.add("gus", "correct horse", [])
    with pytest.raises(NotFound):
        accounts.disable("nobody")
    assert [u.username for u in accounts.list()] == ["ed"]


def test_the_session_secret_is_made_once(store: AccountStore) -> None:
    assert store.secret("session", "first") == "first"
    assert store.secret("session", "second") == "first"


@given(st.text(max_size=40))
def test_no_password_but_the_right_one_logs_in(guess: str) -> None:
    accounts = _SHARED
    if guess == "correct horse":
        return
    with pytest.raises(LoginRefused):
        accounts.login("hal", guess, NOW)


_SHARED = Accounts(MemoryAccountStore(), hasher=FAST, max_failures=10**9)
_SHARED.add("hal", "correct horse", [Role.ADMIN])
