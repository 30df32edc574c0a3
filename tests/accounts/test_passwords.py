"""New passwords that would be guessed quickly are refused, saying why."""

from __future__ import annotations

import pytest

from portfolio.accounts import services
from portfolio.accounts.models import User
from portfolio.accounts.passwords import weakness
from tests.helpers.queries import count_rows


@pytest.mark.parametrize(("password", "why"), [
    ("short1!", "at least 10 characters"),
    ("aaaaaaaaaa", "repeats a few characters"),
    ("ababababab", "repeats a few characters"),
    ("1234567890", "run of keys or letters"),
    ("0987654321", "run of keys or letters"),
    ("QwertyUIOP", "run of keys or letters"),
    ("abcdefghijkl", "run of keys or letters"),
    ("Password123", "most common"),
    ("iloveyou12", "most common"),
])
def test_guessable_passwords_are_refused_with_the_reason(password, why):
    assert why in weakness(password)
    with pytest.raises(services.AccountError, match=why):
        services.hash_password(password)


@pytest.mark.parametrize("password", ["correct horse battery", "portfolio-demo",
                                      "Tramline Sunday 7", "lighthouse-keeper"])
def test_other_passwords_are_accepted(password):
    assert weakness(password) is None
    assert services.hash_password(password).startswith("$argon2id$")


def test_an_admin_cannot_give_a_new_user_a_common_password(session, people):
    users = count_rows(session, User)
    with pytest.raises(services.AccountError, match="most common"):
        services.create_user(session, people.centre, services.NewUser(
            "new@north.test", "New Person", "password123", ("assessor",)), actor=people.admin)
    assert count_rows(session, User) == users
