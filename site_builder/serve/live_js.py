"""SERVE: the script the preview server adds to every HTML page (never to the built site).

It listens to /__logbuild/events: `reload` -> reload the tab; `hello`/`status` -> show or clear
the list of build problems over the last good page. Vanilla JS, no dependencies.
"""

LIVE_JS = rb"""(function () {
  "use strict";
  var me = document.currentScript;
  var pageBuild = me ? Number(me.dataset.build) : -1;
  var css = "#logbuild-overlay{position:fixed;z-index:2147483647;left:1rem;right:1rem;bottom:1rem;" +
    "max-height:60vh;overflow:auto;background:#1e1e1e;color:#f5f5f5;font:14px/1.45 ui-monospace,monospace;" +
    "padding:1rem 1.25rem;border-radius:8px;box-shadow:0 6px 24px rgba(0,0,0,.4)}" +
    "#logbuild-overlay p{margin:0 0 .5rem;font-weight:bold}#logbuild-overlay ul{margin:0;padding-left:1.2rem}" +
    "#logbuild-overlay li.error{color:#ff8a80}#logbuild-overlay li.warning{color:#ffd180}" +
    "#logbuild-overlay li.running{color:#b3e5fc}" +
    "#logbuild-overlay button{position:absolute;top:.5rem;right:.75rem;background:none;color:inherit;border:1px solid #777;border-radius:4px;cursor:pointer}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);
  document.addEventListener("click", function (e) {
    if (e.target && e.target.matches && e.target.matches("#logbuild-overlay [data-close]")) {
      e.target.parentNode.remove();
    }
  });

  function show(state) {
    var old = document.getElementById("logbuild-overlay");
    if (old) old.remove();
    var rows = [];
    state.errors.forEach(function (l) { rows.push(["error", l]); });
    state.warnings.forEach(function (l) { rows.push(["warning", l]); });
    state.running.forEach(function (n) { rows.push(["running", "running snippet " + n + "\u2026"]); });
    if (!rows.length) return;
    var box = document.createElement("div");
    box.id = "logbuild-overlay";
    box.setAttribute("role", "alert");
    var title = document.createElement("p");
    title.textContent = state.errors.length ? "The last build failed; this is the last good site."
      : state.warnings.length ? "Warnings while previewing." : "Running snippets.";
    box.appendChild(title);
    var list = document.createElement("ul");
    rows.forEach(function (r) {
      var li = document.createElement("li");
      li.className = r[0];
      li.textContent = r[1];
      list.appendChild(li);
    });
    box.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("data-close", "");
    close.textContent = "Hide";
    box.appendChild(close);
    document.body.appendChild(box);
  }

  var source = new EventSource("/__logbuild/events");
  source.addEventListener("hello", function (e) {
    var state = JSON.parse(e.data);
    if (state.build !== pageBuild) { location.reload(); return; }
    show(state);
  });
  source.addEventListener("status", function (e) { show(JSON.parse(e.data)); });
  source.addEventListener("reload", function () { source.close(); location.reload(); });
})();
"""
