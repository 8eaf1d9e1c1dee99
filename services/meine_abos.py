"""'Meine Abos': what a logged-in employee sees and may do in the Self-Service — always only their own records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from models import Abo, AboStatus, Antrag, Employee
from services import abo_dates, audit, clock, notifications, tarife, zuschuesse
from services.audit import AuditKind
from services.errors import NotFound, ServiceError, ValidationError
from services.i18n import N_, NC_
from services.validation import field_length, is_plz, require_text


async def my_applications(employee: Employee) -> list[Antrag]:
    return await Antrag.filter(employee_id=employee.id).select_related('contract__customer').order_by('-created_at')


async def my_abos(employee: Employee) -> list[Abo]:
    return await Abo.filter(employee_id=employee.id).select_related('contract__customer').order_by('-startmonat')


async def _own_abo(employee: Employee, abo_id: int) -> Abo:
    abo = await Abo.filter(id=abo_id, employee_id=employee.id).select_related('contract').first()
    if abo is None:
        raise NotFound(N_('Dieses Abo wurde nicht gefunden.'))
    return abo


async def change_address(employee: Employee, abo_id: int, *, strasse: str, plz: str, ort: str,
                         client: str = '') -> Abo:
    abo = await _own_abo(employee, abo_id)
    if abo.status == AboStatus.BEENDET or (abo.endmonat and abo.endmonat < clock.today()):
        raise ServiceError(N_('Die Anschrift eines beendeten Abos kann nicht mehr geändert werden.'))
    errors: dict[str, str] = {}
    strasse = require_text(errors, 'strasse', strasse, NC_('Bitte geben Sie … an.', 'Straße und Hausnummer'),
                           field_length(Abo, 'strasse'))
    ort = require_text(errors, 'ort', ort, N_('den Ort'), field_length(Abo, 'ort'))
    plz = plz.strip()
    if not is_plz(plz):
        errors['plz'] = N_('Die PLZ besteht aus genau 5 Ziffern.')
    if errors:
        raise ValidationError(errors)
    abo.strasse, abo.plz, abo.ort = strasse, plz, ort
    await abo.save(update_fields=['strasse', 'plz', 'ort'])
    await audit.record(AuditKind.ABO_ADDRESS_CHANGED, actor_label=employee.email,
                       customer_id=abo.contract.customer_id,
                       object_type='abo', object_id=abo.id, client=client)
    return abo


def cancellation_date(abo: Abo) -> date:
    """The end a Kündigung made today would give (shown before the employee confirms)."""
    return abo_dates.cancellation_end(clock.today(), abo.startmonat)


async def cancel_abo(employee: Employee, abo_id: int, *, client: str = '') -> Abo:
    abo = await _own_abo(employee, abo_id)
    if abo.status != AboStatus.AKTIV:
        raise ServiceError(N_('Dieses Abo ist bereits gekündigt oder beendet.'))
    abo.endmonat = cancellation_date(abo)
    abo.status = AboStatus.GEKUENDIGT
    abo.cancelled_at = clock.now()
    async with in_transaction():  # the Kündigung and its confirmation mail, or neither
        await abo.save(update_fields=['endmonat', 'status', 'cancelled_at'])
        await audit.record(AuditKind.ABO_CANCELLED, actor_label=employee.email,
                           customer_id=abo.contract.customer_id,
                           object_type='abo', object_id=abo.id, details={'endmonat': abo.endmonat.isoformat()},
                           client=client)
        await notifications.abo_cancelled(abo, abo.endmonat, by_company=False)
    return abo


@dataclass(frozen=True)
class MonthlyShare:
    """What the employee pays a month from `ab` on, and why it is what it is."""

    ab: date
    eigenanteil_cent: int
    preis_cent: int
    zuschuss_cent: int


async def monthly_shares(abo: Abo) -> list[MonthlyShare]:
    """The share of the running (or first) month, then one entry per later month in which a new price block or a
    subsidy change alters it, up to the Abo's end. `abo.contract` must be loaded (my_abos does)."""
    first = max(abo_dates.first_of_month(clock.today()), abo.startmonat)
    tariffs = await tarife.current()
    schedule = await zuschuesse.schedule_of(abo.contract)
    months = sorted({first, *(rules.gueltig_ab for rules in tariffs.starting_after(first)),
                     *(start for start, _ in schedule.changes if start > first)})
    shares: list[MonthlyShare] = []
    for month in months:
        if abo.endmonat is not None and month > abo.endmonat:
            break
        rules, subsidy = tariffs.on(month), schedule.on(month)
        share = MonthlyShare(month, rules.eigenanteil_cent(subsidy), rules.preis_cent, subsidy)
        if not shares or share.eigenanteil_cent != shares[-1].eigenanteil_cent:
            shares.append(share)
    return shares
