// dajiuzhu — small page helpers, served as a file (the Content-Security-Policy allows no
// inline scripts). Tables get their column names on each cell, so that narrow screens can
// show each row as a card; buttons with data-print print the page.
(function () {
  "use strict";
  function labelTables() {
    document.querySelectorAll(".table-wrap table").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) { return; }
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, i) {
          if (!td.hasAttribute("data-label") && heads[i] && !td.hasAttribute("colspan")) {
            td.setAttribute("data-label", heads[i]);
          }
        });
      });
      table.classList.add("cardable");
    });
  }
  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }
  function ready() { labelTables(); printButtons(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  document.addEventListener("htmx:afterSwap", labelTables);
})();
