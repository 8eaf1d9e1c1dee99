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

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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
    site = re.sub(r'(?m)^\s*listen \[::\]:443[^\n]*\n', '', site)
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


def upstreams(access_log: Path, path: str) -> list[str]:
    """The processes (host:port) nginx sent the requests for `path` to, oldest first, from its JSON access log."""
    entries = [json.loads(line) for line in access_log.read_text(encoding='utf-8').splitlines() if line.strip()]
    # "a, b" when nginx had to try a second process: the last one answered
    return [entry['upstream'].split(',')[-1].strip() for entry in entries
            if entry['path'] == path and entry['upstream']]


def upstream_of(access_log: Path, path: str) -> str:
    """The process that served the latest request for `path`."""
    served = upstreams(access_log, path)
    if not served:
        raise RuntimeError(f'no request for {path} in {access_log}')
    return served[-1]


def journey(proxy_url: str, portals: list[Portal], access_log: Path) -> dict[str, float | int]:
    """In Chromium, through the proxy only: first visits without a reload, a login, the contract table; then the
    process serving that browser is killed and the same open page goes on in the other process, still logged in."""
    from playwright.sync_api import Page, expect, sync_playwright

    from models import Role
    from services.demo_data import DEMO_LOGINS, DemoLogin

    admin = next(login for login in DEMO_LOGINS if login.role == Role.ADMIN)
    clerk = next(login for login in DEMO_LOGINS if login.role == Role.CLERK)
    measured: dict[str, float | int] = {}
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'])

        loads: dict[Page, int] = {}  # page loads seen per page: a reload is a second one

        def new_page() -> Page:  # a browser of its own: no cookie yet, a true first visit
            context = browser.new_context(locale='de-DE')
            context.set_default_timeout(20_000)
            page = context.new_page()
            loads[page] = 0
            page.on('load', lambda _: loads.update({page: loads[page] + 1}))
            return page

        def connected(page: Page) -> None:
            page.wait_for_function('window.did_handshake === true')

        def log_in(page: Page, login: DemoLogin) -> None:
            page.goto(f'{proxy_url}/login')
            connected(page)
            page.get_by_label('E-Mail-Adresse', exact=True).fill(login.email)
            page.get_by_label('Passwort', exact=True).fill(login.password)
            page.get_by_role('button', name='Anmelden', exact=True).click()
            expect(page.get_by_text(f'Willkommen, {login.name}')).to_be_visible()

        # First visits: the page and its websocket reach the same process, so nobody reloads.
        first_visits = [new_page() for _ in range(6)]
        for page in first_visits:
            page.goto(f'{proxy_url}/login')
            expect(page.get_by_role('heading', name='Anmeldung')).to_be_visible()
        measured['first_visit_processes'] = len(set(upstreams(access_log, '/login')))
        time.sleep(1.5)  # a failed handshake reloads at once; give it the chance to show
        reloads = sum(loads[page] - 1 for page in first_visits)
        unconnected = sum(not page.evaluate('window.did_handshake === true') for page in first_visits)
        for page in first_visits:
            page.context.close()
        if reloads or unconnected:
            raise RuntimeError(f'first visits: {reloads} reloads, {unconnected} of {len(first_visits)} pages without '
                               'a websocket: the page and its websocket reached different processes')
        measured['first_visits'], measured['first_visit_reloads'] = len(first_visits), reloads

        page = new_page()
        log_in(page, admin)
        page.get_by_role('navigation', name='Hauptnavigation').get_by_text('Vertragsverwaltung', exact=True).click()
        expect(page.get_by_role('heading', name='Ihre Verträge')).to_be_visible()
        expect(page.get_by_text('DJ-2024-0117', exact=True)).to_be_visible()
        connected(page)
        serving = upstream_of(access_log, '/vertragsverwaltung')
        victim = next(portal for portal in portals if serving.endswith(f':{portal.port}'))
        survivor = next(portal for portal in portals if portal is not victim)
        loads_before = loads[page]
        killed = time.monotonic()
        victim.kill()
        # The open page loses its websocket, reconnects through nginx to the other process, which does not know this
        # page: NiceGUI reloads it there. The login lives in PostgreSQL, the user storage in Redis: still logged in.
        while loads[page] == loads_before:
            if time.monotonic() - killed > 30:
                raise RuntimeError('the open page did not come back within 30 s after its process was killed')
            page.wait_for_timeout(50)
        connected(page)
        expect(page.get_by_text('DJ-2024-0117', exact=True)).to_be_visible()
        measured['recovered_seconds'] = time.monotonic() - killed
        if upstream_of(access_log, '/vertragsverwaltung') != f'127.0.0.1:{survivor.port}':
            raise RuntimeError('the page was not served again by the surviving process')
        # Work goes on in the survivor: a click (a websocket event) that navigates, and the data it shows.
        page.get_by_role('navigation', name='Hauptnavigation').get_by_text('Anwender', exact=True).click()
        expect(page.get_by_role('heading', name='Anwender', exact=True)).to_be_visible()
        expect(page.get_by_text(clerk.email, exact=True)).to_be_visible()
        if upstream_of(access_log, '/anwender') != f'127.0.0.1:{survivor.port}':
            raise RuntimeError('/anwender was not served by the surviving process')
        # A new visitor after the kill: logs in without noticing anything.
        newcomer = new_page()
        log_in(newcomer, clerk)
        browser.close()
    return measured


