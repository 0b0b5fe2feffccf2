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

  // Keyboard shortcuts: an element with data-shortcut="/" gets focus on that key (a button or
  // a link is clicked instead: "/" on the case page opens the subscriber search), unless the
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

  // A self-refreshing list (the approvals inbox) must not wipe what a manager is doing: skip
  // the refresh while focus is inside it, a fold (the amend form) is open, or any field has
  // been changed (a number, a choice, a tick: not only text).
  function changed(field) {
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (o) {
        return o.selected !== o.defaultSelected;
      });
    }
    return field.type !== "hidden" && field.value !== field.defaultValue;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = event.detail.elt;
    if (!el.hasAttribute || !el.hasAttribute("data-poll-pause-when-busy")) return;
    var busy = el.contains(document.activeElement) ||
      el.querySelector("details[open]") !== null ||
      Array.prototype.some.call(el.querySelectorAll("input, textarea, select"), changed);
    if (busy) event.preventDefault();
  });

  // A swap that took away the focused element (a decided offer's card leaves the inbox) would
  // leave the keyboard at the top of the page. When nothing has the focus after a swap, the
  // new content's element marked data-focus-after-swap (the answer: "approved", or why not)
  // takes it. htmx itself gives the focus back to an element of the same id when there is one.
  document.addEventListener("htmx:afterSettle", function (event) {
    var active = document.activeElement;
    if (active && active !== document.body) return;
    var el = event.target;
    if (!(el instanceof Element) || !el.isConnected) return;
    var next = el.matches("[data-focus-after-swap]") ? el : el.querySelector("[data-focus-after-swap]");
    if (next) next.focus();
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
