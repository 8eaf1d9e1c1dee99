"""The status of an Abo as everyone sees it — "ab 01/2027", "aktiv", "gekündigt zum 31.12.2026", "beendet" — derived
from its dates and today, never from a stored word (a stored 'gekündigt' stayed so forever after the end, and an Abo
starting next year read 'aktiv'). The company table (filter and sort), the export, Meine Abos and the Dashboard's
tiles and chart all ask this module.

The rule, in this order (the first that holds):
- beendet: the end (`endmonat`, the last day of the final month) is before today;
- künftig ("ab MM/JJJJ", with ", gekündigt zum …" when cancelled before it starts): the start (`startmonat`, a 1st)
  is after today;
- gekündigt ("gekündigt zum …"): an end is set (today or later);
- aktiv: otherwise (started, no end).

An Abo runs (counts as active on the Dashboard) when it is aktiv or gekündigt. `state_of` is the rule in Python (for
rows already read and for the Dashboard's (start, end) pairs), `state_filter` and `state_rank` the same rule in SQL
(for filtering and sorting in the database); tests/services/test_abo_status.py checks on both databases that they
agree on every edge: the day an Abo starts, the day it ends and the day after.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from tortoise.expressions import Case, Q, When

from models import Abo
from services.i18n import N_


class AboState(StrEnum):
    KUENFTIG = 'künftig'
    AKTIV = 'aktiv'
    GEKUENDIGT = 'gekündigt'
    BEENDET = 'beendet'


RUNNING = frozenset({AboState.AKTIV, AboState.GEKUENDIGT})
# The table sorts the status column by its label: "ab …" < "aktiv" < "beendet" < "gekündigt zum …".
_LABEL_ORDER = (AboState.KUENFTIG, AboState.AKTIV, AboState.BEENDET, AboState.GEKUENDIGT)


def state_of(startmonat: date, endmonat: date | None, today: date) -> AboState:
    if endmonat is not None and endmonat < today:
        return AboState.BEENDET
    if startmonat > today:
        return AboState.KUENFTIG
    return AboState.AKTIV if endmonat is None else AboState.GEKUENDIGT


def state_filter(state: AboState, today: date) -> Q:
    """The rows in `state` today, as a database filter (the rule above written as disjoint conditions)."""
    not_ended = Q(endmonat__isnull=True) | Q(endmonat__gte=today)
    return {
        AboState.BEENDET: Q(endmonat__lt=today),
        AboState.KUENFTIG: Q(not_ended, startmonat__gt=today),
        AboState.GEKUENDIGT: Q(startmonat__lte=today, endmonat__gte=today),
        AboState.AKTIV: Q(startmonat__lte=today, endmonat__isnull=True),
    }[state]


def state_rank(today: date) -> Case:
    """A SQL expression ordering rows by their status label (for the table's sortable Status column)."""
    return Case(*(When(state_filter(state, today), then=str(rank)) for rank, state in enumerate(_LABEL_ORDER)),
                default=str(len(_LABEL_ORDER)))


def label(abo: Abo, today: date) -> str:
    state = state_of(abo.startmonat, abo.endmonat, today)
    if state is AboState.KUENFTIG:  # cancelled before it starts: both facts
        start = f'{abo.startmonat:%m/%Y}'
        if abo.endmonat:
            return N_('ab {start}, gekündigt zum {end}', start=start, end=abo.endmonat)
        return N_('ab {start}', start=start)
    if state is AboState.GEKUENDIGT:
        return N_('gekündigt zum {end}', end=abo.endmonat)
    return state.value  # a plain word: pages translate it by look-up (AboState is in the catalogue)


def running(startmonat: date, endmonat: date | None, day: date) -> bool:
    return state_of(startmonat, endmonat, day) in RUNNING
