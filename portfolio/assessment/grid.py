"""The tracking grid's units, one link per criterion with its status in words and by a mark as
well as by colour (✓ met, ✓? met but awaiting countersignature, … claimed and waiting, ✗ not yet
met).

Written here rather than in the template: a diploma has over seven hundred cells, and the
template's handling of each of a cell's dozen values cost more than the rest of the page. Each
unit's HTML is kept per process under everything it shows (the unit, the criteria's statuses, the
sign-off's method, the links' stem), so it is never stale: a unit whose statuses are unchanged
since any request drew it is not written again."""

from __future__ import annotations

from markupsafe import Markup, escape

from portfolio.assessment.progress import UnitProgress
from portfolio.core.memo import Memo

MARKS = {"met": "✓", "awaiting_countersignature": "✓?", "claimed": "…", "not_yet_met": "✗",
         "not_started": ""}

#: Units drawn, by what they show: a diploma has some fifty units of about 5 kB each, so this
#: keeps some forty learners' grids in 10 MB.
_units: Memo[Markup] = Memo(size=2048)


def grid_unit(unit: UnitProgress, criterion_stem: str) -> Markup:
    """The unit's section of the grid; its cells link to ``criterion_stem``/criterion id."""
    method = ((unit.sign_off.method, unit.sign_off.method_label) if unit.sign_off is not None
              else None)
    # Unit nodes belong to version trees, which are kept for the life of the process.
    key = (id(unit.unit), criterion_stem, unit.status, unit.met, unit.is_achieved,
           unit.is_signed_off, method, tuple(state.status for state in unit.criteria.values()))
    return _units.get(key, lambda: _draw(unit, criterion_stem))


def _draw(unit: UnitProgress, criterion_stem: str) -> Markup:
    node = unit.unit
    method = unit.sign_off.method_label if unit.sign_off is not None else None
    met = unit.total if unit.is_achieved else unit.met
    signed = (f" · {escape(method)}" if unit.is_achieved else
              f" · {escape(method)}, awaiting countersignature" if unit.is_signed_off else "")
    outcomes = "\n".join(
        f'      <div class="grid-outcome"><span class="lo" title="{escape(outcome.text)}">'
        f'LO{escape(outcome.number)}</span>\n{_cells(unit, outcome.criteria, criterion_stem)}'
        f'</div>' for outcome in node.learning_outcomes)
    return Markup(
        f'  <section class="grid-unit unit-{unit.status}" id="unit-{escape(node.number)}">\n'
        f'    <h2><span class="code">{escape(node.number)}</span> {escape(node.title)} '
        f'<span class="meta">{met}/{unit.total}{signed}</span></h2>\n'
        f'    <div class="grid-outcomes">\n{outcomes}\n    </div>\n  </section>')


def _cells(unit: UnitProgress, criteria, criterion_stem: str) -> str:
    """The cells of ``criteria`` (one outcome's). A unit achieved by RPL or credit transfer
    shows every criterion met."""
    credited = unit.is_achieved and unit.sign_off.method != "assessment"
    stem = escape(criterion_stem)
    cells = []
    for criterion in criteria:
        state = unit.criteria[criterion.id]
        status = "met" if credited else state.status
        code, label = escape(criterion.code), escape(state.label)
        mark = (f' <span aria-hidden="true">{MARKS[status]}</span>' if MARKS[status] else "")
        cells.append(f'<a class="cell status-{status}" href="{stem}/{criterion.id}" '
                     f'title="{code} {label}: {escape(criterion.text)}">{code}{mark}'
                     f'<span class="visually-hidden">: {label}</span></a>')
    return "\n".join(cells)
