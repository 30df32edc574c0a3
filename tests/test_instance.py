"""The instance folder holds the embedded database, the secrets and the embedded store's objects:
the command line keeps all of it to its owner, even in a folder once left open to others."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_instance_folder_and_its_files_are_the_owners_alone(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    environment = {**os.environ, "PORTFOLIO_INSTANCE_PATH": str(instance)}
    for name in [n for n in environment if n.startswith("PORTFOLIO_") and "INSTANCE" not in n]:
        environment.pop(name)
    subprocess.run([sys.executable, "-c", "from portfolio.cli import main; main()", "db",
                    "upgrade"], cwd=ROOT, env=environment, check=True, capture_output=True,
                   timeout=120)

    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    files = [path for path in instance.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"portfolio.sqlite3", "secret_key"}
    shared = {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files
              if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)}
    assert shared == {}
