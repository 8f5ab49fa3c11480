// Small page behaviours (served locally; the CSP allows no inline script).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Put the cursor in the first field that has an error.
  var invalid = document.querySelector(".is-invalid");
  if (invalid) { invalid.focus(); }
  // Disable a submit button once its form is sent, so a double click does not post twice.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });
});
