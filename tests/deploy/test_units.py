"""The shipped deploy files, as far as this machine can check them without installing them: the
systemd units pass ``systemd-analyze verify`` and their commands parse with the real CLIs, the
env example lists every setting and nothing else, and nginx accepts the site files."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portfolio.config import Settings
from tests.helpers.cluster import (
    DEPLOY,
    nginx_binary,
    render_nginx,
    replaced_once,
    unit_command,
    weed_binary,
)

PORTFOLIO_COMMAND = Path(sys.executable).with_name("portfolio")
PORTFOLIO_UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
WEED_UNITS = sorted((DEPLOY / "seaweedfs").glob("*.service"))
#: Read by gunicorn's configuration (deploy/gunicorn.conf.py), not by the app.
OTHER_VARIABLES = {"WEB_CONCURRENCY"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (not a systemd machine)")
@pytest.mark.skipif(weed_binary() is None, reason="SeaweedFS (weed) is not installed")
def test_the_units_pass_systemd_analyze_verify(tmp_path):
    """Each unit, with its command pointed at the binary installed here (verify checks that it
    is executable), beside the others (the timer needs its service)."""
    installed = {"/opt/portfolio/.venv/bin/portfolio": str(PORTFOLIO_COMMAND),
                 "/usr/local/bin/weed": weed_binary()}
    units = [*PORTFOLIO_UNITS, *WEED_UNITS, *(DEPLOY / "systemd").glob("*.timer")]
    for unit in units:
        text = unit.read_text()
        for shipped, here in installed.items():
            if f"ExecStart={shipped} " in text:
                text = replaced_once(text, f"ExecStart={shipped} ", f"ExecStart={here} ",
                                     unit.name)
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no",
                             *(str(tmp_path / unit.name) for unit in units)],
                            capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("unit", PORTFOLIO_UNITS, ids=lambda unit: unit.name)
def test_each_portfolio_unit_runs_a_command_the_cli_has(unit):
    command = unit_command(unit)
    assert command[0] == "/opt/portfolio/.venv/bin/portfolio"
    result = subprocess.run([str(PORTFOLIO_COMMAND), *command[1:], "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(weed_binary() is None, reason="SeaweedFS (weed) is not installed")
@pytest.mark.parametrize("unit", WEED_UNITS, ids=lambda unit: unit.name)
def test_each_seaweedfs_unit_gives_flags_its_weed_command_has(unit):
    """weed ignores nothing quietly but exits at start on an unknown flag: check them against
    its help, which lists every flag of the command."""
    command = unit_command(unit)
    help_text = subprocess.run([weed_binary(), command[1], "-h"], capture_output=True,
                               text=True, check=False)
    known = set(re.findall(r"^\s+-([\w.]+)", help_text.stdout + help_text.stderr, re.M))
    given = {argument[1:].partition("=")[0] for argument in command[2:]}
    assert given and given <= known, given - known


def test_the_env_example_lists_every_setting_and_only_settings():
    text = (DEPLOY / "portfolio.env.example").read_text()
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, re.M))
    settings = {f"PORTFOLIO_{field.name.upper()}" for field in dataclasses.fields(Settings)}
    # The embedded store's port means nothing beside an S3 store of one's own.
    assert settings - listed == {"PORTFOLIO_EMBEDDED_S3_PORT"}
    assert listed - settings == OTHER_VARIABLES


@pytest.mark.skipif(nginx_binary() is None,
                    reason="nginx is not installed (make test installs Debian's when run as root)")
def test_nginx_accepts_the_site_files(tmp_path):
    conf = render_nginx(tmp_path, [8001, 8002], 8080, 8081, "http://127.0.0.1:8333")
    result = subprocess.run([nginx_binary(), "-t", "-e", str(tmp_path / "error.log"),
                             "-c", str(conf)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_systemd_waits_for_gunicorns_graceful_stop():
    """A stop that kills before gunicorn's graceful timeout cuts off the uploads it waits for."""
    config: dict = {}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), config)
    unit = (DEPLOY / "systemd" / "portfolio-web.service").read_text()
    stop = int(re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M).group(1))
    assert stop > config["graceful_timeout"]
