"""The staff console: Alma-style desk pages in the browser, with staff accounts.

``resource-sharing serve`` mounts it at ``/`` (see ``docs/console.md``). It needs the
``console`` extra (Jinja2, argon2-cffi, itsdangerous, python-multipart).
"""

from __future__ import annotations

from resource_sharing_adapters.console._accounts import (
    Accounts,
    AccountStore,
    LoginRefused,
    MemoryAccountStore,
    Role,
    SqlAccountStore,
    StaffUser,
    account_store_for,
    accounts_of,
)
from resource_sharing_adapters.console._app import ACTION_TRIGGERS, Console, create_console

__all__ = [
    "ACTION_TRIGGERS",
    "AccountStore",
    "Accounts",
    "Console",
    "LoginRefused",
    "MemoryAccountStore",
    "Role",
    "SqlAccountStore",
    "StaffUser",
    "account_store_for",
    "accounts_of",
    "create_console",
]
