// logbuild search: loads the prebuilt search.json once and ranks entries by the words typed.
(function () {
  "use strict";
  var script = document.currentScript;
  var indexUrl = script.getAttribute("data-index");
  var root = script.getAttribute("data-root") || "";
  var input = document.getElementById("q");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var records = null;

  function words(text) {
    return text.toLowerCase().split(/[^\p{L}\p{N}_.-]+/u).filter(Boolean);
  }
  function score(rec, terms) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i], s = 0;
      if (rec.t.toLowerCase().indexOf(t) >= 0) s += 10;
      if (rec.g.join(" ").indexOf(t) >= 0) s += 6;
      if (rec.s.toLowerCase().indexOf(t) >= 0) s += 3;
      if (rec.x.toLowerCase().indexOf(t) >= 0) s += 1;
      if (!s) return 0;
      total += s;
    }
    return total;
  }
  function snippet(rec, terms) {
    var text = rec.x, lower = text.toLowerCase(), at = lower.indexOf(terms[0]);
    var start = Math.max(0, at - 60);
    var piece = (start ? "…" : "") + text.slice(start, start + 200) + (start + 200 < text.length ? "…" : "");
    return piece;
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function show(query) {
    var terms = words(query);
    list.replaceChildren();
    if (!terms.length) { status.textContent = "Type to search every entry."; return; }
    var hits = records.map(function (r) { return [score(r, terms), r]; })
      .filter(function (p) { return p[0] > 0; })
      .sort(function (a, b) { return b[0] - a[0] || (a[1].d < b[1].d ? 1 : -1); })
      .slice(0, 50);
    status.textContent = hits.length ? hits.length + (hits.length === 1 ? " entry" : " entries") + " found" : "Nothing found for “" + query + "”.";
    hits.forEach(function (pair) {
      var r = pair[1], li = el("li", "card"), art = el("article"), h = el("h2", "card-title"), a = el("a", null, r.t);
      a.href = root + r.u; h.appendChild(a); art.appendChild(h);
      var meta = el("p", "meta");
      if (r.d) { var time = el("time", null, r.d); time.dateTime = r.d; meta.appendChild(time); } else meta.textContent = "Page";
      art.appendChild(meta); art.appendChild(el("p", "summary", snippet(r, terms)));
      li.appendChild(art); list.appendChild(li);
    });
  }
  var params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  fetch(indexUrl).then(function (r) { return r.json(); }).then(function (data) {
    records = data;
    show(input.value);
    input.addEventListener("input", function () {
      show(input.value);
      var url = new URL(location.href);
      if (input.value) url.searchParams.set("q", input.value); else url.searchParams.delete("q");
      history.replaceState(null, "", url);
    });
  }).catch(function () { status.textContent = "The search index could not be loaded."; });
})();
