// Progressive enhancement only: every page reads fully without JavaScript.
// Invoice filters: show the rows of one year and/or status.
(function () {
  "use strict";
  document.querySelectorAll("form[data-filter-table]").forEach(function (form) {
    var target = document.getElementById(form.getAttribute("data-filter-table"));
    if (!target) { return; }
    var rows = target.querySelectorAll("tbody tr");
    var count = form.querySelector(".filter-count");
    function apply() {
      var year = form.elements.year.value;
      var status = form.elements.status.value;
      var shown = 0;
      rows.forEach(function (row) {
        var ok = (!year || row.getAttribute("data-year") === year) &&
          (!status || row.getAttribute("data-status") === status);
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      if (count) {  // "1 of 8 invoices": the page's own words, in its language
        count.textContent = (count.getAttribute("data-template") || "{shown} / {total}")
          .replace("{shown}", String(shown)).replace("{total}", String(rows.length));
      }
    }
    form.hidden = false;
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  });
})();
