"""A live server on its own database and a headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers.app import app_on_new_database

CHROMIUM = Path(os.environ.get("PORTFOLIO_CHROMIUM", "/usr/bin/chromium"))


@contextlib.contextmanager
def serving(directory, specs):
    """An app on a database of its own, served on a free port (its LIVE_URL) until the end."""
    with app_on_new_database(directory, specs) as app:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
        try:
            yield app
        finally:
            server.shutdown()


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, driven by Playwright (skips the test where it is missing)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture()
def live_app(tmp_path, builtin_specs):
    with serving(tmp_path, builtin_specs.values()) as app:
        yield app


@pytest.fixture()
def browser():
    with chromium() as launched:
        yield launched
