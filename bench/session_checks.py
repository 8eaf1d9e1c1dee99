"""What re-checking the session on every action costs (pages/session_guard.py).

Measures, on a SQLite file and on a uniquely named throw-away PostgreSQL database, each holding `--sessions` open
sessions of `--users` portal users:
- one re-check as an event of an open page does it (`sessions.user_for_token`: the session row, its user and the
  customer in one query, the idle clock moved at most once a minute): median and p95;
- one round of the per-process watcher (`sessions.session_states`) for 50, 400 and 2,000 open pages, in chunks of
  500 ids per query.

Run: .venv/bin/python bench/session_checks.py [--sessions 10000] [--users 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault('DEMO_DATA', '0')

import asyncpg
from tortoise.backends.base.executor import EXECUTOR_CACHE

from bench.support import throwaway_database
from models import Customer, PortalUser, Role, Session
from services import clock, sessions
from services.database import close_database, init_database

ROUNDS = 300


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def fill(users: int, session_count: int) -> list[str]:
    customer = await Customer.create(kundennummer='900001', name='Bench GmbH', strasse='Weg 1', plz='34117',
                                     ort='Kassel')
    people = [PortalUser(email=f'person{number}@bench.example', password_hash='x', name=f'Person {number}',
                         role=Role.CLERK, customer=customer) for number in range(users)]
    await PortalUser.bulk_create(people, batch_size=1000)
    ids = await PortalUser.all().values_list('id', flat=True)
    now = clock.now()
    tokens = [f'token-{number}-{uuid.uuid4().hex}' for number in range(session_count)]
    await Session.bulk_create([
        Session(token_hash=sessions._digest(token), user_id=ids[number % len(ids)], created_at=now, last_seen_at=now)
        for number, token in enumerate(tokens)
    ], batch_size=1000)
    return tokens


async def measure(url: str, users: int, session_count: int) -> dict[str, float]:
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL per connection name, across backends
    await init_database(url)
    try:
        tokens = await fill(users, session_count)
        checks = []
        for number in range(ROUNDS):
            start = time.perf_counter()
            assert await sessions.user_for_token(tokens[(number * 37) % len(tokens)]) is not None
            checks.append((time.perf_counter() - start) * 1000)
        result = {'check_median': statistics.median(checks), 'check_p95': percentile(checks, 0.95)}
        for pages in (50, 400, 2000):
            start = time.perf_counter()
            states = await sessions.session_states(tokens[:pages])
            result[f'watch_{pages}'] = (time.perf_counter() - start) * 1000
            assert all(state.valid for state in states.values())
        return result
    finally:
        await close_database()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sessions', type=int, default=10_000)
    parser.add_argument('--users', type=int, default=2_000)
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, float]]] = []
    async with throwaway_database('sqlite', 'bench_sessions') as url:
        rows.append(('SQLite', await measure(url, args.users, args.sessions)))
    try:
        async with throwaway_database('postgres', 'bench_sessions') as url:
            rows.append(('PostgreSQL', await measure(url, args.users, args.sessions)))
    except (OSError, asyncpg.PostgresError) as error:
        print(f'PostgreSQL übersprungen: {error}')
    print(f'{args.sessions:,} open sessions of {args.users:,} users; {ROUNDS} re-checks; times in ms')
    print(f'{"database":<11} {"check median":>12} {"check p95":>10} {"watch 50":>9} {"watch 400":>10} '
          f'{"watch 2000":>11}')
    for label, values in rows:
        print(f'{label:<11} {values["check_median"]:>12.2f} {values["check_p95"]:>10.2f} {values["watch_50"]:>9.1f} '
              f'{values["watch_400"]:>10.1f} {values["watch_2000"]:>11.1f}')


if __name__ == '__main__':
    asyncio.run(main())
