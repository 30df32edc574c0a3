"""``portfolio serve --production`` started as an operator starts it: it becomes gunicorn with
the shipped configuration (same pid, so a supervisor's signals reach gunicorn), stops on SIGTERM,
and refuses to start without an S3 store or on a database not migrated to the latest revision."""

from __future__ import annotations

import signal
import subprocess

import pytest

from portfolio.extensions import db
from tests.helpers import databases
from tests.helpers.app import app_on_new_database
from tests.helpers.gunicorn import (
    PORTFOLIO_COMMAND,
    environment_without_settings,
    production_serving,
    production_settings,
)
from tests.helpers.live_server import Visitor

pytestmark = [pytest.mark.production,
              pytest.mark.skipif(not PORTFOLIO_COMMAND.exists(),
                                 reason=f"the portfolio command is not installed at "
                                        f"{PORTFOLIO_COMMAND}")]

#: Seconds the refused command may take (it starts Python and imports the app).
REFUSAL_TIMEOUT = 60


def refused(settings: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([str(PORTFOLIO_COMMAND), "serve", "--production"], cwd=tmp_path,
                          env=environment_without_settings(settings), capture_output=True,
                          text=True, timeout=REFUSAL_TIMEOUT)


def test_serve_production_becomes_gunicorn_and_stops_on_sigterm(tmp_path, store):
    with app_on_new_database(tmp_path, specs=[]) as app:
        with app.app_context():
            url = db.engine.url.render_as_string(hide_password=False)
        settings = production_settings(store, tmp_path / "instance", url)
        log = tmp_path / "production.log"
        with production_serving(settings, log, ("--workers", "2")) as server:
            assert Visitor(server.port).get("/login").status == 200
            with open(f"/proc/{server.pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().split(b"\0")
            assert command[1:3] == [b"-m", b"gunicorn"]
            assert b"--workers=2" in command and command[-2:] == [b"portfolio:create_app()", b""]
            written = log.read_text()
            # gunicorn's master names its own pid: the command's, which it replaced.
            assert f"Listening at: http://127.0.0.1:{server.port} ({server.pid})" in written
            assert ("PostgreSQL is the production database" in written) != \
                databases.on_postgres()
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(30) == 0
        assert "Shutting down: Master" in log.read_text()
        assert "Traceback" not in log.read_text()


def test_serve_production_refuses_without_an_s3_store(tmp_path, store):
    settings = production_settings(store, tmp_path / "instance")
    del settings["PORTFOLIO_S3_ENDPOINT_URL"]
    result = refused(settings, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: PORTFOLIO_S3_ENDPOINT_URL is not set: production needs an S3 store (the "
        "embedded one is for `portfolio serve` alone; see deploy/README.md)."]


def test_serve_production_refuses_a_database_not_at_the_latest_revision(tmp_path, store):
    with databases.database_on(databases.SERVER_URL, tmp_path) as url:
        result = refused(production_settings(store, tmp_path / "instance", url), tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: The database is at no revision (empty), not the latest "
                           "revision ")
    assert line.endswith(": run `portfolio db upgrade` first.")


def test_production_options_need_production(tmp_path):
    result = subprocess.run([str(PORTFOLIO_COMMAND), "serve", "--threads", "4"], cwd=tmp_path,
                            env=environment_without_settings(
                                {"PORTFOLIO_INSTANCE_PATH": str(tmp_path / "instance")}),
                            capture_output=True, text=True, timeout=REFUSAL_TIMEOUT)
    assert result.returncode == 2
    assert "--threads: only with --production." in result.stderr
