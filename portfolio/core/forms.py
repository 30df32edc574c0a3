"""Form helpers shared by the features."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


class EmptyForm(FlaskForm):
    """A button-only POST (log out, withdraw): carries just the CSRF token."""


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]
