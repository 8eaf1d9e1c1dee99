"""No page imports another page (issue 13): what two pages share is a widget in pages/components.py (or a form part
in pages/forms.py), so a page can change without breaking the one that borrowed from it."""

from __future__ import annotations

import ast
from pathlib import Path

PAGES = Path(__file__).resolve().parent.parent / 'pages'
PAGE_DECORATORS = {'portal_page', 'page'}  # @portal_page(router, …), @router.page(…), @ui.page(…)


def _is_page(tree: ast.Module) -> bool:
    """A module that registers a page at its top level."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = call.attr if isinstance(call, ast.Attribute) else getattr(call, 'id', '')
                if name in PAGE_DECORATORS:
                    return True
    return False


def _imported_pages_modules(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith('pages.'):
            found.add(node.module.removeprefix('pages.'))
        elif isinstance(node, ast.ImportFrom) and node.module == 'pages':
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name.removeprefix('pages.') for alias in node.names if alias.name.startswith('pages.')}
    return found


def test_no_page_imports_another_page() -> None:
    trees = {path.stem: ast.parse(path.read_text(encoding='utf-8')) for path in PAGES.glob('*.py')
             if path.stem != '__init__'}  # __init__ collects every page's router for main.py
    pages = {name for name, tree in trees.items() if _is_page(tree)}
    assert {'vertragsverwaltung', 'anwender', 'dashboard', 'verwaltung'} <= pages  # the check sees pages at all
    borrowed = {name: sorted(_imported_pages_modules(tree) & pages) for name, tree in trees.items()}
    assert {name: imports for name, imports in borrowed.items() if imports} == {}
