"""The mail preference form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from portfolio.core.forms import choices
from portfolio.notifications.models import MAIL_CHOICES


class MailPreferenceForm(FlaskForm):
    mail = RadioField("Email me about notifications", choices=choices(MAIL_CHOICES.items()),
                      validators=[InputRequired("Choose how you want to be emailed.")])
