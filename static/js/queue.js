// The queue's keys: j and k move a marked row, Enter opens its case, x ticks it for the bulk
// actions. Not while typing in a field; the row is found again after htmx swaps the results.
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-table tbody tr[data-case]"));
  }

  function current() {
    return document.querySelector("#queue-table tbody tr.current");
  }

  function mark(row) {
    var old = current();
    if (old) {
      old.classList.remove("current");
      old.removeAttribute("aria-current");
    }
    if (!row) return;
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    row.setAttribute("tabindex", "-1");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(current());
    var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : index + step;
    mark(all[Math.max(0, Math.min(all.length - 1, next))]);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" ||
        active.tagName === "SELECT" || active.tagName === "BUTTON" || active.isContentEditable)) {
      return;
    }
    var row = current();
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      move(event.key === "j" ? 1 : -1);
    } else if (event.key === "Enter" && row && (active === row || active === document.body)) {
      var link = row.querySelector("a[href]");
      if (link) {
        event.preventDefault();
        link.click();
      }
    } else if (event.key === "x" && row) {
      var box = row.querySelector('input[type="checkbox"]');
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  });

  // A click on a row marks it, so the keys carry on from there.
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#queue-table tbody tr[data-case]");
    if (row && row !== current()) {
      var old = current();
      if (old) old.classList.remove("current");
      row.classList.add("current");
    }
  });
})();
