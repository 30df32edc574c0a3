"""Questions a lower feature asks and higher features answer, so that no feature imports one
above it: the lower feature declares a :class:`Hook`, a higher one registers a function on it
when it is imported, and the lower one calls the hook and gets every answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    def __init__(self, name: str):
        self.name = name
        self._answers: list[Callable[..., Any]] = []

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._answers)} answer(s)>"

    def register(self, answer: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: ``answer`` is called with the hook's arguments from now on."""
        self._answers.append(answer)
        return answer

    def __call__(self, *args: Any, **kwargs: Any) -> list[Any]:
        return [answer(*args, **kwargs) for answer in self._answers]
