"""The README's layout section names every module of pages/ and services/, so it cannot go stale silently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def layout_section() -> str:
    readme = (PROJECT / 'README.md').read_text(encoding='utf-8')
    return readme.split('## Layout', 1)[1].split('\n## ', 1)[0]


@pytest.mark.parametrize('package', ['pages', 'services'])
def test_every_module_is_named_in_the_layout(package: str) -> None:
    named = set(re.findall(r'[a-z0-9_]+', layout_section()))  # i18n has digits
    modules = {path.stem for path in (PROJECT / package).glob('*.py') if path.stem != '__init__'}
    packages = {path.parent for path in (PROJECT / package).glob('*/__init__.py')}
    modules |= {directory.name for directory in packages}  # a package and every module in it
    modules |= {path.stem for directory in packages for path in directory.glob('*.py') if path.stem != '__init__'}
    assert sorted(modules - named) == []
