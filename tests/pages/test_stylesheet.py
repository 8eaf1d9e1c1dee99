"""Pages without the in-browser Tailwind compiler (issue 16, item 7): every class a page uses must be defined by
the portal's CSS (pages/utilities.css and the CSS strings of pages/), Quasar or NiceGUI. Without the compiler, a
Tailwind class nobody defined would silently do nothing, so this is checked twice: in the source (every `.classes(…)`
argument, `class="…"` in Vue templates and props, a table column's `classes`) and on rendered pages (every element's
classes), which also catches classes put together at run time."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import nicegui
import pytest
from nicegui import ui
from nicegui.element_filter import ElementFilter
from nicegui.testing import User

import main
from pages import theme
from services.settings import get_settings
from tests.pages.conftest import log_in

PAGES_DIR = Path(__file__).resolve().parent.parent.parent / 'pages'
NICEGUI_STATIC = Path(nicegui.__file__).parent / 'static'
FRAMEWORK_CSS = ('quasar.unimportant.prod.css', 'quasar.important.prod.css', 'nicegui.css')
CLASS_SELECTOR = re.compile(r'\.(-?[_a-zA-Z][\w-]*)')
CLASS_ATTRIBUTE = re.compile(r'class="([^"]*)"')
# Names that only mark an element (for a reader of the DOM, a script or a test) and have no rule. Keep it short.
HOOKS = {'portal-sidebar'}


def class_selectors(css: str) -> set[str]:
    css = re.sub(r'/\*.*?\*/', '', css, flags=re.DOTALL)
    css = re.sub(r'url\([^)]*\)', '', css)
    selectors = re.findall(r'([^{}]+)\{', css)  # the text before each block: selectors and at-rule preludes
    return {name for selector in selectors for name in CLASS_SELECTOR.findall(selector)}


def portal_css() -> str:
    """utilities.css and every module-level *CSS string of pages/ (theme, kiosk, legal footer, tables)."""
    texts = [(PAGES_DIR / 'utilities.css').read_text(encoding='utf-8')]
    for path in PAGES_DIR.glob('*.py'):
        for node in ast.parse(path.read_text(encoding='utf-8')).body:
            if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id.endswith('CSS')
                                                    for target in node.targets):
                texts += [part.value for part in ast.walk(node.value)
                          if isinstance(part, ast.Constant) and isinstance(part.value, str)]
    return '\n'.join(texts)


def defined_classes() -> set[str]:
    framework = '\n'.join((NICEGUI_STATIC / name).read_text(encoding='utf-8') for name in FRAMEWORK_CSS)
    return class_selectors(framework) | class_selectors(portal_css()) | HOOKS


def undefined(used: dict[str, set[str]]) -> dict[str, list[str]]:
    defined = defined_classes()
    return {name: sorted(places) for name, places in sorted(used.items()) if name not in defined}


def _strings(node: ast.AST, scopes: list[ast.AST], depth: int = 0) -> Iterator[str]:
    """The class names an argument can hold: its constants (an f-string's constant parts: a name cut by a
    placeholder is reported, as Tailwind's own scanner would miss it too), and the string constants assigned to a
    variable (or given as its default) in the enclosing function or the module."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr | ast.FormattedValue | ast.IfExp | ast.BinOp | ast.BoolOp):
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr_context | ast.operator | ast.boolop):
                yield from _strings(child, scopes, depth)
    elif isinstance(node, ast.Name) and depth < 3:
        for scope in scopes:
            yield from _assigned(node.id, scope, scopes, depth + 1)


def _assigned(name: str, scope: ast.AST, scopes: list[ast.AST], depth: int) -> Iterator[str]:
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    yield from _strings(node.value, scopes, depth)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for element, value in zip(target.elts, node.value.elts, strict=False):
                        if isinstance(element, ast.Name) and element.id == name:
                            yield from _strings(value, scopes, depth)
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            pairs = [*zip(positional[len(positional) - len(node.defaults):], node.defaults, strict=True),
                     *((arg, default) for arg, default in zip(node.kwonlyargs, node.kw_defaults, strict=True)
                       if default is not None)]
            for argument, default in pairs:
                if argument.arg == name:
                    yield from _strings(default, scopes, depth)


