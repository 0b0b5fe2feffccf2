// The case page: "Process the cancellation" asks first. The form's submit opens the dialog
// that says what will happen; only its confirm button submits, with "confirmed" set. Without
// this script the form answers with a confirmation page instead (nothing changes until then).
(function () {
  "use strict";

  // The date as the page writes dates in every language of the desk (d.m.Y).
  function shownDate(value) {
    var parts = (value || "").split("-");
    if (parts.length !== 3) return value;
    return parts[2] + "." + parts[1] + "." + parts[0];
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    var confirmed = form.querySelector("input[name=confirmed]");
    if (confirmed && confirmed.value === "on") return;
    var dialog = document.getElementById(form.dataset.confirm);
    if (!dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    var date = form.querySelector("input[name=effective_date]");
    var shown = dialog.querySelector("[data-cancel-date]");
    if (date && shown && date.value) shown.textContent = shownDate(date.value);
    dialog.showModal();
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-confirm-yes], [data-confirm-no]") : null;
    if (!button) return;
    var dialog = button.closest("dialog");
    if (!dialog) return;
    dialog.close();
    if (!button.hasAttribute("data-confirm-yes")) return;
    var form = document.querySelector("form[data-confirm='" + dialog.id + "']");
    if (!form) return;
    var confirmed = form.querySelector("input[name=confirmed]");
    if (confirmed) confirmed.value = "on";
    form.submit();
  });
})();
