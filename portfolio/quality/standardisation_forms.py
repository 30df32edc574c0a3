"""Standardisation's forms: planning an activity, adding evidence, judging, minutes, actions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    Form,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portfolio.core.forms import choices
from portfolio.evidence.forms import IntegerListField
from portfolio.quality.standardisation_models import JUDGEMENT_OUTCOMES


class ActivityForm(FlaskForm):
    """The choices (qualifications, the centre's IQAs and staff) are set by the view."""

    title = StringField("What it is about", validators=[DataRequired(), Length(max=200)])
    held_on = DateField("Date", validators=[DataRequired()])
    qualification = SelectField("Qualification", coerce=int, validators=[DataRequired()])
    lead = SelectField("Led by", coerce=int, validators=[DataRequired()])
    participants = SelectMultipleField(
        "Attendees", coerce=int, widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput())


class ItemSearchForm(Form):
    """A GET form (no CSRF token: it changes nothing)."""

    q = SearchField("Search by learner or title", validators=[Optional(), Length(max=200)])


class AddItemForm(FlaskForm):
    item = HiddenField("Item", validators=[DataRequired()])


class ExemplarForm(FlaskForm):
    title = StringField("Title of the exemplar", validators=[DataRequired(), Length(max=200)])
    file = FileField("File", validators=[FileRequired("Choose the exemplar's file.")])
    criteria = IntegerListField("Assessment criteria")


class MinutesForm(FlaskForm):
    text = TextAreaField("Minutes", validators=[DataRequired(), Length(max=20000)])


class ActionForm(FlaskForm):
    """The owners (the participants) are set by the view."""

    text = TextAreaField("Action agreed", validators=[DataRequired(), Length(max=2000)])
    owner = SelectField("Owner", coerce=int, validators=[DataRequired()])
    due_on = DateField("Due", validators=[DataRequired()])


def judgement_form(criteria) -> FlaskForm:
    """A form with an outcome and a rationale per criterion (``(id, label)`` pairs), named
    ``outcome_<id>`` and ``rationale_<id>``."""

    class JudgementForm(FlaskForm):
        pass

    for criterion_id, label in criteria:
        setattr(JudgementForm, f"outcome_{criterion_id}", RadioField(
            f"{label}: your judgement", choices=choices(JUDGEMENT_OUTCOMES.items()),
            validators=[InputRequired("Choose met or not yet met.")]))
        setattr(JudgementForm, f"rationale_{criterion_id}", TextAreaField(
            "Why", validators=[DataRequired("Give your rationale."), Length(max=5000)]))
    return JudgementForm()
