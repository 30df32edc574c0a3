"""The operator's guide (deploy/README.md) stays true to the code: every setting the application
reads is documented there, every command it tells an operator to run exists, and every file it
ships under deploy/ is named in it."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from portfolio.cli import command_group
from portfolio.config import Settings

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "deploy" / "README.md"


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Settings)])
def test_every_setting_is_documented(field):
    assert f"`PORTFOLIO_{field.upper()}`" in guide()


def code(text: str) -> list[str]:
    """The guide's code: fenced blocks and inline spans."""
    fenced = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.M | re.S)
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return fenced + re.findall(r"`([^`]+)`", prose)


def documented_commands() -> set[tuple[str, ...]]:
    """Every ``portfolio ...`` command the guide shows in code, as its words up to the first
    option or placeholder."""
    return {tuple(match.group(1).split())
            for snippet in code(guide())
            for match in re.finditer(r"(?<![\w/.:-])portfolio((?: [a-z][a-z-]*)+)", snippet)}


def test_the_guide_names_commands():
    assert ("db", "upgrade") in documented_commands()


@pytest.mark.parametrize("words", sorted(documented_commands()), ids=" ".join)
def test_every_documented_command_exists(words, tmp_path):
    """Each word must name a sub-command of the words before it (``--help`` answers 0), as the
    ``portfolio`` program an operator runs has them."""
    runner = CliRunner()
    environment = {name: None for name in os.environ if name.startswith("PORTFOLIO_")}
    environment["PORTFOLIO_INSTANCE_PATH"] = str(tmp_path)
    for depth in range(1, len(words) + 1):
        result = runner.invoke(command_group(), [*words[:depth], "--help"], env=environment)
        assert result.exit_code == 0, (
            f"`portfolio {' '.join(words)}` is in the guide, but `portfolio "
            f"{' '.join(words[:depth])}` is no command: {result.output}")


def test_every_shipped_file_is_named_in_the_guide():
    """Named by its path under deploy/ (``nginx/portfolio.conf``) or by its folder's
    (``seaweedfs/``)."""
    deploy = ROOT / "deploy"
    shipped = [path.relative_to(deploy) for path in deploy.rglob("*")
               if path.is_file() and path != GUIDE and "__pycache__" not in path.parts]
    text = guide()
    unnamed = [name.as_posix() for name in shipped
               if f"`{name.as_posix()}`" not in text and f"deploy/{name.as_posix()}" not in text
               and (name.parent == Path(".") or f"`{name.parent.as_posix()}/`" not in text)]
    assert not unnamed, f"files under deploy/ the operator's guide never mentions: {unnamed}"
