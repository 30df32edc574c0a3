"""The password links' pages: asking for a reset link (public), choosing a password from a link
(public: the token is the proof), and an admin sending someone a reset link."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, logout_user

from portfolio.accounts import invitations, links
from portfolio.accounts.link_forms import ForgotPasswordForm, SetPasswordForm
from portfolio.accounts.models import User
from portfolio.accounts.permissions import can_send_password_link
from portfolio.core.forms import EmptyForm
from portfolio.core.permissions import require, roles_required
from portfolio.core.security import client_address
from portfolio.core.web import committing
from portfolio.extensions import db

blueprint = Blueprint("passwords", __name__)
blueprint.add_app_template_global(can_send_password_link)


def _link_page(template: str, status: int = 200, **context):
    """A page at a link's address: kept out of caches, since the address is the secret."""
    return render_template(template, **context), status, {"Cache-Control": "no-store"}


@blueprint.route("/password/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotPasswordForm()

    def page(status: int = 200, sent: bool = False):
        return render_template("passwords/forgot.html", form=form, sent=sent), status

    if not invitations.mail_is_configured():
        form.form_errors.append("Mail is not set up on this site, so no link can be sent: ask "
                                "your centre's admin to help you.")
        return page(503)
    if form.validate_on_submit():
        with committing(flash_messages=False) as done:
            found = links.request_reset(db.session, form.email.data, client_address())
            if found is not None:
                invitations.link_mail(db.session, *found)
        if done:
            return page(sent=True)
        if done.status == 422:  # the one refusal: too many requests from this client
            form.email.errors.append(done.error)
            return page(429)
        form.form_errors.append(done.error)
        return page(done.status)
    return page()


@blueprint.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token: str):
    link = links.usable_link(db.session, token)
    if link is None:
        return _link_page("passwords/unusable.html", 410)
    user = db.session.get(User, link.user_id)
    form = SetPasswordForm()
    if form.validate_on_submit():
        with committing(flash_messages=False) as done:
            links.use_link(db.session, token, form.new.data)
        if done:
            # Whoever was logged in in this browser (the link's owner, whose sessions have just
            # ended, or someone else) starts again from the login page.
            logout_user()
            flash("Your password is set: log in with it.", "info")
            return redirect(url_for("accounts.login"))
        if done.error == links.UNUSABLE:  # used by another submit since this one began
            return _link_page("passwords/unusable.html", 410)
        # What else refuses is the password's strength, or a busy database.
        (form.new.errors if done.status == 422 else form.form_errors).append(done.error)
        return _link_page("passwords/set.html", done.status, form=form, user=user)
    return _link_page("passwords/set.html", form=form, user=user)


@blueprint.post("/admin/users/<int:user_id>/reset-link")
@roles_required("centre_admin")
def send_reset_link(user_id: int):
    user = require(can_send_password_link, db.session.get(User, user_id))
    if EmptyForm().validate_on_submit():
        with committing(f"A password reset link is on its way to {user.name}."):
            invitations.send_links(db.session, [user], links.purpose_for(user),
                                   actor=current_user)
    return redirect(url_for("accounts.users"))
