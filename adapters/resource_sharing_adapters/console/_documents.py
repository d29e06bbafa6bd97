"""The printed documents a desk prints from the console, made by the documents module.

The console does not lay documents out itself: it builds the same print jobs the
lifecycle emits (:data:`resource_sharing.effects.PrintJob`) from a request as it is now
and hands them to :class:`~resource_sharing_adapters.documents.DocumentRenderer`
(HTML with print CSS and Code 128 as SVG, or PDF), so a reprint looks like the print
the node made when the step happened, and an institution's template overrides apply.

Which documents a request has: a lending request with an item, its pick slip and its
shipping label; a borrowing request with an item barcode, its hold-shelf slip and its
return slip (to the lender that supplied it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from resource_sharing.effects import (
    PrintHoldShelfSlip,
    PrintJob,
    PrintPickSlip,
    PrintReturnSlip,
    PrintShippingLabel,
)
from resource_sharing.errors import InvalidInput
from resource_sharing.ports import AnyRequest
from resource_sharing.records import BorrowingRequest, LendingRequest, TimerKind

__all__ = ["KINDS", "jobs_of", "renderer_for", "sheet"]

KINDS = ("pick_slip", "shipping_label", "hold_shelf_slip", "return_slip")
"""The document kinds, as the documents module names its templates."""

_LABELS = {
    "pick_slip": "Pick slip",
    "shipping_label": "Shipping label",
    "hold_shelf_slip": "Hold-shelf slip",
    "return_slip": "Return slip",
}


def renderer_for(node: Any) -> Any:
    """A document renderer with the node's name, agency and partner directory."""
    from resource_sharing_adapters.documents import DocumentRenderer, Institution

    config = node.config
    return DocumentRenderer(
        Institution(name=config.name or str(node.agency), agency=node.agency),
        config.directory.get,
        timezone=config.calendar.tz,
    )


def jobs_of(record: AnyRequest) -> dict[str, PrintJob]:
    """The documents this request can print now, by kind."""
    jobs: dict[str, PrintJob] = {}
    if isinstance(record, LendingRequest):
        if record.item is not None:
            jobs["pick_slip"] = PrintPickSlip(
                record.id, record.item, record.citation, record.requester, record.need_before
            )
            jobs["shipping_label"] = PrintShippingLabel(
                record.id,
                record.item.barcode,
                record.citation,
                record.requester,
                record.requester_request_id,
            )
        return jobs
    assert isinstance(record, BorrowingRequest)
    if record.item_barcode:
        expires = next(
            (d.at for d in record.deadlines if d.kind is TimerKind.HOLD_SHELF_EXPIRY), None
        )
        jobs["hold_shelf_slip"] = PrintHoldShelfSlip(
            record.id,
            record.item_barcode,
            record.patron,
            record.pickup_location,
            expires,
            record.citation,
        )
        if record.attempts:
            attempt = record.attempts[-1]
            jobs["return_slip"] = PrintReturnSlip(
                record.id,
                record.item_barcode,
                attempt.lender,
                record.citation,
                attempt.supplier_request_id,
            )
    return jobs


def label_of(kind: str) -> str:
    """How a page names a document kind."""
    return _LABELS[kind]


def job(record: AnyRequest, kind: str) -> PrintJob:
    """The request's document of this kind, or InvalidInput saying why there is none."""
    if kind not in KINDS:
        raise InvalidInput("document", f"one of {', '.join(KINDS)}")
    found = jobs_of(record).get(kind)
    if found is None:
        raise InvalidInput(
            "document", f"request {record.id} has no {_LABELS[kind].lower()} yet (no item)"
        )
    return found


_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)
_HEAD = re.compile(r"<head[^>]*>(.*)</head>", re.S)


def sheet(renderer: Any, jobs: Sequence[PrintJob]) -> str:
    """Several documents as one HTML page, one per printed page (the first's styles)."""
    pages = [renderer.html(j) for j in jobs]
    head = _HEAD.search(pages[0])
    bodies = [(_BODY.search(p) or re.search("(.*)", p, re.S)).group(1) for p in pages]  # type: ignore[union-attr]
    breaker = '<div style="break-after: page; page-break-after: always"></div>'
    return (
        '<!doctype html><html lang="en"><head>'
        + (head.group(1) if head else "")
        + "</head><body>"
        + breaker.join(bodies)
        + "</body></html>"
    )
