"""The console in a real browser: Playwright driving Debian's Chromium (never downloaded).

Three nodes on loopback (SQLite stores, the seed story's configuration); staff log in
and click the seed story through, then the security rules are tried from the browser.
Every page visited is saved as a PNG in ``$RS_CONSOLE_SCREENSHOTS`` (a temporary
directory unless set); ``docs/console/`` holds copies of the main ones.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from resource_sharing_adapters.console import Role, accounts_of
from tests.adapters.documents_jobs import pdf_barcodes, pdf_text
from tests.adapters.nodes_http import HOLDING, Cluster, seed_cluster, wait_until

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DAY = 86_400.0
TABLET = ViewportSize(width=768, height=1024)
TABLET_DESKS = (
    ("a", ("Borrowing", "New request", "Received Items", "Hold shelf", "Return Items")),
    ("c", ("Resource Request Monitoring", "Pick From Shelf", "Shipping", "Check-in")),
)
"""The desks visited on a tablet at the end of the seed story, at node A and at node C."""


def tablet_shot(desk: str) -> str:
    """The screenshot's name of a desk on the tablet."""
    return "tablet-" + desk.lower().replace(" ", "-")


PASSWORD = "correct horse battery"
USERS = {  # institution: (user, roles, desk)
    "US-A": ("abby", [Role.BORROWING], "Main"),
    "US-B": ("bert", [Role.LENDING], "Main desk"),
    "US-C": ("cleo", [Role.LENDING], "Main desk"),
}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as made:
        yield made


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=ARGS,
        viewport={"width": 1366, "height": 768},
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


# -- usability: what every console page is checked for when its screenshot is taken --

_PAGE_FACTS = r"""() => {
  const facts = {scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth,
                 unlabelled: [], texts: []};
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!named) facts.unlabelled.push(el.outerHTML.slice(0, 120));
  }
  function background(el) {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      const m = c.match(/rgba?\(([^)]*)\)/);
      if (m) {
        const p = m[1].split(",").map(Number);
        if (p.length < 4 || p[3] > 0) return p.slice(0, 3);
      }
    }
    return [255, 255, 255];
  }
  const seen = new Set();
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    const fg = style.color.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
    const key = [fg, background(el), style.fontSize, style.fontWeight].join("|");
    if (seen.has(key)) continue;
    seen.add(key);
    facts.texts.push({fg, bg: background(el), size: parseFloat(style.fontSize),
                      weight: Number(style.fontWeight) || 400,
                      text: el.textContent.trim().slice(0, 40)});
  }
  return facts;
}"""


