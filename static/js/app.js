// Small behaviours that CSP keeps out of inline attributes. Loaded with `defer`.
(function () {
  "use strict";

  // Selects marked data-autosubmit submit their form on change (the language switcher).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) {
      el.form.submit();
    }
  });

  // Keyboard shortcuts: an element with data-shortcut="/" gets focus on that key, unless the
  // user is typing in a field already.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var active = document.activeElement;
    var typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" ||
      active.tagName === "SELECT" || active.isContentEditable);
    if (typing) {
      if (event.key === "Escape") active.blur();
      return;
    }
    var target = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
    if (target) {
      event.preventDefault();
      if (target.tagName === "BUTTON" || target.tagName === "A") {
        target.click();
      } else {
        target.focus();
        if (target.select) target.select();
      }
    }
  });

  // A self-refreshing list (the approvals inbox) must not wipe what a manager is typing: skip
  // the refresh while focus is inside it or one of its fields has been filled in.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = event.detail.elt;
    if (!el.hasAttribute || !el.hasAttribute("data-poll-pause-when-busy")) return;
    var busy = el.contains(document.activeElement) ||
      Array.prototype.some.call(el.querySelectorAll("input[type=text], textarea"), function (f) {
        return f.value !== f.defaultValue;
      });
    if (busy) event.preventDefault();
  });

  // Polls marked data-poll-skip-hidden (the notification bell) rest while the tab is hidden,
  // and catch up at once when it is shown again.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = event.detail.elt;
    if (document.hidden && el.hasAttribute && el.hasAttribute("data-poll-skip-hidden")) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && document.body) {
      document.body.dispatchEvent(new CustomEvent("notifications-changed"));
    }
  });
})();
