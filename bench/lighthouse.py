"""Lighthouse on the portal's main pages: performance (phone and desktop profile), accessibility, page weight.

Starts the portal (`python main.py`) on a free loopback port with a fresh SQLite file holding the demo data, logs in
as the demo administrator in Chromium (Playwright) to get a session cookie for /vertragsverwaltung, and runs
Lighthouse `--runs` times per page and profile; prints the medians. /kiosk is measured with its device cookie (a
kiosk's every visit after its first), so its one-time redirect does not count.

Lighthouse is not a Python package: install it with npm into a directory of your own, e.g.
`npm install --prefix /work/tools lighthouse@12` (Lighthouse 13 needs Node 22), and name its binary with
`--lighthouse` or LIGHTHOUSE; without it the script says so and ends with status 0. Chromium: CHROME_PATH, else
/usr/bin/chromium.

Run: .venv/bin/python bench/lighthouse.py [--runs 3] [--project DIR] [--screenshots DIR]
`--project` measures another checkout of the portal (e.g. `git worktree add /tmp/before main`) with this script;
`--screenshots` also keeps full-page PNGs of every page at 320, 390 and 1366 px, to compare two checkouts by eye.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.support import answers, free_port, stop_process  # noqa: E402

PAGES = ('/login', '/vertragsverwaltung', '/self-service', '/kiosk')
NEEDS_LOGIN = {'/vertragsverwaltung'}
PROFILES = ('mobile', 'desktop')
WIDTHS = (320, 390, 1366)
CHROME_FLAGS = '--headless --no-sandbox --disable-gpu --disable-dev-shm-usage'
ADMIN_EMAIL = 'admin@fahrradmanufaktur-kassel.de'
ADMIN_PASSWORD = 'Radweg-Fulda-2026'  # the demo login in README.md
LIGHTHOUSE_TIMEOUT = 300
STARTUP_TIMEOUT = 120
RETRIES = 2


class RunFailed(Exception):
    """One Lighthouse run that gave no result (on a loaded machine Chrome sometimes times out): tried again."""


@dataclass
class Run:
    performance: float
    accessibility: float
    kib: float
    fcp_ms: float
    lcp_ms: float
    tbt_ms: float
    script_ms: float  # Lighthouse's bootup-time: script evaluation and parse per page






def start_portal(project: Path, directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith(('PYTEST', 'NICEGUI_'))}
    env.update(HOST='127.0.0.1', PORT=str(port), DATABASE_URL=f'sqlite://{directory / "bench.db"}', DEMO_DATA='1',
               STORAGE_SECRET='bench-lighthouse', NICEGUI_STORAGE_PATH=str(directory / 'nicegui'), JOBS='0',
               SMTP_HOST='', PYTHONUNBUFFERED='1')
    log = (directory / 'server.log').open('wb')
    process = subprocess.Popen([sys.executable, 'main.py'], cwd=project, env=env, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if answers(f'{url}/login', timeout=5):
            return process, url
        if process.poll() is not None:
            break
        time.sleep(0.3)
    stop_process(process, 15)
    raise SystemExit(f'Das Portal ist nicht gestartet; siehe {directory / "server.log"}')




def kiosk_cookie(url: str) -> str:
    """The device cookie a kiosk gets on its first visit (the redirect's Set-Cookie)."""
    host, port = url.removeprefix('http://').split(':')
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request('GET', '/kiosk')
        response = connection.getresponse()
        response.read()
        cookie = response.getheader('set-cookie') or ''
    finally:
        connection.close()
    return cookie.split(';', 1)[0]


def chromium() -> str:
    return os.environ.get('CHROME_PATH', '/usr/bin/chromium')


def login_cookie(url: str) -> str | None:
    """The portal's session cookies after the demo administrator's login through the form; None without Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROME_FLAGS.split())
        try:
            page = browser.new_page()
            page.goto(f'{url}/vertragsverwaltung')  # sends the browser to the login and back
            page.get_by_label('E-Mail-Adresse', exact=True).fill(ADMIN_EMAIL)
            page.get_by_label('Passwort', exact=True).fill(ADMIN_PASSWORD)
            page.get_by_role('button', name='Anmelden', exact=True).click()
            page.wait_for_url(lambda address: urlsplit(address).path == '/vertragsverwaltung', timeout=60_000)
            cookies = page.context.cookies()
            if not any(cookie['name'] == 'portal_sitzung' for cookie in cookies):
                raise SystemExit('Die Anmeldung des Demo-Administrators ist misslungen.')
        finally:
            browser.close()
    return '; '.join(f'{cookie["name"]}={cookie["value"]}' for cookie in cookies
                     if cookie['name'] in ('portal_sitzung', 'session'))


def lighthouse_run(binary: str, url: str, profile: str, cookie: str | None, output: Path) -> Run:
    command = [binary, url, '--quiet', '--output=json', f'--output-path={output}',
               '--only-categories=performance,accessibility', f'--chrome-flags={CHROME_FLAGS}']
    if profile == 'desktop':
        command.append('--preset=desktop')
    if cookie:
        command.append('--extra-headers=' + json.dumps({'Cookie': cookie}))
    output.unlink(missing_ok=True)
    finished = subprocess.run(command, timeout=LIGHTHOUSE_TIMEOUT, env={**os.environ, 'CHROME_PATH': chromium()},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if finished.returncode != 0 or not output.exists():
        raise RunFailed(f'{url} ({profile}): {finished.stderr.strip().splitlines()[-1:]}')
    report = json.loads(output.read_text(encoding='utf-8'))
    audits = report['audits']
    if report.get('runtimeError'):
        raise RunFailed(f'{url} ({profile}): {report["runtimeError"]}')
    if report['finalDisplayedUrl'].rstrip('/') != url.rstrip('/'):
        raise SystemExit(f'{url} endete auf {report["finalDisplayedUrl"]} (Anmeldung verloren?)')
    if report['categories']['performance']['score'] is None:
        raise RunFailed(f'{url} ({profile}): keine Leistungswertung')
    return Run(
        performance=report['categories']['performance']['score'] * 100,
        accessibility=report['categories']['accessibility']['score'] * 100,
        kib=audits['total-byte-weight']['numericValue'] / 1024,
        fcp_ms=audits['first-contentful-paint']['numericValue'],
        lcp_ms=audits['largest-contentful-paint']['numericValue'],
        tbt_ms=audits['total-blocking-time']['numericValue'],
        script_ms=audits['bootup-time']['numericValue'],
    )


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def screenshots(url: str, cookies: dict[str, str | None], directory: Path) -> None:
    """Full-page PNGs <page>-<width>.png, after the fonts are in (the icons would otherwise show as words)."""
    from playwright.sync_api import sync_playwright

    directory.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROME_FLAGS.split())
        try:
            for path in PAGES:
                for width in WIDTHS:
                    context = browser.new_context(viewport={'width': width, 'height': 800}, locale='de-DE')
                    if cookie := cookies.get(path):
                        context.set_extra_http_headers({'Cookie': cookie})
                    page = context.new_page()
                    page.goto(url + path, wait_until='networkidle')
                    page.evaluate('document.fonts.ready.then(() => true)')
                    page.wait_for_timeout(500)
                    name = path.strip('/').replace('/', '-') or 'root'
                    page.screenshot(path=str(directory / f'{name}-{width}.png'), full_page=True,
                                    animations='disabled')
                    context.close()
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=3, help='Lighthouse runs per page and profile (median)')
    parser.add_argument('--lighthouse', default=os.environ.get('LIGHTHOUSE') or shutil.which('lighthouse'),
                        help='the lighthouse binary (npm package)')
    parser.add_argument('--project', type=Path, default=PROJECT_DIR, help='the checkout of the portal to measure')
    parser.add_argument('--screenshots', type=Path, help='also keep screenshots at 320, 390 and 1366 px here')
    args = parser.parse_args()
    if not args.lighthouse or not Path(args.lighthouse).exists():
        print('Lighthouse ist nicht installiert (npm install --prefix DIR lighthouse@12; dann --lighthouse '
              'DIR/node_modules/.bin/lighthouse): übersprungen.')
        return
    if not Path(chromium()).exists():
        print(f'Chromium fehlt ({chromium()}; CHROME_PATH): übersprungen.')
        return
    with tempfile.TemporaryDirectory(prefix='bench-lighthouse-') as name:
        directory = Path(name)
        process, url = start_portal(args.project.resolve(), directory)
        try:
            cookies: dict[str, str | None] = {'/kiosk': kiosk_cookie(url)}
            login = login_cookie(url)
            pages = list(PAGES)
            if login is None:
                print('Playwright fehlt: /vertragsverwaltung (braucht eine Anmeldung) wird nicht gemessen.')
                pages = [path for path in pages if path not in NEEDS_LOGIN]
            else:
                cookies['/vertragsverwaltung'] = login
            if args.screenshots and login is not None:
                screenshots(url, cookies, args.screenshots)
                print(f'Bildschirmfotos in {args.screenshots}')
            results: dict[tuple[str, str], list[Run]] = {}
            for _ in range(args.runs):  # round-robin, so a burst of load on the machine spreads over every page
                for path in pages:
                    for profile in PROFILES:
                        output = directory / 'report.json'
                        for attempt in range(RETRIES + 1):
                            try:
                                run = lighthouse_run(args.lighthouse, url + path, profile, cookies.get(path), output)
                            except RunFailed as failure:
                                print(f'Lauf ohne Ergebnis ({attempt + 1}/{RETRIES + 1}): {failure}', flush=True)
                                continue
                            results.setdefault((path, profile), []).append(run)
                            break
        finally:
            stop_process(process, 15)
    print(f'Lighthouse, Median aus {args.runs} Läufen ({args.project.resolve()}; Last {os.getloadavg()[0]:.1f}):')
    print(f'{"Seite":<20} {"Profil":<8} {"Leistung":>8} {"Barrierefr.":>11} {"KiB":>6} {"FCP ms":>7} '
          f'{"LCP ms":>7} {"TBT ms":>7} {"Skript ms":>9} {"Läufe":>5}')
    for (path, profile), runs in results.items():
        print(f'{path:<20} {profile:<8} {median(runs, "performance"):>8.0f} {median(runs, "accessibility"):>11.0f} '
              f'{median(runs, "kib"):>6.0f} {median(runs, "fcp_ms"):>7.0f} {median(runs, "lcp_ms"):>7.0f} '
              f'{median(runs, "tbt_ms"):>7.0f} {median(runs, "script_ms"):>9.0f} {len(runs):>5}')


if __name__ == '__main__':
    main()
