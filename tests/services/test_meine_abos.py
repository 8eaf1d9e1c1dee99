"""'Meine Abos' on SQLite and PostgreSQL: an employee sees and changes only their own records; address change and
Kündigung (end per the cut-off rule) are validated and audited; the status label turns 'beendet' after the end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from models import (
    Abo,
    AboStatus,
    Anrede,
    Antrag,
    AntragStatus,
    AuditEvent,
    Contract,
    Customer,
    Employee,
    Ticketart,
)
from services import abo_dates, abo_status, clock, meine_abos
from services.antraege import person_key
from services.audit import AuditKind
from services.errors import NotFound, ServiceError, ValidationError
from services.validation import format_german_date
from tests.conftest import new_contract

TODAY = date(2026, 3, 5)
pytestmark = pytest.mark.today(TODAY)
NOT_FOUND = 'Dieses Abo wurde nicht gefunden.'


@pytest.fixture
async def lena(db: str) -> Employee:
    return await Employee.create(email='lena.schaefer@example.de', password_hash='$argon2id$nicht-benutzt')


@pytest.fixture
async def jonas(db: str) -> Employee:
    return await Employee.create(email='jonas.weber@example.de', password_hash='$argon2id$nicht-benutzt')


async def make_abo(
    contract: Contract, employee: Employee | None, *, vorname: str = 'Lena', startmonat: date = date(2025, 1, 1),
    status: AboStatus = AboStatus.AKTIV, endmonat: date | None = None,
) -> Abo:
    birthday = date(1988, 7, 14)
    return await Abo.create(
        contract=contract, employee=employee, vorname=vorname, nachname='Schäfer', geburtsdatum=birthday,
        strasse='Friedrich-Ebert-Straße 12', plz='34117', ort='Kassel', ticketart=Ticketart.CHIPKARTE,
        startmonat=startmonat, endmonat=endmonat, status=status, person_key=person_key(vorname, 'Schäfer', birthday),
        created_at=clock.now(),
    )


async def make_antrag(contract: Contract, employee: Employee, reference: str, age: timedelta) -> Antrag:
    return await Antrag.create(
        reference=reference, contract=contract, employee=employee, anrede=Anrede.FRAU, vorname='Lena',
        nachname='Schäfer', geburtsdatum=date(1988, 7, 14), email=employee.email, strasse='Friedrich-Ebert-Straße 12',
        plz='34117', ort='Kassel', startmonat=date(2026, 4, 1), ticketart=Ticketart.HANDYTICKET,
        person_key=person_key('Lena', 'Schäfer', date(1988, 7, 14)), created_at=clock.now() - age,
    )


# --- only one's own records ------------------------------------------------------------------------------------------


async def test_my_abos_are_only_my_own_newest_first(
    company: Customer, other_company: Customer, contract: Contract, lena: Employee, jonas: Employee
) -> None:
    foreign = await new_contract(other_company, 'V-2026-0100')
    older = await make_abo(contract, lena, startmonat=date(2025, 1, 1))
    newer = await make_abo(foreign, lena, startmonat=date(2026, 2, 1))
    await make_abo(contract, jonas, vorname='Jonas')
    await make_abo(contract, None, vorname='Ohne Konto')  # from a Massenupload, no account
    mine = await meine_abos.my_abos(lena)
    assert [abo.id for abo in mine] == [newer.id, older.id]
    assert mine[0].contract.customer.name == other_company.name  # loaded for the card
    assert [abo.vorname for abo in await meine_abos.my_abos(jonas)] == ['Jonas']


async def test_my_applications_are_only_my_own_newest_first(
    contract: Contract, lena: Employee, jonas: Employee
) -> None:
    old = await make_antrag(contract, lena, 'A-2026-AAAAAA', timedelta(days=3))
    new = await make_antrag(contract, lena, 'A-2026-BBBBBB', timedelta(hours=1))
    await make_antrag(contract, jonas, 'A-2026-CCCCCC', timedelta(0))
    mine = await meine_abos.my_applications(lena)
    assert [antrag.id for antrag in mine] == [new.id, old.id]
    assert mine[0].contract.customer.name == 'Fahrradmanufaktur Kassel GmbH'
    assert [antrag.reference for antrag in await meine_abos.my_applications(jonas)] == ['A-2026-CCCCCC']


async def test_an_employee_without_records_sees_nothing(lena: Employee) -> None:
    assert await meine_abos.my_abos(lena) == []
    assert await meine_abos.my_applications(lena) == []


# --- address change --------------------------------------------------------------------------------------------------


async def test_change_address(company: Customer, contract: Contract, lena: Employee) -> None:
    abo = await make_abo(contract, lena)
    changed = await meine_abos.change_address(
        lena, abo.id, strasse='  Königsplatz 1 ', plz=' 34117 ', ort=' Kassel-Mitte ', client='192.0.2.5'
    )
    assert (changed.strasse, changed.plz, changed.ort) == ('Königsplatz 1', '34117', 'Kassel-Mitte')
    await abo.refresh_from_db()
    assert (abo.strasse, abo.plz, abo.ort) == ('Königsplatz 1', '34117', 'Kassel-Mitte')
    event = await AuditEvent.filter(kind=AuditKind.ABO_ADDRESS_CHANGED).get()
    assert event.customer_id == company.id
    assert (event.object_type, event.object_id) == ('abo', str(abo.id))
    assert event.actor_label == lena.email
    assert event.client == '192.0.2.5'


@pytest.mark.parametrize(
    ('strasse', 'plz', 'ort', 'errors'),
    [
        ('Königsplatz 1', '3411', 'Kassel', {'plz': 'Die PLZ besteht aus genau 5 Ziffern.'}),
        ('Königsplatz 1', '341177', 'Kassel', {'plz': 'Die PLZ besteht aus genau 5 Ziffern.'}),
        ('Königsplatz 1', '34a17', 'Kassel', {'plz': 'Die PLZ besteht aus genau 5 Ziffern.'}),
        ('', '34117', 'Kassel', {'strasse': 'Bitte geben Sie Straße und Hausnummer an.'}),
        ('Königsplatz 1', '34117', '  ', {'ort': 'Bitte geben Sie den Ort an.'}),
        ('', '', '', {
            'strasse': 'Bitte geben Sie Straße und Hausnummer an.', 'ort': 'Bitte geben Sie den Ort an.',
            'plz': 'Die PLZ besteht aus genau 5 Ziffern.',
        }),
    ],
)
async def test_change_address_validates(
    contract: Contract, lena: Employee, strasse: str, plz: str, ort: str, errors: dict[str, str]
) -> None:
    abo = await make_abo(contract, lena)
    with pytest.raises(ValidationError) as raised:
        await meine_abos.change_address(lena, abo.id, strasse=strasse, plz=plz, ort=ort)
    assert raised.value.errors == errors
    await abo.refresh_from_db()
    assert (abo.strasse, abo.plz, abo.ort) == ('Friedrich-Ebert-Straße 12', '34117', 'Kassel')
    assert not await AuditEvent.filter(kind=AuditKind.ABO_ADDRESS_CHANGED).exists()


@pytest.mark.parametrize(('field', 'limit'), [('strasse', 200), ('ort', 100)])
async def test_change_address_length_limits(contract: Contract, lena: Employee, field: str, limit: int) -> None:
    abo = await make_abo(contract, lena)
    address = {'strasse': 'Königsplatz 1', 'plz': '34117', 'ort': 'Kassel'}
    for too_long in ('ß' * (limit + 1), 'x' * 10_000):
        with pytest.raises(ValidationError) as raised:
            await meine_abos.change_address(lena, abo.id, **{**address, field: too_long})
        assert list(raised.value.errors) == [field]
        assert raised.value.errors[field].endswith(f'darf höchstens {limit} Zeichen lang sein.')
    changed = await meine_abos.change_address(lena, abo.id, **{**address, field: 'ß' * limit})
    assert getattr(changed, field) == 'ß' * limit
    await abo.refresh_from_db()
    assert getattr(abo, field) == 'ß' * limit


async def test_another_employees_abo_is_not_found(contract: Contract, lena: Employee, jonas: Employee) -> None:
    abo = await make_abo(contract, jonas, vorname='Jonas')
    orphan = await make_abo(contract, None, vorname='Ohne Konto')
    for abo_id in (abo.id, orphan.id, 987654):
        with pytest.raises(NotFound) as raised:
            await meine_abos.change_address(lena, abo_id, strasse='Königsplatz 1', plz='34117', ort='Kassel')
        assert str(raised.value) == NOT_FOUND
        with pytest.raises(NotFound) as raised:
            await meine_abos.cancel_abo(lena, abo_id)
        assert str(raised.value) == NOT_FOUND
    await abo.refresh_from_db()
    assert abo.strasse == 'Friedrich-Ebert-Straße 12'
    assert abo.status is AboStatus.AKTIV
    assert abo.endmonat is None
    assert not await AuditEvent.filter(kind__in=[AuditKind.ABO_ADDRESS_CHANGED, AuditKind.ABO_CANCELLED]).exists()
    await meine_abos.cancel_abo(jonas, abo.id)  # its owner may


# --- Kündigung -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('today', 'startmonat', 'endmonat'),
    [
        (date(2026, 3, 10), date(2025, 1, 1), date(2026, 3, 31)),  # by the cut-off: end of this month
        (date(2026, 3, 11), date(2025, 1, 1), date(2026, 4, 30)),  # after: end of next month
        (date(2026, 12, 11), date(2025, 1, 1), date(2027, 1, 31)),  # across the year end
        (date(2026, 3, 5), date(2026, 6, 1), date(2026, 6, 30)),  # not yet started: its first month is paid
    ],
)
async def test_cancel_abo(
    company: Customer, contract: Contract, lena: Employee, set_today: Callable[[date], None],
    today: date, startmonat: date, endmonat: date,
) -> None:
    set_today(today)
    abo = await make_abo(contract, lena, startmonat=startmonat)
    assert meine_abos.cancellation_date(abo) == endmonat  # what the confirmation dialog shows
    assert abo_dates.cancellation_end(today, startmonat) == endmonat
    before = clock.now()
    cancelled = await meine_abos.cancel_abo(lena, abo.id, client='192.0.2.5')
    assert cancelled.endmonat == endmonat
    await abo.refresh_from_db()
    assert abo.status is AboStatus.GEKUENDIGT
    assert abo.endmonat == endmonat
    assert abo.cancelled_at is not None and abo.cancelled_at >= before - timedelta(seconds=1)
    event = await AuditEvent.filter(kind=AuditKind.ABO_CANCELLED).get()
    assert event.details == {'endmonat': endmonat.isoformat()}
    assert event.customer_id == company.id
    assert (event.object_type, event.object_id) == ('abo', str(abo.id))
    assert event.actor_label == lena.email
    assert event.client == '192.0.2.5'


async def test_a_second_cancellation_is_refused(
    contract: Contract, lena: Employee, set_today: Callable[[date], None]
) -> None:
    abo = await make_abo(contract, lena)
    first = await meine_abos.cancel_abo(lena, abo.id)
    set_today(TODAY + timedelta(days=10))  # later, past the cut-off: would give a later end
    with pytest.raises(ServiceError) as raised:
        await meine_abos.cancel_abo(lena, abo.id)
    assert str(raised.value) == 'Dieses Abo ist bereits gekündigt oder beendet.'
    await abo.refresh_from_db()
    assert abo.endmonat == first.endmonat
    assert await AuditEvent.filter(kind=AuditKind.ABO_CANCELLED).count() == 1


async def test_an_ended_abo_cannot_be_cancelled(contract: Contract, lena: Employee) -> None:
    abo = await make_abo(contract, lena, status=AboStatus.BEENDET, endmonat=date(2025, 12, 31))
    with pytest.raises(ServiceError, match='bereits gekündigt oder beendet'):
        await meine_abos.cancel_abo(lena, abo.id)
    await abo.refresh_from_db()
    assert abo.status is AboStatus.BEENDET
    assert abo.endmonat == date(2025, 12, 31)


# --- the status label ------------------------------------------------------------------------------------------------


async def test_status_label_through_a_cancellation(
    contract: Contract, lena: Employee, set_today: Callable[[date], None]
) -> None:
    abo = await make_abo(contract, lena)
    assert abo_status.label(abo, TODAY) == 'aktiv'
    cancelled = await meine_abos.cancel_abo(lena, abo.id)
    end = cancelled.endmonat
    assert end is not None
    stored = (await meine_abos.my_abos(lena))[0]
    label = f'gekündigt zum {format_german_date(end)}'
    assert label == 'gekündigt zum 31.03.2026'
    assert abo_status.label(stored, TODAY) == label
    assert abo_status.label(stored, end) == label  # the last day still runs
    assert abo_status.label(stored, end + timedelta(days=1)) == 'beendet'


def test_the_label_follows_the_dates_not_the_stored_word() -> None:
    ended = Abo(status=AboStatus.GEKUENDIGT, startmonat=date(2025, 1, 1), endmonat=date(2025, 12, 31))
    assert abo_status.label(ended, TODAY) == 'beendet'
    assert abo_status.label(Abo(status=AboStatus.AKTIV, startmonat=date(2025, 1, 1)), TODAY) == 'aktiv'
    assert abo_status.label(Abo(status=AboStatus.AKTIV, startmonat=date(2027, 1, 1)), TODAY) == 'ab 01/2027'


async def test_the_application_status_values(contract: Contract, lena: Employee) -> None:
    antrag = await make_antrag(contract, lena, 'A-2026-DDDDDD', timedelta(0))
    assert (await meine_abos.my_applications(lena))[0].status is AntragStatus.OFFEN
    await Antrag.filter(id=antrag.id).update(status=AntragStatus.ABGELEHNT, decision_reason='Kein Arbeitsvertrag')
    shown = (await meine_abos.my_applications(lena))[0]
    assert shown.status is AntragStatus.ABGELEHNT
    assert shown.decision_reason == 'Kein Arbeitsvertrag'
