"""The package's shape: imports run one way between its parts, no private name crosses a module,
and modules and functions stay small enough to read (DESIGN.md, "Shape")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "multimodal_deterioration"
# The parts each part may import (besides itself). The contract between the two scripts sees
# only the base; evidence reads preparation's facts from the data's meta, never its code.
MAY_IMPORT = {
    "base": set(),
    "contract": {"base"},
    "preparation": {"base", "contract"},
    "learning": {"base", "contract"},
    "evidence": {"base", "contract", "learning"},
}
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py")


def part_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


def imported_modules(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute dotted module, imported names) for each import of the package in ``path``."""
    package_parts = ("multimodal_deterioration", *path.relative_to(PACKAGE).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package_parts[: len(package_parts) - node.level + 1]
            module = ".".join([*base, node.module] if node.module else base)
        elif node.module and node.module.startswith("multimodal_deterioration"):
            module = node.module
        else:
            continue
        found.append((module, [alias.name for alias in node.names]))
    return found


def test_every_module_sits_in_a_part():
    assert {part_of(path) for path in modules()} <= set(MAY_IMPORT)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way_between_parts(path):
    part = part_of(path)
    for module, names in imported_modules(path):
        pieces = module.split(".")
        # "from .. import evidence" names a part as an imported name
        target = pieces[1] if len(pieces) > 1 else names[0]
        if target != part:
            assert target in MAY_IMPORT[part], f"{part} imports {module} ({names})"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_is_imported_from_another_module(path):
    for module, names in imported_modules(path):
        private = [name for name in names if name.startswith("_")]
        assert not private, f"imports {private} from {module}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_under_500_lines(path):
    assert len(path.read_text().splitlines()) < MAX_MODULE_LINES


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_functions_stay_under_60_lines(path):
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long


def test_the_checks_see_a_violation(tmp_path, monkeypatch):
    """The import reader resolves relative imports, so an upward import cannot slip through."""
    module = PACKAGE / "learning" / "checkpoint.py"
    found = [name for name, _ in imported_modules(module)]
    assert "multimodal_deterioration.learning.model" in found
    assert all(name.startswith("multimodal_deterioration.") for name in found)
