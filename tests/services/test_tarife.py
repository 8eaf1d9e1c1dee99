"""The dated price rules (no database): the shipped tarife.toml, the Mindestzuschuss, the Eigenanteil, and a custom
TARIFF_FILE chosen by date."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import tarife
from services.settings import PROJECT_DIR, get_settings, reset_settings
from services.tarife import Tariff, tariff_on
from services.validation import format_euro

no_db = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
SHIPPED = PROJECT_DIR / 'services' / 'tarife.toml'


@pytest.fixture(autouse=True)
def shipped_tariffs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv('TARIFF_FILE', raising=False)
    reset_settings()
    yield
    reset_settings()


def write_tariffs(path: Path, *blocks: tuple[str, int, int, int]) -> Path:
    path.write_text(
        '\n'.join(
            f'[[tarif]]\ngueltig_ab = {start}\npreis_cent = {price}\nmindestzuschuss_prozent = {minimum}\n'
            f'rabatt_prozent = {discount}\n'
            for start, price, minimum, discount in blocks
        ),
        encoding='utf-8',
    )
    return path


def use_tariff_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv('TARIFF_FILE', str(path))
    reset_settings()
    assert get_settings().tariff_file == path


# --- the shipped file ------------------------------------------------------------------------------------------------


def test_the_default_setting_points_at_the_shipped_file() -> None:
    assert get_settings().tariff_file == SHIPPED


@pytest.mark.parametrize(
    ('day', 'price'),
    [
        (date(2025, 1, 1), '58,00 €'),
        (date(2025, 7, 15), '58,00 €'),
        (date(2025, 12, 31), '58,00 €'),
        (date(2026, 1, 1), '63,00 €'),
        (date(2026, 3, 5), '63,00 €'),
        (date(2030, 6, 1), '63,00 €'),  # the latest block holds until a newer one is added
    ],
)
def test_prices_by_date(day: date, price: str) -> None:
    assert format_euro(tariff_on(day).preis_cent) == price


def test_a_day_before_every_block_gets_the_earliest_one() -> None:
    assert tariff_on(date(2024, 12, 31)) == tariff_on(date(2025, 1, 1))


def test_the_shipped_file_is_what_the_portal_loads() -> None:
    with SHIPPED.open('rb') as file:
        blocks = tomllib.load(file)['tarif']
    for block in blocks:
        loaded = tariff_on(block['gueltig_ab'])
        assert loaded == Tariff(**block)


def test_mindestzuschuss_2026_is_a_quarter_of_the_price() -> None:
    tariff_2026 = tariff_on(date(2026, 1, 1))
    assert tariff_2026.mindestzuschuss_cent == 1575
    assert format_euro(tariff_2026.mindestzuschuss_cent) == '15,75 €'
    share = tariff_2026.preis_cent * tariff_2026.mindestzuschuss_prozent / 100
    assert tariff_2026.mindestzuschuss_cent == math.ceil(share)
    assert tariff_on(date(2025, 6, 1)).mindestzuschuss_cent == 1450


def test_eigenanteil_at_the_minimum_subsidy_gets_the_discount() -> None:
    tariff_2026 = tariff_on(date(2026, 1, 1))
    assert format_euro(tariff_2026.eigenanteil_cent(1575)) == '44,10 €'
    assert tariff_2026.eigenanteil_cent(1575) == (
        tariff_2026.preis_cent - 1575 - tariff_2026.preis_cent * tariff_2026.rabatt_prozent // 100
    )


def test_no_discount_below_the_minimum_subsidy() -> None:
    tariff_2026 = tariff_on(date(2026, 1, 1))
    below = tariff_2026.mindestzuschuss_cent - 1
    assert tariff_2026.eigenanteil_cent(below) == tariff_2026.preis_cent - below
    assert tariff_2026.eigenanteil_cent(0) == tariff_2026.preis_cent
    # One cent more subsidy saves the employee the discount on top.
    assert tariff_2026.eigenanteil_cent(below) - tariff_2026.eigenanteil_cent(below + 1) == 1 + tariff_2026.rabatt_cent


@pytest.mark.parametrize('subsidy', [6300 - 315, 6300, 10_000, 1_000_000])
def test_eigenanteil_is_never_negative(subsidy: int) -> None:
    assert tariff_on(date(2026, 1, 1)).eigenanteil_cent(subsidy) == 0


@no_db
@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=100_000))
def test_eigenanteil_properties(first: int, second: int) -> None:
    tariff_2026 = tariff_on(date(2026, 1, 1))
    low, high = sorted((first, second))
    price = tariff_2026.preis_cent
    for subsidy in (low, high):
        assert 0 <= tariff_2026.eigenanteil_cent(subsidy) <= price - min(subsidy, price)
    assert tariff_2026.eigenanteil_cent(high) <= tariff_2026.eigenanteil_cent(low)  # more subsidy never costs more


# --- a custom TARIFF_FILE --------------------------------------------------------------------------------------------


def test_a_custom_file_is_picked_by_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_tariffs(
        tmp_path / 'tarife.toml',
        ('2027-01-01', 6900, 30, 10),  # out of order on purpose: the loader sorts by date
        ('2024-05-01', 4900, 25, 5),
        ('2026-01-01', 6300, 25, 5),
    )
    use_tariff_file(monkeypatch, path)
    assert tariff_on(date(2024, 1, 1)).preis_cent == 4900  # before every block: the earliest
    assert tariff_on(date(2024, 5, 1)).preis_cent == 4900
    assert tariff_on(date(2025, 12, 31)).preis_cent == 4900
    assert tariff_on(date(2026, 1, 1)).preis_cent == 6300
    assert tariff_on(date(2026, 12, 31)).preis_cent == 6300
    newest = tariff_on(date(2027, 1, 1))
    assert newest == Tariff(date(2027, 1, 1), 6900, 30, 10)
    assert newest.mindestzuschuss_cent == 2070
    assert newest.rabatt_cent == 690
    assert newest.eigenanteil_cent(2070) == 6900 - 2070 - 690
    assert newest.eigenanteil_cent(2069) == 6900 - 2069


def test_switching_files_switches_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    day = date(2026, 6, 1)
    shipped_price = tariff_on(day).preis_cent
    use_tariff_file(monkeypatch, write_tariffs(tmp_path / 'a.toml', ('2020-01-01', 1000, 25, 5)))
    assert tariff_on(day).preis_cent == 1000
    use_tariff_file(monkeypatch, write_tariffs(tmp_path / 'b.toml', ('2020-01-01', 2000, 25, 5)))
    assert tariff_on(day).preis_cent == 2000
    monkeypatch.delenv('TARIFF_FILE')
    reset_settings()
    assert tariff_on(day).preis_cent == shipped_price


def test_the_mindestzuschuss_is_rounded_up_to_the_cent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_tariff_file(monkeypatch, write_tariffs(tmp_path / 'odd.toml', ('2026-01-01', 5801, 25, 5)))
    odd = tariff_on(date(2026, 1, 1))
    assert odd.mindestzuschuss_cent == math.ceil(5801 * 25 / 100) == 1451  # 14,5025 € → 14,51 €
    assert odd.eigenanteil_cent(1450) == 5801 - 1450  # 14,50 € is below the minimum: no discount
    assert odd.eigenanteil_cent(1451) == 5801 - 1451 - odd.rabatt_cent


def test_load_is_cached_per_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_tariffs(tmp_path / 'cached.toml', ('2026-01-01', 3000, 25, 5))
    use_tariff_file(monkeypatch, path)
    assert tariff_on(date(2026, 1, 1)).preis_cent == 3000
    write_tariffs(path, ('2026-01-01', 4000, 25, 5))
    assert tariff_on(date(2026, 1, 1)).preis_cent == 3000  # read once per process: a change needs a restart
    tarife._load.cache_clear()
    assert tariff_on(date(2026, 1, 1)).preis_cent == 4000
