"""Staff accounts: who may use the console and the staff API, in which role, at which desk.

Theory of operation. A :class:`StaffUser` is a frozen record kept by an
:class:`AccountStore` (the node's SQLite or PostgreSQL database, tables
``rs_staff_users`` and ``rs_staff_secrets``; or the process, for the memory store).
:class:`Accounts` is the only code that reads or writes passwords:

- passwords are hashed with argon2id (argon2-cffi's defaults), never stored or logged;
- a wrong password is a strike; ``max_failures`` strikes lock the account for
  ``lockout`` (on the node's clock); a locked account refuses even the right password,
  with the same words, until the lock ends; a good login clears the strikes;
- an API token is 32 random bytes shown once; only its SHA-256 is stored, so a stolen
  database does not give working tokens;
- ``generation`` is part of every session: logout, a new password and disabling bump it,
  which ends every session issued before.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, final

import attrs
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from resource_sharing.errors import InvalidInput, NotFound

__all__ = [
    "AccountStore",
    "Accounts",
    "LoginRefused",
    "MemoryAccountStore",
    "Role",
    "SqlAccountStore",
    "StaffUser",
    "account_store_for",
    "accounts_of",
]


class Role(StrEnum):
    """What a staff user may do."""

    BORROWING = "borrowing"
    """Borrowing staff: place, receive, hold shelf, returns, renewals."""
    LENDING = "lending"
    """Lending staff: answer, pick, ship, check in, recall."""
    ADMIN = "admin"
    """Everything, and the node's clock and dispatcher."""


@final
@attrs.frozen
class StaffUser:
    """One staff account (the password only as its argon2 hash)."""

    username: str
    """The login name, also the name history entries record."""
    display_name: str
    """How pages greet the user."""
    roles: frozenset[Role]
    """What the user may do."""
    desk: str | None
    """The desk (pickup location or library) the task lists show first."""
    password_hash: str = attrs.field(repr=False)
    """The argon2 hash of the password."""
    disabled: bool = False
    """A disabled user cannot log in or use a token."""
    failures: int = 0
    """Failed logins since the last good one."""
    locked_until: datetime | None = None
    """No login before this moment (the node's clock)."""
    token_hash: str | None = attrs.field(default=None, repr=False)
    """SHA-256 (hex) of the user's staff API token."""
    generation: int = 0
    """Sessions issued at an older generation are over."""

    def may(self, role: Role) -> bool:
        """Whether the user holds ``role`` (an admin holds every role)."""
        return role in self.roles or Role.ADMIN in self.roles


class LoginRefused(Exception):
    """A login failed; ``str()`` is what the page says (never which part was wrong)."""


class AccountStore(Protocol):
    """Where accounts live."""

    def get(self, username: str) -> StaffUser | None:
        """The user, or None."""
        ...

    def by_token(self, token_hash: str) -> StaffUser | None:
        """The user whose token has this hash, or None."""
        ...

    def all(self) -> Sequence[StaffUser]:
        """Every user, by name."""
        ...

    def put(self, user: StaffUser) -> None:
        """Insert or replace the user."""
        ...

    def secret(self, name: str, make: str) -> str:
        """The stored secret ``name``; stores ``make`` first when there is none."""
        ...


@final
class MemoryAccountStore:
    """Accounts in the process (tests, the memory store)."""

    def __init__(self) -> None:
        self._users: dict[str, StaffUser] = {}
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, username: str) -> StaffUser | None:
        """The user, or None."""
        return self._users.get(username)

    def by_token(self, token_hash: str) -> StaffUser | None:
        """The user whose token has this hash, or None."""
        return next((u for u in self._users.values() if u.token_hash == token_hash), None)

    def all(self) -> Sequence[StaffUser]:
        """Every user, by name."""
        return [self._users[k] for k in sorted(self._users)]

    def put(self, user: StaffUser) -> None:
        """Insert or replace the user."""
        with self._lock:
            self._users[user.username] = user

    def secret(self, name: str, make: str) -> str:
        """The stored secret ``name``; stores ``make`` first when there is none."""
        with self._lock:
            return self._secrets.setdefault(name, make)


_COLUMNS = (
    "username, display_name, roles, desk, password, disabled, failures, locked_until,"
    " token_hash, generation"
)


