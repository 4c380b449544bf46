/// The dashboard's one script, compiled into the binary and served at `path`. On the run page it follows the run's
/// event stream, adds each new event to the log's top, and updates the state, event count and progress line, writing
/// text only (`textContent`), never markup, so nothing the stream carries can become a tag. On the runs page it
/// swaps in the table the server sends whenever the runs change: markup the server rendered with `HTML`, which
/// escapes everything a user wrote, exactly as it renders the page itself (and the CSP runs no inline script).
public enum LiveScript {
    public static let path = "/assets/live.js"

    public static let source = """
        "use strict";
        (function () {
          var live = document.getElementById("live");
          if (!live || !window.EventSource) { return; }
          // When the page began to follow, and for each event when it arrived: what a reader (or a test) needs to
          // tell how far behind the page is.
          live.setAttribute("data-opened", String(Date.now()));
          var source = new EventSource(live.getAttribute("data-source"));
          function text(id, value) {
            var element = document.getElementById(id);
            if (element) { element.textContent = value; }
          }
          source.addEventListener("run-event", function (message) {
            var event = JSON.parse(message.data);
            var row = document.createElement("tr");
            row.className = "live-event";
            row.setAttribute("data-version", String(event.version));
            row.setAttribute("data-recorded", String(event.recordedMilliseconds));
            row.setAttribute("data-received", String(Date.now()));
            [String(event.version), event.type, event.stage || "", event.recorded, event.hash].forEach(function (cell) {
              var td = document.createElement("td");
              td.textContent = cell;
              row.appendChild(td);
            });
            var body = document.getElementById("live-events");
            if (body) { body.insertBefore(row, body.firstChild); }
            text("live-latest", event.type + " (event " + event.version + ")");
          });
          source.addEventListener("status", function (message) {
            var status = JSON.parse(message.data);
            text("run-state", status.state);
            text("event-count", String(status.events));
            text("live-progress", status.progress);
            if (status.state !== "queued" && status.state !== "running") { source.close(); }
          });
        })();
        (function () {
          var table = document.getElementById("runs-live");
          if (!table || !window.EventSource) { return; }
          table.setAttribute("data-opened", String(Date.now()));
          var source = new EventSource(table.getAttribute("data-source"));
          source.addEventListener("runs", function (message) {
            table.innerHTML = message.data;
            table.setAttribute("data-updated", String(Date.now()));
          });
        })();

        """
}
