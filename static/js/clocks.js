// Countdown badges (retention/templatetags/clocks.py): every 30 seconds each <time data-clock>
// says again how long is left or how late it is, in the page's words (#clock-words, written in
// the page's language by the server), and turns amber or red at its thresholds. Loaded with
// `defer`; no reload, no request.
(function () {
  "use strict";

  var TICK_MS = 30000;
  var source = document.getElementById("clock-words");
  if (!source) return;
  var words = JSON.parse(source.textContent);
  var lang = document.documentElement.lang || "en";

  function fill(pattern, values) {
    return pattern.replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  }

  // The same rules as span_said on the server: minutes, hours and minutes, whole days from
  // 48 hours on; never "0 min".
  function span(seconds) {
    var minutes = Math.max(1, Math.floor(seconds / 60));
    if (minutes >= 48 * 60) {
      var days = Math.floor(minutes / (24 * 60));
      if (words.days[days]) return words.days[days];
      return new Intl.NumberFormat(lang, { style: "unit", unit: "day", unitDisplay: "long" })
        .format(days);
    }
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    if (!hours) return fill(words.min, { minutes: rest });
    if (!rest) return fill(words.h, { hours: hours });
    return fill(words.h_min, { hours: hours, minutes: rest });
  }

  function render(el, now) {
    var left = (Date.parse(el.getAttribute("datetime")) - now) / 1000;
    var amber = Number(el.dataset.amber);
    var red = Number(el.dataset.red);
    var state = left < red ? "red" : left < amber ? "amber" : "ok";
    var kind = el.dataset.clock;
    var late = left < 0;
    var text = fill(words[kind + (late ? "_late" : "_due")], {
      time: span(late ? -left : left + 59),
    });
    if (el.textContent !== text) el.textContent = text;
    ["ok", "amber", "red"].forEach(function (name) {
      el.classList.toggle("clock-" + name, name === state);
    });
    return state;
  }

  var rank = { ok: 0, amber: 1, red: 2 };

  function tick() {
    var now = Date.now();
    var rows = new Map();
    document.querySelectorAll("time[data-clock]").forEach(function (el) {
      var state = render(el, now);
      // A queue row wears the worse of its clocks (a contacted case has no contact clock).
      var row = el.closest("tr[data-case]");
      if (row && (!rows.has(row) || rank[state] > rank[rows.get(row)])) rows.set(row, state);
    });
    rows.forEach(function (state, row) {
      row.classList.toggle("clock-amber", state === "amber");
      row.classList.toggle("clock-red", state === "red");
    });
  }

  setInterval(tick, TICK_MS);
  // Fragments htmx swaps in were rendered by the server a moment ago: right already.
})();
