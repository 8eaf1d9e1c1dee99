"""What the portal tells employees by e-mail about their Antrag and Abo. Each function writes one mail into the outbox
(services/mail.py) and is called inside the transaction of the change it reports, so a rolled-back change sends
nothing. The recipient is the address on the Antrag (every Antrag has one, also one from a Massenupload)."""

from __future__ import annotations

from datetime import date

from models import Abo, Antrag, Customer, Employee
from services import mail


def person_name(record: Antrag | Abo) -> str:
    return f'{record.vorname} {record.nachname}'


async def abo_recipient(abo: Abo) -> str:
    """The address of the Antrag the Abo came from; else the account's (an Abo always has one of them)."""
    if abo.antrag_id is not None:
        email = await Antrag.filter(id=abo.antrag_id).first().values_list('email', flat=True)
        if email:
            return str(email)
    if abo.employee_id is not None:
        return str(await Employee.filter(id=abo.employee_id).first().values_list('email', flat=True) or '')
    return ''


async def _to_employee(kind: str, to: str, record: Antrag | Abo, context: dict[str, object], key: str = '') -> None:
    """`key`: what the mail is about when one record gets it more than once (share changes: Abo and month)."""
    if not to:
        return
    company = await Customer.filter(contracts__id=record.contract_id).first().values('id', 'name')
    assert company is not None  # a contract always has its customer (RESTRICT)
    await mail.enqueue(
        kind, to, {'name': person_name(record), 'company': company['name'], **context}, customer_id=company['id'],
        object_type='antrag' if isinstance(record, Antrag) else 'abo', object_id=key or record.id, actor_label=to,
    )


async def antrag_received(antrag: Antrag) -> None:
    """The Antrag now lies with the company (submitted by a confirmed account, or its address just confirmed)."""
    await _to_employee('antrag_eingegangen', antrag.email, antrag,
                       {'reference': antrag.reference, 'startmonat': antrag.startmonat})


async def antrag_approved(antrag: Antrag, abo: Abo) -> None:
    """The start month is the Abo's as stored (a late approval may have moved it past the one applied for)."""
    await _to_employee('antrag_genehmigt', antrag.email, antrag, {
        'reference': antrag.reference, 'startmonat': abo.startmonat, 'beantragt': antrag.startmonat,
        'ticketart': abo.ticketart.value,
    })


async def antrag_rejected(antrag: Antrag) -> None:
    await _to_employee('antrag_abgelehnt', antrag.email, antrag,
                       {'reference': antrag.reference, 'reason': antrag.decision_reason})


async def abo_cancelled(abo: Abo, endmonat: date, *, by_company: bool) -> None:
    """Kündigung confirmed: by the employee in Meine Abos, or the company ended the Abo."""
    await _to_employee('kuendigung_bestaetigt', await abo_recipient(abo), abo,
                       {'endmonat': endmonat, 'by_company': by_company})


async def abo_starts(abo: Abo, eigenanteil_cent: int) -> None:
    await _to_employee('abo_beginnt', await abo_recipient(abo), abo, {
        'startmonat': abo.startmonat, 'ticketart': abo.ticketart.value, 'eigenanteil_cent': eigenanteil_cent,
    })


async def share_changes(abo: Abo, *, ab: date, eigenanteil_cent: int, bisher_cent: int, preis_cent: int,
                        zuschuss_cent: int, key: str) -> None:
    await _to_employee('anteil_aendert_sich', await abo_recipient(abo), abo, {
        'ab': ab, 'eigenanteil_cent': eigenanteil_cent, 'bisher_cent': bisher_cent, 'preis_cent': preis_cent,
        'zuschuss_cent': zuschuss_cent,
    }, key)
