"""The staff console: the desks' pages, served by the node at ``/``.

Theory of operation. Every page is a Starlette route that renders a Jinja2 template from
``templates/`` (``[console] templates`` in the node's configuration names a folder whose
files override them). Every action is a plain HTML form post, so the console works
without JavaScript; the small ``static/console.js`` only adds the live refresh of task
lists (server-sent events from the change feed, ``/events``, or polling ``/live`` where
those do not get through) and keeps focus in the scan field.

A request passes :meth:`Console.page` before its handler: no session (or one expired by
age or by idleness) goes to the login page; a POST without the session's CSRF token is
refused with 403 before anything is read; a user without the page's role gets a 403 page
that says which role it needs. Handlers run the institution's synchronous calls in the
thread pool, acting as the named user (the desk's ``by(user)``), so the history records
who did it. A refusal (a step the state does not allow, bad input, an unknown barcode) is
said in words on the page with status 4xx; an unexpected failure is logged and the page
says that the node failed, never a traceback.

The pages live in one module per area (:mod:`._desks`: Home, task lists, delivery
problems; :mod:`._requests`: a request's page and its actions; :mod:`._scanning`:
Received Items, Return Items, Check-in; :mod:`._borrowing`: the new-request form;
:mod:`._lending`: monitoring, pick slips, documents; :mod:`._login`; :mod:`._live`:
the change feed for the live lists). Each handler is ``async (console, request)``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, final

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from resource_sharing.effects import TaskList
from resource_sharing.errors import (
    ConcurrencyConflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    ResourceSharingError,
)
from resource_sharing.records import Side
from resource_sharing_adapters.console import _documents
from resource_sharing_adapters.console._accounts import Accounts, Role, StaffUser, accounts_of
from resource_sharing_adapters.console._common import (
    LIST_TITLE,
    Refused,
    barcodes,
    citation_line,
    hold_until,
    instruction,
    label_of_state,
    side_of,
    state_label,
    words,
)
from resource_sharing_adapters.console._forms import ACTION_TRIGGERS
from resource_sharing_adapters.console._sessions import (
    Session,
    SessionSigner,
    cookie_names,
    same_token,
)
from resource_sharing_adapters.http._config import ConsoleConfig
from resource_sharing_adapters.http._node import Node

__all__ = ["ACTION_TRIGGERS", "Console", "Handler", "create_console"]

log = logging.getLogger("resource_sharing.console")

_HERE = Path(__file__).resolve().parent

Handler = Callable[["Console", Request], Awaitable[Response]]
"""A page's handler: the console and the request, after the session and CSRF checks."""

_UNTOUCHED = frozenset({"/live", "/events"})
"""Paths the page's script calls by itself: they do not count as use of the session."""
_TOKEN_CHARS = 32
"""The length of the login CSRF tokens we issue; a shorter cookie is not one of ours."""


