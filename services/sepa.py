"""SEPA direct debit for "(SEPA-Lastschrift)" contracts: the mandate an employee (or the account holder, who may be
someone else) gives with the Antrag, the IBAN check (schwifty: country, length, check digits), masking, and the
month's pain.008 file that the transit company sends to its bank (sepaxml, checked against its XSD).

Each person is debited the month's Eigenanteil (with corrections of earlier months), under the mandate of the Antrag
the Abo came from. The file is made from a closed month's stored lines only.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import sepaxml
from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, InvalidCountryCode, InvalidLength, SchwiftyException
from sepaxml import SepaDD

from models import Abo, BillingLine, BillingRun, PortalUser, Produktangebot, SepaMandate
from services import abo_dates, audit, clock, permissions
from services.abrechnung import Download
from services.audit import AuditKind
from services.errors import ServiceError
from services.i18n import N_
from services.kundencode import ALPHABET
from services.permissions import Action
from services.settings import get_settings
from services.validation import field_length, require_text

SCHEMA = 'pain.008.001.08'  # the version German banks take (DK format since November 2023); BIC optional
SEQUENCE = 'RCUR'  # allowed for the first debit of a mandate, too, since the 2016 rulebook
ID_CHUNK = 5000
IBAN_FIELD = 'iban'
HOLDER_FIELD = 'kontoinhaber'
CONSENT_FIELD = 'mandate_consent'


def mandate_text() -> str:
    """The text the account holder agrees to; stored word for word with the mandate."""
    settings = get_settings()
    name = settings.invoice_issuer_name
    return (
        f'SEPA-Lastschriftmandat: Ich ermächtige {name} (Gläubiger-Identifikationsnummer '
        f'{settings.sepa_creditor_id}), die monatlichen Eigenanteile für das D-Ticket Job von meinem Konto mittels '
        f'Lastschrift einzuziehen. Zugleich weise ich mein Kreditinstitut an, die von {name} auf mein Konto gezogenen '
        'Lastschriften einzulösen. Hinweis: Ich kann innerhalb von acht Wochen, beginnend mit dem Belastungsdatum, '
        'die Erstattung des belasteten Betrages verlangen. Es gelten dabei die mit meinem Kreditinstitut vereinbarten '
        'Bedingungen. Die Mandatsreferenz erhalte ich mit der Bestätigung des Antrags.'
    )


def check_iban(text: str) -> tuple[str, str]:
    """(the IBAN without spaces, '') or ('', a German message)."""
    compact = ''.join((text or '').split()).upper()
    if not compact:
        return '', N_('Bitte geben Sie die IBAN an.')
    try:
        iban = IBAN(compact)
    except InvalidChecksumDigits:
        return '', N_('Die IBAN ist ungültig: Die Prüfziffer stimmt nicht. Bitte prüfen Sie jede Stelle.')
    except InvalidCountryCode:
        return '', N_('Die IBAN beginnt nicht mit einem gültigen Ländercode (z. B. DE).')
    except InvalidLength:
        return '', N_('Die IBAN hat nicht die richtige Länge für ihr Land.')
    except SchwiftyException:
        return '', N_('Die IBAN ist ungültig. Bitte prüfen Sie Ihre Eingabe.')
    if not iban.in_sepa_zone:
        return '', N_('Die IBAN gehört zu einem Land außerhalb des SEPA-Raums.')
    return iban.compact, ''


@dataclass(frozen=True)
class CheckedMandate:
    iban: str
    kontoinhaber: str


def check_mandate(iban: str, kontoinhaber: str, consent: bool) -> tuple[CheckedMandate | None, dict[str, str]]:
    """Every rule of the mandate, a German message per faulty field; nothing is written."""
    errors: dict[str, str] = {}
    compact, problem = check_iban(iban)
    if problem:
        errors[IBAN_FIELD] = problem
    holder = require_text(errors, HOLDER_FIELD, kontoinhaber, N_('den Namen des Kontoinhabers'),
                          field_length(SepaMandate, 'kontoinhaber'))
    if not consent:
        errors[CONSENT_FIELD] = N_('Bitte erteilen Sie das SEPA-Lastschriftmandat.')
    return (None, errors) if errors else (CheckedMandate(compact, holder), {})


def new_reference() -> str:
    """'DTJ' and 12 random characters: unique, unguessable, within SEPA's 35 allowed characters."""
    return 'DTJ-' + ''.join(secrets.choice(ALPHABET) for _ in range(12))


def mandate_for(antrag_id: int, contract_id: int, checked: CheckedMandate, text: str) -> SepaMandate:
    """The unsaved mandate of an Antrag (the caller saves it in the Antrag's transaction)."""
    return SepaMandate(reference=new_reference(), antrag_id=antrag_id, contract_id=contract_id,
                       kontoinhaber=checked.kontoinhaber, iban=checked.iban, signed_on=clock.today(),
                       consent_text=text, created_at=clock.now())


def masked_iban(iban: str) -> str:
    """'DE89 **** **** **** **** 00': the country, the check digits and the last two characters."""
    hidden = iban[:4] + '*' * max(len(iban) - 6, 0) + iban[-2:]
    return ' '.join(hidden[index:index + 4] for index in range(0, len(hidden), 4))


