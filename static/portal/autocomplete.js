// Turns each <select data-module="autocomplete"> into a text box whose list of choices narrows as people type
// (accessible-autocomplete, loaded before this file). Without JavaScript the select works as it is.
(function () {
  "use strict";
  if (typeof window.accessibleAutocomplete === "undefined") {
    return;
  }
  var selects = document.querySelectorAll('select[data-module="autocomplete"]');
  Array.prototype.forEach.call(selects, function (select) {
    if (select.multiple) {
      return;
    }
    var empty = select.querySelector('option[value=""]');
    var id = select.id;
    window.accessibleAutocomplete.enhanceSelectElement({
      selectElement: select,
      defaultValue: select.value === "" ? "" : undefined,
      placeholder: "",
      showAllValues: true,
      minLength: 0,
      autoselect: false,
      confirmOnBlur: true,
      tNoResults: function () {
        return "No results found";
      }
    });
    // Emptying the box means "none chosen": the select forgets its choice, so the form sends the empty value.
    var input = document.getElementById(id);
    var form = select.form;
    if (input && form) {
      form.addEventListener("submit", function () {
        if (input.value.trim() === "" && empty) {
          select.value = "";
        }
      });
    }
  });
})();
