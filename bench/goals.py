"""Goal against measured, across the benchmarks: each script records the goals it checks, `make bench` prints them
in one table at the end (each script's own output keeps the details and the conditions of the run).

With BENCH_GOALS naming a file, `record` appends one JSON line to it; without, it does nothing, so a script run on
its own prints only its own report. `python bench/goals.py FILE` prints the table.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def record(script: str, goal: str, measured: float, unit: str, met: bool, detail: str = '') -> None:
    """One checked goal, e.g. ('contract_table', 'search p95 < 50 ms (PostgreSQL)', 31.2, 'ms', True)."""
    if not (path := os.environ.get('BENCH_GOALS')):
        return
    entry = {'script': script, 'goal': goal, 'measured': round(measured, 2), 'unit': unit, 'met': met,
             'detail': detail, 'load': round(os.getloadavg()[0], 1)}
    with Path(path).open('a', encoding='utf-8') as file:
        file.write(json.dumps(entry, ensure_ascii=False) + '\n')


def table(path: Path) -> str:
    lines = [json.loads(line) for line in path.read_text(encoding='utf-8').splitlines() if line.strip()]
    rows = [f'{"script":<16} {"goal":<48} {"measured":>12} {"load":>5}  result  detail']
    for entry in lines:
        measured = f'{entry["measured"]:,.1f} {entry["unit"]}'
        rows.append(f'{entry["script"]:<16} {entry["goal"]:<48} {measured:>12} {entry["load"]:>5}  '
                    f'{"met" if entry["met"] else "MISSED":<6}  {entry["detail"]}')
    met = sum(entry['met'] for entry in lines)
    rows.append(f'{met} of {len(lines)} goals met (load: the 1-minute load average when measured, on '
                f'{os.cpu_count()} cores)')
    return '\n'.join(rows)


if __name__ == '__main__':
    if len(sys.argv) != 2 or not Path(sys.argv[1]).exists():
        sys.exit('usage: python bench/goals.py FILE (the file the benchmarks wrote with BENCH_GOALS set)')
    print('\nGoal vs measured, all benchmarks of this run')
    print(table(Path(sys.argv[1])))
