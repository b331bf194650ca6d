// List pages: on a wide screen the filters are open beside the results; on a phone they stay closed above the
// results, behind their "Filter" button, so the results come first. Without JavaScript they open on a click.
(function () {
  "use strict";
  var details = document.querySelector("details[data-portal-filters]");
  if (!details || !window.matchMedia) {
    return;
  }
  if (window.matchMedia("(min-width: 61.875em)").matches) {
    details.open = true;
  }
})();
