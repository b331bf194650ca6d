// Wide tables: a table wider than its box scrolls inside the box, never the page, and says so. Every table in
// the page's content is put in a scrolling box (the lists' and dashboards' own boxes are kept); a box whose table
// is wider than itself gets a shadow on the side there is more to see and the words "Scroll sideways to see
// every column", so that people on a phone know there is more. Without JavaScript the box still scrolls.
(function () {
  "use strict";
  var main = document.getElementById("maincontent");
  if (!main) {
    return;
  }
  main.querySelectorAll("table").forEach(function (table) {
    if (table.closest(".portal-table-scroll")) {
      return;
    }
    var box = document.createElement("div");
    box.className = "portal-table-scroll";
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
  });
  var boxes = main.querySelectorAll(".portal-table-scroll");
  function mark() {
    boxes.forEach(function (box) {
      var wider = box.scrollWidth - box.clientWidth > 0;
      var end = box.scrollLeft + box.clientWidth >= box.scrollWidth - 1;
      var hint = box.previousElementSibling;
      var hasHint = hint && hint.classList.contains("portal-scroll-hint");
      if (wider) {
        box.setAttribute("data-portal-scroll-cue", "");
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");  // so that the keyboard can scroll it too
        }
        if (!hasHint) {
          hint = document.createElement("p");
          hint.className = "nhsuk-body-s portal-scroll-hint";
          hint.textContent = "Scroll sideways to see every column";
          box.parentNode.insertBefore(hint, box);
        }
        box.classList.toggle("portal-table-scroll--more-right", !end);
        box.classList.toggle("portal-table-scroll--more-left", box.scrollLeft > 0);
      } else {
        box.removeAttribute("data-portal-scroll-cue");
        box.classList.remove("portal-table-scroll--more-right", "portal-table-scroll--more-left");
        if (hasHint) {
          hint.remove();
        }
      }
    });
  }
  boxes.forEach(function (box) {
    box.addEventListener("scroll", mark, { passive: true });
  });
  window.addEventListener("resize", mark);
  mark();
})();
