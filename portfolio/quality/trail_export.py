"""The sampling trail as files for an external quality assurer's visit: two CSV files (the
figures, one row per assessor x qualification and a last row of totals; and the samples recorded
in the period, one row each) and a PDF with both, the centre, the period, the date it was made
and "Page N of M" on every page.

CSV cells that a spreadsheet would read as a formula are prefixed with an apostrophe. The PDF is
set in DejaVu Sans where the system has it (any name prints); otherwise in the PDF's own
Helvetica, which holds Latin-1 only, so other characters are spelt without their accents or as
"?"."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from fpdf import FPDF

from portfolio.core.dates import date_time, long_date, short_date
from portfolio.quality.trail import COUNTS, COVERAGE, Figures, Trail
from portfolio.quality.trail_listing import SampleEntry

#: Column headings of the figures, in the order of :data:`COUNTS`.
COUNT_LABELS = {
    "planned": "Planned samples due", "planned_done": "Planned samples done",
    "ad_hoc": "Ad-hoc samples", "samples": "Samples recorded", "agree": "Agree",
    "agree_with_feedback": "Agree with feedback", "action_required": "Action required",
    "open_actions": "Open actions", "overdue_actions": "Overdue actions",
    "decisions_pending": "Decisions awaiting countersignature",
    "sign_offs_pending": "Sign-offs awaiting countersignature",
    "samples_pending": "Samples awaiting countersignature",
}
#: Shorter headings where the PDF's columns are narrow.
PDF_COUNT_LABELS = {
    "planned": "Planned due", "planned_done": "Planned done", "ad_hoc": "Ad hoc",
    "samples": "Samples", "agree": "Agree", "agree_with_feedback": "With feedback",
    "action_required": "Action required", "open_actions": "Open actions",
    "overdue_actions": "Overdue", "decisions_pending": "Decisions to sign",
    "sign_offs_pending": "Sign-offs to sign", "samples_pending": "Samples to sign",
}
SAMPLE_HEADINGS = ("Recorded", "Learner", "Registration number", "Qualification", "Unit",
                   "Assessor", "IQA", "Stage", "Planned for", "Outcome", "Open actions",
                   "Countersignature")
#: Debian's fonts-dejavu-core (which Chromium brings).
FONT_FOLDER = Path("/usr/share/fonts/truetype/dejavu")
#: Height of a table's line of text, in millimetres (7 point type).
LINE_MM = 3.2
_FORMULA = re.compile(r"^[=+\-@\t\r]")


def figures_headings() -> list[str]:
    return ["Assessor", "Qualification", *COUNT_LABELS.values(),
            *(f"{label} {part}" for label in COVERAGE.values()
              for part in ("sampled", "with decisions"))]


def figures_row(assessor: str, qualification: str, figures: Figures) -> list[object]:
    return [assessor, qualification, *(getattr(figures, name) for name in COUNTS),
            *(value for c in figures.coverage.values() for value in (c.sampled, c.total))]


def figures_rows(trail: Trail) -> Iterator[list[object]]:
    """The lines, then the totals over the selection."""
    for line in trail.lines:
        yield figures_row(line.assessor, line.qualification, line.figures)
    yield figures_row(f"Total: {trail.assessor}", trail.qualification, trail.totals)


def sample_row(sample: SampleEntry) -> list[object]:
    return [date_time(sample.recorded_at), sample.learner, sample.registration_number,
            sample.qualification, sample.unit, sample.assessor, sample.iqa, sample.stage,
            short_date(sample.planned_due_on) if sample.planned_due_on else "Ad hoc",
            sample.outcome, sample.open_actions, sample.countersignature]


def _safe(value: object) -> object:
    return f"'{value}" if isinstance(value, str) and _FORMULA.match(value) else value


def to_csv(headings: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    writer.writerows([_safe(value) for value in row] for row in rows)
    return out.getvalue()


def figures_csv(trail: Trail) -> str:
    return to_csv(figures_headings(), figures_rows(trail))


def samples_csv(samples: Iterable[SampleEntry]) -> str:
    return to_csv(SAMPLE_HEADINGS, map(sample_row, samples))


def file_stem(trail: Trail) -> str:
    """``sampling-trail-north-college-2026-09-01-to-2027-08-31``."""
    centre = re.sub(r"[^a-z0-9]+", "-", _ascii(trail.centre).lower()).strip("-") or "centre"
    period = trail.query.period
    return f"sampling-trail-{centre}-{period.starts_on}-to-{period.ends_on}"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


class _TrailPDF(FPDF):
    def __init__(self, trail: Trail) -> None:
        super().__init__(orientation="landscape", format="A4")
        self.trail = trail
        self.wrapped: dict[tuple, list[str]] = {}
        self.set_auto_page_break(auto=True, margin=15)
        regular, bold = FONT_FOLDER / "DejaVuSans.ttf", FONT_FOLDER / "DejaVuSans-Bold.ttf"
        self.unicode = regular.exists() and bold.exists()
        if self.unicode:
            self.add_font("Body", "", regular)
            self.add_font("Body", "B", bold)
        self.family = "Body" if self.unicode else "helvetica"

    def text_of(self, value: object) -> str:
        """``value`` as the font can print it."""
        text = str(value)
        if self.unicode:
            return text
        return "".join(c if ord(c) < 256 else (_ascii(c) or "?") for c in text)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, size=8)
        self.cell(0, 6, self.text_of(f"{self.trail.centre}: sampling trail, "
                                     f"{_period(self.trail)}"), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 6, f"Page {self.page_no()} of {{nb}}", align="R")

    def heading(self, text: str, size: int = 12) -> None:
        self.set_font(self.family, "B", size)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def paragraph(self, text: str) -> None:
        self.set_font(self.family, size=9)
        self.multi_cell(0, 5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def grid(self, headings: Iterable[str], rows: Iterable[Iterable[object]],
             widths: tuple[int, ...]) -> None:
        """A table in ``widths`` (millimetres) whose headings repeat on every page it runs
        onto. Drawn text by text rather than with fpdf2's table, which lays out every cell as a
        paragraph and takes a minute for a year's samples; a cell wraps onto a second line and
        is cut short with an ellipsis beyond."""
        headings = [self.text_of(h) for h in headings]
        self.set_font(self.family, size=7)
        self._grid_headings(headings, widths)
        for row in rows:
            lines = [self._wrap(self.text_of(value), width, 2)
                     for value, width in zip(row, widths, strict=True)]
            height = max(map(len, lines)) * LINE_MM + 1
            if self.get_y() + height > self.h - self.b_margin:
                self.add_page()
                self._grid_headings(headings, widths)
            self._grid_row(lines, widths, height)
        self.ln(4)

    def _grid_headings(self, headings: list[str], widths: tuple[int, ...]) -> None:
        self.set_font(self.family, "B", 7)
        lines = [self._wrap(h, width, 3) for h, width in zip(headings, widths, strict=True)]
        height = max(map(len, lines)) * LINE_MM + 1
        self.set_fill_color(230, 230, 230)
        self.rect(self.l_margin, self.get_y(), sum(widths), height, style="F")
        self._grid_row(lines, widths, height)
        self.set_font(self.family, size=7)

    def _grid_row(self, lines: list[list[str]], widths: tuple[int, ...], height: float) -> None:
        top, x = self.get_y(), self.l_margin
        for cell, width in zip(lines, widths, strict=True):
            for n, text in enumerate(cell):
                self.text(x + 0.8, top + 0.5 + LINE_MM * (n + 0.78), text)
            x += width
        self.line(self.l_margin, top + height, x, top + height)
        self.set_y(top + height)

    def _wrap(self, text: str, width: float, most: int) -> list[str]:
        """``text`` in lines that fit ``width`` (at most ``most``; the last cut short).
        Remembered: names, units and outcomes repeat down a table."""
        key = (text, width, most, self.font_style)
        if key not in self.wrapped:
            self.wrapped[key] = self._fit(text, width, most)
        return self.wrapped[key]

    def _fit(self, text: str, width: float, most: int) -> list[str]:
        room = width - 1.6
        if self.get_string_width(text) <= room:
            return [text]
        lines, line = [], ""
        for word in text.split():
            joined = f"{line} {word}" if line else word
            if line and self.get_string_width(joined) > room:
                lines.append(line)
                line = word
            else:
                line = joined
        lines.append(line)
        if len(lines) > most:
            lines = [*lines[:most - 1], " ".join(lines[most - 1:])]
        last = lines[-1]
        while last and self.get_string_width(last) > room:
            last = last[:-2] + "…" if self.unicode else last[:-4] + "..."
        return [*lines[:-1], last]


def _period(trail: Trail) -> str:
    period = trail.query.period
    return f"{long_date(period.starts_on)} to {long_date(period.ends_on)}"


def trail_pdf(trail: Trail, samples: Iterable[SampleEntry]) -> bytes:
    pdf = _TrailPDF(trail)
    pdf.set_title(f"Sampling trail: {trail.centre}")
    pdf.add_page()
    pdf.heading(f"Sampling trail: {trail.centre}", size=16)
    pdf.paragraph(f"Period: {_period(trail)}\nQualification: {trail.qualification}\n"
                  f"Assessor: {trail.assessor}\nGenerated {date_time(trail.generated_at)} "
                  f"(UK time); actions overdue as of {long_date(trail.query.today)}.")
    pdf.ln(3)
    rows = [(line.assessor, line.qualification, line.figures) for line in trail.lines]
    rows.append((f"Total: {trail.assessor}", trail.qualification, trail.totals))
    pdf.heading("Samples, outcomes, actions and countersignatures")
    pdf.grid(["Assessor", "Qualification", *PDF_COUNT_LABELS.values()],
             ([a, q, *(getattr(f, name) for name in COUNTS)] for a, q, f in rows),
             (34, 22, *([16] * len(COUNTS))))
    pdf.heading("CAMERA coverage: sampled of those with decisions in the period")
    pdf.grid(["Assessor", "Qualification", *COVERAGE.values()],
             ([a, q, *map(str, f.coverage.values())] for a, q, f in rows),
             (50, 30, *([25] * len(COVERAGE))))
    pdf.heading("Samples recorded in the period")
    pdf.grid([*SAMPLE_HEADINGS[:-1], "Countersigned"], map(sample_row, samples),
             (26, 28, 19, 21, 49, 24, 22, 13, 16, 23, 12, 24))
    return bytes(pdf.output())