def run_journey(directory: Path) -> None:
    import redis

    prefix = unique_name('smoke', '-') + ':'
    proxy_port = free_port()
    with throwaway_postgres() as database_url:
        env = portal_environment(
            DATABASE_URL=database_url, DEMO_DATA='1', STORAGE_SECRET=secrets.token_urlsafe(32),
            PUBLIC_URL=f'http://127.0.0.1:{proxy_port}', LOG_FORMAT='json',
            NICEGUI_REDIS_URL=REDIS_URL, NICEGUI_REDIS_KEY_PREFIX=prefix,
            NICEGUI_STORAGE_PATH=str(directory / 'nicegui'),
        )
        portals = [Portal(f'portal-{index}', free_port(), env, directory / f'portal-{index}.log') for index in (1, 2)]
        try:
            seconds = start_at_once(portals)
            print(f'Zwei Prozesse gleichzeitig auf leerer PostgreSQL-Datenbank gestartet: bereit nach {seconds:.1f} s',
                  flush=True)
            with running_nginx(directory, proxy_port, [portal.port for portal in portals]) as access_log:
                measured = journey(f'http://127.0.0.1:{proxy_port}', portals, access_log)
        except Exception:
            for portal in portals:
                print(f'--- {portal.name} ({portal.log_path}) ---\n{portal.log_tail()}', file=sys.stderr)
            raise
        finally:
            exit_codes = [portal.stop() for portal in portals]
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f'{prefix}*'))
            if keys:
                client.delete(*keys)
            client.close()
    print(f'Erstbesuche ohne Neuladen: {measured["first_visits"] - measured["first_visit_reloads"]} von '
          f'{measured["first_visits"]} (verteilt auf {measured["first_visit_processes"]} Prozesse)')
    print(f'Prozess der offenen Seite getötet (SIGKILL): Seite lief im anderen Prozess weiter nach '
          f'{measured["recovered_seconds"]:.1f} s, angemeldet, Navigation und neue Anmeldung dort ok')
    print(f'Überlebender Prozess mit SIGTERM beendet: Exit-Code {exit_codes}')
    print('SMOKE OK')


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog='python deploy/smoke.py', description=__doc__.splitlines()[0])
    parser.add_argument('--start-rounds', type=int, default=0, help='nur den gleichzeitigen Start N-mal messen')
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT_DIR))
    with tempfile.TemporaryDirectory(prefix='portal-smoke-') as name:
        directory = Path(name)
        if args.start_rounds:
            durations = start_rounds(args.start_rounds, directory)
            print(f'{len(durations)} von {args.start_rounds} Runden: beide Prozesse bereit; '
                  f'min {min(durations):.1f} s, max {max(durations):.1f} s')
            return 0
        run_journey(directory)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
