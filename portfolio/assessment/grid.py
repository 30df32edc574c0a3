"""The tracking grid's cells, one link per criterion with its status in words and by a mark as
well as by colour (✓ met, ✓? met but awaiting countersignature, … claimed and waiting, ✗ not yet
met).

Written here rather than in the template: a diploma has over seven hundred cells, and the
template's handling of each of a cell's dozen values cost more than the rest of the page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from markupsafe import Markup, escape

from portfolio.assessment.progress import UnitProgress
from portfolio.catalogue.tree import CriterionNode

MARKS = {"met": "✓", "awaiting_countersignature": "✓?", "claimed": "…", "not_yet_met": "✗",
         "not_started": ""}


def grid_cells(unit: UnitProgress, criteria: Iterable[CriterionNode],
               hrefs: Mapping[int, str]) -> Markup:
    """The cells of ``criteria`` (one outcome's) in ``unit``. A unit achieved by RPL or credit
    transfer shows every criterion met."""
    credited = unit.is_achieved and unit.sign_off.method != "assessment"
    cells = []
    for criterion in criteria:
        state = unit.criteria[criterion.id]
        status = "met" if credited else state.status
        code, label = escape(criterion.code), escape(state.label)
        mark = (f' <span aria-hidden="true">{MARKS[status]}</span>' if MARKS[status] else "")
        cells.append(f'<a class="cell status-{status}" href="{escape(hrefs[criterion.id])}" '
                     f'title="{code} {label}: {escape(criterion.text)}">{code}{mark}'
                     f'<span class="visually-hidden">: {label}</span></a>')
    return Markup("\n".join(cells))
