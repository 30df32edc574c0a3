"""Forms for prior achievement, unlocking, choosing a pathway and countersigning."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portfolio.core.forms import choices


class PriorAchievementForm(FlaskForm):
    method = SelectField("How the unit was achieved", choices=choices([
        ("rpl", "Recognition of prior learning"), ("credit_transfer", "Credit transfer")]))
    details = TextAreaField(
        "Supporting evidence or certificate details (awarding body, certificate number, date)",
        validators=[DataRequired(), Length(max=5000)])
    item_id = IntegerField("Supporting evidence item number (optional)", validators=[Optional()])


class UnlockForm(FlaskForm):
    reason = TextAreaField("Reason for unlocking", validators=[DataRequired(), Length(max=2000)])


class PathwayForm(FlaskForm):
    """The units chosen; the view sets the qualification's units as the choices."""

    units = SelectMultipleField("Units you intend to achieve", choices=[])


class CountersignForm(FlaskForm):
    """The decisions and sign-offs ticked on the countersigning page (drawn as checkboxes in its
    tables; the choices are whatever was listed, so the service checks each one)."""

    decisions = SelectMultipleField("Decisions", coerce=int, choices=[], validate_choice=False)
    sign_offs = SelectMultipleField("Sign-offs", coerce=int, choices=[], validate_choice=False)
