"""Password hashing cost and event-loop responsiveness while logins run.

Measures, with the portal's real argon2id settings (or ARGON2_* from the environment):
- the time of one hash and one verification on this machine;
- 10 logins at once (services.auth.login against a SQLite file) and, meanwhile, how late a 10 ms ticker on the
  same event loop wakes up — the lag a page would feel while people log in.

Run: .venv/bin/python bench/login.py [--logins 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher

from models import Role
from services import anwender, auth, passwords
from services.database import close_database, init_database
from services.kunden import create_customer
from services.settings import get_settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = 'Fulda-Ufer-im-Herbst-7'


def hash_timings(repeat: int = 10) -> tuple[float, float]:
    settings = get_settings()
    hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                            parallelism=settings.argon2_parallelism)
    hashes, verifies = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        hashed = hasher.hash(PASSWORD)
        hashes.append(time.perf_counter() - start)
        start = time.perf_counter()
        hasher.verify(hashed, PASSWORD)
        verifies.append(time.perf_counter() - start)
    return statistics.median(hashes) * 1000, statistics.median(verifies) * 1000


async def ticker(lags: list[float], stop: asyncio.Event, interval: float = 0.01) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        expected = loop.time() + interval
        await asyncio.sleep(interval)
        lags.append(max(0.0, loop.time() - expected) * 1000)


async def concurrent_logins(count: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        await init_database(f'sqlite://{directory}/bench.db')
        try:
            customer = await create_customer(kundennummer='900001', name='Bench GmbH', strasse='Königsplatz 1',
                                             plz='34117', ort='Kassel')
            for number in range(count):
                await anwender.create_user(email=f'user{number}@bench.de', name=f'Bench User{number}', role=Role.ADMIN,
                                  password=PASSWORD, customer=customer)
            lags: list[float] = []
            stop = asyncio.Event()
            tick = asyncio.create_task(ticker(lags, stop))
            await asyncio.sleep(0.2)
            idle_lags = list(lags)
            lags.clear()
            start = time.perf_counter()
            results = await asyncio.gather(*(
                auth.login(f'user{number}@bench.de', PASSWORD, client=f'10.0.0.{number}') for number in range(count)
            ))
            elapsed = time.perf_counter() - start
            stop.set()
            await tick
            assert all(result.token for result in results)
            print(f'{count} logins at once: {elapsed * 1000:.0f} ms in all '
                  f'({get_settings().max_parallel_hashes} hashing threads)')
            print(f'event-loop lag of a 10 ms ticker while idle: max {max(idle_lags):.1f} ms; during the logins: '
                  f'median {statistics.median(lags):.1f} ms, p95 {sorted(lags)[int(len(lags) * 0.95)]:.1f} ms, '
                  f'max {max(lags):.1f} ms over {len(lags)} ticks')
        finally:
            await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--logins', type=int, default=10)
    args = parser.parse_args()
    settings = get_settings()
    print(f'argon2id t={settings.argon2_time_cost} m={settings.argon2_memory_kib} KiB p={settings.argon2_parallelism}')
    hash_ms, verify_ms = hash_timings()
    print(f'one hash: {hash_ms:.1f} ms, one verification: {verify_ms:.1f} ms (median of 10)')
    passwords.reset_hasher()
    asyncio.run(concurrent_logins(args.logins))


if __name__ == '__main__':
    main()
