"""Forms for logging in, changing one's password and centre administration, and the audit trail's filter."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portfolio.accounts.models import ROLE_LABELS
from portfolio.core.forms import choices


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password",
                            validators=[DataRequired(), Length(max=1000)])
    new = PasswordField("New password", validators=[DataRequired(), Length(max=1000)])
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new", message="The two new passwords are not the same.")])


STAFF_ROLES = [role for role in ROLE_LABELS if role != "learner"]


class UserForm(FlaskForm):
    """A new person: a learner, or staff with any set of the staff roles. No password: they set
    their own from the link they are mailed."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    account_type = RadioField("Account", choices=choices([("learner", "Learner"),
                                                          ("staff", "Staff")]),
                              validators=[InputRequired("Choose learner or staff.")])
    # Checked here, not by the browser: "at least one when staff" is no HTML attribute.
    staff_roles = SelectMultipleField(
        "Staff roles", choices=choices((role, ROLE_LABELS[role]) for role in STAFF_ROLES),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def validate_staff_roles(self, field) -> None:
        if self.account_type.data == "staff" and not field.data:
            raise ValidationError("Choose at least one role for a member of staff.")
        if self.account_type.data == "learner" and field.data:
            raise ValidationError("A learner holds no staff role: untick the roles, or choose "
                                  "staff.")

    @property
    def roles(self) -> tuple[str, ...]:
        return ("learner",) if self.account_type.data == "learner" else tuple(
            self.staff_roles.data)


class EnrolmentForm(FlaskForm):
    learner_id = SelectField("Learner", coerce=int)
    version_id = SelectField("Qualification", coerce=int)
    registration_number = StringField("Registration number",
                                      validators=[DataRequired(), Length(max=40)])
    start_date = DateField("Start date", validators=[DataRequired()])
    planned_end_date = DateField("Planned end date", validators=[DataRequired()])
    assessor_id = SelectField("Assessor", coerce=int)
    iqa_id = SelectField("Internal quality assurer", coerce=int)


class CatalogueImportForm(FlaskForm):
    file = FileField("Catalogue file (YAML or JSON)", validators=[FileRequired()])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    user_id = SelectField("By", coerce=int, validators=[Optional()])
    learner_id = SelectField("Learner", coerce=int, validators=[Optional()])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
