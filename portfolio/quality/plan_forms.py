"""Forms of the sampling strategy and the sampling plans."""

from __future__ import annotations

import calendar
from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portfolio.core.forms import choices
from portfolio.quality.models import STAGES
from portfolio.quality.selection import Pair

_PERCENT = [InputRequired(message="Give a share from 0 to 100 per cent."),
            NumberRange(0, 100, message="Give a share from 0 to 100 per cent.")]


class StrategyForm(FlaskForm):
    cycle_months = IntegerField("Cycle length in months", validators=[
        InputRequired(message="Give the cycle's length."),
        NumberRange(1, 36, message="A cycle lasts from 1 to 36 months.")])
    cycle_start_day = IntegerField("Day of the month a cycle starts", validators=[
        InputRequired(message="Give the day."),
        NumberRange(1, 28, message="Choose a day from 1 to 28, which every month has.")])
    cycle_start_month = SelectField("Month a cycle starts", coerce=int, choices=choices(
        (number, calendar.month_name[number]) for number in range(1, 13)))
    new_assessor_months = IntegerField("An assessor is new for this many months after "
                                       "qualifying", validators=[
        InputRequired(message="Give a number of months."),
        NumberRange(1, 120, message="Give from 1 to 120 months.")])
    working_towards_percent = IntegerField("Working towards: share of learner x unit pairs "
                                           "sampled per cycle (%)", validators=_PERCENT)
    new_percent = IntegerField("New: share sampled per cycle (%)", validators=_PERCENT)
    experienced_percent = IntegerField("Experienced: share sampled per cycle (%)",
                                       validators=_PERCENT)
    interim_percent = IntegerField("Share of samples at the interim stage (%)",
                                   validators=_PERCENT)
    every_unit_of_new_qualification = BooleanField(
        "Sample every learner's every unit of a qualification new to the centre")


class NewPlanForm(FlaskForm):
    assessor_id = SelectField("Assessor", coerce=int,
                              validators=[DataRequired(message="Choose an assessor.")])
    qualification_id = SelectField("Qualification", coerce=int,
                                   validators=[DataRequired(message="Choose a qualification.")])
    cycle_starts_on = SelectField("Cycle", validators=[DataRequired(message="Choose a cycle.")])


def stage_name(pair: Pair) -> str:
    return f"stage-{pair.enrolment_id}-{pair.unit_id}"


def due_name(pair: Pair) -> str:
    return f"due-{pair.enrolment_id}-{pair.unit_id}"


def plan_grid_form(pairs: Iterable[Pair], unit_labels: dict[int, str], **kwargs) -> FlaskForm:
    """The learner x unit grid of a plan: per pair, its stage (or not planned) and due date,
    with a note for the revision."""

    class PlanGridForm(FlaskForm):
        note = TextAreaField("Why you change the plan", validators=[
            DataRequired(message="Say why you change the plan: the note is kept in its "
                                 "history."), Length(max=2000)])

    stage_choices = [("", "Not planned"), *STAGES.items()]
    for pair in pairs:
        unit = unit_labels[pair.unit_id]
        setattr(PlanGridForm, stage_name(pair),
                SelectField(f"Unit {unit}: stage", choices=choices(stage_choices), default=""))
        setattr(PlanGridForm, due_name(pair),
                DateField(f"Unit {unit}: due on", validators=[Optional()]))
    return PlanGridForm(**kwargs)
