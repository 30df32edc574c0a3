"""The evidence form, the claims form and the evidence list's filters."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Form,
    MultipleFileField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portfolio.core.forms import choices
from portfolio.evidence.listing import ITEM_STATUSES
from portfolio.evidence.models import METHODS, SETTINGS
from portfolio.evidence.services import WITNESS_NAME_NEEDED


class IntegerListField(SelectMultipleField):
    """Ids posted by the picker or the uploader; the service checks they are the user's."""

    def pre_validate(self, form):
        pass

    def process_formdata(self, valuelist):
        try:
            self.data = sorted({int(v) for v in valuelist})
        except ValueError:
            self.data = []
            raise ValueError("Not a valid choice.") from None


class ClaimsForm(FlaskForm):
    criteria = IntegerListField("Assessment criteria")


class EvidenceForm(ClaimsForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("What does it show?", validators=[Length(max=20000)])
    evidence_date = DateField("Date of the evidence", validators=[DataRequired()])
    method = SelectField("Method", choices=choices([("", "Choose…"), *METHODS.items()]),
                         validators=[DataRequired()])
    setting = SelectField("Setting", choices=choices([("", "Choose…"), *SETTINGS.items()]),
                          validators=[DataRequired()])
    witness_name = StringField("Witness name", validators=[Optional(), Length(max=200)])
    witness_role = StringField("Witness job role", validators=[Optional(), Length(max=200)])
    witness_relationship = StringField("Relationship to you",
                                       validators=[Optional(), Length(max=200)])
    witness_is_expert = BooleanField("The witness is an expert witness")
    files = MultipleFileField("Files")
    uploads = IntegerListField("Uploaded files")
    declaration = BooleanField("I confirm this evidence is my own work")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # The service refuses it too; here the message lands next to the field, and the witness
        # section opens to show it. (Not an inline validator: Optional() ends the field's chain.)
        if self.method.data == "witness_testimony" and not (self.witness_name.data or "").strip():
            self.witness_name.errors = [*self.witness_name.errors, WITNESS_NAME_NEEDED]
            return False
        return valid

class ListFilterForm(Form):
    """The evidence list's search and filters: a GET form, so no CSRF token (it changes nothing)
    and its query string can be bookmarked and carried into the page links."""

    q = SearchField("Search by title or criterion", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", choices=choices([("", "Any status"), *(
        (key, label) for key, label in ITEM_STATUSES.items() if key != "withdrawn")]),
        validators=[Optional()])
    #: Its choices are the units of the learner's qualification, set by the view.
    unit = SelectField("Unit", validators=[Optional()])
    withdrawn = BooleanField("Include withdrawn evidence")
