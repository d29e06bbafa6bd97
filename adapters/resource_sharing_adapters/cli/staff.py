"""``resource-sharing staff``: the staff accounts of a node, kept in its store.

``add USER --role R [--role R] [--desk D] [--name N]``, ``list``, ``disable USER``,
``passwd USER`` and ``token USER`` (a new staff API token, printed once). Passwords are
read from the terminal twice, or one line from standard input with
``--password-stdin``; they never appear on the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from resource_sharing.errors import InvalidInput, NotFound

__all__ = ["register", "run_staff"]

_ROLES = ("borrowing", "lending", "admin")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``staff`` command."""
    staff = subparsers.add_parser(
        "staff", help="staff accounts of a node (console logins, API tokens)"
    )
    staff.add_argument("--config", required=True, help="the node's TOML configuration")
    actions = staff.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a staff user")
    add.add_argument("username", help="the login name (a-z, 0-9, '.', '_', '-', '@')")
    add.add_argument(
        "--role", action="append", choices=_ROLES, required=True, help="a role (repeat for more)"
    )
    add.add_argument("--desk", help="the desk the task lists show first")
    add.add_argument("--name", help="the name pages greet the user with")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    actions.add_parser("list", help="list the staff users")
    disable = actions.add_parser("disable", help="disable a user (ends sessions and token)")
    disable.add_argument("username", help="the user to disable")
    passwd = actions.add_parser("passwd", help="set a user's password (ends their sessions)")
    passwd.add_argument("username", help="the user whose password changes")
    passwd.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    token = actions.add_parser("token", help="a new staff API token for the user")
    token.add_argument("username", help="the user the token belongs to")
    staff.set_defaults(handler=run_staff)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("password", "the two entries differ")
    return first


def _open(config_path: str) -> tuple[Any, Any]:
    from resource_sharing_adapters.console import Accounts, account_store_for
    from resource_sharing_adapters.http import load_config
    from resource_sharing_adapters.http._node import open_store

    config = load_config(config_path)
    if config.store.kind == "memory":
        raise InvalidInput("store", "a memory store keeps no accounts between processes")
    store = open_store(config)
    return store, Accounts(account_store_for(store))


def run_staff(args: argparse.Namespace) -> int:
    """Run one ``staff`` action; 0 done, 2 refused (the reason on stderr)."""
    from resource_sharing_adapters.console import Role

    store = None
    try:
        store, accounts = _open(args.config)
        if args.action == "add":
            user = accounts.add(
                args.username,
                _password(args),
                [Role(r) for r in args.role],
                display_name=args.name,
                desk=args.desk,
            )
            print(f"added {user.username} ({', '.join(sorted(user.roles))})")
        elif args.action == "list":
            for user in accounts.list():
                roles = ",".join(sorted(r.value for r in user.roles))
                status = "disabled" if user.disabled else "active"
                token = "token" if user.token_hash else "-"
                print(
                    f"{user.username}\t{user.display_name}\t{roles}\t{user.desk or '-'}"
                    f"\t{status}\t{token}"
                )
        elif args.action == "disable":
            accounts.disable(args.username)
            print(f"disabled {args.username}")
        elif args.action == "passwd":
            accounts.set_password(args.username, _password(args))
            print(f"password of {args.username} changed")
        else:
            print(accounts.new_token(args.username))
    except (InvalidInput, NotFound) as exc:
        print(f"resource-sharing staff: {exc}", file=sys.stderr)
        return 2
    finally:
        if store is not None:
            store.close()
    return 0
