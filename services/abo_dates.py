"""The month rules of the D-Ticket Job: when an application starts and when a Kündigung ends an Abo.

Both hinge on the cut-off day (setting CUTOFF_DAY, 10 by default): what arrives by the 10th counts for this month.
"""

from __future__ import annotations

from datetime import date, timedelta

from services.settings import get_settings
from services.validation import format_german_date

OFFERED_START_MONTHS = 6


def first_of_month(day: date, months_ahead: int = 0) -> date:
    month_index = day.year * 12 + day.month - 1 + months_ahead
    return date(month_index // 12, month_index % 12 + 1, 1)


def last_of_month(day: date) -> date:
    return first_of_month(day, 1) - timedelta(days=1)


def first_open_start_month(today: date) -> date:
    """Complete by the cut-off day → the 1st of next month; later → the 1st of the month after."""
    return first_of_month(today, 1 if today.day <= get_settings().cutoff_day else 2)


def first_change_month(today: date) -> date:
    """The first month a new tariff or subsidy may apply from: the 1st of next month. Running and billed months stay
    as they are, so what employees were told they pay for a month never changes while it runs."""
    return first_of_month(today, 1)


def approval_deadline(startmonat: date) -> date:
    """'genehmigen bis': the cut-off day of the month before the start month (the day the Antrag must be approved by
    to start then; CUTOFF_DAY 31 means the last day of a shorter month)."""
    previous = first_of_month(startmonat, -1)
    return min(previous + timedelta(days=get_settings().cutoff_day - 1), last_of_month(previous))


def approval_start(requested: date, today: date) -> date:
    """The start month of an Abo approved today: the requested one until its deadline, else the first month still
    open today, never back-dated (submitted 05.11. for 01.12., approved 20.01. → 01.03.)."""
    return requested if today <= approval_deadline(requested) else first_open_start_month(today)


def open_start_months(today: date) -> list[date]:
    first = first_open_start_month(today)
    return [first_of_month(first, offset) for offset in range(OFFERED_START_MONTHS)]


def cancellation_end(today: date, startmonat: date) -> date:
    """The last day of the Abo after a Kündigung received today: end of this month by the cut-off day, else end of
    next month; never before the end of the Abo's first month."""
    end = last_of_month(today if today.day <= get_settings().cutoff_day else first_of_month(today, 1))
    return max(end, last_of_month(startmonat))


MAX_END_MONTHS_AHEAD = 12  # "Abo beenden zum …": at most a year beyond the next possible end (a leaver's notice)


def end_months(today: date, startmonat: date, contract_end: date | None = None) -> list[date]:
    """The ends a company may choose for an Abo today (last days of months): from the next possible end
    (`cancellation_end`) to MAX_END_MONTHS_AHEAD months later, never beyond the end of the contract's last month.
    Empty when the contract ends before the next possible end."""
    first = cancellation_end(today, startmonat)
    last = last_of_month(first_of_month(first, MAX_END_MONTHS_AHEAD))
    if contract_end is not None:
        last = min(last, last_of_month(contract_end))
    months = []
    month = first_of_month(first)
    while (end := last_of_month(month)) <= last:
        months.append(end)
        month = first_of_month(month, 1)
    return months


def end_month_problem(chosen: date, today: date, startmonat: date, contract_end: date | None = None) -> str:
    """Why an Abo cannot end with the month of `chosen` (German), or '' when it can: not before the next possible
    end, not more than MAX_END_MONTHS_AHEAD months after it, not after the contract's last month."""
    end = last_of_month(chosen)
    first = cancellation_end(today, startmonat)
    if end < first:
        return f'Das Abo kann frühestens zum {format_german_date(first)} beendet werden.'
    if contract_end is not None and end > last_of_month(contract_end):
        return f'Das Abo kann höchstens bis zum Vertragsende ({format_german_date(contract_end)}) laufen.'
    latest = last_of_month(first_of_month(first, MAX_END_MONTHS_AHEAD))
    if end > latest:
        return f'Das Abo kann höchstens bis zum {format_german_date(latest)} im Voraus beendet werden.'
    return ''


GERMAN_MONTHS = ('Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober',
                 'November', 'Dezember')


def month_label(day: date) -> str:
    """date(2027, 1, 1) → 'Januar 2027'."""
    return f'{GERMAN_MONTHS[day.month - 1]} {day.year}'
