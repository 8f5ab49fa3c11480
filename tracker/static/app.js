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
        // Pickers that search as you type (units, officers): Tom Select, vendored, asking the
  // server for suggestions, so that a province's 10,000 units never load into one list.
  if (window.TomSelect) {
    document.querySelectorAll("select[data-lookup]").forEach(function (select) {
      var url = select.getAttribute("data-lookup");
      new window.TomSelect(select, {
        valueField: "value", labelField: "text", searchField: ["text"],
        maxOptions: 20, preload: "focus", allowEmptyOption: true,
        placeholder: select.getAttribute("data-placeholder") || "",
        load: function (query, callback) {
          fetch(url + "?q=" + encodeURIComponent(query), {credentials: "same-origin",
                                                          headers: {"Accept": "application/json"}})
            .then(function (r) { return r.ok ? r.json() : []; })
            .then(callback).catch(function () { callback(); });
        }
      });
    });
  }
  // "Select all" of a list of findings.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var table = box.closest("table");
      table.querySelectorAll("tbody input[type=checkbox][name=id]").forEach(function (one) {
        one.checked = box.checked;
      });
    });
  });
});
    });
  });
});
