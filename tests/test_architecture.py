"""The layers of docs/architecture.md run one way: a module imports only from its own layer and
the layers below it. Read from the source (every ``import``, inside functions too), so a lazy
import cannot slip an upward dependency past the test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTFOLIO = Path(__file__).resolve().parents[1] / "portfolio"

#: Lowest first. The features to come (quality, claims, export) are placed already.
LAYERS = ("core", "catalogue", "accounts", "evidence", "assessment", "quality", "claims", "export",
          "notifications", "demo")
#: Top-level modules of the framework layer.
CORE_MODULES = frozenset({"portfolio.config", "portfolio.extensions"})
#: The application factory and the command group wire every feature together.
COMPOSITION = frozenset({"portfolio", "portfolio.cli"})
#: No module over this many lines: split it by job (the catalogue's YAML data does not count).
MAX_LINES = 400


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> int | None:
    """The rank of a ``portfolio`` module's layer; None for modules outside the project."""
    if module in COMPOSITION:
        return len(LAYERS)
    if module in CORE_MODULES:
        return 0
    parts = module.split(".")
    if parts[0] != "portfolio":
        return None
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module} is in no layer: add its package to LAYERS and to "
                             f"docs/architecture.md")
    return LAYERS.index(parts[1])


def imported_modules(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module) of every import in a source file, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from portfolio import config`` imports a module; ``from portfolio import
            # create_app`` a name of the package itself.
            found.extend((node.lineno, _submodule(base, alias.name)) for alias in node.names)
    return found


def _submodule(base: str, name: str) -> str:
    candidate = f"{base}.{name}"
    if base == "portfolio" and (name in LAYERS or candidate in CORE_MODULES | COMPOSITION):
        return candidate
    return base


def upward_imports(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        own = layer(module)
        for line, imported in imported_modules(path, module):
            target = layer(imported)
            if target is not None and target > own:
                problems.append(f"{path.relative_to(root.parent)}:{line}: {module} "
                                f"({LAYERS[own] if own < len(LAYERS) else 'app'}) imports "
                                f"{imported}, a higher layer")
    return problems


def test_layers_run_one_way():
    assert upward_imports(PORTFOLIO) == []


@pytest.mark.parametrize("source", [
    "from portfolio.assessment.progress import progress_for\n",
    "import portfolio.assessment.units\n",
    "def lazily():\n    from portfolio.assessment import queries\n",
    "from ..assessment import queries\n",
])
def test_an_upward_import_is_caught(tmp_path, source):
    root = tmp_path / "portfolio"
    for package in ("core", "evidence", "assessment"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "evidence" / "services.py").write_text(source)
    (root / "assessment" / "units.py").write_text("from portfolio.evidence import services\n")
    (root / "core" / "db.py").write_text("import sqlalchemy\nfrom portfolio import config\n")
    problems = upward_imports(root)
    assert len(problems) == 1
    assert problems[0].startswith("portfolio/evidence/services.py:")
    assert "portfolio.evidence.services (evidence) imports portfolio.assessment" in problems[0]


def test_core_imports_no_feature(tmp_path):
    root = tmp_path / "portfolio"
    (root / "core").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "core" / "web.py").write_text("from portfolio.catalogue.tree import version_tree\n")
    assert upward_imports(root) == [
        "portfolio/core/web.py:1: portfolio.core.web (core) imports portfolio.catalogue.tree, "
        "a higher layer"]


def test_every_package_is_placed_in_a_layer():
    packages = {p.name for p in PORTFOLIO.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(LAYERS)
    documented = (PORTFOLIO.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert all(f"`{package}`" in documented for package in packages)


def test_no_module_outgrows_one_job():
    sizes = {str(path.relative_to(PORTFOLIO.parent)): len(path.read_text().splitlines())
             for path in PORTFOLIO.rglob("*.py")}
    assert {path: lines for path, lines in sizes.items() if lines > MAX_LINES} == {}
