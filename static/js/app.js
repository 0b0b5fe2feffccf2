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
})();
