"""The staff console: the desks' pages, served by the node at ``/``.

Theory of operation. Every page is a Starlette route that renders a Jinja2 template from
``templates/`` (an institution may point ``template_dirs`` at its own first). Every
action is a plain HTML form post, so the console works without JavaScript; the small
``static/console.js`` only adds the live refresh of task lists (it polls ``/live``, the
change feed's position, and reloads the list when it moves) and keeps focus in the
scan field.

A request passes :meth:`Console.page` before its handler: no session (or an expired
one) goes to the login page; a POST without the session's CSRF token is refused with
403 before anything is read; a user without the page's role gets a 403 page that says
which role it needs. Handlers run the institution's synchronous calls in the thread
pool, acting as the named user (the desk's ``by(user)``), so the
history records who did it. A refusal (a step the state does not allow, bad input, an
unknown barcode) is said in words on the page with status 4xx; an unexpected failure is
logged and the page says that the node failed, never a traceback.

The actions offered on a request are those whose trigger the lifecycle table allows in
the request's state (:data:`ACTION_TRIGGERS`), so the page never offers a step the
table would refuse.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, final

import attrs
import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from resource_sharing.borrowing import BORROWING
from resource_sharing.effects import TaskList
from resource_sharing.errors import (
    ConcurrencyConflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    ResourceSharingError,
)
from resource_sharing.lending import LENDING
from resource_sharing.lifecycle import Lifecycle
from resource_sharing.ports import AnyRequest
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    LendingRequest,
    PatronRef,
    Side,
    TimerKind,
)
from resource_sharing.rota import RotaContext, build_rota
from resource_sharing_adapters.console import _documents
from resource_sharing_adapters.console._accounts import (
    Accounts,
    LoginRefused,
    Role,
    StaffUser,
    accounts_of,
)
from resource_sharing_adapters.console._sessions import (
    Session,
    SessionSigner,
    cookie_names,
    same_token,
)
from resource_sharing_adapters.http._node import Node
from resource_sharing_adapters.http._validation import ACTION_BODIES, ENDPOINTS, NOTE, Shape

__all__ = ["ACTION_TRIGGERS", "Console", "create_console"]

log = logging.getLogger("resource_sharing.console")

_HERE = Path(__file__).resolve().parent


@final
@attrs.frozen
class _Field:
    name: str
    label: str
    kind: str = "text"  # text, textarea, yesno, date
    required: bool = False


@final
@attrs.frozen
class _Action:
    trigger: str
    label: str
    fields: tuple[_Field, ...] = ()
    danger: bool = False


_NOTE = _Field("note", "Note")
ACTION_TRIGGERS: Mapping[tuple[Side, str], _Action] = {
    (Side.BORROWING, "approve"): _Action("approve", "Approve and send"),
    (Side.BORROWING, "receive"): _Action(
        "receive_item", "Receive", (_Field("barcode", "Temporary item barcode", required=True),)
    ),
    (Side.BORROWING, "check-out"): _Action("check_out", "Check out to the patron"),
    (Side.BORROWING, "deliver-copy"): _Action("deliver_copy", "Deliver the copy"),
    (Side.BORROWING, "renew"): _Action("request_renewal", "Ask the lender to renew"),
    (Side.BORROWING, "approve-renewal"): _Action("approve_renewal", "Approve the renewal"),
    (Side.BORROWING, "deny-renewal"): _Action(
        "deny_renewal", "Deny the renewal", (_Field("reason", "Reason", required=True),)
    ),
    (Side.BORROWING, "accept-conditions"): _Action(
        "accept_conditions", "Accept the conditions", (_NOTE,)
    ),
    (Side.BORROWING, "reject-conditions"): _Action(
        "reject_conditions", "Reject the conditions", (_NOTE,)
    ),
    (Side.BORROWING, "accept-retry"): _Action("accept_retry", "Accept the retry"),
    (Side.BORROWING, "decline-retry"): _Action("decline_retry", "Decline the retry"),
    (Side.BORROWING, "ship-return"): _Action("ship_return", "Ship back to the lender", (_NOTE,)),
    (Side.BORROWING, "cancel"): _Action(
        "cancel", "Cancel the request", (_Field("reason", "Reason"),), danger=True
    ),
    (Side.BORROWING, "report-lost"): _Action("report_lost", "Report lost", (_NOTE,), True),
    (Side.BORROWING, "report-damaged"): _Action("report_damaged", "Report damaged", (_NOTE,), True),
    (Side.LENDING, "will-supply"): _Action("will_supply", "Will supply", (_NOTE,)),
    (Side.LENDING, "pick"): _Action("pick_item", "Picked from the shelf"),
    (Side.LENDING, "arrive"): _Action("arrive_at_rs_library", "Arrived at the RS library"),
    (Side.LENDING, "ship"): _Action("ship", "Ship", (_NOTE,)),
    (Side.LENDING, "answer-renewal"): _Action(
        "answer_renewal", "Answer the renewal", (_Field("approve", "Renew?", "yesno", True),)
    ),
    (Side.LENDING, "answer-cancel"): _Action(
        "answer_cancel", "Answer the cancel request", (_Field("accept", "Cancel?", "yesno", True),)
    ),
    (Side.LENDING, "recall"): _Action("recall", "Recall", (_NOTE,)),
    (Side.LENDING, "offer-conditions"): _Action(
        "offer_conditions", "Offer conditions", (_Field("condition", "Condition", required=True),)
    ),
    (Side.LENDING, "locate-failed"): _Action(
        "locate_failed", "Locate failed", (_Field("reason", "Reason"),), True
    ),
    (Side.LENDING, "reject"): _Action(
        "reject", "Reject (unfilled)", (_Field("reason", "Reason"), _NOTE), True
    ),
    (Side.LENDING, "mark-lost"): _Action("mark_lost", "Mark lost", (_NOTE,), True),
}
"""The console's actions on one request: (side, URL name) to the table trigger and form."""

