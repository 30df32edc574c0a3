// Criteria picker: filter by unit, code or words; keep a count of the chosen criteria.
(function () {
  "use strict";
  document.querySelectorAll("[data-picker]").forEach(function (picker) {
    var search = picker.querySelector("[data-picker-search]");
    var count = picker.querySelector("[data-picker-count]");
    var rows = Array.prototype.slice.call(picker.querySelectorAll(".picker-criterion"));
    var units = Array.prototype.slice.call(picker.querySelectorAll(".picker-unit"));
    search.hidden = false;

    function updateCount() {
      var chosen = picker.querySelectorAll("input[name=criteria]:checked").length;
      count.textContent = chosen + " chosen";
    }

    function filter() {
      var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      rows.forEach(function (row) {
        var text = row.getAttribute("data-search");
        row.hidden = !terms.every(function (t) { return text.indexOf(t) !== -1; });
      });
      units.forEach(function (unit) {
        var visible = unit.querySelectorAll(".picker-criterion:not([hidden])").length;
        unit.hidden = visible === 0;
        if (terms.length) { unit.open = visible > 0 && visible <= 40; }
      });
    }

    search.addEventListener("input", filter);
    picker.addEventListener("change", updateCount);
    updateCount();
  });
})();
