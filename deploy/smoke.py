"""Several portal processes behind the shipped nginx configuration, on loopback only, and a journey across them.

    python deploy/smoke.py                    two processes started at once on an empty PostgreSQL database, Redis,
                                              nginx with deploy/nginx/firmenportal.conf, and a Chromium journey in
                                              which the process serving the browser is killed
    python deploy/smoke.py --start-rounds 5   only the start: two processes at once on a fresh database, 5 times

Everything it creates is unique to the run and removed afterwards: the PostgreSQL database (portal_smoke_<pid>_<hex>),
the Redis keys (NICEGUI_REDIS_KEY_PREFIX smoke-<pid>-<hex>:), the nginx prefix directory. It prints what it measured.
Needs: PostgreSQL (SMOKE_POSTGRES_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres), Redis
(SMOKE_REDIS_URL, default redis://127.0.0.1:6379), nginx and /usr/bin/chromium (the journey only).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

PROJECT_DIR = Path(__file__).resolve().parent.parent
NGINX_CONFIG = PROJECT_DIR / 'deploy' / 'nginx' / 'firmenportal.conf'
POSTGRES_ADMIN_URL = os.environ.get('SMOKE_POSTGRES_ADMIN_URL', 'postgresql://postgres@127.0.0.1:5432/postgres')
REDIS_URL = os.environ.get('SMOKE_REDIS_URL', 'redis://127.0.0.1:6379')
CHROMIUM = Path('/usr/bin/chromium')
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def unique_name(prefix: str, separator: str = '_') -> str:
    return f'{prefix}{separator}{os.getpid()}{separator}{secrets.token_hex(4)}'


@contextmanager
def throwaway_postgres(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A new, empty, uniquely named database; dropped (connections and all) afterwards. OSError when unreachable."""
    name = unique_name('portal_smoke')

    async def admin(sql: str) -> None:
        try:
            connection = await asyncpg.connect(admin_url, timeout=5)
        except asyncpg.PostgresError as error:
            raise OSError(str(error)) from error
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE {name}'))
    try:
        yield admin_url.rsplit('/', 1)[0].replace('postgresql://', 'postgres://') + '/' + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))


def portal_environment(**variables: str) -> dict[str, str]:
    """This environment without pytest's and NiceGUI's test variables (they switch a server into test mode)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(('PYTEST_', 'NICEGUI_'))}
    env.update(PYTHONUNBUFFERED='1', ARGON2_TIME_COST='1', ARGON2_MEMORY_KIB='8192', **variables)
    return env


def answers(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET, None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


@dataclass
class Portal:
    """One `python main.py` process on a loopback port, its output in a log file."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def start(self, *arguments: str) -> None:
        env = {**self.env, 'HOST': '127.0.0.1', 'PORT': str(self.port)}
        with self.log_path.open('ab') as log:
            self.process = subprocess.Popen(
                [sys.executable, 'main.py', *arguments], cwd=PROJECT_DIR, env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding='utf-8', errors='replace') if self.log_path.exists() else ''
        return '\n'.join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until /readyz says 200; RuntimeError with the log when the process ends or the time is up."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while answers(f'{self.url}/readyz') != 200:
            if self.process.poll() is not None:
                raise RuntimeError(f'{self.name} ended with exit code {self.process.returncode}:\n{self.log_tail()}')
            if time.monotonic() > deadline:
                raise RuntimeError(f'{self.name} not ready within {timeout:.0f} s:\n{self.log_tail()}')
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> int | None:
        """SIGTERM (uvicorn's graceful shutdown), SIGKILL after STOP_TIMEOUT; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_at_once(portals: list[Portal]) -> float:
    """Start every portal in the same instant; seconds until all are ready (RuntimeError if one is not)."""
    started = time.monotonic()
    for portal in portals:
        portal.start()
    for portal in portals:
        portal.wait_ready()
    return time.monotonic() - started


def start_rounds(rounds: int, directory: Path) -> list[float]:
    """Two processes at once on a fresh, empty PostgreSQL database per round (demo data included)."""
    durations = []
    for number in range(1, rounds + 1):
        with throwaway_postgres() as database_url:
            env = portal_environment(DATABASE_URL=database_url, DEMO_DATA='1', STORAGE_SECRET=secrets.token_urlsafe(32),
                                     NICEGUI_STORAGE_PATH=str(directory / 'nicegui'))
            portals = [Portal(f'portal-{index}', free_port(), env, directory / f'round{number}-{index}.log')
                       for index in (1, 2)]
            try:
                durations.append(start_at_once(portals))
            finally:
                for portal in portals:
                    portal.stop()
        print(f'  Runde {number}: beide bereit nach {durations[-1]:.1f} s', flush=True)
    return durations


def nginx_config(directory: Path, listen_port: int, upstream_ports: list[int]) -> Path:
    """The shipped deploy/nginx/firmenportal.conf, changed only where a loopback test must: the processes' ports,
    plain HTTP on a free port instead of TLS on 443, logs and temporary files in `directory`."""
    shipped = NGINX_CONFIG.read_text(encoding='utf-8')
    servers = ''.join(f'    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n' for port in upstream_ports)
    site = re.sub(r'(?m)^    server 127\.0\.0\.1:\d+[^\n]*\n', '', shipped)
    site = site.replace('upstream firmenportal {\n', 'upstream firmenportal {\n' + servers, 1)
    site = re.sub(r'(?m)^\s*listen 443 ssl[^;]*;', f'    listen 127.0.0.1:{listen_port};', site)
    site = re.sub(r'(?m)^\s*(ssl_|http2 |add_header Strict)[^\n]*\n', '', site)
    site = re.sub(r'(?ms)^# The plain-HTTP.*?^}\n', '', site)  # the port-80 redirect server
    site = site.replace('/var/log/nginx/', f'{directory}/')
    (directory / 'firmenportal.conf').write_text(site, encoding='utf-8')
    main = directory / 'nginx.conf'
    user = 'user root;\n' if os.geteuid() == 0 else ''
    main.write_text(
        f'{user}worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n'
        f'events {{ worker_connections 256; }}\n'
        f'http {{\n  client_body_temp_path {directory}/tmp;\n  proxy_temp_path {directory}/tmp;\n'
        f'  access_log off;\n  include {directory}/firmenportal.conf;\n}}\n',
        encoding='utf-8',
    )
    return main


@contextmanager
def running_nginx(directory: Path, listen_port: int, upstream_ports: list[int]) -> Iterator[Path]:
    """nginx in the foreground with the generated configuration; yields its JSON access log."""
    config = nginx_config(directory, listen_port, upstream_ports)
    (directory / 'tmp').mkdir(exist_ok=True)
    nginx = shutil.which('nginx') or '/usr/sbin/nginx'
    test = subprocess.run([nginx, '-t', '-p', str(directory), '-c', str(config)], capture_output=True, text=True,
                          check=False)
    if test.returncode != 0:
        raise RuntimeError(f'nginx -t failed:\n{test.stderr}')
    process = subprocess.Popen([nginx, '-p', str(directory), '-c', str(config), '-g', 'daemon off;'],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while answers(f'http://127.0.0.1:{listen_port}/healthz') is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'nginx did not start:\n{(directory / "error.log").read_text()}')
            time.sleep(0.1)
        yield directory / 'firmenportal-access.log'
    finally:
        process.terminate()
        process.wait(timeout=10)
