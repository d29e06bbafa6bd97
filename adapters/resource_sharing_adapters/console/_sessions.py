"""Console sessions and CSRF tokens: signed cookies, checked on the node's clock.

A session is a cookie ``rs_console`` holding ``{user, generation, issued, seen, csrf}``,
signed with itsdangerous under a key kept in the node's store (so every process of one
institution accepts it). It is HttpOnly, SameSite=Strict, and Secure when the node is
served over https. It ends when ``lifetime`` has passed on the node's clock since it
was issued, when it was not used for ``idle`` (each page the user opens signs it anew
with ``seen`` moved on, so the idle limit needs no server-side state), when the user
logs out (the account's generation moves on) or is disabled.

Every form carries a CSRF token: the session's own once logged in; before that (the
login form) a random value in a second cookie that the form must repeat (double
submit). A POST without the right token is refused before anything else happens.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, final

import attrs
from itsdangerous import BadSignature, URLSafeSerializer

__all__ = [
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "Session",
    "SessionSigner",
    "cookie_names",
    "same_token",
]

SESSION_COOKIE = "rs_console"
"""The session cookie's name, before the agency (see :func:`cookie_names`)."""
LOGIN_COOKIE = "rs_login"
"""The login form's CSRF cookie's name, before the agency."""


def cookie_names(agency: str) -> tuple[str, str]:
    """The session and login cookie names of one institution.

    Browsers keep cookies per host, not per port: the agency in the name keeps the
    consoles of several nodes on one host (the demo's three on loopback) apart.
    """
    tag = "".join(c if c.isalnum() else "_" for c in agency)
    return f"{SESSION_COOKIE}_{tag}", f"{LOGIN_COOKIE}_{tag}"


@final
@attrs.frozen
class Session:
    """What a session cookie says."""

    username: str
    """Who is logged in."""
    generation: int
    """The account's generation when it was issued."""
    issued: datetime
    """When it was issued (the node's clock)."""
    csrf: str
    """The token every form of this session must carry."""
    seen: datetime | None = None
    """When the user last opened a page with it (None: not since it was issued)."""

    def expired(self, now: datetime, lifetime: timedelta) -> bool:
        """Whether the session is over by age."""
        return now - self.issued >= lifetime

    def idle(self, now: datetime, limit: timedelta | None) -> bool:
        """Whether the session went unused for ``limit`` (None: no idle limit)."""
        return limit is not None and now - (self.seen or self.issued) >= limit


@final
class SessionSigner:
    """Signs and reads session cookies with one key."""

    def __init__(self, key: str) -> None:
        self._sessions = URLSafeSerializer(key, salt="rs-console-session")

    def issue(self, username: str, generation: int, now: datetime) -> tuple[Session, str]:
        """A new session and its cookie value."""
        session = Session(username, generation, now, secrets.token_urlsafe(24), now)
        return session, self.sign(session)

    def sign(self, session: Session) -> str:
        """The cookie value of a session."""
        data = {"u": session.username, "g": session.generation, "t": session.issued.isoformat()}
        data["c"] = session.csrf
        if session.seen is not None:
            data["s"] = session.seen.isoformat()
        return self._sessions.dumps(data)

    def touch(self, session: Session, now: datetime) -> str:
        """The cookie value of the session, used now (its CSRF token stays)."""
        return self.sign(attrs.evolve(session, seen=now))

    def read(self, value: str | None) -> Session | None:
        """The session in a cookie, or None when it is missing, forged or malformed."""
        if not value:
            return None
        try:
            data: Any = self._sessions.loads(value)
            seen = datetime.fromisoformat(data["s"]) if data.get("s") else None
            return Session(
                str(data["u"]),
                int(data["g"]),
                datetime.fromisoformat(data["t"]),
                str(data["c"]),
                seen,
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None


def same_token(given: str | None, expected: str | None) -> bool:
    """Whether a form's token matches, compared in constant time."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
