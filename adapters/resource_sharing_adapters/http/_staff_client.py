"""The staff API from Python: what the ``desk`` CLI, the demo and the tests use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["StaffClient", "StaffError"]


class StaffError(Exception):
    """The staff API refused a call (the HTTP status, the error kind and its detail)."""

    def __init__(
        self, status: int, kind: str, detail: str, body: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"HTTP {status} {kind}: {detail}")
        self.status = status
        """The HTTP status."""
        self.kind = kind
        """The error's kind (``IllegalTransition``, ``NotFound``...)."""
        self.detail = detail
        """What went wrong."""
        self.body = body or {}
        """The whole error document (an ``AmbiguousBarcode`` lists its ``candidates``)."""


class StaffClient:
    """Calls one node's staff API (``base_url`` like ``http://127.0.0.1:8626``)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        """The node's base URL."""
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            trust_env=False,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, path, **kwargs)
        if response.status_code >= 400:
            body: dict[str, Any] | None = None
            try:
                body = response.json()
                kind, detail = str(body["error"]), str(body["detail"])
            except (ValueError, KeyError, TypeError):
                body, kind, detail = None, "HTTPError", response.text[:300]
            raise StaffError(response.status_code, kind, detail, body)
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        """GET a staff path (``/staff/...``) with query parameters."""
        clean = {k: v for k, v in params.items() if v is not None}
        return self._call("GET", path, params=clean)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """POST JSON to a staff path."""
        return self._call("POST", path, json=dict(body or {}))

    def info(self) -> dict[str, Any]:
        """The node's agency, name, clock and feed positions."""
        result: dict[str, Any] = self.get("/staff/info")
        return result

    def changes(self, since: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Up to ``limit`` committed steps after ``since`` (ask again from the last ``seq``)."""
        result: list[dict[str, Any]] = self.get("/staff/changes", since=since, limit=limit)
        return result

    def journal(self, since: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Up to ``limit`` notices, circulation commands and print jobs after ``since``."""
        result: list[dict[str, Any]] = self.get("/staff/journal", since=since, limit=limit)
        return result

    def tasks(
        self, task_list: str, *, desk: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """A page of a task list."""
        result: list[dict[str, Any]] = self.get(
            f"/staff/tasks/{task_list}", desk=desk, limit=limit, offset=offset
        )
        return result

    def task(self, task_id: str) -> dict[str, Any]:
        """One stored task (a delivery that gave up, or a peer message that did not fit)."""
        result: dict[str, Any] = self.get(f"/staff/task/{task_id}")
        return result

    def choose_task(
        self, task_id: str, choice: str, *, by: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """Carry out one of a stored task's choices (``apply``, ``ignore``, ``retry_now``...)."""
        body = {k: v for k, v in {"choice": choice, "by": by, "note": note}.items() if v}
        result: dict[str, Any] = self.post(f"/staff/task/{task_id}", body)
        return result

    def request(self, side: str, request_id: str) -> dict[str, Any]:
        """One request with its history."""
        result: dict[str, Any] = self.get(f"/staff/requests/{side}/{request_id}")
        return result

    def find(self, side: str, protocol_id: str, counterpart: str) -> str:
        """The id of the request a partner names by ``protocol_id``."""
        found = self.get("/staff/find", side=side, protocol_id=protocol_id, counterpart=counterpart)
        return str(found["id"])

    def place(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Place a borrowing request (patron, citation, pickup_location, rota...)."""
        result: dict[str, Any] = self.post("/staff/borrowing/requests", body)
        return result

    def act(
        self, side: str, request_id: str, action: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A staff action on one request (``receive``, ``ship``, ``answer-cancel``...)."""
        result: dict[str, Any] = self.post(f"/staff/{side}/{request_id}/{action}", body)
        return result

    def scan(self, barcode: str, desk: str | None = None) -> list[dict[str, Any]]:
        """What to do with a scanned item."""
        result: list[dict[str, Any]] = self.post("/staff/scan", {"barcode": barcode, "desk": desk})
        return result

    def return_item(
        self, barcode: str, desk: str | None = None, *, request_id: str | None = None
    ) -> dict[str, Any]:
        """The patron returned a borrowed item at ``desk`` (``request_id``: staff's choice)."""
        body = {"barcode": barcode, "desk": desk, **_chosen(request_id)}
        result: dict[str, Any] = self.post("/staff/borrowing/return", body)
        return result

    def check_in(self, barcode: str, *, request_id: str | None = None) -> dict[str, Any]:
        """Check a returned loan in (the answer says where it goes)."""
        body = {"barcode": barcode, **_chosen(request_id)}
        result: dict[str, Any] = self.post("/staff/lending/check-in", body)
        return result

    def local_hold(
        self, barcode: str, patron_id: str | None = None, *, request_id: str | None = None
    ) -> dict[str, Any]:
        """A local patron placed a hold on a lent item."""
        body = {"barcode": barcode, "patron_id": patron_id, **_chosen(request_id)}
        result: dict[str, Any] = self.post("/staff/lending/local-hold", body)
        return result

    def dispatch(self) -> dict[str, Any]:
        """Run the dispatcher now."""
        result: dict[str, Any] = self.post("/staff/dispatch")
        return result

    def tick(self) -> int:
        """Run the timers now; returns how many fired."""
        return int(self.post("/staff/tick")["fired"])

    def sweep(self) -> dict[str, Any]:
        """Run the consistency sweep now; returns its counts."""
        result: dict[str, Any] = self.post("/staff/sweep")
        return result

    def advance_clock(self, seconds: float) -> str:
        """Move an adjustable clock forward; returns the new time."""
        return str(self.post("/staff/clock", {"advance_seconds": seconds})["now"])

    def outbox(self, status: str | None = None) -> list[dict[str, Any]]:
        """Outbox messages."""
        result: list[dict[str, Any]] = self.get("/staff/outbox", status=status)
        return result

    def delivery_tasks(self, desk: str | None = None) -> list[dict[str, Any]]:
        """The open delivery tasks (effects that gave up), oldest first."""
        result: list[dict[str, Any]] = self.get("/staff/delivery-tasks", desk=desk)
        return result

    def resolve_task(
        self, task_id: str, choice: str, *, by: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """A staff choice on a delivery task: ``retry-now``, ``mark-done`` or ``drop``."""
        body = {k: v for k, v in (("by", by), ("note", note)) if v is not None}
        result: dict[str, Any] = self.post(f"/staff/delivery-tasks/{task_id}/{choice}", body)
        return result

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> StaffClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _chosen(request_id: str | None) -> dict[str, str]:
    """The staff's choice among the requests a barcode names, when made."""
    return {"request_id": request_id} if request_id is not None else {}
