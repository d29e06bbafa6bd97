// The console works without this file: it only adds conveniences.
// 1. Live lists: a page with [data-live] polls /live (the change feed's position) and, when
//    it moved, fetches the same page again and swaps its <main> in, unless the operator is
//    typing in a field.
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
  var seen = null;
  function typing() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA") && a.value;
  }
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main) { main.innerHTML = fresh.innerHTML; main.setAttribute("data-refreshed", String(seen)); }
      });
  }
  function poll() {
    fetch("/live", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (seen !== null && data.changes !== seen && !typing()) { seen = data.changes; refresh(); }
        else if (seen === null) { seen = data.changes; }
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 2000); });
  }
  poll();
})();
