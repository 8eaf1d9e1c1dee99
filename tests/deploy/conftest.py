"""Tests that run the portal as real processes (`python main.py …`), as an operator would deploy it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.smoke import throwaway_postgres
from tests.conftest import POSTGRES_ADMIN_URL, REQUIRE_POSTGRES


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A uniquely named, empty PostgreSQL database, dropped afterwards (no fixed name two runs could share)."""
    try:
        with throwaway_postgres(POSTGRES_ADMIN_URL) as url:
            yield url
    except OSError as error:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f'PostgreSQL not reachable ({error}); set REQUIRE_POSTGRES=1 to make this an error')
