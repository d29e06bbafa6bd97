// The console works without this file: it only adds conveniences.
// 1. Live lists: a page with [data-live] listens to /events (server-sent events from the
//    change feed) and, when the feed moves, fetches the same page again and swaps its <main>
//    in, unless the operator is typing in a field (then it waits for the next change or the
//    field to empty). Where event streams do not get through, it polls /live every two
//    seconds instead.
// 2. Scanning: focus goes to the scan field; after a result it is selected for the next scan.
// 3. Print buttons print the page.
(function () {
  "use strict";
  var scan = document.querySelector("[data-scan]");
  if (scan) { scan.focus(); scan.select(); }
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  if (!document.querySelector("[data-live]")) { return; }
  var main = document.getElementById("main");
  var seen = null;
  var waiting = false;
  function typing() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA") && a.value;
  }
  function refresh(position) {
    if (typing()) { waiting = true; return; }
    waiting = false;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })  // not the login page
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (fresh && main) { main.innerHTML = fresh.innerHTML; main.setAttribute("data-refreshed", String(position)); }
      });
  }
  function moved(position) {
    if (seen !== null && position !== seen) { seen = position; refresh(position); }
    else if (seen === null) { seen = position; }
    else if (waiting) { refresh(position); }
  }
  function poll() {
    if (main) { main.setAttribute("data-live-via", "polling"); }
    fetch("/live", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { moved(data.changes); } })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 2000); });
  }
  if (!window.EventSource) { poll(); return; }
  var failures = 0;
  var source = new EventSource("/events");
  function heard(event) {
    failures = 0;
    if (main) { main.setAttribute("data-live-via", "events"); }
    moved(Number(event.data));
  }
  source.addEventListener("hello", heard);
  source.addEventListener("change", heard);
  source.addEventListener("error", function () {
    failures += 1;  // the browser reconnects by itself; after three failures in a row, poll
    if (failures >= 3 || source.readyState === EventSource.CLOSED) { source.close(); poll(); }
  });
})();