def source_classes() -> dict[str, set[str]]:
    """Every class name written in pages/: `.classes(…)` arguments, `class="…"` (Vue slot templates, `*-class` props)
    and the `classes`/`headerClasses` of table columns; where each is used."""
    used: dict[str, set[str]] = {}

    def add(text: str, place: str) -> None:
        for name in text.split():
            used.setdefault(name, set()).add(place)

    for path in sorted(PAGES_DIR.glob('*.py')):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        inner: dict[int, ast.AST] = {}  # id of each node → its innermost function (walked outermost first)
        for function in functions:
            for child in ast.walk(function):
                inner[id(child)] = function

        for node in ast.walk(tree):
            place = f'{path.name}:{getattr(node, "lineno", 0)}'
            scopes = [scope for scope in (inner.get(id(node)), tree) if scope is not None]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == 'classes':
                for argument in [*node.args, *(keyword.value for keyword in node.keywords if keyword.arg != 'remove')]:
                    for text in _strings(argument, scopes):
                        add(text, place)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in ('classes', 'headerClasses'):
                        for text in _strings(value, scopes):
                            add(text, place)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in CLASS_ATTRIBUTE.finditer(node.value):
                    add(match.group(1), place)
    script = (PAGES_DIR / 'a11y.js').read_text(encoding='utf-8')
    for match in re.finditer(r"classList\.(?:add|toggle)\(([^)]*)\)", script):
        for name in re.findall(r"'([^']*)'", match.group(1)):
            add(name, 'a11y.js')
    return used


def test_every_class_written_in_the_pages_is_defined() -> None:
    used = source_classes()
    assert {'w-full', 'gap-4', 'text-h6', 'q-pa-lg', 'sort-header', 'gt-xs'} <= set(used)  # the scan sees them
    assert undefined(used) == {}


def test_a_class_nobody_defines_is_found() -> None:
    """The check itself: Tailwind classes the CSS does not have (and a typo) are reported, defined ones are not."""
    assert set(undefined({'w-full': {'x'}, 'max-w-prose': {'x'}, 'gap-5': {'x'}, 'text-h6': {'x'},
                          'itmes-center': {'x'}})) == {'max-w-prose', 'gap-5', 'itmes-center'}


def test_the_runtime_compiler_is_off() -> None:
    assert main.run_options(get_settings())['tailwind'] is False


def rendered_classes(user: User, page: str) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    with user:
        for element in ElementFilter(local_scope=False):
            names = [*element.classes]
            for key, value in element.props.items():
                if key.endswith('-class') and isinstance(value, str):
                    names += value.split()
            if isinstance(element, ui.table):
                for column in element.columns:
                    names += f'{column.get("classes", "")} {column.get("headerClasses", "")}'.split()
            for name in names:
                used.setdefault(name, set()).add(page)
    return used


async def test_rendered_pages_use_only_defined_classes(user: User) -> None:
    used: dict[str, set[str]] = {}
    for path, seen in [('/login', 'Anmeldung'), ('/self-service', 'Kundencode eingeben'),
                       ('/kiosk', 'D-Ticket Job beantragen'), ('/impressum', 'Impressum')]:
        await user.open(path)
        await user.should_see(seen)
        for name, pages in rendered_classes(user, path).items():
            used.setdefault(name, set()).update(pages)
    await log_in(user, target='/vertragsverwaltung')
    for path, seen in [('/vertragsverwaltung', 'Ihre Verträge'), ('/', 'Kundencode'), ('/anwender', 'Anwender'),
                       ('/profil', 'Ihre letzten Anmeldungen')]:
        await user.open(path)
        await user.should_see(seen)
        for name, pages in rendered_classes(user, path).items():
            used.setdefault(name, set()).update(pages)
    assert {'w-full', 'gap-4', 'portal-card'} <= set(used)
    assert undefined(used) == {}


async def test_pages_link_the_stylesheet_and_not_the_compiler(user: User) -> None:
    response = await user.http_client.get('/login')
    assert response.status_code == 200
    assert 'tailwindcss' not in response.text
    assert f'<link rel="stylesheet" href="{theme.UTILITIES_URL}">' in response.text


@pytest.mark.parametrize(('path', 'status'), [(theme.UTILITIES_URL, 200), ('/stil/portal-0000000000000000.css', 404)])
async def test_the_stylesheet_is_cached_by_its_hash(user: User, path: str, status: int) -> None:
    """The address names the content: cached for a year, and an old address is not served the new content."""
    response = await user.http_client.get(path)
    assert response.status_code == status
    if status == 200:
        assert response.headers['content-type'].startswith('text/css')
        assert 'immutable' in response.headers['cache-control']
        assert response.content == (PAGES_DIR / 'utilities.css').read_bytes()
