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
  // Pickers that search as you type (units, officers): Tom Select, vendored, asking the
  // server for suggestions, so that a province's 10,000 units never load into one list.
  if (window.TomSelect) {
    document.querySelectorAll("select[data-lookup]").forEach(function (select) {
      var url = select.getAttribute("data-lookup");
      // Tom Select points the label at its own box; the select it keeps (hidden, still read
      // by assistive technology) keeps the label's words.
      var label = select.id && document.querySelector("label[for='" + select.id + "']");
      if (label) { select.setAttribute("aria-label", label.textContent.trim()); }
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
  // The owner list follows the chosen unit (the owner rule: the unit's line), asked of the
  // server; the choice stays when the new unit allows it.
  document.querySelectorAll("[data-owners-url]").forEach(function (box) {
    var form = box.closest("form");
    var owner = box.querySelector("select[name=owner_id]");
    var unit = form && form.querySelector("select[name=org_id]");
    if (!owner || !unit) { return; }
    unit.addEventListener("change", function () {
      var url = box.getAttribute("data-owners-url") + "?org_id=" + encodeURIComponent(unit.value);
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (choices) {
          var kept = owner.value;
          var first = owner.options[0] && owner.options[0].value === "" ? owner.options[0] : null;
          owner.innerHTML = "";
          if (first) { owner.appendChild(first); }
          choices.forEach(function (c) {
            var option = document.createElement("option");
            option.value = String(c.value);
            option.textContent = c.text;
            owner.appendChild(option);
          });
          owner.value = choices.some(function (c) { return String(c.value) === kept; }) ? kept : "";
          owner.dispatchEvent(new Event("change"));
        });
    });
  });
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
