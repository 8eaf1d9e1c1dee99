"""main.settle_garbage_collector: start-up's objects leave the cyclic collector once per process (a full collection
walked them all, 112–221 ms of CPU in one event-loop step at 100,000 contracts)."""

from __future__ import annotations

import gc

import pytest

import main


def test_start_up_objects_are_frozen_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []

    def collect() -> int:
        done.append('collect')
        return 0

    monkeypatch.setattr(gc, 'get_freeze_count', lambda: len(done))
    monkeypatch.setattr(gc, 'collect', collect)
    monkeypatch.setattr(gc, 'freeze', lambda: done.append('freeze'))
    main.settle_garbage_collector()
    main.settle_garbage_collector()  # the simulated-user tests start the app again and again
    assert done == ['collect', 'freeze']
