"""The bell, the inbox, opening a notification and the mail preference page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from portfolio.core.forms import EmptyForm
from portfolio.core.permissions import require
from portfolio.core.security import safe_next_url
from portfolio.core.web import committing
from portfolio.extensions import db
from portfolio.notifications import services
from portfolio.notifications.forms import MailPreferenceForm
from portfolio.notifications.models import Notification
from portfolio.notifications.permissions import is_recipient

blueprint = Blueprint("notifications", __name__)


@blueprint.app_template_global()
def unread_notifications() -> int:
    """The bell's count: called by the header only for a logged-in user, one indexed query."""
    return services.unread_count(db.session, current_user.id)


@blueprint.get("/notifications")
def inbox():
    before = request.args.get("before", type=int)
    notifications, older = services.inbox_page(db.session, current_user.id, before)
    return render_template("notifications/inbox.html", notifications=notifications,
                           older=older, paged=before is not None, form=EmptyForm())


@blueprint.post("/notifications/<int:notification_id>/open")
def open_notification(notification_id: int):
    notification = require(is_recipient, db.session.get(Notification, notification_id))
    if EmptyForm().validate_on_submit():
        with committing() as done:
            link = services.open_notification(db.session, notification)
        if done:
            return redirect(safe_next_url(link))
    return redirect(url_for("notifications.inbox"))


@blueprint.post("/notifications/read")
def mark_all_read():
    if EmptyForm().validate_on_submit():
        with committing("Every notification is marked read."):
            services.mark_all_read(db.session, current_user.id)
    return redirect(url_for("notifications.inbox"))


@blueprint.route("/account/notifications", methods=["GET", "POST"])
def preferences():
    form = MailPreferenceForm(mail=services.mail_preference(db.session, current_user.id))
    if form.validate_on_submit():
        with committing("Your email preference is saved.") as done:
            services.set_mail_preference(db.session, current_user, form.mail.data)
        if done:
            return redirect(url_for("notifications.preferences"))
        return render_template("notifications/preferences.html", form=form), done.status
    status = 422 if form.errors else 200
    return render_template("notifications/preferences.html", form=form), status
