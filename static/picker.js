// Criteria picker: filter by unit, code or words; show the chosen criteria as removable chips and
// announce how many are chosen. Without JavaScript the checkboxes work alone.
(function () {
  "use strict";
  document.querySelectorAll("[data-picker]").forEach(function (picker) {
    var search = picker.querySelector("[data-picker-search]");
    var count = picker.querySelector("[data-picker-count]");
    var chips = picker.querySelector("[data-picker-chips]");
    var rows = Array.prototype.slice.call(picker.querySelectorAll(".picker-criterion"));
    var units = Array.prototype.slice.call(picker.querySelectorAll(".picker-unit"));
    var outcomes = Array.prototype.slice.call(picker.querySelectorAll(".picker-outcome"));
    search.hidden = false;

    function checkbox(row) { return row.querySelector("input[name=criteria]"); }

    // One chip per chosen criterion, in document order; its button unticks the criterion.
    function drawChips() {
      var chosen = rows.filter(function (row) { return checkbox(row).checked; });
      chips.textContent = "";
      chosen.forEach(function (row) {
        var name = row.getAttribute("data-chip");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.setAttribute("aria-label", "Remove " + name);
        button.textContent = name + " \u00d7";
        button.addEventListener("click", function () {
          var index = chosen.indexOf(row);
          checkbox(row).checked = false;
          drawChips();
          // Keep the keyboard in the list: the next chip, the one before, or the search box.
          var left = chips.querySelectorAll("button");
          (left[Math.min(index, left.length - 1)] || search).focus();
        });
        chips.appendChild(button);
        chips.appendChild(document.createTextNode(" "));
      });
      chips.hidden = chosen.length === 0;
      count.textContent = chosen.length + " chosen";
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

    function visibleIn(element) {
      return element.querySelectorAll(".picker-criterion:not([hidden])").length;
    }

    function filter() {
      var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      rows.forEach(function (row) {
        row.hidden = !terms.every(function (t) { return matches(row, t); });
      });
      outcomes.forEach(function (outcome) { outcome.hidden = visibleIn(outcome) === 0; });
      units.forEach(function (unit) {
        var visible = visibleIn(unit);
        unit.hidden = visible === 0;
        // Searching opens the units that match; clearing the search folds the list back to
        // the units holding a chosen criterion, as it was drawn.
        unit.open = terms.length ? visible > 0 && visible <= 40
                                 : unit.querySelector("input[name=criteria]:checked") !== null;
      });
    }

    search.addEventListener("input", filter);
    picker.addEventListener("change", drawChips);
    drawChips();
  });
})();
