"""The month rules (no database): the first open start month and the end of a Kündigung around the cut-off day,
with the default cut-off (10) and with CUTOFF_DAY changed, plus property-based checks over any date."""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import abo_dates
from services.abo_dates import (
    OFFERED_START_MONTHS,
    cancellation_end,
    first_open_start_month,
    month_label,
    open_start_months,
)
from services.settings import get_settings, reset_settings

no_db = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
# Far enough from date.max that "two months ahead" still exists.
any_day = st.dates(min_value=date(1900, 1, 1), max_value=date(9998, 12, 31))


def next_first(day: date) -> date:
    """The 1st of the month after `day`, computed independently of the implementation (via day arithmetic)."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@pytest.fixture
def cutoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Sets CUTOFF_DAY in the environment and re-reads the settings, as the running portal would after a restart."""

    def set_cutoff(day: int) -> None:
        monkeypatch.setenv('CUTOFF_DAY', str(day))
        reset_settings()
        assert get_settings().cutoff_day == day

    yield set_cutoff
    monkeypatch.delenv('CUTOFF_DAY', raising=False)
    reset_settings()


def test_the_default_cut_off_is_the_10th(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('CUTOFF_DAY', raising=False)
    reset_settings()
    assert get_settings().cutoff_day == 10


# --- the first open start month --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('today', 'expected'),
    [
        (date(2026, 3, 1), date(2026, 4, 1)),
        (date(2026, 3, 9), date(2026, 4, 1)),
        (date(2026, 3, 10), date(2026, 4, 1)),  # the cut-off day itself still counts for this month
        (date(2026, 3, 11), date(2026, 5, 1)),
        (date(2026, 3, 31), date(2026, 5, 1)),
        (date(2026, 11, 10), date(2026, 12, 1)),
        (date(2026, 11, 11), date(2027, 1, 1)),
        (date(2026, 12, 9), date(2027, 1, 1)),
        (date(2026, 12, 10), date(2027, 1, 1)),
        (date(2026, 12, 11), date(2027, 2, 1)),
        (date(2026, 12, 31), date(2027, 2, 1)),
        (date(2028, 2, 29), date(2028, 4, 1)),
    ],
)
def test_first_open_start_month_around_the_cut_off(today: date, expected: date) -> None:
    assert first_open_start_month(today) == expected


@pytest.mark.parametrize(
    ('cutoff_day', 'today', 'expected'),
    [
        (15, date(2026, 3, 10), date(2026, 4, 1)),
        (15, date(2026, 3, 11), date(2026, 4, 1)),  # would be May with the default cut-off
        (15, date(2026, 3, 15), date(2026, 4, 1)),
        (15, date(2026, 3, 16), date(2026, 5, 1)),
        (5, date(2026, 3, 5), date(2026, 4, 1)),
        (5, date(2026, 3, 6), date(2026, 5, 1)),  # would be April with the default cut-off
        (5, date(2026, 12, 6), date(2027, 2, 1)),
        (31, date(2026, 3, 31), date(2026, 4, 1)),  # a cut-off after every day: always next month
        (31, date(2026, 12, 31), date(2027, 1, 1)),
    ],
)
def test_first_open_start_month_follows_the_configured_cut_off(
    cutoff: Callable[[int], None], cutoff_day: int, today: date, expected: date
) -> None:
    cutoff(cutoff_day)
    assert first_open_start_month(today) == expected


# --- the offered start months ----------------------------------------------------------------------------------------


@pytest.mark.parametrize('today', [date(2026, 3, 10), date(2026, 3, 11), date(2026, 8, 20), date(2026, 12, 11)])
def test_open_start_months_are_consecutive_firsts_from_the_first_open_one(today: date) -> None:
    months = open_start_months(today)
    assert len(months) == OFFERED_START_MONTHS == 6
    assert months[0] == first_open_start_month(today)
    for earlier, later in itertools.pairwise(months):
        assert later == next_first(earlier)
    assert all(month.day == 1 for month in months)
    assert months == sorted(set(months))


def test_open_start_months_cross_the_year() -> None:
    assert open_start_months(date(2026, 10, 11)) == [
        date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 1), date(2027, 5, 1),
    ]


def test_open_start_months_move_with_the_cut_off(cutoff: Callable[[int], None]) -> None:
    today = date(2026, 3, 12)
    assert open_start_months(today)[0] == date(2026, 5, 1)
    cutoff(12)
    assert open_start_months(today)[0] == date(2026, 4, 1)
    assert len(open_start_months(today)) == OFFERED_START_MONTHS


