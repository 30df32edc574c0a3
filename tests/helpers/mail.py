"""Mail in the tests that need it set up: settings naming a mail server and the site's address,
and reading the outbox and the links in its mails."""

from __future__ import annotations

import dataclasses
import re

import sqlalchemy as sa

from portfolio.core.mail import OutboxMail

#: The site's address in the tests' mail.
BASE_URL = "https://portfolio.north-college.ac.uk"
_LINK = re.compile(r"https?://\S+/password/set/([A-Za-z0-9_-]+)")


def with_mail(app, smtp_url: str = "smtp://127.0.0.1:9", base_url: str = BASE_URL) -> None:
    """Give ``app`` mail settings: a mail server (the outbox only writes; nothing is sent unless
    a worker runs) and the site's address."""
    settings = app.config["PORTFOLIO_SETTINGS"]
    app.config["PORTFOLIO_SETTINGS"] = dataclasses.replace(
        settings, smtp_url=smtp_url, mail_from="Portfolio <noreply@north-college.ac.uk>",
        base_url=base_url)


def mail_settings(smtp_url: str, base_url: str) -> dict[str, str]:
    """The same as ``PORTFOLIO_*`` settings, for a server started in a subprocess."""
    return {"PORTFOLIO_SMTP_URL": smtp_url, "PORTFOLIO_BASE_URL": base_url,
            "PORTFOLIO_MAIL_FROM": "Portfolio <noreply@north-college.ac.uk>"}


def outbox(session, to: str | None = None) -> list[OutboxMail]:
    """The outbox's mails, oldest first, to ``to`` only when given."""
    query = sa.select(OutboxMail).order_by(OutboxMail.id)
    if to is not None:
        query = query.where(OutboxMail.to_address == to)
    return list(session.scalars(query))


def link_token(text: str) -> str:
    """The token of the one password link in a mail's text."""
    tokens = _LINK.findall(text)
    assert len(tokens) == 1, text
    return tokens[0]
