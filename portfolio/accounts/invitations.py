"""Telling people about their account by mail: the set-your-password link of a new account, the
reset link, and the note to someone who already had an account that another centre has added
them. Each mail carries a name and a link, nothing else; all go through the outbox, in the
caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from sqlalchemy.orm import Session

from portfolio.accounts.links import LIFETIMES, issue_links, link_path
from portfolio.accounts.models import Centre, User
from portfolio.accounts.services import AccountError, NewUser, create_user
from portfolio.core.mail import absolute_url, enqueue_mail, enqueue_mails

NO_MAIL = ("Mail is not set up on this site (PORTFOLIO_SMTP_URL and PORTFOLIO_BASE_URL), so "
           "nobody can be sent a link to set their password. Ask the operator to set it up, or "
           "to add people with `portfolio user create`, which prints the link.")


def mail_is_configured() -> bool:
    """Whether mail with a link to the site can be sent: a mail server and the site's address."""
    settings = current_app.config["PORTFOLIO_SETTINGS"]
    return bool(settings.smtp_url and settings.base_url)


def _lifetime(purpose: str) -> str:
    lifetime = LIFETIMES[purpose]
    if lifetime.days:
        return f"{lifetime.days} days"
    hours = lifetime.seconds // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _link_mail(user: User, token: str, purpose: str) -> tuple[str, str, str]:
    """The mail (to, subject, text) carrying ``user``'s link of ``token``."""
    url = absolute_url(link_path(token))
    if purpose == "set":
        subject = "Set your password for your portfolio"
        opening = "An account has been made for you. Choose your password here:"
    else:
        subject = "Reset your portfolio password"
        opening = ("Someone asked to reset your password. If it was you, choose a new one "
                   "here:")
    return user.email, subject, (
        f"Hello {user.name},\n\n{opening}\n\n{url}\n\nThe link works once, for "
        f"{_lifetime(purpose)}. If you did not expect this mail, you can ignore it.\n")


def link_mail(session: Session, user: User, token: str, purpose: str) -> None:
    """Mail ``user`` their link of ``token``."""
    enqueue_mails(session, [_link_mail(user, token, purpose)])


def send_links(session: Session, users: Sequence[User], purpose: str, *,
               actor: User | None = None) -> list[str]:
    """Issue each of ``users`` a link of ``purpose`` and mail it (mail must be set up); returns
    the tokens. A few statements whatever the number of users."""
    if not mail_is_configured():
        raise AccountError(NO_MAIL)
    tokens = issue_links(session, users, purpose, actor=actor)
    enqueue_mails(session, [_link_mail(user, token, purpose)
                            for user, token in zip(users, tokens, strict=True)])
    return tokens


def added_elsewhere_mail(session: Session, user: User, centre: Centre) -> None:
    """Tell someone who already had an account that ``centre`` has given them roles. Never a
    password link: that would let one centre's admin take over another centre's account."""
    enqueue_mail(session, to=user.email, subject=f"You have been added to {centre.name}",
                 text=(f"Hello {user.name},\n\nYou have been added to {centre.name}. Log in "
                       f"with your existing password:\n\n{absolute_url('/login')}\n"))


def add_person(session: Session, centre: Centre, new: NewUser, actor: User | None, *,
               mail: bool = True) -> tuple[User, str | None]:
    """Add a person (``new`` without a password) to ``centre``, as ``create_user`` does, and
    return them with the token of their set-your-password link: None when they already had an
    account in another centre, who keep their password and, when ``mail``, are told they were
    added. With ``mail`` the link is mailed; without (the operator's command, mail not set up),
    it is only returned to be printed."""
    if mail and not mail_is_configured():
        raise AccountError(NO_MAIL)
    user = create_user(session, centre, new, actor=actor)
    if user.centre_id != centre.id:  # an account of another centre, given roles here
        if mail:
            added_elsewhere_mail(session, user, centre)
        return user, None
    if mail:
        return user, send_links(session, [user], "set", actor=actor)[0]
    return user, issue_links(session, [user], "set", actor=actor)[0]


def import_summary(result) -> str:
    """What an import did and what its new learners were sent, for whoever imported them."""
    if not result.new_user_ids:
        return result.summary
    if mail_is_configured():
        return f"{result.summary} Each new learner has been emailed a link to set their password."
    return (f"{result.summary} Mail is not set up, so new learners have no password yet: the "
            f"operator can print a link for each with `portfolio user reset-link EMAIL`.")