_ROLE_OF = {Side.BORROWING: Role.BORROWING, Side.LENDING: Role.LENDING}
_TABLES: Mapping[Side, Lifecycle[Any, Any, Any]] = {
    Side.BORROWING: BORROWING,
    Side.LENDING: LENDING,
}

_LIST_SIDE: Mapping[TaskList, Side] = {
    TaskList.BORROWING_REQUESTS: Side.BORROWING,
    TaskList.RECEIVED_ITEMS: Side.BORROWING,
    TaskList.HOLD_SHELF: Side.BORROWING,
    TaskList.RETURN_ITEMS: Side.BORROWING,
    TaskList.LENDING_REQUESTS: Side.LENDING,
    TaskList.PICK_FROM_SHELF: Side.LENDING,
    TaskList.SHIPPING: Side.LENDING,
    TaskList.CHECK_IN: Side.LENDING,
}
_LIST_TITLE: Mapping[TaskList, str] = {
    TaskList.BORROWING_REQUESTS: "Borrowing Requests",
    TaskList.RECEIVED_ITEMS: "Received Items",
    TaskList.HOLD_SHELF: "Hold shelf",
    TaskList.RETURN_ITEMS: "Return Items",
    TaskList.LENDING_REQUESTS: "Lending Requests",
    TaskList.PICK_FROM_SHELF: "Pick From Shelf",
    TaskList.SHIPPING: "Shipping",
    TaskList.CHECK_IN: "Check-in",
}
_ATTENTION_FIRST = (
    TaskList.BORROWING_REQUESTS,
    TaskList.LENDING_REQUESTS,
    TaskList.RECEIVED_ITEMS,
    TaskList.PICK_FROM_SHELF,
    TaskList.SHIPPING,
    TaskList.RETURN_ITEMS,
    TaskList.CHECK_IN,
    TaskList.HOLD_SHELF,
)
_LIST_LIMIT = 1000


def _shape_of(endpoint: str, part: str) -> Shape:
    """The staff API's schema for one part of an endpoint, which form input obeys too."""
    shape = getattr(ENDPOINTS[endpoint], part)
    assert isinstance(shape, Shape)
    return shape


