"""Forms of an enrolment's page: one per change, each with its own prefix so that the page can
show them all and re-show the one that was refused with its errors."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class EditEnrolmentForm(FlaskForm):
    registration_number = StringField("Registration number",
                                      validators=[DataRequired(), Length(max=40)])
    start_date = DateField("Start date", validators=[DataRequired()])
    planned_end_date = DateField("Planned end date", validators=[DataRequired()])


class MoveEnrolmentForm(FlaskForm):
    assessor_id = SelectField("Assessor", coerce=int)
    iqa_id = SelectField("Internal quality assurer", coerce=int)


class BreakForm(FlaskForm):
    starts_on = DateField("First day of the break", validators=[DataRequired()])
    ends_on = DateField("Last day (if known)", validators=[Optional()])
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])
    planned_end_date = DateField("New planned end date (to extend it)", validators=[Optional()])


class EndBreakForm(FlaskForm):
    ends_on = DateField("Last day of the break", validators=[DataRequired()])


class WithdrawForm(FlaskForm):
    ended_on = DateField("Date the learner left", validators=[DataRequired()])
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])


class CompleteForm(FlaskForm):
    ended_on = DateField("Date of completion", validators=[DataRequired()])
