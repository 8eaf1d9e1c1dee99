"""Benchmark of hostile Massenupload files (issue 11): how fast each is refused, what reading it costs in memory, and
how the portal's /login answers while six of them are uploaded at once.

Part 1, per file (each written here, byte by byte, see tests/hostile_files.py), in a fresh subprocess so that its
peak RSS is the file's own: `parse_upload` with the default limits (5 MB, 10,000 rows); prints the seconds until the
German refusal (or the rows read), the peak resident memory (VmHWM) before and after, and the message. A subprocess that
runs longer than --timeout seconds is killed and reported as such (for runs against older code: --code-dir).

Part 2, against a real portal (`python main.py` on a free 127.0.0.1 port, a temporary SQLite file with the demo
data): Chromium (Playwright, /usr/bin/chromium) logs in as the demo administrator and opens the contract's
Massenupload in six tabs. Each round, all six tabs get a hostile file through the upload's file input at once, i.e.
through the real upload route, page and reading pool, and the time until each German refusal shows is taken.
Meanwhile a thread sends GET /login every 50 ms and records the latency; before the storm the same for an idle
portal. Scenario B uploads six maximal files within the limits (10,000 rows each), which really occupy the reading
pool (2 threads, 4 waiting), and a second later a seventh from another tab: whichever arrives when the pool and its
queue are full is turned away with „bitte später erneut“.

    .venv/bin/python bench/hostile_uploads.py                   # both parts
    .venv/bin/python bench/hostile_uploads.py --part files      # part 1 only
    .venv/bin/python bench/hostile_uploads.py --code-dir /tmp/old-checkout --part files
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault('DEMO_DATA', '0')
os.environ.setdefault('STORAGE_SECRET', 'bench-hostile-uploads')

from tests import hostile_files as hostile  # noqa: E402
from tests.support import stop_process  # noqa: E402

MB = 1024 * 1024
SAMPLE_EVERY = 0.05
MAX_SAMPLES = 4_000  # a bound on every latency loop (200 s at 50 ms)
ROUNDS = 3

FILES: list[tuple[str, str, Callable[[], bytes]]] = [
    ('Zeile 30.000.000', 'zeilennummer-30m.xlsx', lambda: hostile.huge_row_number(30_000_000)),
    ('Zeile 2.000.000.000', 'zeilennummer-2g.xlsx', lambda: hostile.huge_row_number(2_000_000_000)),
    ('20 Mio. leere <row/>', 'leere-zeilen-20m.xlsx', lambda: hostile.empty_rows(20_000_000)),
    ('1 Mio. nummerierte leere Zeilen', 'leere-zeilen-nummeriert.xlsx',
     lambda: hostile.numbered_empty_rows(3, 1_000_000)),
    ('300-MB-Zelle (inline)', 'riesenzelle.xlsx', lambda: hostile.huge_cell(300 * MB)),
    ('300-MB-Zelle (sharedStrings)', 'riesenzelle-sst.xlsx', lambda: hostile.huge_shared_string(300 * MB)),
    ('ZIP-Verzeichnis lügt (3 GB)', 'luege.xlsx',
     lambda: hostile.claimed_size(hostile.good_xlsx(), 'xl/worksheets/sheet1.xml', 3_000_000_000)),
    ('1.000 Teile', 'teile.xlsx', lambda: hostile.many_members(1_000)),
    ('Zeile mit 1 Mio. Zellen', 'breit.xlsx', lambda: hostile.wide_row(1_000_000)),
    ('Entity-Bombe', 'bombe.xlsx', hostile.entity_bomb),
    ('UTF-16, 1 Mio. Zeilen', 'utf16.xlsx', lambda: hostile.utf16_sheet(1_000_000)),
    ('CSV: eine 5-MB-Zeile', 'zeile.csv', lambda: hostile.csv_long_line(5 * MB - 1_000)),
    ('CSV: 2,5 Mio. Leerzeilen', 'leerzeilen.csv', lambda: hostile.csv_empty_lines(2_500_000)),
    ('CSV: 2,5 Mio. Felder', 'felder.csv', lambda: hostile.csv_many_fields(2_500_000)),
    ('CSV: lange Zelle über kurze Zeilen', 'zelle.csv', lambda: hostile.csv_quoted_field(4 * MB)),
    ('zum Vergleich: 10.000 gute Zeilen', 'gut-10000.xlsx', lambda: hostile.good_xlsx(10_000)),
]
STORM = ['zeilennummer-30m.xlsx', 'zeilennummer-2g.xlsx', 'leere-zeilen-20m.xlsx', 'riesenzelle.xlsx',
         'leere-zeilen-nummeriert.xlsx', 'zeile.csv']


# The child: parse one file with the `services` of the checkout it runs in (cwd), print one JSON line.
CHILD = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, '.')
from services import massenupload
def rss():  # the peak resident memory of this process (VmHWM starts afresh at exec, unlike ru_maxrss)
    status = Path('/proc/self/status').read_text()
    return int(next(line for line in status.splitlines() if line.startswith('VmHWM:')).split()[1]) / 1024
path = Path(sys.argv[1])
data = path.read_bytes()
before = rss()
started = time.perf_counter()
try:
    outcome = f'{len(massenupload.parse_upload(data, path.name).rows)} Zeilen gelesen'
except massenupload.UploadError as error:
    outcome = str(error)
seconds = time.perf_counter() - started
print(json.dumps({'seconds': seconds, 'before': before, 'peak': rss(), 'outcome': outcome}))
"""


