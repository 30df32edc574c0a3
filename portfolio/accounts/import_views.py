"""The admin's import of learners and their enrolments from a CSV file: upload, see every problem
or a preview, confirm.

The uploaded file is kept on the server between the preview and the confirmation (the browser
holds only a random name for it, valid for its uploader), and the confirmation checks it again
from the start: the preview is never trusted, and what changed in between is caught."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from portfolio.accounts.imports import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    ImportRefused,
    import_learners,
    plan_import,
)
from portfolio.accounts.invitations import import_summary
from portfolio.core.permissions import roles_required
from portfolio.core.web import committing
from portfolio.extensions import db

blueprint = Blueprint("imports", __name__)

#: A kept upload unconfirmed for this long is removed at the next upload.
KEEP_SECONDS = 3600
_NAME = r"[A-Za-z0-9_-]{22,64}"


class UploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])


class ConfirmForm(FlaskForm):
    upload = HiddenField(validators=[DataRequired(), Regexp(f"^{_NAME}$")])


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "user-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _path(name: str) -> Path:
    """The kept file ``name`` of the current user (the user's id is part of the file name, so
    another admin's name finds nothing)."""
    return _folder() / f"{current_user.id}-{name}.csv"


def _keep(data: bytes) -> str:
    cutoff = time.time() - KEEP_SECONDS
    for old in _folder().glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    name = secrets.token_urlsafe(24)
    _path(name).write_bytes(data)
    return name


@blueprint.route("/admin/users/import", methods=["GET", "POST"])
@roles_required("centre_admin")
def upload():
    form = UploadForm()
    problems: list = []
    if form.validate_on_submit():
        data = form.file.data.stream.read(MAX_BYTES + 1)
        try:
            planned = plan_import(db.session, current_user.centre, data)
        except ImportRefused as refused:
            problems = refused.problems
            form.file.errors.append(str(refused))
        else:
            return render_template("admin/user_import_preview.html", planned=planned,
                                   confirm=ConfirmForm(upload=_keep(data)))
    status = 422 if form.errors else 200
    return render_template("admin/user_import.html", form=form, problems=problems,
                           columns=COLUMNS, max_rows=MAX_ROWS), status


@blueprint.post("/admin/users/import/confirm")
@roles_required("centre_admin")
def confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    path = _path(form.upload.data)
    if not path.exists():
        flash("That upload has expired or was already imported: upload the file again.",
              "error")
        return redirect(url_for("imports.upload"))
    problems: list = []
    try:
        with committing() as done:
            try:
                result = import_learners(db.session, current_user.centre, path.read_bytes(),
                                         actor=current_user)
            except ImportRefused as refused:
                problems = refused.problems
                raise
    finally:
        path.unlink(missing_ok=True)
    if done:
        flash(import_summary(result), "info")
        return redirect(url_for("accounts.users"))
    return render_template("admin/user_import.html", form=UploadForm(formdata=None),
                           problems=problems, columns=COLUMNS, max_rows=MAX_ROWS), done.status
