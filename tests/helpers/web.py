"""Talking to the app through Flask's test client: the CSRF token, logging in through the form,
and reading pages."""

from __future__ import annotations

import html
import re

from tests.helpers.factories import PASSWORD

_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')
_FLASH = re.compile(r'class="flash[^"]*"[^>]*>(.*?)<', re.S)


def token_in(page: str) -> str:
    """The CSRF token of a rendered page (every page carries it in a ``<meta>`` tag)."""
    return _TOKEN.search(page).group(1)


def csrf_token(client, path="/login") -> str:
    """The client's CSRF token, read from ``path``. A logged-in client reads it from any page it
    may see (the tests use ``/catalogue/``); the default suits a client not logged in."""
    return token_in(client.get(path, follow_redirects=True).get_data(as_text=True))


def log_in(client, user_or_email, password=PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(client)})


def text(response) -> str:
    return response.get_data(as_text=True)


def flashes(page: str) -> list[str]:
    """The flashed messages of a page, unescaped."""
    return [html.unescape(m.strip()) for m in _FLASH.findall(page)]
