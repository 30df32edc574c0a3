"""Forms of a person's page: their name and email, their roles, a staff record."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portfolio.accounts.models import ROLE_LABELS
from portfolio.accounts.services import normalise_email
from portfolio.accounts.staff import STAFF_ROLES, STANDINGS
from portfolio.core.forms import choices


class PersonDetailsForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])

    def __init__(self, *args, current_email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.current_email = current_email

    def validate_email(self, field) -> None:
        # Only a new address is checked: an account made before the check (the demo's
        # @demo.test people, a reserved domain) keeps its address while its name is corrected.
        if normalise_email(field.data) != self.current_email:
            Email()(self, field)


class RolesForm(FlaskForm):
    # No DataRequired: "keep at least one role" is the service's message, said next to the
    # boxes (and a required checkbox group would demand every box).
    roles = SelectMultipleField(
        "Roles", choices=choices(ROLE_LABELS.items()),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class StaffRecordForm(FlaskForm):
    qualification_id = SelectField("Qualification", coerce=int)
    role = SelectField("Role", choices=choices((role, ROLE_LABELS[role]) for role in STAFF_ROLES))
    status = RadioField("Standing", choices=choices(STANDINGS.items()),
                        validators=[DataRequired(message="Choose qualified or working towards.")])
    started_on = DateField("Started in the role on", validators=[DataRequired()])
    held_qualification = StringField("Qualification they hold",
                                     validators=[Optional(), Length(max=200)])
    qualified_on = DateField("Qualified on", validators=[Optional()])
