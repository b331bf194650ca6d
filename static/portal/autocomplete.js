// Turns each <select data-module="autocomplete"> into a text box whose list of choices narrows as people type
// (accessible-autocomplete, loaded before this file). Without JavaScript the select works as it is.
//
// A select with data-source holds only the chosen record (a long list, nhs_joint/suggest.py): its choices are
// asked for from that address (this site's own) as people type, and the one chosen is put in the select, which
// stays in the page, hidden, as the field the form sends.
(function () {
  "use strict";
  if (typeof window.accessibleAutocomplete === "undefined") {
    return;
  }
  var WAIT_MS = 200; // typing pauses this long before the suggestions are asked for

  function noResults() {
    return "No results found";
  }

  // A suggestion's text is drawn as HTML by accessible-autocomplete: a record's name is written out as text.
  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  // Emptying the box means "none chosen": the select forgets its choice, so the form sends the empty value.
  function clearWhenEmptied(select, input) {
    var empty = select.querySelector('option[value=""]');
    if (input && select.form) {
      select.form.addEventListener("submit", function () {
        if (input.value.trim() === "" && empty) {
          select.value = "";
        }
      });
    }
  }

  function sourceFrom(select) {
    var address;
    try {
      address = new URL(select.getAttribute("data-source"), window.location.href);
    } catch (error) {
      return null;
    }
    if (address.origin !== window.location.origin) {
      return null; // only this site is asked (the page's content security policy allows no other)
    }
    var timer = null;
    var latest = 0;
    var controller = null;
    return function (query, populate) {
      var asked = ++latest;
      window.clearTimeout(timer);
      if (controller) {
        controller.abort();
        controller = null;
      }
      timer = window.setTimeout(function () {
        address.searchParams.set("q", query.slice(0, 100));
        controller = typeof AbortController === "undefined" ? null : new AbortController();
        fetch(address.toString(), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          signal: controller ? controller.signal : undefined
        })
          .then(function (response) {
            if (!response.ok) {
              throw new Error("The suggestions were not answered: " + response.status);
            }
            return response.json();
          })
          .then(function (results) {
            if (asked === latest) {
              populate(Array.isArray(results) ? results : []);
            }
          })
          .catch(function (error) {
            if (asked === latest && !(error && error.name === "AbortError")) {
              populate([]); // shown as "No results found"
            }
          });
      }, WAIT_MS);
    };
  }

  function enhanceRemote(select) {
    var source = sourceFrom(select);
    if (!source) {
      return false;
    }
    var id = select.id;
    var chosen = select.options[select.selectedIndex];
    // The label names the box (its "for" is the select's id, now the box's); the select, hidden, is sent.
    select.id = id + "-select";
    select.style.display = "none";
    var container = document.createElement("div");
    select.parentNode.insertBefore(container, select);
    window.accessibleAutocomplete({
      element: container,
      id: id,
      name: "", // the select is the field the form sends; the box has no name
      source: source,
      defaultValue: chosen && chosen.value ? chosen.textContent : "",
      placeholder: "",
      minLength: 2,
      autoselect: false,
      confirmOnBlur: false,
      showNoOptionsFound: true,
      templates: {
        inputValue: function (option) {
          return option && typeof option === "object" ? option.label : option || "";
        },
        suggestion: function (option) {
          return escapeHtml(option && typeof option === "object" ? option.label : option || "");
        }
      },
      tNoResults: noResults,
      onConfirm: function (option) {
        if (!option || typeof option !== "object" || typeof option.value === "undefined") {
          return;
        }
        var value = String(option.value);
        var found = Array.prototype.filter.call(select.options, function (item) {
          return item.value === value;
        })[0];
        if (!found) {
          found = document.createElement("option");
          found.value = value;
          found.textContent = option.label;
          select.appendChild(found);
        }
        select.value = value;
      }
    });
    clearWhenEmptied(select, document.getElementById(id));
    return true;
  }

  var selects = document.querySelectorAll('select[data-module="autocomplete"]');
  Array.prototype.forEach.call(selects, function (select) {
    if (select.multiple) {
      return;
    }
    if (select.hasAttribute("data-source") && enhanceRemote(select)) {
      return;
    }
    var id = select.id;
    window.accessibleAutocomplete.enhanceSelectElement({
      selectElement: select,
      defaultValue: select.value === "" ? "" : undefined,
      placeholder: "",
      showAllValues: true,
      minLength: 0,
      autoselect: false,
      confirmOnBlur: true,
      templates: {
        suggestion: function (text) {
          return escapeHtml(text || "");
        }
      },
      tNoResults: noResults
    });
    clearWhenEmptied(select, document.getElementById(id));
  });
})();
