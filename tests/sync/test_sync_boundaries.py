"""The dependency rule: schemas/ ← sync/ ← backend/, and sync/ stays free of Flask and SQLAlchemy."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def modules_under(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules_under("sync"), ids=lambda p: str(p.relative_to(ROOT)))
def test_sync_imports_neither_flask_nor_sqlalchemy_nor_backend(path):
    assert not imported_roots(path) & {"flask", "flask_sqlalchemy", "sqlalchemy", "backend", "werkzeug"}


@pytest.mark.parametrize("path", modules_under("schemas"), ids=lambda p: str(p.relative_to(ROOT)))
def test_schemas_import_nothing_from_sync_or_backend(path):
    assert not imported_roots(path) & {"sync", "backend"}


@pytest.mark.parametrize("path", modules_under("sync"), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_sync_module_says_what_it_is_responsible_for_and_stays_small(path):
    source = path.read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(source))
    assert source.count("\n") < 300
