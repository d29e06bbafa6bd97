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
    problem_count = len(await run_in_threadpool(open_tasks, task_list=None, limit=LIST_LIMIT))
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


PROBLEM_LISTS: tuple[tuple[TaskList, str, str], ...] = (
    (
        TaskList.DELIVERY_PROBLEMS,
        "Delivery problems",
        "Each line is an effect (a notice, a circulation command, a print job, a peer"
        " message) that gave up after its retries. Retry it now, say it was done by hand,"
        " or drop it.",
    ),
    (
        TaskList.PEER_MESSAGES,
        "Messages that did not fit",
        "A partner's message that its request's state could not take (it was answered"
        " with an error). Apply it where the table allows, ignore it, or ask the lender"
        " for its status.",
    ),
    (
        TaskList.OUT_OF_STEP,
        "Out of step with partner",
        "The partner's status and ours disagree: both sides and the suggested step are"
        " shown. Say it was settled by hand, or drop it.",
    ),
)
"""The stored task lists the problems page shows, each with its title and what to do."""

CHOICE_LABEL: dict[TaskChoice, str] = {
    TaskChoice.RETRY_NOW: "Retry now",
    TaskChoice.DONE_BY_HAND: "Done by hand",
    TaskChoice.DROP: "Drop",
    TaskChoice.APPLY: "Apply it",
    TaskChoice.IGNORE: "Ignore",
    TaskChoice.ASK_STATUS: "Ask status",
}
"""A task choice as its button says it."""


def _problem_sections(console: Console) -> list[dict[str, Any]]:
    open_tasks = console.node.institution.task_desk.open
    return [
        {
            "list": listed,
            "title": title,
            "intro": intro,
            "tasks": open_tasks(task_list=listed, limit=LIST_LIMIT),
        }
        for listed, title, intro in PROBLEM_LISTS
    ]


async def problems(console: Console, request: Request) -> Response:
    """GET /problems: the stored tasks staff must decide, each list with its choices.

    Deliveries that gave up, partners' messages that did not fit, partners out of step.
    """
    sections = await run_in_threadpool(_problem_sections, console)
    return console.render(request, "problems.html", sections=sections, labels=CHOICE_LABEL)


async def resolve(console: Console, request: Request) -> Response:
    """POST /problems/{id}: one of the task's choices (recorded with the user)."""
    form = request.state.form
    try:
        choice = TaskChoice(str(form.get("choice") or ""))
    except ValueError:
        raise Refused(
            400,
            "Choose one of the task's choices: retry now, done by hand, drop, apply, ignore"
            " or ask status.",
        ) from None
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