# --- the end of a Kündigung ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('today', 'startmonat', 'expected'),
    [
        (date(2026, 3, 1), date(2025, 1, 1), date(2026, 3, 31)),
        (date(2026, 3, 10), date(2025, 1, 1), date(2026, 3, 31)),  # by the 10th: end of this month
        (date(2026, 3, 11), date(2025, 1, 1), date(2026, 4, 30)),  # after: end of next month
        (date(2026, 1, 31), date(2025, 1, 1), date(2026, 2, 28)),
        (date(2028, 1, 20), date(2025, 1, 1), date(2028, 2, 29)),  # leap year
        (date(2026, 12, 10), date(2025, 1, 1), date(2026, 12, 31)),
        (date(2026, 12, 11), date(2025, 1, 1), date(2027, 1, 31)),  # across the year end
        (date(2026, 3, 5), date(2026, 6, 1), date(2026, 6, 30)),  # never before the end of the start month
        (date(2026, 3, 20), date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 3, 20), date(2026, 5, 1), date(2026, 5, 31)),
        (date(2026, 3, 5), date(2026, 3, 1), date(2026, 3, 31)),
    ],
)
def test_cancellation_end(today: date, startmonat: date, expected: date) -> None:
    assert cancellation_end(today, startmonat) == expected


def test_cancellation_end_follows_the_configured_cut_off(cutoff: Callable[[int], None]) -> None:
    today = date(2026, 3, 12)
    assert cancellation_end(today, date(2025, 1, 1)) == date(2026, 4, 30)
    cutoff(12)
    assert cancellation_end(today, date(2025, 1, 1)) == date(2026, 3, 31)
    cutoff(1)
    assert cancellation_end(date(2026, 3, 1), date(2025, 1, 1)) == date(2026, 3, 31)
    assert cancellation_end(date(2026, 3, 2), date(2025, 1, 1)) == date(2026, 4, 30)


# --- month labels ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('day', 'label'),
    [
        (date(2027, 1, 1), 'Januar 2027'),
        (date(2026, 3, 1), 'März 2026'),
        (date(2026, 5, 31), 'Mai 2026'),
        (date(2026, 12, 1), 'Dezember 2026'),
    ],
)
def test_month_label(day: date, label: str) -> None:
    assert month_label(day) == label


def test_every_month_has_its_own_german_name() -> None:
    labels = [month_label(date(2026, month, 1)) for month in range(1, 13)]
    assert len(set(labels)) == 12
    assert all(label.endswith(' 2026') for label in labels)
    assert labels[2] == 'März 2026'
    assert labels[9] == 'Oktober 2026'


# --- properties over any date and cut-off ---------------------------------------------------------------------------


@no_db
@given(any_day)
def test_first_open_start_month_property(today: date) -> None:
    first = first_open_start_month(today)
    assert first.day == 1
    assert first > today
    assert first <= next_first(next_first(today))  # at most two months ahead
    expected = next_first(today) if today.day <= get_settings().cutoff_day else next_first(next_first(today))
    assert first == expected


@no_db
@given(any_day, any_day.map(lambda day: day.replace(day=1)))
def test_cancellation_end_property(today: date, startmonat: date) -> None:
    end = cancellation_end(today, startmonat)
    assert (end + timedelta(days=1)).day == 1  # the last day of a month
    assert end >= today
    assert end >= month_end(startmonat)
    by_cutoff = month_end(today) if today.day <= get_settings().cutoff_day else month_end(next_first(today))
    assert end == max(by_cutoff, month_end(startmonat))


@no_db
@given(any_day, st.integers(min_value=1, max_value=31))
def test_properties_hold_for_every_cut_off_day(today: date, cutoff_day: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('CUTOFF_DAY', str(cutoff_day))
        reset_settings()
        try:
            first = first_open_start_month(today)
            months = open_start_months(today)
            end = cancellation_end(today, date(1900, 1, 1))
        finally:
            reset_settings()
    assert first.day == 1
    assert today < first <= next_first(next_first(today))
    assert (first == next_first(today)) == (today.day <= cutoff_day)
    assert months[0] == first
    assert len(months) == OFFERED_START_MONTHS
    assert (end + timedelta(days=1)).day == 1
    assert today <= end <= month_end(next_first(today))
    assert (end == month_end(today)) == (today.day <= cutoff_day)


def test_the_module_reads_the_cut_off_from_the_settings(cutoff: Callable[[int], None]) -> None:
    """Guards against a copy of the cut-off taken at import time."""
    cutoff(20)
    assert abo_dates.first_open_start_month(date(2026, 3, 20)) == date(2026, 4, 1)
    cutoff(19)
    assert abo_dates.first_open_start_month(date(2026, 3, 20)) == date(2026, 5, 1)
