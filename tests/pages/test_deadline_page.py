"""Deadlines and the derived Abo status on the Anträge page, through NiceGUI's simulated user: an open Antrag shows
"genehmigen bis", a late approval (in the dialog or for a selection) tells the clerk when the Abo starts instead, and
the Abos tab filters by the status of today."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from nicegui import ui
from nicegui.testing import User

from models import Abo
from tests.pages.test_antraege_page import (  # noqa: F401  (pinned_today: the autouse fixture, June 2030)
    JONAS,
    LENA,
    START,
    abos_table,
    all_of,
    antraege_table,
    approved_abos,
    click,
    demo_contract,
    make_antraege,
    names,
    open_antrag,
    open_page,
    pinned_today,
    running,
    settle,
    show_abos,
    texts_in,
    wait_until,
)

pytestmark = pytest.mark.both_databases  # the Anträge and Abos by date, also on PostgreSQL
DEADLINE = date(2030, 7, 10)  # START is August 2030
LATE = date(2030, 7, 11)
MOVED = date(2030, 9, 1)
LATE_MESSAGE = ('genehmigt, aber nach der Frist für August 2030 (genehmigen bis 10.07.2030): das Abo beginnt erst am '
                '01.09.2030.')


async def choose_abo_status(user: User, status: str) -> None:
    (select,) = [select for select in all_of(user, ui.select) if select.props.get('label') == 'Abo-Status']
    before = running()
    with user:
        select.value = status
    await settle(before)


async def test_in_time_the_row_shows_the_deadline(user: User, set_today: Callable[[date], None]) -> None:
    assert date(2030, 8, 1) == START
    (lena,) = await make_antraege(LENA)
    set_today(DEADLINE)
    await open_page(user, await demo_contract())
    (row,) = antraege_table(user).rows
    assert row['deadline'] == '10.07.2030'
    dialog = await open_antrag(user, lena)
    assert 'genehmigen bis' in texts_in(dialog)
    await click(user, 'Genehmigen', dialog)
    await user.should_see('Antrag genehmigt; das Abo ist angelegt.')
    assert (await Abo.get(antrag_id=lena.id)).startmonat == START


async def test_a_late_approval_in_the_dialog_says_when_the_abo_starts(
    user: User, set_today: Callable[[date], None]
) -> None:
    (lena,) = await make_antraege(LENA)
    set_today(LATE)
    await open_page(user, await demo_contract())
    (row,) = antraege_table(user).rows
    assert row['deadline'] == '10.07.2030 – verstrichen, Beginn jetzt 09/2030'
    dialog = await open_antrag(user, lena)
    assert '10.07.2030 – verstrichen, Beginn jetzt 09/2030' in texts_in(dialog)
    await click(user, 'Genehmigen', dialog)
    await user.should_see(f'Antrag {lena.reference} {LATE_MESSAGE}')
    assert (await Abo.get(antrag_id=lena.id)).startmonat == MOVED


async def test_approving_a_late_selection_names_each_moved_start(
    user: User, set_today: Callable[[date], None]
) -> None:
    lena, jonas = await make_antraege(LENA, JONAS)
    set_today(LATE)
    await open_page(user, await demo_contract())
    table = antraege_table(user)
    table.selected = list(table.rows)
    await click(user, 'Auswahl genehmigen')
    await user.should_see('2 Anträge genehmigt.')
    for antrag in (lena, jonas):
        await user.should_see(f'Antrag {antrag.reference} {LATE_MESSAGE}')
    assert {abo.startmonat for abo in await Abo.all()} == {MOVED}


async def test_the_abos_tab_filters_by_the_status_of_today(user: User, set_today: Callable[[date], None]) -> None:
    await approved_abos(LENA, JONAS)  # both start in August 2030; today is in June
    await open_page(user, await demo_contract())
    await show_abos(user)
    assert {row['status'] for row in abos_table(user).rows} == {'ab 08/2030'}
    await choose_abo_status(user, 'aktiv')
    await wait_until(lambda: abos_table(user).rows == [], 'no active Abo yet')
    await choose_abo_status(user, 'künftig')
    await wait_until(lambda: names(abos_table(user)) == ['Becker, Jonas', 'Schäfer, Lena'], 'the future Abos')

    set_today(date(2030, 8, 1))  # the month they start: aktiv
    await choose_abo_status(user, 'aktiv')
    await wait_until(lambda: names(abos_table(user)) == ['Becker, Jonas', 'Schäfer, Lena'], 'the active Abos')
    assert {row['status'] for row in abos_table(user).rows} == {'aktiv'}