def write_files(directory: Path) -> dict[str, Path]:
    paths = {}
    for _, name, build in FILES:
        path = directory / name
        path.write_bytes(build())
        paths[name] = path
    return paths


def part_files(paths: dict[str, Path], code_dir: Path, timeout: float) -> None:
    print(f'\nTeil 1: parse_upload je Datei, eigener Prozess ({code_dir})')
    print(f'{"Datei":36} {"Größe":>10} {"Sekunden":>9} {"RSS vorher":>10} {"RSS Spitze":>10}  Ergebnis')
    for label, name, _ in FILES:
        path = paths[name]
        command = [sys.executable, '-c', CHILD, str(path)]
        env = {**os.environ, 'DEMO_DATA': '0', 'STORAGE_SECRET': 'bench-hostile-uploads'}
        started = time.perf_counter()
        try:
            result = subprocess.run(command, cwd=code_dir, env=env, capture_output=True, text=True, timeout=timeout,
                                    check=False)
        except subprocess.TimeoutExpired:
            print(f'{label:36} {path.stat().st_size:>10,} {"> " + str(int(timeout)):>9}  abgebrochen nach '
                  f'{time.perf_counter() - started:.0f} s')
            continue
        lines = [line for line in result.stdout.splitlines() if line.startswith('{')]
        if not lines:
            print(f'{label:36} {path.stat().st_size:>10,}  Fehler: {result.stderr.strip()[-300:]}')
            continue
        row = json.loads(lines[-1])
        print(f'{label:36} {path.stat().st_size:>10,} {row["seconds"]:>9.3f} {row["before"]:>8.0f}MB '
              f'{row["peak"]:>8.0f}MB  {row["outcome"][:90]}')


# --- part 2: a real portal --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def get_ms(url: str) -> float | None:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
    except (urllib.error.URLError, OSError):
        return None
    return (time.perf_counter() - started) * 1000


