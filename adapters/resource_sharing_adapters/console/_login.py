"""Logging in and out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from resource_sharing_adapters.console._accounts import LoginRefused, StaffUser
from resource_sharing_adapters.console._sessions import same_token

if TYPE_CHECKING:
    from resource_sharing_adapters.console._app import Console

__all__ = ["login", "login_form", "logout"]

log = logging.getLogger("resource_sharing.console")


async def login_form(console: Console, request: Request) -> Response:
    """GET /login."""
    return console.render_login(request, message=console.why(request.query_params.get("why")))


async def login(console: Console, request: Request) -> Response:
    """POST /login: check the CSRF cookie, then the password."""
    form = await request.form()
    token = form.get("csrf")
    if not same_token(
        token if isinstance(token, str) else None, request.cookies.get(console.login_cookie)
    ):
        return console.render_login(
            request,
            403,
            error="This form has no valid security token (CSRF); please log in again.",
        )
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    try:
        user = await run_in_threadpool(
            console.accounts.login, username, password, console.node.clock.now()
        )
    except LoginRefused as exc:
        log.warning("console login refused for %r: %s", username[:64], exc)
        return console.render_login(request, 401, error=str(exc), username=username[:64])
    response = RedirectResponse("/", 303)
    console.start_session(response, user)
    return response


async def logout(console: Console, request: Request) -> Response:
    """POST /logout: end every session of the user."""
    user: StaffUser = request.state.user
    await run_in_threadpool(console.accounts.end_sessions, user.username)
    response = RedirectResponse("/login?why=out", 303)
    response.delete_cookie(console.session_cookie, path="/")
    return response
