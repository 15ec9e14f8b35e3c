// Live updates of the events list: every few seconds, ask the API for events newer than the newest shown.
// Text is set with textContent only: nothing from the server is ever parsed as HTML.
(function () {
  "use strict";
  var table = document.querySelector("table[data-live-events]");
  if (!table) { return; }
  var body = table.querySelector("tbody");
  var after = Number(table.dataset.after || 0);
  function cell(row, text, href) {
    var td = row.insertCell(-1);
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    return td;
  }
  function when(stamp) { return stamp ? stamp.replace("T", " ").slice(0, 19) : ""; }
  function poll() {
    var query = new URLSearchParams({ after: String(after), limit: "100" });
    if (table.dataset.filterType) { query.set("type", table.dataset.filterType); }
    if (table.dataset.filterStatus) { query.set("status", table.dataset.filterStatus); }
    if (table.dataset.filterCase) { query.set("case", table.dataset.filterCase); }
    fetch("/api/events?" + query.toString(), { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (answer) {
        var events = Array.isArray(answer) ? answer : (answer.items || []);
        var empty = body.querySelector("tr.empty");
        if (events.length && empty) { empty.remove(); }
        events.slice().reverse().forEach(function (event) {
          var row = body.insertRow(0);
          row.className = "fresh";
          cell(row, String(event.seq));
          cell(row, when(event.received_at));
          cell(row, event.event_type, "/console/events/" + encodeURIComponent(event.id));
          cell(row, event.case_id ? event.case_id.slice(0, 8) + "…" : "",
            event.case_id ? "/console/cases/" + encodeURIComponent(event.case_id) : null);
          var job = cell(row, "");
          var badge = document.createElement("span");
          badge.className = "badge " + (event.job_status || "");
          badge.textContent = event.job_status || "—";
          job.appendChild(badge);
          cell(row, String(event.deviation_count));
          after = Math.max(after, event.seq);
        });
      })
      .catch(function () { /* the next poll tries again */ });
  }
  setInterval(poll, 3000);
}());
