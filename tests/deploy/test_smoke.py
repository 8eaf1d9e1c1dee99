"""Two portal processes, Redis and the shipped nginx configuration on loopback: deploy/smoke.py's journey passes.

It runs as a subprocess (its own Playwright, its own unique PostgreSQL database and Redis prefix). Without nginx,
Chromium, PostgreSQL or Redis it is skipped, unless REQUIRE_PROXY=1 makes that an error.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from deploy.smoke import CHROMIUM, PROJECT_DIR, REDIS_URL, portal_environment
from tests.conftest import POSTGRES_ADMIN_URL

JOURNEY_TIMEOUT_SECONDS = 180


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or '127.0.0.1', parts.port or 0), timeout=2):
            return True
    except OSError:
        return False


def _missing() -> str | None:
    if shutil.which('nginx') is None and not os.path.exists('/usr/sbin/nginx'):
        return 'nginx not installed (apt-get install nginx-light; `make test` does it as root)'
    if not CHROMIUM.exists():
        return f'{CHROMIUM} not installed'
    if not _reachable(REDIS_URL):
        return f'Redis not reachable at {REDIS_URL}'
    if not _reachable(POSTGRES_ADMIN_URL):
        return f'PostgreSQL not reachable at {POSTGRES_ADMIN_URL}'
    return None


def test_two_processes_behind_nginx_survive_one_being_killed() -> None:
    missing = _missing()
    if missing:
        if os.environ.get('REQUIRE_PROXY') == '1':
            pytest.fail(f'{missing}; REQUIRE_PROXY=1 makes this an error', pytrace=False)
        pytest.skip(f'{missing}; set REQUIRE_PROXY=1 to make this an error')
    env = portal_environment(SMOKE_POSTGRES_ADMIN_URL=POSTGRES_ADMIN_URL, SMOKE_REDIS_URL=REDIS_URL)
    result = subprocess.run([sys.executable, 'deploy/smoke.py'], cwd=PROJECT_DIR, env=env, capture_output=True,
                            text=True, timeout=JOURNEY_TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, f'{result.stdout}\n{result.stderr}'
    assert 'Erstbesuche ohne Neuladen: 6 von 6' in result.stdout
    assert result.stdout.rstrip().endswith('SMOKE OK')
