"""What makes a password too easy to guess: too short, too few different characters, a run of
keys or letters, or one of the passwords attackers try first. The one place new passwords are
checked; the message says why one is refused."""

from __future__ import annotations

MIN_LENGTH = 10

#: Passwords of ten or more characters that lead the published lists of leaked passwords, in
#: lower case (a check ignores case).
COMMON = frozenset({
    "1234567890", "0987654321", "1234512345", "1122334455", "1qaz2wsx3edc", "zaq12wsxcde3",
    "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4t5", "qwertyuiop", "qwerty1234", "qwerty12345",
    "qwerty123456", "1234qwerty", "123456qwerty", "qwe1234567", "asdfghjkl1", "asdf123456",
    "qazwsxedc1", "qazwsxedcrfv", "password12", "password123", "password1234", "password01",
    "password11", "password99", "passw0rd123", "p@ssw0rd123", "password!1", "password1!",
    "password12!", "mypassword", "mypassword1", "newpassword", "yourpassword", "iloveyou12",
    "iloveyou123", "letmein123", "welcome123", "welcome1234", "welcome2024", "welcome2025",
    "welcome2026", "sunshine123", "princess123", "football123", "baseball123", "liverpool1",
    "liverpool123", "chelsea123", "arsenal123", "manchester", "dragon1234", "monkey1234",
    "trustno1234", "starwars123", "superman123", "computer123", "whatever123", "changeme123",
    "administrator", "admin12345", "admin123456", "abc1234567", "abcd123456", "abcdef1234",
    "a1b2c3d4e5", "aa12345678", "11111111111", "summer2024", "summer2025", "summer2026",
    "winter2025", "winter2026", "spring2026", "autumn2026", "september1", "december12",
    "unitedkingdom", "england123", "london1234", "1234567890a", "a1234567890", "qwertyqwerty",
    "1234554321", "9876543210", "0123456789", "12345678910", "0000000000", "1111111111",
})

#: Runs of neighbouring keys or letters; a password inside one, either way round, is a run.
RUNS = ("01234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm",
        "qazwsxedcrfvtgbyhnujmikolp", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")


def weakness(password: str) -> str | None:
    """Why ``password`` would be guessed quickly, or None when it would not."""
    if len(password) < MIN_LENGTH:
        return f"Passwords need at least {MIN_LENGTH} characters."
    lowered = password.lower()
    if len(set(lowered)) <= 3:
        return "That password repeats a few characters: use more different ones."
    if any(lowered in run or lowered in run[::-1] for run in RUNS):
        return "That password is a run of keys or letters: choose something less predictable."
    if lowered in COMMON:
        return ("That password is one of the most common ones, which are tried first: choose "
                "another.")
    return None