class Sampler(threading.Thread):
    """GET /login every 50 ms until stopped (at most MAX_SAMPLES)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[float] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        for _ in range(MAX_SAMPLES):
            if self.stop.is_set():
                return
            latency = get_ms(self.url)
            if latency is None:
                self.failures += 1
            else:
                self.samples.append(latency)
            self.stop.wait(SAMPLE_EVERY)


def summary(samples: list[float]) -> str:
    if not samples:
        return 'keine Messung'
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f'n={len(samples):>4}  Median {statistics.median(samples):7.1f} ms  p95 {p95:7.1f} ms  '
            f'max {ordered[-1]:7.1f} ms')


def start_portal(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(('PYTEST', 'NICEGUI_'))}
    env.update(HOST='127.0.0.1', PORT=str(port), DATABASE_URL=f'sqlite://{directory / "bench.db"}', DEMO_DATA='1',
               STORAGE_SECRET='bench-hostile-uploads', NICEGUI_STORAGE_PATH=str(directory / 'nicegui'),
               PYTHONUNBUFFERED='1')
    log = (directory / 'server.log').open('wb')
    process = subprocess.Popen([sys.executable, 'main.py'], cwd=PROJECT_DIR, env=env, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}'
    for _ in range(300):
        if get_ms(f'{url}/login') is not None:
            return process, url
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f'Portal did not start; see {directory / "server.log"}')


def storm(pages: list, files: list[Path], expected: Callable, url: str, label: str) -> None:
    """All tabs get their file at once; the time until each page shows its outcome, /login sampled meanwhile."""
    from playwright.sync_api import expect

    sampler = Sampler(f'{url}/login')
    sampler.start()
    times: list[float] = []
    for _ in range(ROUNDS):
        for page in pages:  # a fresh page: no banner of the round before
            page.reload()
            page.locator('input[type=file]').wait_for(state='attached')
        started = time.perf_counter()
        for page, file in zip(pages, files, strict=True):
            page.locator('input[type=file]').set_input_files(file)
        for page, file in zip(pages, files, strict=True):
            expect(expected(page, file)).to_be_visible(timeout=180_000)
            times.append(time.perf_counter() - started)
    sampler.stop.set()
    sampler.join()
    print(f'  {label}: Ergebnis im Browser nach {statistics.median(times):.2f} s (Median), '
          f'{max(times):.2f} s (spätestens), {len(times)} Uploads')
    print(f'  /login währenddessen: {summary(sampler.samples)}  Fehler: {sampler.failures}')


def part_portal(paths: dict[str, Path], directory: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.test_massenupload_journey import open_massenupload

    process, url = start_portal(directory)
    print(f'\nTeil 2: echtes Portal {url}, Chromium, sechs Tabs gleichzeitig, je {ROUNDS} Runden')
    try:
        idle = Sampler(f'{url}/login')
        idle.start()
        time.sleep(5)
        idle.stop.set()
        idle.join()
        print(f'  /login im Leerlauf:   {summary(idle.samples)}')
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(locale='de-DE')
            context.set_default_timeout(60_000)
            first = context.new_page()
            open_massenupload(first, url)
            pages = [first]
            for _ in range(6):
                page = context.new_page()
                page.goto(first.url)
                page.locator('input[type=file]').wait_for(state='attached')
                pages.append(page)
            hostile_files = [paths[name] for name in STORM]

            def refused(page, file):  # every hostile file ends in the red banner
                return page.locator('.q-banner, [role=alert]').filter(has_text='Bitte').first

            storm(pages[:6], hostile_files, refused, url, 'A: sechs feindliche Dateien')
            for page in pages:
                page.reload()
                page.locator('input[type=file]').wait_for(state='attached')

            sampler = Sampler(f'{url}/login')
            sampler.start()
            started = time.perf_counter()
            uploads = []
            for index, page in enumerate(pages):  # six maximal valid files, then one small one a second later
                if index == 6:
                    time.sleep(1.0)
                rows = 10_000 if index < 6 else 1
                file = directory / f'gut-{index}.csv'
                file.write_bytes(hostile.CSV_HEADER + hostile.CSV_ROW * rows)
                page.locator('input[type=file]').set_input_files(file)
                uploads.append((page, file))
            previews: list[str] = []
            turned_away: list[str] = []
            for page, file in uploads:
                outcome = page.get_by_text(f'„{file.name}“', exact=True).or_(
                    page.get_by_text('Zurzeit werden sehr viele Dateien', exact=False)).first
                expect(outcome).to_be_visible(timeout=300_000)
                seconds = time.perf_counter() - started
                busy = 'Zurzeit' in (outcome.text_content() or '')
                (turned_away if busy else previews).append(f'{file.name} {seconds:.1f} s')
            sampler.stop.set()
            sampler.join()
            print('  B: sechs Dateien mit je 10.000 gültigen Zeilen (im Limit), eine Sekunde später eine siebte:')
            print(f'     Vorschau: {", ".join(previews)}')
            print(f'     „bitte später erneut“: {", ".join(turned_away) or "keine"}')
            print(f'  /login währenddessen: {summary(sampler.samples)}  Fehler: {sampler.failures}')
            browser.close()
    finally:
        stop_process(process, timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--part', choices=['files', 'portal', 'all'], default='all')
    parser.add_argument('--code-dir', type=Path, default=PROJECT_DIR, help='checkout whose services/ parse (part 1)')
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds per file in part 1')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='hostile-uploads-') as temp:
        directory = Path(temp)
        started = time.perf_counter()
        paths = write_files(directory)
        print(f'{len(paths)} Dateien geschrieben in {time.perf_counter() - started:.1f} s')
        if args.part in ('files', 'all'):
            part_files(paths, args.code_dir.resolve(), args.timeout)
        if args.part in ('portal', 'all'):
            part_portal(paths, directory)


if __name__ == '__main__':
    main()