@final
class Console:
    """The console's pages for one node, with its accounts, session key and settings."""

    def __init__(
        self,
        node: Node,
        accounts: Accounts,
        *,
        settings: ConsoleConfig | None = None,
        template_dirs: Sequence[Path] = (),
    ) -> None:
        self.node = node
        self.accounts = accounts
        self.settings = settings or node.config.console
        """``[console]`` of the node's configuration."""
        self.session_lifetime = timedelta(hours=self.settings.session_hours)
        """How long a session lasts (on the node's clock)."""
        idle = self.settings.idle_minutes
        self.idle_limit = timedelta(minutes=idle) if idle else None
        """How long an unused session lasts (None: no limit)."""
        self.signer = SessionSigner(accounts.store.secret("session", secrets.token_urlsafe(32)))
        self.secure = node.config.server.url.startswith("https")
        self.session_cookie, self.login_cookie = cookie_names(str(node.agency))
        self._renderer: Any = None
        overrides = [str(d) for d in template_dirs]
        if self.settings.templates:
            overrides.append(self.settings.templates)
        loader = jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(overrides),
                jinja2.FileSystemLoader(str(_HERE / "templates")),
            ]
        )
        self.env = jinja2.Environment(
            loader=loader, autoescape=True, undefined=jinja2.StrictUndefined
        )
        self.env.globals.update(
            lists=LIST_TITLE,
            TaskList=TaskList,
            label=state_label,
            label_of=label_of_state,
            citation=citation_line,
            instruction=instruction,
            hold_until=hold_until,
            side_of=side_of,
            barcodes=barcodes,
        )

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def renderer(self) -> Any:
        """The documents module's renderer (made on first use: it loads reportlab)."""
        if self._renderer is None:
            self._renderer = _documents.renderer_for(self.node)
        return self._renderer

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """A page from ``template`` with the user, their CSRF token and the node's name."""
        session: Session | None = getattr(request.state, "session", None)
        user: StaffUser | None = getattr(request.state, "user", None)
        context.setdefault("error", None)
        context.setdefault("message", None)
        html = self.env.get_template(template).render(
            request=request,
            user=user,
            csrf=session.csrf if session else "",
            node_name=self.node.config.name or str(self.node.agency),
            agency=str(self.node.agency),
            Role=Role,
            **context,
        )
        return HTMLResponse(html, status)

    def page(self, handler: Handler, role: Role | None = None) -> Callable[[Request], Any]:
        """The handler behind the session, CSRF and role checks, its refusals in words."""

        async def guarded(request: Request) -> Response:
            session = self.signer.read(request.cookies.get(self.session_cookie))
            now = self.node.clock.now()
            user = None
            if session is not None:
                if session.expired(now, self.session_lifetime):
                    return self._to_login(request, "expired")
                if session.idle(now, self.idle_limit):
                    return self._to_login(request, "idle")
                user = await run_in_threadpool(
                    self.accounts.current, session.username, session.generation
                )
            if session is None or user is None:
                return self._to_login(request, None)
            request.state.session = session
            request.state.user = user
            if request.method == "POST":
                form = await request.form()
                request.state.form = form
                token = form.get("csrf")
                if not same_token(token if isinstance(token, str) else None, session.csrf):
                    return self.render(
                        request,
                        "refused.html",
                        403,
                        error="This form has no valid security token (CSRF), so nothing was"
                        " done. Reload the page and try again.",
                    )
            if role is not None and not user.may(role):
                return self.render(
                    request,
                    "refused.html",
                    403,
                    error=f"Your account may not do this: it needs the {role.value} staff role."
                    " Ask an administrator.",
                )
            response = await self._answer(handler, request)
            if (
                request.method == "GET"  # a post's answer is a page, which counts it
                and request.url.path not in _UNTOUCHED
                and self.idle_limit is not None
            ):
                self._set_session(response, self.signer.touch(session, now))
            return response

        return guarded

    async def _answer(self, handler: Handler, request: Request) -> Response:
        try:
            return await handler(self, request)
        except Refused as exc:
            return self.render(request, "refused.html", exc.status, error=str(exc))
        except NotFound as exc:
            return self.render(request, "refused.html", 404, error=str(exc))
        except (IllegalTransition, ConcurrencyConflict) as exc:
            return self.render(request, "refused.html", 409, error=words(exc))
        except (InvalidInput, ResourceSharingError, ValueError) as exc:
            return self.render(request, "refused.html", 400, error=words(exc))
        except Exception:
            log.exception("console %s %s failed", request.method, request.url.path)
            return self.render(
                request,
                "refused.html",
                500,
                error="The node failed to do this; nothing was changed. Try again, or"
                " tell your administrator (the node's log has the details).",
            )

    def _set_session(self, response: Response, value: str) -> None:
        response.set_cookie(
            self.session_cookie,
            value,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/",
        )

    def _to_login(self, request: Request, why: str | None) -> Response:
        target = "/login" + (f"?why={why}" if why else "")
        if request.url.path in _UNTOUCHED:
            # the page's script asks: no login page, which would replace the CSRF cookie of
            # a login form open in the same browser
            return PlainTextResponse(self.why(why) or "Please log in.", 401)
        if request.method == "POST":
            return self.render_login(request, 401, error=self.why(why) or "Please log in.")
        response = RedirectResponse(target, 303)
        if why:
            response.delete_cookie(self.session_cookie, path="/")
        return response

    @staticmethod
    def why(why: str | None) -> str | None:
        """The login page's sentence for why the user is there."""
        if why == "expired":
            return "Your session has expired; please log in again."
        if why == "idle":
            return "Your session ended after a time without use; please log in again."
        if why == "out":
            return "You have logged out."
        return None

    def render_login(self, request: Request, status: int = 200, **context: Any) -> Response:
        """The login form and its CSRF cookie (the browser's token kept when it has one).

        Keeping the token means a second login page (another tab, a live list's refresh
        sent to the login page when its session ended) cannot spoil a form already open.
        """
        kept = request.cookies.get(self.login_cookie)
        token = kept if kept and len(kept) >= _TOKEN_CHARS else secrets.token_urlsafe(24)
        response = self.render(request, "login.html", status, login_csrf=token, **context)
        response.set_cookie(
            self.login_cookie, token, httponly=True, samesite="strict", secure=self.secure, path="/"
        )
        return response

    def start_session(self, response: Response, user: StaffUser) -> None:
        """Log ``user`` in: a new session cookie on ``response``."""
        _, value = self.signer.issue(user.username, user.generation, self.node.clock.now())
        self._set_session(response, value)
        response.delete_cookie(self.login_cookie, path="/")

    def desk(self, side: Side, user: StaffUser) -> Any:
        """The institution's desk of ``side``, acting for ``user`` (named in the history)."""
        inst = self.node.institution
        desk: Any = inst.borrowing if side is Side.BORROWING else inst.lending
        return desk.by(user.username)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a synchronous call in the thread pool, then wake the dispatcher."""
        result = await run_in_threadpool(fn, *args, **kwargs)
        self.node.wake()
        return result

    # -- the app ------------------------------------------------------------------------------

    def routes(self) -> list[Any]:
        """The console's routes (mounted at ``/`` by the node's app)."""
        from resource_sharing_adapters.console import (
            _borrowing,
            _desks,
            _lending,
            _live,
            _login,
            _requests,
            _scanning,
        )

        p = self.page
        b, lend = Role.BORROWING, Role.LENDING

        def open_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def run(request: Request) -> Response:
                return await handler(self, request)

            return run

        return [
            Route("/login", open_page(_login.login_form), methods=["GET"]),
            Route("/login", open_page(_login.login), methods=["POST"]),
            Route("/logout", p(_login.logout), methods=["POST"]),
            Route("/live", p(_live.live), methods=["GET"]),
            Route("/events", p(_live.events), methods=["GET"]),
            Route("/", p(_desks.home), methods=["GET"]),
            Route("/tasks/{list}", p(_desks.task_list), methods=["GET"]),
            Route("/problems", p(_desks.problems), methods=["GET"]),
            Route("/problems/{id}", p(_desks.resolve), methods=["POST"]),
            Route("/requests/{side}/{id}", p(_requests.detail), methods=["GET"]),
            Route("/requests/{side}/{id}/{action}", p(_requests.act), methods=["POST"]),
            Route("/scan/{kind}", p(_scanning.scan_form), methods=["GET"]),
            Route("/scan/{kind}", p(_scanning.scan), methods=["POST"]),
            Route("/receive/{id}", p(_scanning.receive_form, b), methods=["GET"]),
            Route("/receive/{id}", p(_scanning.receive, b), methods=["POST"]),
            Route("/borrowing/new", p(_borrowing.new_form, b), methods=["GET"]),
            Route("/borrowing/new", p(_borrowing.new, b), methods=["POST"]),
            Route("/lending/monitor", p(_lending.monitor, lend), methods=["GET"]),
            Route("/lending/pick-slips", p(_lending.pick_slips, lend), methods=["POST"]),
            Route("/documents/{side}/{id}/{kind}.{fmt}", p(_requests.document), methods=["GET"]),
            Mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static"),
        ]


def create_console(
    node: Node, accounts: Accounts | None = None, *, settings: ConsoleConfig | None = None
) -> Starlette:
    """The console as an ASGI app for ``node`` (accounts from the node's store by default)."""
    console = Console(node, accounts or accounts_of(node), settings=settings)
    return Starlette(routes=console.routes())
