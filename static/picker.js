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

    // A term like "301", "2.3" or "301.2.3" must equal a unit number or criterion code (so "1.1"
    // does not also find 1.10 and 11.1); any other term is looked for in the wording.
    var CODE = /^[0-9]+(\.[0-9]+)*$/;
    function matches(row, term) {
      if (CODE.test(term)) {
        return row.getAttribute("data-codes").split(" ").indexOf(term) !== -1;
      }
      return row.getAttribute("data-text").indexOf(term) !== -1;
    }

    function filter() {
      var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      rows.forEach(function (row) {
        row.hidden = !terms.every(function (t) { return matches(row, t); });
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
