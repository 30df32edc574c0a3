"""The sample form (what was sampled, the five checks, the outcome, feedback and actions) and
the form of an action's entry."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from portfolio.core.forms import choices
from portfolio.quality.models import CHECKS, SAMPLE_OUTCOMES
from portfolio.quality.sampling import ActionRequest, CheckAnswer, SampleRecord

#: Blank action rows the form offers; a row left blank is no action.
ACTION_ROWS = 3
YES_NO = choices([("yes", "Yes"), ("no", "No")])


class ActionRowForm(Form):
    """One action: the view sets the owner's choices (the assessor first, the default)."""

    owner_id = SelectField("Owner", coerce=int, choices=[], validate_choice=False)
    text = TextAreaField("What must be done", validators=[Length(max=5000)])
    due_on = DateField("Due", validators=[Optional()])


class SampleForm(FlaskForm):
    # Drawn by the page itself beside each decision and item; the service checks the choice.
    decisions = SelectMultipleField("Decisions sampled", coerce=int, choices=[],
                                    validate_choice=False)
    items = SelectMultipleField("Evidence sampled", coerce=int, choices=[],
                                validate_choice=False)
    outcome = RadioField("Outcome", choices=choices(SAMPLE_OUTCOMES.items()),
                         validate_choice=False)
    feedback = TextAreaField("Feedback to the assessor", validators=[Length(max=10000)])
    actions = FieldList(FormField(ActionRowForm), min_entries=ACTION_ROWS,
                        max_entries=ACTION_ROWS * 4)

    def check_fields(self):
        """Per check: its label, its yes/no field and its note."""
        return [(label, self[name], self[f"{name}_note"]) for name, label in CHECKS.items()]

    def record(self) -> SampleRecord:
        return SampleRecord(
            decision_ids=self.decisions.data or [], item_ids=self.items.data or [],
            checks={name: CheckAnswer({"yes": True, "no": False}.get(self[name].data),
                                      self[f"{name}_note"].data or "") for name in CHECKS},
            outcome=self.outcome.data or "", feedback=self.feedback.data or "",
            actions=[ActionRequest(row.text.data or "", row.due_on.data, row.owner_id.data)
                     for row in self.actions])


for _name, _label in CHECKS.items():
    setattr(SampleForm, _name, RadioField(_label, choices=YES_NO, validate_choice=False))
    setattr(SampleForm, f"{_name}_note", TextAreaField(f"{_label}: note",
                                                       validators=[Length(max=5000)]))


class EntryForm(FlaskForm):
    """A response to an action, or the IQA closing or reopening it (with a note)."""

    text = TextAreaField("Note", validators=[Length(max=5000)])