def luminance(rgb: list[float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0-255 channels)."""

    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: list[float], other: list[float]) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_ratio_is_wcags() -> None:
    assert round(contrast([0, 0, 0], [255, 255, 255]), 1) == 21.0
    assert contrast([255, 255, 255], [255, 255, 255]) == 1.0
    assert round(contrast([0x76, 0x76, 0x76], [255, 255, 255]), 2) == 4.54  # WCAG's grey


def usability_problems(page: Page) -> list[str]:
    """What keeps a page from being usable.

    Sideways scrolling, unlabelled fields, and text below WCAG AA contrast (4.5:1; 3:1
    for large text: 24 px, or 18.66 px bold).
    """
    facts = page.evaluate(_PAGE_FACTS)
    assert facts["texts"], "no text found to check"
    problems = []
    if facts["scrollWidth"] > facts["width"]:
        problems.append(f"scrolls sideways: {facts['scrollWidth']} px in {facts['width']} px")
    problems.extend(f"no label: {html}" for html in facts["unlabelled"])
    for text in facts["texts"]:
        large = text["size"] >= 24 or (text["size"] >= 18.66 and text["weight"] >= 700)
        ratio = contrast(text["fg"], text["bg"])
        if ratio < (3.0 if large else 4.5):
            problems.append(f"contrast {ratio:.2f}: {text['text']!r} {text['fg']} on {text['bg']}")
    return problems


PRINTED = frozenset({"pick-slips"})
"""Shots of printed documents, not console pages (their layout is the documents')."""


@pytest.fixture
def shots(tmp_path: Path) -> Callable[[Page, str], None]:
    """Check that the page is usable (:func:`usability_problems`), then save its screenshot.

    ``make screenshots`` keeps them in docs/console/.
    """
    folder = Path(os.environ.get("RS_CONSOLE_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page: Page, name: str) -> None:
        if name not in PRINTED:
            assert usability_problems(page) == [], name
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return shoot


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Cluster]:
    made = seed_cluster(tmp_path)
    for table in made.tables.values():  # postal addresses for the labels and slips
        for partner in table["partners"]:
            partner["address"] = f"{partner['name']} Library\nInterlibrary loan\n1 Main St"
    try:
        for name in ("US-A", "US-B", "US-C"):
            node = made.start(name)
            user, roles, desk = USERS[name]
            accounts_of(node).add(user, PASSWORD, roles, desk=desk, display_name=user.title())
        yield made
    finally:
        made.close()


def base(nodes: Cluster, name: str) -> str:
    return f"http://127.0.0.1:{nodes.ports[name]}"


def log_in(page: Page, url: str, user: str, password: str = PASSWORD) -> None:
    page.goto(url + "/")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Desks").get_by_role("link", name=name, exact=True).click()


def reload_until(page: Page, check: Callable[[], bool], what: str) -> None:
    def seen() -> bool | None:
        page.reload()
        return check() or None

    wait_until(seen, timeout=20.0, what=what)


def big(page: Page) -> str:
    return page.locator(".next").first.inner_text()


def test_the_seed_story_clicked_through_on_three_nodes(
    nodes: Cluster, browser: BrowserContext, shots: Callable[[Page, str], None]
) -> None:
    a, b, c = browser.new_page(), browser.new_page(), browser.new_page()
    a_url, b_url, c_url = base(nodes, "US-A"), base(nodes, "US-B"), base(nodes, "US-C")
    log_in(a, a_url, "abby")
    shots(a, "home")
    log_in(b, b_url, "bert")
    log_in(c, c_url, "cleo")

    def advance(days: float) -> None:
        """Move every node's clock; sessions end after 8 hours of it, so log in again."""
        nodes.advance(days * DAY)
        for page, url, user in ((a, a_url, "abby"), (c, c_url, "cleo")):
            log_in(page, url, user)
            # The jump fires the nodes' timers and deliveries first; on a loaded CI machine
            # the login can wait behind them longer than Playwright's default 5 s.
            expect(page.locator("h1")).to_have_text("Home", timeout=20_000)

    # Borrow: the new-request form, the rota explained before sending.
    nav(a, "New request")
    a.get_by_label("Patron id").fill("p-1")
    a.get_by_label("Patron name").fill("Ada Lovelace")
    a.get_by_label("Title").fill("The Art of Computer Programming")
    a.get_by_label("Author").fill("Knuth, Donald")
    a.get_by_label("ISBN").fill("978-0-201-89683-1")
    a.get_by_label("Lenders in order").fill("ISIL:US-B ISIL:US-C")
    a.get_by_role("button", name="Show the rota").click()
    expect(a.get_by_role("region", name="Rota explanation")).to_contain_text("ISIL:US-B")
    shots(a, "new-request")
    a.get_by_role("button", name="Send the request").click()
    expect(a.locator("h1")).to_contain_text("Borrowing request")
    request_url = a.url

    # Unfilled at B, then the next lender C: B's monitoring shows it rejected.
    nav(b, "Resource Request Monitoring")
    reload_until(b, lambda: "Rejected" in b.content() or "nfilled" in b.content(), "B unfilled")
    shots(b, "monitoring")

    # C: pick slips of the selected, then picked, then shipped (the label printed).
    nav(c, "Pick From Shelf")
    reload_until(c, lambda: c.locator("tbody input[type=checkbox]").count() > 0, "C pick list")
    shots(c, "pick-from-shelf")
    c.locator("tbody input[type=checkbox]").first.check()
    c.get_by_role("button", name="Print pick slips of the selected").click()
    expect(c.locator("body")).to_contain_text(HOLDING["call_number"])
    expect(c.locator("body")).to_contain_text(HOLDING["location"])
    expect(c.locator("svg").first).to_be_visible()  # the Code 128 barcode
    shots(c, "pick-slips")
    c.go_back()
    rid = c.locator("tbody a").first.inner_text()
    pdf = c.request.get(f"{c_url}/documents/lending/{rid}/pick_slip.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf_text(pdf.body()).count(HOLDING["call_number"]) == 1
    assert ("Code128", HOLDING["barcode"]) in pdf_barcodes(pdf.body())
    c.get_by_role("button", name="Picked").first.click()
    nav(c, "Shipping")
    reload_until(c, lambda: c.get_by_role("button", name="Ship").count() > 0, "C shipping")
    shots(c, "shipping")
    c.get_by_role("button", name="Ship").first.click()
    label = c.request.get(f"{c_url}/documents/lending/{rid}/shipping_label.pdf")
    assert ("Code128", HOLDING["barcode"]) in pdf_barcodes(label.body())
    assert "US-A" in pdf_text(label.body())
    advance(3)

    # A: Received Items: pick the request, the temporary item, then the hold shelf.
    nav(a, "Received Items")
    expect(a.get_by_label("Scan the item's barcode or type the request id")).to_be_focused()
    reload_until(
        a,
        lambda: a.locator("tbody").get_by_role("link", name="Receive", exact=True).count() > 0,
        "A can receive",
    )
    shots(a, "received-items")
    a.locator("tbody").get_by_role("link", name="Receive", exact=True).first.click()
    a.get_by_label("Temporary item barcode").fill("A-TEMP-1")
    shots(a, "temporary-item")
    a.get_by_label("Temporary item barcode").press("Enter")
    assert big(a) == "Place on hold shelf for Ada Lovelace"
    shots(a, "received")
    nav(a, "Hold shelf")
    shots(a, "hold-shelf")
    a_rid = request_url.rsplit("/", 1)[1]
    slip = a.request.get(f"{a_url}/documents/borrowing/{a_rid}/hold_shelf_slip.pdf")
    assert ("Code128", "A-TEMP-1") in pdf_barcodes(slip.body())
    a.get_by_role("button", name="Check out").first.click()

    # Renew after 27 days; C's policy decides.
    advance(27)
    a.goto(request_url)
    a.get_by_role("button", name="Ask the lender to renew").click()
    a.goto(request_url)
    reload_until(
        a,
        lambda: "renew" in a.locator("section", has_text="History").inner_text().lower(),
        "A renewal in history",
    )

    # Recall by C's lending staff.
    advance(4)
    nav(c, "Resource Request Monitoring")
    c.get_by_label("Title, request id or barcode").fill(HOLDING["barcode"])
    c.get_by_label("Title, request id or barcode").press("Enter")
    c.locator("tbody a").first.click()
    c_request_url = c.url
    shots(c, "lending-request")
    c.get_by_role("button", name="Recall").click()
    a.goto(request_url)
    reload_until(a, lambda: "Recalled" in a.locator(".big").first.inner_text(), "A recalled")
    shots(a, "borrowing-request")

    # Returned at another desk (Branch): routed; then shipped back to C.
    advance(2)
    nav(a, "Return Items")
    expect(a.get_by_label("Scan the item's barcode")).to_be_focused()
    a.get_by_label("At desk").fill("Branch")
    a.get_by_label("Scan the item's barcode").fill("A-TEMP-1")
    a.get_by_label("Scan the item's barcode").press("Enter")
    routed = big(a)
    assert routed
    shots(a, "return-items")
    a.goto(request_url)
    back = a.request.get(f"{a_url}/documents/borrowing/{a_rid}/return_slip.pdf")
    assert ("Code128", "A-TEMP-1") in pdf_barcodes(back.body())
    assert "US-C" in pdf_text(back.body())
    a.get_by_role("button", name="Ship back to the lender").click()
    expect(a.locator(".message")).to_contain_text("done")

    # C checks it in: the instruction in large text; both sides complete.
    advance(3)
    nav(c, "Check-in")
    reload_until(
        c, lambda: _state(nodes, "US-C", c_request_url) == "returned_by_partner", "C returned"
    )
    c.get_by_label("Scan the item's barcode").fill(HOLDING["barcode"])
    c.get_by_label("Scan the item's barcode").press("Enter")
    assert big(c)
    shots(c, "check-in")
    a.goto(request_url)
    reload_until(a, lambda: "Request completed" in a.locator(".big").first.inner_text(), "done")
    history = a.locator("section", has_text="History").inner_text()
    assert "staff:abby" in history  # every console action names its user
    c.goto(c_request_url)
    expect(c.locator(".big").first).to_contain_text("Request completed")
    assert "staff:cleo" in c.locator("section", has_text="History").inner_text()
    assert _state(nodes, "US-B", None) == "unfilled"

    # The same desks on a tablet (portrait): one column, nothing scrolls sideways (every
    # shot checks it), the scan field has the focus.
    for side, desks in TABLET_DESKS:
        page, url = (a, a_url) if side == "a" else (c, c_url)
        page.set_viewport_size(TABLET)
        page.goto(url + "/")
        shots(page, f"tablet-home-{side}")
        for desk in desks:
            nav(page, desk)
            scan = page.locator("[data-scan]")
            if scan.count():
                expect(scan).to_be_focused()
            shots(page, tablet_shot(desk))
    a.goto(request_url)
    a.locator("#message-1 summary").first.click()  # a message's fields, decoded
    shots(a, "tablet-borrowing-request")


_FOCUS = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const rgb = c => (c.match(/\\d+(\\.\\d+)?/g) || [255, 255, 255]).slice(0, 3).map(Number);
  let bg = [255, 255, 255];
  for (let e = el.parentElement; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") { bg = rgb(c); break; }
  }
  return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          outline: rgb(style.outlineColor), shadow: rgb(style.boxShadow), bg};
}"""


def assert_focus_visible(page: Page) -> None:
    """The focused element has a thick ring that stands out from what is around it (3:1)."""
    focus = page.evaluate(_FOCUS)
    assert focus["style"] == "solid"
    assert focus["width"] >= 2
    rings = (focus["outline"], focus["shadow"])
    assert max(contrast(ring, focus["bg"]) for ring in rings) >= 3, focus
    assert contrast(*rings) >= 3, focus  # the two rings stand apart, on any background


def _state(nodes: Cluster, name: str, url: str | None) -> str:
    """The lending request's state (the page's, or the node's only one)."""
    if url is None:
        return str(nodes.staff[name].changes()[-1]["state"])
    return nodes.state(name, "lending", url.rsplit("/", 1)[1])


def test_login_csrf_roles_lockout_and_expiry_in_the_browser(
    nodes: Cluster, browser: BrowserContext, shots: Callable[[Page, str], None]
) -> None:
    page = browser.new_page()
    url = base(nodes, "US-A")
    page.goto(url + "/")
    expect(page.get_by_label("User name")).to_be_focused()
    shots(page, "login")
    page.evaluate("document.querySelector('label').style.color = '#aaaaaa'")
    assert any(p.startswith("contrast") for p in usability_problems(page))  # it is checked
    page.evaluate("document.body.style.minWidth = '3000px'")
    assert any(p.startswith("scrolls sideways") for p in usability_problems(page))
    page.reload()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in")).to_be_focused()
    assert_focus_visible(page)
    log_in(page, url, "abby", "wrong password")
    expect(page.locator(".error")).to_contain_text("Wrong user name or password")
    log_in(page, url, "abby")
    expect(page.locator("h1")).to_have_text("Home")
    page.keyboard.press("Tab")  # from the page into the top bar: the first link
    assert_focus_visible(page)

    # A POST without the CSRF token (a forged form from another page) is refused.
    answer = page.request.post(
        url + "/borrowing/new", form={"patron_id": "p", "title": "T", "send": "1"}
    )
    assert answer.status == 403
    assert "security token" in answer.text()

    # Role limits: borrowing staff cannot open the lending pages.
    page.goto(url + "/lending/monitor")
    expect(page.locator(".error")).to_contain_text("lending staff role")
    shots(page, "refused")

    # Lock-out after repeated failures at another node.
    other = browser.new_page()
    c_url = base(nodes, "US-C")
    for _ in range(5):
        log_in(other, c_url, "cleo", "not the password")
    expect(other.locator(".error")).to_contain_text("locked")
    log_in(other, c_url, "cleo")
    expect(other.locator(".error")).to_contain_text("locked")

    # The session expires on the node's clock.
    nodes.staff["US-A"].advance_clock(9 * 3600)
    page.goto(url + "/")
    expect(page.locator(".message")).to_contain_text("session has expired")
    assert re.search(r"/login", page.url)


def test_task_lists_refresh_from_the_change_feed_without_a_reload(
    nodes: Cluster, browser: BrowserContext, shots: Callable[[Page, str], None]
) -> None:
    page = browser.new_page()
    url = base(nodes, "US-C")
    log_in(page, url, "cleo")
    row = page.locator("tr", has=page.get_by_role("link", name="Pick From Shelf", exact=True))
    expect(row.locator("td.num").last).to_have_text("0")
    page.evaluate("window.notReloaded = true")
    nodes.staff["US-A"].place(
        {
            "patron": {"id": "p-2", "name": "Grace Hopper"},
            "citation": {
                "title": "The Art of Computer Programming",
                "item_ids": [{"code": "ISBN", "value": "978-0-201-89683-1"}],
            },
            "rota": ["ISIL:US-C"],
        }
    )
    expect(row.locator("td.num").last).to_have_text("1", timeout=20_000)
    assert page.evaluate("window.notReloaded") is True  # swapped in, not reloaded
    expect(page.locator("#main")).to_have_attribute("data-refreshed", re.compile(r"\d+"))
    expect(page.locator("#main")).to_have_attribute("data-live-via", "events")  # not polling
    shots(page, "home-live")


def test_the_console_docs_show_only_the_screenshots_these_tests_take() -> None:
    here = Path(__file__)
    taken = set(re.findall(r'shots\(\w+, "([a-z-]+)"\)', here.read_text(encoding="utf-8")))
    taken |= {f"tablet-home-{side}" for side, _ in TABLET_DESKS}
    taken |= {tablet_shot(desk) for _, desks in TABLET_DESKS for desk in desks}
    docs = here.parents[3] / "docs" / "console.md"
    shown = set(re.findall(r"\(console/([a-z-]+)\.png\)", docs.read_text(encoding="utf-8")))
    assert shown, "docs/console.md shows no screenshot"
    assert shown <= taken, f"not taken by the tests (make screenshots): {shown - taken}"
    folder = docs.parent / "console"
    assert {p.stem for p in folder.glob("*.png")} <= taken  # nothing copied in by hand
