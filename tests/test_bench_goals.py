"""bench/goals.py: what the benchmarks record under `make bench` comes out as one goal-vs-measured table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import goals


def test_records_become_one_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / 'goals.jsonl'
    monkeypatch.setenv('BENCH_GOALS', str(results))
    goals.record('contract_table', 'search p95 < 50 ms (postgres, 100,000)', 31.25, 'ms', True, 'search "gmbh"')
    goals.record('import_latency', 'SQLite reader p95 ms < 100', 106.0, 'ms', False)
    table = goals.table(results).splitlines()
    assert 'search p95 < 50 ms (postgres, 100,000)' in table[1] and '31.2 ms' in table[1] and ' met ' in table[1]
    assert 'MISSED' in table[2] and '106.0 ms' in table[2]
    assert table[-1].startswith('1 of 2 goals met')


def test_without_the_variable_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('BENCH_GOALS', raising=False)
    monkeypatch.chdir(tmp_path)
    goals.record('mail', 'loop lag p99 < 20 ms while delivering', 6.1, 'ms', True)
    assert list(tmp_path.iterdir()) == []
