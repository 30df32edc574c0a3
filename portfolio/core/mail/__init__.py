"""Mail through an outbox: a feature adds a mail to the outbox table in its own transaction
(:func:`enqueue_mail`), and a worker sends it once that transaction has committed, retrying while
the mail server is down. A request never talks to the mail server.

- ``outbox``: the table, :func:`enqueue_mail` (:func:`enqueue_mails` for many) and
  :func:`absolute_url` for links;
- ``smtp``: one connection to the server named by ``PORTFOLIO_SMTP_URL``;
- ``worker``: claiming due mail, sending it, backing off; the loop run by ``portfolio worker``
  and the thread ``portfolio serve`` starts;
- ``cli``: ``portfolio mail status``.
"""

from portfolio.core.mail.outbox import (
    MailRefused,
    OutboxMail,
    absolute_url,
    enqueue_mail,
    enqueue_mails,
)

__all__ = ["MailRefused", "OutboxMail", "absolute_url", "enqueue_mail", "enqueue_mails"]
