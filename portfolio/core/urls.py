"""Links for the rows of a long table: ``url_for`` costs more than the rest of a row."""

from __future__ import annotations

from collections.abc import Iterable

from flask import url_for

#: The largest id the database gives, standing for each row's id in the one URL built.
_ANY_ID = 2 ** 31 - 1


def hrefs(endpoint: str, variable: str, ids: Iterable[int], **values) -> dict[int, str]:
    """``endpoint``'s URL for each of ``ids`` as its ``variable`` (and ``values``), from one
    ``url_for``."""
    sample = url_for(endpoint, **values, **{variable: _ANY_ID})
    return {i: sample.replace(f"/{_ANY_ID}", f"/{i}", 1) for i in ids}
