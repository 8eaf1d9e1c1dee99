"""Benchmark of the outbox: 10,000 queued mails delivered to a local SMTP server (aiosmtpd, in its own process, so it
takes nothing from the portal's interpreter), while a probe measures the event loop's lag as the portal's pages
would feel it (a 10 ms timer; its lateness is the lag).

    queue      10,000 mails rendered from their templates and written in transactions of 500
    deliver    services.mail_worker.deliver_due in a loop until the outbox is empty: mails per second
    lag        p50 / p99 / max of the probe while the worker runs (goal: p99 < 20 ms)

Run from the project directory:  .venv/bin/python bench/mail.py [--mails 10000] [--database-url postgres://…]
(default: a new SQLite file under /tmp; a PostgreSQL URL must name an empty, migrated database of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault('DEMO_DATA', '0')
os.environ.setdefault('STORAGE_SECRET', 'bench-mail-outbox')

from tortoise.context import TortoiseContext  # noqa: E402
from tortoise.migrations.api import migrate  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from bench import goals  # noqa: E402
from models import MailStatus, OutboxMail  # noqa: E402
from services import mail, mail_worker  # noqa: E402
from services.database import tortoise_config  # noqa: E402
from services.settings import reset_settings  # noqa: E402
from tests.smtp_server import free_port  # noqa: E402

GOAL_P99_MS = 20.0
PROBE_SECONDS = 0.01


async def queue(count: int) -> float:
    started = time.perf_counter()
    for start in range(0, count, 500):
        async with in_transaction():
            for number in range(start, min(start + 500, count)):
                await mail.enqueue('antrag_abgelehnt', f'person{number}@example.de', {
                    'name': f'Person {number}', 'company': 'Fahrradmanufaktur Kassel GmbH',
                    'reference': f'A-2026-{number:06d}', 'reason': 'Nicht bei uns beschäftigt.'})
    return time.perf_counter() - started


async def probe(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(PROBE_SECONDS)
        lags.append((time.perf_counter() - before - PROBE_SECONDS) * 1000)


async def deliver() -> tuple[float, list[float]]:
    lags: list[float] = []
    stop = asyncio.Event()
    prober = asyncio.create_task(probe(lags, stop))
    started = time.perf_counter()
    while await mail_worker.deliver_due():
        pass
    elapsed = time.perf_counter() - started
    stop.set()
    await prober
    return elapsed, lags


async def run(url: str, count: int) -> None:
    async with TortoiseContext():
        await migrate(config=tortoise_config(url))
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        queued = await queue(count)
        print(f'queue     {count:>6,} mails  {queued:6.1f} s  ({count / queued:,.0f} mails/s, rendered and written)')
        elapsed, lags = await deliver()
        sent = await OutboxMail.filter(status=MailStatus.GESENDET).count()
        lags.sort()
        p99 = lags[int(len(lags) * 0.99)]
        print(f'deliver   {sent:>6,} mails  {elapsed:6.1f} s  ({sent / elapsed:,.0f} mails/s)')
        print(f'lag       p50 {statistics.median(lags):5.1f} ms   p99 {p99:5.1f} ms   max {lags[-1]:5.1f} ms   '
              f'(goal p99 < {GOAL_P99_MS:.0f} ms: {"met" if p99 < GOAL_P99_MS else "NOT met"}; '
              f'{len(lags)} probes)')
        goals.record('mail', f'loop lag p99 < {GOAL_P99_MS:.0f} ms while delivering', p99, 'ms', p99 < GOAL_P99_MS,
                     f'{count:,} mails, {sent / elapsed:,.0f} delivered/s')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--mails', type=int, default=10_000)
    parser.add_argument('--database-url', default='')
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, '-m', 'aiosmtpd', '-n', '-l', f'127.0.0.1:{port}',
                               '-c', 'aiosmtpd.handlers.Sink'])
    try:
        time.sleep(1.5)  # the server binds
        os.environ.update(SMTP_HOST='127.0.0.1', SMTP_PORT=str(port), SMTP_SECURITY='none')
        reset_settings()
        with tempfile.TemporaryDirectory() as directory:
            url = args.database_url or f'sqlite://{directory}/bench-mail.db'
            print(f'database  {url.split("://")[0]}')
            asyncio.run(run(url, args.mails))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == '__main__':
    main()
