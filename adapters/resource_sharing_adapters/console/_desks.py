"""Home, the task lists and the delivery problems page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from resource_sharing.effects import TaskList
from resource_sharing.ports import TaskChoice
from resource_sharing_adapters.console._accounts import StaffUser
from resource_sharing_adapters.console._common import (
    ATTENTION_FIRST,
    LIST_LIMIT,
    LIST_SIDE,
    LIST_TITLE,
    ROLE_OF,
    Refused,
    shape_of,
)
from resource_sharing_adapters.http._validation import NOTE

if TYPE_CHECKING:
    from resource_sharing_adapters.console._app import Console

__all__ = ["home", "problems", "resolve", "rows_of", "task_list"]


def _counts(console: Console, desk: str | None) -> list[dict[str, Any]]:
    inst = console.node.institution
    rows = []
    for listed in ATTENTION_FIRST:
        everywhere = len(inst.tasks(listed, limit=LIST_LIMIT))
        mine = len(inst.tasks(listed, desk=desk, limit=LIST_LIMIT)) if desk else everywhere
        rows.append(
            {
                "list": listed,
                "title": LIST_TITLE[listed],
                "side": LIST_SIDE[listed],
                "mine": mine,
                "all": everywhere,
            }
        )
    return rows


async def home(console: Console, request: Request) -> Response:
    """GET /: each task list with its count, attention first."""
    user: StaffUser = request.state.user
    rows = await run_in_threadpool(_counts, console, user.desk)
    visible = [r for r in rows if user.may(ROLE_OF[r["side"]])]
    open_tasks = console.node.institution.task_desk.open
    problem_count = len(await run_in_threadpool(open_tasks, limit=LIST_LIMIT))
    first = next((r for r in visible if r["all"]), None)
    return console.render(request, "home.html", rows=visible, first=first, problems=problem_count)


def rows_of(console: Console, listed: TaskList, desk: str | None) -> list[dict[str, Any]]:
    """A task list's rows: each task with its request."""
    inst = console.node.institution
    rows = []
    for task in inst.tasks(listed, desk=desk, limit=LIST_LIMIT):
        record = inst.get(task.side, task.request_id)
        rows.append({"task": task, "record": record})
    return rows


async def task_list(console: Console, request: Request) -> Response:
    """GET /tasks/{list}: one task list (``?desk=`` narrows it; ``all`` shows every desk)."""
    try:
        listed = TaskList(request.path_params["list"])
    except ValueError:
        raise Refused(404, "There is no such task list.") from None
    if listed not in LIST_SIDE:  # delivery problems have their own page
        return RedirectResponse("/problems", 303)
    user: StaffUser = request.state.user
    side = LIST_SIDE[listed]
    if not user.may(ROLE_OF[side]):
        raise Refused(403, f"This list needs the {ROLE_OF[side].value} staff role.")
    desk = request.query_params.get("desk")
    if desk is not None:
        shape_of("tasks", "query").check({"desk": desk} if desk else {}, "", query=True)
    rows = await run_in_threadpool(rows_of, console, listed, desk or None)
    return console.render(
        request,
        "tasks.html",
        task_list=listed,
        title=LIST_TITLE[listed],
        side=side,
        rows=rows,
        desk=desk or "",
    )


async def problems(console: Console, request: Request) -> Response:
    """GET /problems: deliveries that gave up, with their choices."""
    open_tasks = console.node.institution.task_desk.open
    tasks = await run_in_threadpool(open_tasks, limit=LIST_LIMIT)
    return console.render(request, "problems.html", tasks=tasks)


async def resolve(console: Console, request: Request) -> Response:
    """POST /problems/{id}: retry now, done by hand, or drop (recorded with the user)."""
    form = request.state.form
    try:
        choice = TaskChoice(str(form.get("choice") or ""))
    except ValueError:
        raise Refused(400, "Choose retry now, done by hand or drop.") from None
    note = str(form.get("note") or "").strip() or None
    if note is not None:
        NOTE.check(note, "note")  # the staff API's rule for notes
    user: StaffUser = request.state.user
    await console.call(
        console.node.institution.task_desk.resolve,
        request.path_params["id"],
        choice,
        by=user.username,
        note=note,
    )
    return RedirectResponse("/problems", 303)
