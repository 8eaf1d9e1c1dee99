from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.antrag import Ticketart
from models.searchable import SORT_KEY_LENGTH, Searchable, SearchableManager

if TYPE_CHECKING:
    from models.antrag import Antrag
    from models.contract import Contract
    from models.employee import Employee


class AboStatus(StrEnum):
    AKTIV = 'aktiv'
    GEKUENDIGT = 'gekündigt'
    BEENDET = 'beendet'


class Abo(Searchable, Model):
    """One employee's D-Ticket Job subscription under a contract, from `startmonat` (a 1st) to `endmonat` (the last
    day of the final month) when cancelled. A cancelled Abo is 'gekündigt' until its end, then 'beendet'."""

    SEARCH_FIELDS = ('vorname', 'nachname', 'personalnummer', 'ticketart', 'status')
    SORT_KEYS = {'nachname': 'nachname_sort'}

    id = fields.IntField(primary_key=True)
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='abos', on_delete=fields.RESTRICT
    )
    contract_id: int
    employee: fields.ForeignKeyNullableRelation['Employee'] = fields.ForeignKeyField(
        'models.Employee', related_name='abos', null=True, on_delete=fields.SET_NULL
    )
    employee_id: int | None
    antrag: fields.ForeignKeyNullableRelation['Antrag'] = fields.ForeignKeyField(
        'models.Antrag', related_name='abos', null=True, on_delete=fields.SET_NULL
    )
    antrag_id: int | None
    vorname = fields.CharField(max_length=100)
    nachname = fields.CharField(max_length=100)
    geburtsdatum = fields.DateField()
    personalnummer = fields.CharField(max_length=50, default='')
    strasse = fields.CharField(max_length=200)
    plz = fields.CharField(max_length=5)
    ort = fields.CharField(max_length=100)
    ticketart = fields.CharEnumField(Ticketart, max_length=20)
    startmonat = fields.DateField()
    endmonat = fields.DateField(null=True)
    status = fields.CharEnumField(AboStatus, max_length=20, default=AboStatus.AKTIV)
    person_key = fields.CharField(max_length=250)
    cancelled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    search_text = fields.TextField(default='', db_default='')  # db_default: existing rows get a value on upgrade
    nachname_sort = fields.CharField(max_length=SORT_KEY_LENGTH, default='', db_default='')  # German order, SORT_KEYS

    class Meta:
        table = 'abo'
        manager = SearchableManager()  # bulk writes keep the search keys current
        # (startmonat, endmonat): the Dashboard's grouped (start, end) pairs read this index alone, not the table.
        indexes = [('contract_id', 'status'), ('contract_id', 'person_key', 'status'), ('employee_id', 'status'),
                   Index(fields=['startmonat', 'endmonat'], name='ix_abo_start_end')]
