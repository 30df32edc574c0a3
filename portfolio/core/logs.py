"""Logging: every module logs through ``logging.getLogger(__name__)``; this sets where it goes
when nothing else (a WSGI server, pytest) has."""

from __future__ import annotations

import logging
import os

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """Lines to standard error at ``PORTFOLIO_LOG_LEVEL`` (default INFO), unless the process has
    configured logging already."""
    root = logging.getLogger()
    if root.handlers:
        return
    logging.basicConfig(format=FORMAT, level=os.environ.get("PORTFOLIO_LOG_LEVEL", "INFO").upper())