def shown_iban(viewer: PortalUser | None, iban: str) -> str:
    """The whole IBAN for transit staff only; everyone else (companies, the Self-Service) sees it masked."""
    if viewer is not None and permissions.role_may(viewer, Action.VIEW_ALL_CUSTOMERS):
        return IBAN(iban).formatted
    return masked_iban(iban)


# --- the month's direct-debit file ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectDebitFile(Download):
    debits: int
    total_cent: int
    without_mandate: int  # Abos of the month whose Antrag carries no mandate (customer service follows them up)
    not_debited: int  # a month that sums to zero or a credit: nothing to collect


@dataclass(frozen=True)
class _Debit:
    mandate: SepaMandate
    amount_cent: int
    vertragsnummer: str


async def _debits(run: BillingRun) -> tuple[list[_Debit], int, int]:
    sums: dict[int, int] = defaultdict(int)
    numbers: dict[int, str] = {}
    for abo_id, amount, number in await BillingLine.filter(
        run_id=run.id, contract__produktangebot=Produktangebot.SEPA,
    ).order_by('id').values_list('abo_id', 'eigenanteil_cent', 'contract__vertragsnummer'):
        sums[abo_id] += amount
        numbers[abo_id] = number
    abo_ids = list(sums)
    antrag_of: dict[int, int] = {}
    mandates: dict[int, SepaMandate] = {}
    for start in range(0, len(abo_ids), ID_CHUNK):
        rows = await Abo.filter(id__in=abo_ids[start:start + ID_CHUNK], antrag_id__isnull=False) \
            .values_list('id', 'antrag_id')
        antrag_of.update(rows)
        for known in await SepaMandate.filter(antrag_id__in=[antrag for _, antrag in rows]):
            mandates[known.antrag_id] = known
    debits, missing, not_debited = [], 0, 0
    for abo_id, amount in sums.items():
        mandate = mandates.get(antrag_of.get(abo_id, 0))
        if mandate is None:
            missing += 1
        elif amount <= 0:
            not_debited += 1
        else:
            debits.append(_Debit(mandate, amount, numbers[abo_id]))
    return debits, missing, not_debited


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / 'schemas' / f'{SCHEMA}.xsd')))


def pain008(debits: list[_Debit], month: date, collection: date) -> bytes:
    """The pain.008 XML, checked against the XSD sepaxml ships (with lxml: sepaxml's own check, in pure Python,
    takes seconds for a few thousand debits)."""
    settings = get_settings()
    sepa = SepaDD({
        'name': settings.invoice_issuer_name, 'IBAN': settings.invoice_issuer_iban, 'BIC': settings.invoice_issuer_bic,
        'batch': True, 'creditor_id': settings.sepa_creditor_id, 'currency': 'EUR',
    }, schema=SCHEMA, clean=True)
    label = abo_dates.month_label(month)
    for debit in debits:
        mandate = debit.mandate
        sepa.add_payment({
            'name': mandate.kontoinhaber, 'IBAN': mandate.iban, 'amount': debit.amount_cent, 'type': SEQUENCE,
            'collection_date': collection, 'mandate_id': mandate.reference, 'mandate_date': mandate.signed_on,
            'description': f'D-Ticket Job {label}, Vertrag {debit.vertragsnummer}',
            'endtoend_id': f'{mandate.reference}-{month:%Y%m}',
        })
    content = sepa.export(validate=False)
    schema = _schema()
    if not schema.validate(etree.fromstring(content)):
        raise ServiceError(f'Die Lastschriftdatei entspricht nicht dem Schema {SCHEMA}: {schema.error_log.last_error}')
    return content


async def direct_debit_file(actor: PortalUser, month: date, *, client: str = '') -> DirectDebitFile:
    """Staff: the closed month's direct debits of every "(SEPA-Lastschrift)" contract as one pain.008 file."""
    permissions.require(actor, Action.VIEW_MONTH_OVERVIEW, None)
    month = abo_dates.first_of_month(month)
    run = await BillingRun.get_or_none(monat=month)
    if run is None:
        raise ServiceError('Die Lastschriftdatei gibt es erst, wenn der Monat abgeschlossen ist.')
    debits, missing, not_debited = await _debits(run)
    if not debits:
        raise ServiceError(f'Im {abo_dates.month_label(month)} gibt es keine Lastschriften.')
    collection = clock.today() + timedelta(days=get_settings().sepa_lead_days)
    content = await asyncio.to_thread(pain008, debits, month, collection)  # seconds of CPU: not on the event loop
    total = sum(debit.amount_cent for debit in debits)
    await audit.record(AuditKind.BILLING_EXPORTED, actor=actor, object_type='billing_month',
                       object_id=month.isoformat(), details={'datei': 'pain.008', 'lastschriften': len(debits),
                                                             'summe_cent': total}, client=client)
    return DirectDebitFile(content, f'Lastschriften_{month:%Y-%m}.xml', len(debits), total, missing, not_debited)