class _Refused(Exception):
    """A page's answer in words, with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _words(exc: Exception) -> str:
    if isinstance(exc, IllegalTransition):
        table = _TABLES[Side(exc.side)]
        label = next(
            (info.label for state, info in table.states.items() if state.value == exc.state),
            exc.state.replace("_", " "),
        )
        why = f" ({exc.reason})" if exc.reason else ""
        return f"Not possible now: the request is “{label}”{why}."
    if isinstance(exc, ConcurrencyConflict):
        return "Someone else changed this request at the same moment; reload and try again."
    return str(exc)


def _citation_line(citation: Citation) -> str:
    parts = [citation.title or "(no title)"]
    if citation.author:
        parts.append(citation.author)
    return " / ".join(parts)


def _state_label(record: AnyRequest) -> str:
    side = Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING
    return _TABLES[side].info(record.state).label


def _instruction(record: AnyRequest) -> str | None:
    side = Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING
    return _TABLES[side].instruction(record)


def _side_of(record: AnyRequest) -> Side:
    return Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING


def _hold_until(record: AnyRequest) -> datetime | None:
    """Until when the item waits on the hold shelf (its expiry deadline), if it does."""
    return next((d.at for d in record.deadlines if d.kind is TimerKind.HOLD_SHELF_EXPIRY), None)


def _barcodes(record: AnyRequest) -> list[str]:
    if isinstance(record, BorrowingRequest):
        return [record.item_barcode] if record.item_barcode else []
    return [record.item.barcode] if record.item else []


def _form_values(form: FormData, fields: Sequence[_Field]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.name)
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            if f.required:
                raise InvalidInput(f.label, "required")
            continue
        if f.kind == "yesno":
            values[f.name] = text == "yes"
        else:
            values[f.name] = text
    return values


@final
class Console:
    """The console's pages for one node, with its accounts and session key."""

    def __init__(
        self,
        node: Node,
        accounts: Accounts,
        *,
        session_lifetime: timedelta = timedelta(hours=8),
        template_dirs: Sequence[Path] = (),
    ) -> None:
        self.node = node
        self.accounts = accounts
        self.session_lifetime = session_lifetime
        """How long a session lasts (on the node's clock)."""
        self.signer = SessionSigner(accounts.store.secret("session", secrets.token_urlsafe(32)))
        self.secure = node.config.server.url.startswith("https")
        self.session_cookie, self.login_cookie = cookie_names(str(node.agency))
        self._renderer: Any = None
        loader = jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader([str(d) for d in template_dirs]),
                jinja2.FileSystemLoader(str(_HERE / "templates")),
            ]
        )
        self.env = jinja2.Environment(
            loader=loader, autoescape=True, undefined=jinja2.StrictUndefined
        )
        self.env.globals.update(
            lists=_LIST_TITLE,
            TaskList=TaskList,
            label=_state_label,
            citation=_citation_line,
            instruction=_instruction,
            hold_until=_hold_until,
            side_of=_side_of,
            barcodes=_barcodes,
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

    def page(
        self,
        handler: Callable[[Request], Awaitable[Response]],
        role: Role | None = None,
    ) -> Callable[[Request], Awaitable[Response]]:
        """The handler behind the session, CSRF and role checks, its refusals in words."""

        async def guarded(request: Request) -> Response:
            session = self.signer.read(request.cookies.get(self.session_cookie))
            now = self.node.clock.now()
            user = None
            if session is not None:
                if session.expired(now, self.session_lifetime):
                    return self._to_login(request, "expired")
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
            try:
                return await handler(request)
            except _Refused as exc:
                return self.render(request, "refused.html", exc.status, error=str(exc))
            except NotFound as exc:
                return self.render(request, "refused.html", 404, error=str(exc))
            except (IllegalTransition, ConcurrencyConflict) as exc:
                return self.render(request, "refused.html", 409, error=_words(exc))
            except (InvalidInput, ResourceSharingError, ValueError) as exc:
                return self.render(request, "refused.html", 400, error=_words(exc))
            except Exception:
                log.exception("console %s %s failed", request.method, request.url.path)
                return self.render(
                    request,
                    "refused.html",
                    500,
                    error="The node failed to do this; nothing was changed. Try again, or"
                    " tell your administrator (the node's log has the details).",
                )

        return guarded

    def _to_login(self, request: Request, why: str | None) -> Response:
        target = "/login" + (f"?why={why}" if why else "")
        if request.method == "POST":
            return self.render_login(request, 401, error=self._why(why) or "Please log in.")
        response = RedirectResponse(target, 303)
        if why:
            response.delete_cookie(self.session_cookie, path="/")
        return response

    @staticmethod
    def _why(why: str | None) -> str | None:
        if why == "expired":
            return "Your session has expired; please log in again."
        if why == "out":
            return "You have logged out."
        return None

    def render_login(self, request: Request, status: int = 200, **context: Any) -> Response:
        """The login form with a fresh CSRF cookie."""
        token = secrets.token_urlsafe(24)
        response = self.render(request, "login.html", status, login_csrf=token, **context)
        response.set_cookie(
            self.login_cookie, token, httponly=True, samesite="strict", secure=self.secure, path="/"
        )
        return response

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

    # -- login ------------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        """GET /login."""
        return self.render_login(request, message=self._why(request.query_params.get("why")))

    async def login(self, request: Request) -> Response:
        """POST /login: check the CSRF cookie, then the password."""
        form = await request.form()
        token = form.get("csrf")
        if not same_token(
            token if isinstance(token, str) else None, request.cookies.get(self.login_cookie)
        ):
            return self.render_login(
                request,
                403,
                error="This form has no valid security token (CSRF); please log in again.",
            )
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        try:
            user = await run_in_threadpool(
                self.accounts.login, username, password, self.node.clock.now()
            )
        except LoginRefused as exc:
            log.warning("console login refused for %r: %s", username[:64], exc)
            return self.render_login(request, 401, error=str(exc), username=username[:64])
        _, value = self.signer.issue(user.username, user.generation, self.node.clock.now())
        response = RedirectResponse("/", 303)
        response.set_cookie(
            self.session_cookie,
            value,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/",
        )
        response.delete_cookie(self.login_cookie, path="/")
        return response

    async def logout(self, request: Request) -> Response:
        """POST /logout: end every session of the user."""
        user: StaffUser = request.state.user
        await run_in_threadpool(self.accounts.end_sessions, user.username)
        response = RedirectResponse("/login?why=out", 303)
        response.delete_cookie(self.session_cookie, path="/")
        return response

    # -- reads ------------------------------------------------------------------------------

    def _counts(self, desk: str | None) -> list[dict[str, Any]]:
        inst = self.node.institution
        rows = []
        for task_list in _ATTENTION_FIRST:
            everywhere = len(inst.tasks(task_list, limit=_LIST_LIMIT))
            mine = len(inst.tasks(task_list, desk=desk, limit=_LIST_LIMIT)) if desk else everywhere
            rows.append(
                {
                    "list": task_list,
                    "title": _LIST_TITLE[task_list],
                    "side": _LIST_SIDE[task_list],
                    "mine": mine,
                    "all": everywhere,
                }
            )
        return rows

    async def home(self, request: Request) -> Response:
        """GET /: each task list with its count, attention first."""
        user: StaffUser = request.state.user
        rows = await run_in_threadpool(self._counts, user.desk)
        visible = [r for r in rows if user.may(_ROLE_OF[r["side"]])]
        problems = len(
            await run_in_threadpool(self.node.institution.task_desk.open, limit=_LIST_LIMIT)
        )
        first = next((r for r in visible if r["all"]), None)
        return self.render(request, "home.html", rows=visible, first=first, problems=problems)

    def _rows(self, task_list: TaskList, desk: str | None) -> list[dict[str, Any]]:
        inst = self.node.institution
        rows = []
        for task in inst.tasks(task_list, desk=desk, limit=_LIST_LIMIT):
            record = inst.get(task.side, task.request_id)
            rows.append({"task": task, "record": record})
        return rows

    async def task_list(self, request: Request) -> Response:
        """GET /tasks/{list}: one task list (``?desk=`` narrows it; ``all`` shows every desk)."""
        try:
            task_list = TaskList(request.path_params["list"])
        except ValueError:
            raise _Refused(404, "There is no such task list.") from None
        if task_list not in _LIST_SIDE:  # delivery problems have their own page
            return RedirectResponse("/problems", 303)
        user: StaffUser = request.state.user
        side = _LIST_SIDE[task_list]
        if not user.may(_ROLE_OF[side]):
            raise _Refused(403, f"This list needs the {_ROLE_OF[side].value} staff role.")
        desk = request.query_params.get("desk")
        if desk is not None:
            _shape_of("tasks", "query").check({"desk": desk} if desk else {}, "", query=True)
        rows = await run_in_threadpool(self._rows, task_list, desk or None)
        return self.render(
            request,
            "tasks.html",
            task_list=task_list,
            title=_LIST_TITLE[task_list],
            side=side,
            rows=rows,
            desk=desk or "",
        )

    async def live(self, request: Request) -> Response:
        """GET /live: the change feed's position, which the page polls."""
        last = await run_in_threadpool(lambda: self.node.feed.last)
        return JSONResponse({"changes": last})

    def _outgoing(self, record: AnyRequest) -> list[dict[str, Any]]:
        from resource_sharing.effects import SendMessage
        from resource_sharing_adapters.iso18626 import encode

        shown = []
        for entry in self.node.outbox(None):
            if entry.request_id != record.id or entry.side is not _side_of(record):
                continue
            effect = entry.effect
            message = isinstance(effect, SendMessage)
            raw = ""
            if isinstance(effect, SendMessage):
                try:
                    raw = encode(effect.message, version="1.2").decode("utf-8")
                except Exception:  # an unencodable message is shown without its XML
                    raw = "(cannot be encoded)"
            shown.append(
                {
                    "message": message,
                    "kind": effect.message.kind.value
                    if isinstance(effect, SendMessage)
                    else type(effect).__name__,
                    "to": str(effect.to) if isinstance(effect, SendMessage) else entry.port.value,
                    "status": entry.status.value,
                    "attempts": entry.attempts,
                    "last_error": entry.last_error or "",
                    "raw": raw,
                }
            )
        return shown

    def _detail(self, side: Side, rid: str) -> dict[str, Any]:
        inst = self.node.institution
        record = inst.get(side, rid)
        history = inst.history(side, rid)
        allowed = _TABLES[side].allowed(record.state)
        actions = [
            (name, action)
            for (s, name), action in ACTION_TRIGGERS.items()
            if s is side and action.trigger in allowed
        ]
        return {
            "record": record,
            "side": side,
            "history": history,
            "actions": actions,
            "messages": self._outgoing(record),
            "info": _TABLES[side].info(record.state),
            "documents": [(k, _documents.label_of(k)) for k in _documents.jobs_of(record)],
        }

    async def detail(self, request: Request) -> Response:
        """GET /requests/{side}/{id}: state, instruction, valid actions, history, messages."""
        side = self._side(request)
        detail = await run_in_threadpool(self._detail, side, request.path_params["id"])
        raw = request.query_params.get("raw") == "1"
        return self.render(request, "request.html", raw=raw, **detail)

    def _side(self, request: Request) -> Side:
        try:
            side = Side(request.path_params["side"])
        except ValueError:
            raise _Refused(404, "There is no such side (borrowing or lending).") from None
        user: StaffUser = request.state.user
        if not user.may(_ROLE_OF[side]):
            raise _Refused(403, f"This needs the {_ROLE_OF[side].value} staff role.")
        return side

    # -- actions ----------------------------------------------------------------------------

    async def act(self, request: Request) -> Response:
        """POST /requests/{side}/{id}/{action}: one action, then back to the request."""
        from resource_sharing_adapters.http._app import ACTIONS

        side = self._side(request)
        rid = request.path_params["id"]
        name = request.path_params["action"]
        action = ACTION_TRIGGERS.get((side, name))
        if action is None:
            raise _Refused(404, f"There is no action {name!r} here.")
        values = _form_values(request.state.form, action.fields)
        if (side, name) == (Side.BORROWING, "renew"):
            values["by_staff"] = True  # staff ask from the console, not the patron
        ACTION_BODIES[(side, name)].check(values, "")
        method_name, params = ACTIONS[(side, name)]
        kwargs = {k: params[k](v, k) for k, v in values.items()}
        user: StaffUser = request.state.user
        record = await self.call(getattr(self.desk(side, user), method_name), rid, **kwargs)
        back = request.state.form.get("back")
        if isinstance(back, str) and back.startswith("/") and not back.startswith("//"):
            return RedirectResponse(back, 303)
        return self.render(
            request,
            "done.html",
            record=record,
            side=side,
            done=f"{action.label}: done.",
            next_step=_instruction(record),
        )

    # -- scanning ---------------------------------------------------------------------------

    def _scan_page(self, request: Request, kind: str, **context: Any) -> Response:
        titles = {"receive": "Received Items", "return": "Return Items", "check-in": "Check-in"}
        context.setdefault("routed", None)
        context.setdefault("barcode", "")
        return self.render(request, "scan.html", kind=kind, title=titles[kind], **context)

    async def scan_form(self, request: Request) -> Response:
        """GET /scan/{kind}: the scan field (and, for receiving, the list to pick from)."""
        kind = self._kind(request)
        rows: list[Any] = []
        if kind == "receive":
            rows = await run_in_threadpool(self._rows, TaskList.RECEIVED_ITEMS, None)
        return self._scan_page(request, kind, rows=rows, result=None)

    def _kind(self, request: Request) -> str:
        kind = str(request.path_params["kind"])
        if kind not in ("receive", "return", "check-in"):
            raise _Refused(404, "There is no such scan page.")
        user: StaffUser = request.state.user
        role = Role.LENDING if kind == "check-in" else Role.BORROWING
        if not user.may(role):
            raise _Refused(403, f"This page needs the {role.value} staff role.")
        return kind

    async def scan(self, request: Request) -> Response:
        """POST /scan/{kind}: the barcode's result and next instruction, in large text."""
        kind = self._kind(request)
        form = request.state.form
        barcode = str(form.get("barcode") or "").strip()
        user: StaffUser = request.state.user
        desk = str(form.get("desk") or "").strip() or user.desk
        if not barcode:
            raise _Refused(400, "Scan or type a barcode first.")
        _shape_of("scan", "body").check(
            {"barcode": barcode, "desk": desk} if desk else {"barcode": barcode}, ""
        )
        if kind == "receive":
            return await self._receive_lookup(request, barcode)
        if kind == "return":
            result = await self.call(self.desk(Side.BORROWING, user).return_item, barcode, desk)
            return self._scan_page(request, kind, rows=[], result=result, barcode=barcode)
        mark = await run_in_threadpool(lambda: self.node.journal.last)
        result = await self.call(self.desk(Side.LENDING, user).check_in, barcode)
        entries = await run_in_threadpool(self.node.journal.since, mark)
        routes = [
            e.detail.get("instruction")
            for e in entries
            if e.command == "RouteItem" and e.request_id == result.request_id
        ]
        routed = next((r for r in reversed(routes) if r), None)
        return self._scan_page(
            request, kind, rows=[], result=result, barcode=barcode, routed=routed
        )

    async def _receive_lookup(self, request: Request, barcode: str) -> Response:
        inst = self.node.institution

        def find() -> str | None:
            for found in inst.scan(barcode):
                if found.side is Side.BORROWING:
                    return found.request_id
            try:
                inst.get(Side.BORROWING, barcode)
            except NotFound:
                return None
            return barcode

        rid = await run_in_threadpool(find)
        if rid is None:
            raise _Refused(404, f"No borrowing request has the barcode or id {barcode!r}.")
        return RedirectResponse(f"/receive/{rid}", 303)

    async def receive_form(self, request: Request) -> Response:
        """GET /receive/{id}: the temporary-item page."""
        user: StaffUser = request.state.user
        if not user.may(Role.BORROWING):
            raise _Refused(403, "Receiving needs the borrowing staff role.")
        record = await run_in_threadpool(
            self.node.institution.get, Side.BORROWING, request.path_params["id"]
        )
        return self.render(request, "receive.html", record=record)

    async def receive(self, request: Request) -> Response:
        """POST /receive/{id}: receive with the temporary barcode; next: the hold shelf."""
        from resource_sharing_adapters.http._app import ACTIONS

        user: StaffUser = request.state.user
        if not user.may(Role.BORROWING):
            raise _Refused(403, "Receiving needs the borrowing staff role.")
        values = _form_values(
            request.state.form, ACTION_TRIGGERS[(Side.BORROWING, "receive")].fields
        )
        ACTION_BODIES[(Side.BORROWING, "receive")].check(values, "")
        method, params = ACTIONS[(Side.BORROWING, "receive")]
        kwargs = {k: params[k](v, k) for k, v in values.items()}
        record = await self.call(
            getattr(self.desk(Side.BORROWING, user), method), request.path_params["id"], **kwargs
        )
        assert isinstance(record, BorrowingRequest)
        who = record.patron.name or record.patron.id
        return self.render(
            request,
            "done.html",
            record=record,
            side=Side.BORROWING,
            done=f"Received as {values.get('barcode')}.",
            next_step=f"Place on hold shelf for {who}",
        )

    # -- new borrowing request --------------------------------------------------------------

    def _draft(self, form: FormData) -> tuple[dict[str, Any], BorrowingRequest, list[str]]:
        def text(name: str) -> str | None:
            raw = form.get(name)
            return raw.strip() or None if isinstance(raw, str) else None

        body: dict[str, Any] = {
            "patron": {"id": text("patron_id"), "name": text("patron_name")},
            "citation": {"title": text("title"), "author": text("author")},
        }
        if text("isbn"):
            body["citation"]["item_ids"] = [{"code": "ISBN", "value": text("isbn")}]
        if text("pickup_location"):
            body["pickup_location"] = text("pickup_location")
        if text("note"):
            body["note"] = text("note")
        lenders = [x for x in (text("rota") or "").replace(",", " ").split() if x]
        if lenders:
            body["rota"] = lenders
        body = {
            k: ({kk: vv for kk, vv in v.items() if vv is not None} if isinstance(v, dict) else v)
            for k, v in body.items()
        }
        _shape_of("place", "body").check(body, "")
        from resource_sharing_adapters.http._config import structure

        draft = BorrowingRequest(
            id="(new)",
            agency=self.node.agency,
            patron=structure(body["patron"], PatronRef, "patron"),
            citation=structure(body["citation"], Citation, "citation"),
            created_at=self.node.clock.now(),
            pickup_location=body.get("pickup_location"),
        )
        return body, draft, lenders

    def _explain(self, draft: BorrowingRequest, lenders: list[str]) -> list[dict[str, Any]]:
        config = self.node.config
        context = RotaContext(
            today=config.calendar.local_date(self.node.clock.now()),
            staff_rota=tuple(AgencyId.parse(x) for x in lenders) if lenders else None,
            own_agencies=frozenset({self.node.agency}),
        )
        rota = build_rota(draft, config.directory, context, config.rota)
        return [
            {
                "agency": str(r.agency),
                "name": r.name,
                "rank": r.rank,
                "source": r.source,
                "drop": r.drop.detail if r.drop else None,
                "kept": r.kept,
            }
            for r in rota.explanation.reports()
        ]

    async def new_form(self, request: Request) -> Response:
        """GET /borrowing/new: the new-request form."""
        return self.render(request, "new.html", values={}, explanation=None)

    async def new(self, request: Request) -> Response:
        """POST /borrowing/new: ``preview`` shows the rota explanation; ``send`` places it."""
        form = request.state.form
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
        body, draft, lenders = self._draft(form)
        if form.get("send") != "1":
            explanation = await run_in_threadpool(self._explain, draft, lenders)
            return self.render(request, "new.html", values=values, explanation=explanation)
        from resource_sharing_adapters.http._app import _lenders

        user: StaffUser = request.state.user
        kwargs: dict[str, Any] = {
            "pickup_location": body.get("pickup_location"),
            "note": body.get("note"),
        }
        if lenders:
            kwargs["rota"] = _lenders(lenders, "rota")
        record = await self.call(
            self.desk(Side.BORROWING, user).place_request, draft.patron, draft.citation, **kwargs
        )
        return RedirectResponse(f"/requests/borrowing/{record.id}", 303)

    # -- lending monitoring and pick slips ----------------------------------------------------

    def _lending_requests(self) -> list[LendingRequest]:
        ids: dict[str, None] = {}
        seq = 0
        while True:
            page = self.node.feed.since(seq, 1000)
            for change in page:
                if change.side is Side.LENDING:
                    ids[change.request_id] = None
            if len(page) < 1000:
                break
            seq = page[-1].seq
        inst = self.node.institution
        found = []
        for rid in ids:
            record = inst.get(Side.LENDING, rid)
            assert isinstance(record, LendingRequest)
            found.append(record)
        return found

    async def monitor(self, request: Request) -> Response:
        """GET /lending/monitor: every lending request, filtered and searched."""
        q = request.query_params
        state, partner, text = q.get("state", ""), q.get("partner", ""), q.get("q", "").strip()
        since, until = q.get("from", ""), q.get("to", "")
        try:
            day_from = date.fromisoformat(since) if since else None
            day_to = date.fromisoformat(until) if until else None
        except ValueError:
            raise _Refused(400, "Dates are written YYYY-MM-DD.") from None
        records = await run_in_threadpool(self._lending_requests)
        partners = sorted({str(r.requester) for r in records})

        def keep(r: LendingRequest) -> bool:
            if state and r.state.value != state:
                return False
            if partner and str(r.requester) != partner:
                return False
            day = r.created_at.date()
            if (day_from and day < day_from) or (day_to and day > day_to):
                return False
            if text:
                hay = " ".join(
                    [
                        r.id,
                        r.requester_request_id,
                        r.citation.title or "",
                        r.item.barcode if r.item else "",
                    ]
                ).lower()
                return text.lower() in hay
            return True

        shown = sorted((r for r in records if keep(r)), key=lambda r: r.created_at, reverse=True)
        return self.render(
            request,
            "monitor.html",
            records=shown,
            partners=partners,
            states=[s.value for s in LENDING.states],
            filters={"state": state, "partner": partner, "q": text, "from": since, "to": until},
        )

    async def pick_slips(self, request: Request) -> Response:
        """POST /lending/pick-slips: the selected requests' pick slips, one sheet to print."""
        form = request.state.form
        chosen = [v for v in form.getlist("request") if isinstance(v, str)]
        if not chosen:
            raise _Refused(400, "Select at least one request to print its pick slip.")
        inst = self.node.institution

        def render() -> str:
            jobs = [_documents.job(inst.get(Side.LENDING, r), "pick_slip") for r in chosen]
            return _documents.sheet(self.renderer, jobs)

        return HTMLResponse(await run_in_threadpool(render))

    async def document(self, request: Request) -> Response:
        """GET /documents/{side}/{id}/{kind}.{fmt}: one printed document, HTML or PDF."""
        side = self._side(request)
        kind, fmt = request.path_params["kind"], request.path_params["fmt"]
        if fmt not in ("html", "pdf"):
            raise _Refused(404, "Documents are html or pdf.")
        inst = self.node.institution

        def render() -> Any:
            made = _documents.job(inst.get(side, request.path_params["id"]), kind)
            return self.renderer.pdf(made) if fmt == "pdf" else self.renderer.html(made)

        body = await run_in_threadpool(render)
        if fmt == "pdf":
            name = f"{kind}-{request.path_params['id']}.pdf".replace(":", "_")
            return Response(
                body,
                media_type="application/pdf",
                headers={"Content-Disposition": f'inline; filename="{name}"'},
            )
        return HTMLResponse(body)

    # -- delivery problems ---------------------------------------------------------------------

    async def problems(self, request: Request) -> Response:
        """GET /problems: deliveries that gave up, with their choices."""
        tasks = await run_in_threadpool(self.node.institution.task_desk.open, limit=_LIST_LIMIT)
        return self.render(request, "problems.html", tasks=tasks)

    async def resolve(self, request: Request) -> Response:
        """POST /problems/{id}: retry now, done by hand, or drop (recorded with the user)."""
        from resource_sharing.ports import TaskChoice

        form = request.state.form
        try:
            choice = TaskChoice(str(form.get("choice") or ""))
        except ValueError:
            raise _Refused(400, "Choose retry now, done by hand or drop.") from None
        note = str(form.get("note") or "").strip() or None
        if note is not None:
            NOTE.check(note, "note")  # the staff API's rule for notes
        user: StaffUser = request.state.user
        await self.call(
            self.node.institution.task_desk.resolve,
            request.path_params["id"],
            choice,
            by=user.username,
            note=note,
        )
        return RedirectResponse("/problems", 303)

    # -- the app ------------------------------------------------------------------------------

    def routes(self) -> list[Any]:
        """The console's routes (mounted at ``/`` by the node's app)."""
        p = self.page
        b, lend = Role.BORROWING, Role.LENDING
        return [
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", p(self.logout), methods=["POST"]),
            Route("/live", p(self.live), methods=["GET"]),
            Route("/", p(self.home), methods=["GET"]),
            Route("/tasks/{list}", p(self.task_list), methods=["GET"]),
            Route("/requests/{side}/{id}", p(self.detail), methods=["GET"]),
            Route("/requests/{side}/{id}/{action}", p(self.act), methods=["POST"]),
            Route("/scan/{kind}", p(self.scan_form), methods=["GET"]),
            Route("/scan/{kind}", p(self.scan), methods=["POST"]),
            Route("/receive/{id}", p(self.receive_form, b), methods=["GET"]),
            Route("/receive/{id}", p(self.receive, b), methods=["POST"]),
            Route("/borrowing/new", p(self.new_form, b), methods=["GET"]),
            Route("/borrowing/new", p(self.new, b), methods=["POST"]),
            Route("/lending/monitor", p(self.monitor, lend), methods=["GET"]),
            Route("/lending/pick-slips", p(self.pick_slips, lend), methods=["POST"]),
            Route("/documents/{side}/{id}/{kind}.{fmt}", p(self.document), methods=["GET"]),
            Route("/problems", p(self.problems), methods=["GET"]),
            Route("/problems/{id}", p(self.resolve), methods=["POST"]),
            Mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static"),
        ]


def create_console(
    node: Node,
    accounts: Accounts | None = None,
    *,
    session_lifetime: timedelta = timedelta(hours=8),
) -> Starlette:
    """The console as an ASGI app for ``node`` (accounts from the node's store by default)."""
    console = Console(node, accounts or accounts_of(node), session_lifetime=session_lifetime)
    return Starlette(routes=console.routes())