class _Unit(Protocol):
    def _all(self, text: str, params: Sequence[Any] = ()) -> list[Any]: ...
    def _one(self, text: str, params: Sequence[Any] = ()) -> Any: ...
    def _run(self, text: str, params: Sequence[Any] = ()) -> Any: ...


class _SqlStore(Protocol):
    def _reading(self) -> AbstractContextManager[Any]: ...
    def _writing(self) -> AbstractContextManager[Any]: ...


def _user(row: Sequence[Any]) -> StaffUser:
    return StaffUser(
        username=str(row[0]),
        display_name=str(row[1]),
        roles=frozenset(Role(r) for r in str(row[2]).split(",") if r),
        desk=row[3],
        password_hash=str(row[4]),
        disabled=bool(row[5]),
        failures=int(row[6]),
        locked_until=datetime.fromisoformat(row[7]) if row[7] else None,
        token_hash=row[8],
        generation=int(row[9]),
    )


@final
class SqlAccountStore:
    """Accounts in the node's SQLite or PostgreSQL database (migration 0004)."""

    def __init__(self, store: _SqlStore) -> None:
        self._store = store

    def _read(self) -> AbstractContextManager[_Unit]:
        return self._store._reading()

    def get(self, username: str) -> StaffUser | None:
        """The user, or None."""
        with self._read() as unit:
            row = unit._one(
                f"SELECT {_COLUMNS} FROM rs_staff_users WHERE username = ?", (username,)
            )
        return None if row is None else _user(row)

    def by_token(self, token_hash: str) -> StaffUser | None:
        """The user whose token has this hash, or None."""
        with self._read() as unit:
            row = unit._one(
                f"SELECT {_COLUMNS} FROM rs_staff_users WHERE token_hash = ?", (token_hash,)
            )
        return None if row is None else _user(row)

    def all(self) -> Sequence[StaffUser]:
        """Every user, by name."""
        with self._read() as unit:
            rows = unit._all(f"SELECT {_COLUMNS} FROM rs_staff_users ORDER BY username")
        return [_user(r) for r in rows]

    def put(self, user: StaffUser) -> None:
        """Insert or replace the user."""
        values = (
            user.username,
            user.display_name,
            ",".join(sorted(r.value for r in user.roles)),
            user.desk,
            user.password_hash,
            int(user.disabled),
            user.failures,
            user.locked_until.isoformat() if user.locked_until else None,
            user.token_hash,
            user.generation,
        )
        with self._store._writing() as unit:
            unit._run("DELETE FROM rs_staff_users WHERE username = ?", (user.username,))
            unit._run(
                f"INSERT INTO rs_staff_users ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )

    def secret(self, name: str, make: str) -> str:
        """The stored secret ``name``; stores ``make`` first when there is none."""
        with self._store._writing() as unit:
            row = unit._one("SELECT value FROM rs_staff_secrets WHERE name = ?", (name,))
            if row is not None:
                return str(row[0])
            unit._run("INSERT INTO rs_staff_secrets (name, value) VALUES (?, ?)", (name, make))
            return make


def account_store_for(store: object) -> AccountStore:
    """The account store beside a request store: its SQL tables, or one in the process."""
    from resource_sharing_adapters.storage._sql import StoreFeeds

    if isinstance(store, StoreFeeds):
        return SqlAccountStore(store)
    return MemoryAccountStore()


_BY_NODE: weakref.WeakKeyDictionary[Any, Accounts] = weakref.WeakKeyDictionary()
_BY_NODE_LOCK = threading.Lock()


def accounts_of(node: Any) -> Accounts:
    """The accounts of a running node (one per node: its store's, or one in the process)."""
    with _BY_NODE_LOCK:
        found = _BY_NODE.get(node)
        if found is None:
            settings = getattr(getattr(node, "config", None), "console", None)
            limits: dict[str, Any] = {}
            if settings is not None:  # [console] lock-out thresholds
                limits["max_failures"] = settings.max_failed_logins
                limits["lockout"] = timedelta(minutes=settings.lockout_minutes)
            found = _BY_NODE[node] = Accounts(account_store_for(node.raw_store), **limits)
        return found


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")


def _check_name(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
        raise InvalidInput("username", "1 to 64 of a-z, 0-9, '.', '_', '-', '@'")
    return name


def _check_password(password: str) -> str:
    if len(password) < 8 or len(password) > 1024:
        raise InvalidInput("password", "8 to 1024 characters")
    return password


@final
class Accounts:
    """Adding, checking and changing staff users (the only code that sees passwords)."""

    def __init__(
        self,
        store: AccountStore,
        *,
        max_failures: int = 5,
        lockout: timedelta = timedelta(minutes=15),
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.store = store
        self.max_failures = max_failures
        """Failed logins in a row that lock the account."""
        self.lockout = lockout
        """How long a lock lasts."""
        self._hasher = hasher or PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    def _get(self, username: str) -> StaffUser:
        user = self.store.get(username.strip().lower())
        if user is None:
            raise NotFound("staff user", username)
        return user

    def add(
        self,
        username: str,
        password: str,
        roles: Sequence[Role],
        *,
        display_name: str | None = None,
        desk: str | None = None,
    ) -> StaffUser:
        """A new user; InvalidInput when the name is taken or a value is unusable."""
        name = _check_name(username)
        if self.store.get(name) is not None:
            raise InvalidInput("username", f"{name} exists already")
        if not roles:
            raise InvalidInput("roles", "at least one of borrowing, lending, admin")
        user = StaffUser(
            username=name,
            display_name=(display_name or name).strip() or name,
            roles=frozenset(roles),
            desk=desk or None,
            password_hash=self._hasher.hash(_check_password(password)),
        )
        self.store.put(user)
        return user

    def list(self) -> Sequence[StaffUser]:
        """Every user, by name."""
        return self.store.all()

    def disable(self, username: str) -> StaffUser:
        """Stop the user's logins, sessions and token."""
        user = self._get(username)
        user = attrs.evolve(user, disabled=True, generation=user.generation + 1)
        self.store.put(user)
        return user

    def set_password(self, username: str, password: str) -> StaffUser:
        """A new password (ends the user's sessions, clears a lock-out)."""
        user = self._get(username)
        user = attrs.evolve(
            user,
            password_hash=self._hasher.hash(_check_password(password)),
            failures=0,
            locked_until=None,
            generation=user.generation + 1,
        )
        self.store.put(user)
        return user

    def new_token(self, username: str) -> str:
        """A new staff API token for the user (replaces the old one); shown only now."""
        user = self._get(username)
        token = "rs_" + secrets.token_urlsafe(32)
        self.store.put(attrs.evolve(user, token_hash=_token_hash(token)))
        return token

    def by_token(self, token: str) -> StaffUser | None:
        """The enabled user this API token belongs to, or None."""
        user = self.store.by_token(_token_hash(token))
        if user is None or user.disabled:
            return None
        return user

    def end_sessions(self, username: str) -> None:
        """Log the user out everywhere."""
        user = self.store.get(username)
        if user is not None:
            self.store.put(attrs.evolve(user, generation=user.generation + 1))

    def current(self, username: str, generation: int) -> StaffUser | None:
        """The user of a session issued at ``generation``, if it still stands."""
        user = self.store.get(username)
        if user is None or user.disabled or user.generation != generation:
            return None
        return user

    def login(self, username: str, password: str, now: datetime) -> StaffUser:
        """The user, when the password is right and the account usable; else LoginRefused."""
        wrong = LoginRefused("Wrong user name or password.")
        try:
            name = _check_name(username)
        except InvalidInput:
            raise wrong from None
        user = self.store.get(name)
        if user is None:
            self._verify(self._dummy, password)  # the same work as for a real user
            raise wrong
        if user.locked_until is not None and now < user.locked_until:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            raise LoginRefused(
                f"This account is locked after {self.max_failures} failed logins;"
                f" try again in {minutes} minutes or ask an administrator."
            )
        if not self._verify(user.password_hash, password):
            failures = user.failures + 1
            locked = now + self.lockout if failures >= self.max_failures else None
            self.store.put(
                attrs.evolve(user, failures=0 if locked else failures, locked_until=locked or None)
            )
            if locked is not None:
                raise LoginRefused(
                    f"This account is locked after {self.max_failures} failed logins;"
                    f" try again in {int(self.lockout.total_seconds() // 60)} minutes"
                    " or ask an administrator."
                )
            raise wrong
        if user.disabled:
            raise LoginRefused("This account is disabled; ask an administrator.")
        if user.failures or user.locked_until:
            user = attrs.evolve(user, failures=0, locked_until=None)
            self.store.put(user)
        return user

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def __iter__(self) -> Iterator[StaffUser]:
        return iter(self.store.all())
