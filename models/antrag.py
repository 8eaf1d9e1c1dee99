from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.searchable import SORT_KEY_LENGTH, Searchable, SearchableManager

if TYPE_CHECKING:
    from models.contract import Contract
    from models.employee import Employee
    from models.kundencode import Kundencode
    from models.upload import Upload
    from models.user import PortalUser


class Anrede(StrEnum):
    FRAU = 'Frau'
    HERR = 'Herr'
    DIVERS = 'Divers'
    KEINE = 'Keine Angabe'


class Ticketart(StrEnum):
    CHIPKARTE = 'Chipkarte'
    HANDYTICKET = 'Handyticket'


class AntragStatus(StrEnum):
    UNBESTAETIGT = 'unbestätigt'  # waits for the employee's address confirmation; the company does not see it yet
    OFFEN = 'offen'
    GENEHMIGT = 'genehmigt'
    ABGELEHNT = 'abgelehnt'


class AntragSource(StrEnum):
    SELF_SERVICE = 'self_service'
    MASSENUPLOAD = 'massenupload'


class Antrag(Searchable, Model):
    """An employee's application for a D-Ticket Job under one contract.

    `person_key` (lower-cased Vorname|Nachname|Geburtsdatum) finds the same person across Anträge and Abos, so one
    person cannot hold two open applications or an application beside an active Abo under the same contract.
    """

    SEARCH_FIELDS = ('reference', 'vorname', 'nachname', 'personalnummer', 'email', 'ticketart', 'status')
    SORT_KEYS = {'nachname': 'nachname_sort'}

    id = fields.IntField(primary_key=True)
    reference = fields.CharField(max_length=20, unique=True)
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='antraege', on_delete=fields.RESTRICT
    )
    contract_id: int
    code: fields.ForeignKeyNullableRelation['Kundencode'] = fields.ForeignKeyField(
        'models.Kundencode', related_name='antraege', null=True, on_delete=fields.SET_NULL
    )
    code_id: int | None
    upload: fields.ForeignKeyNullableRelation['Upload'] = fields.ForeignKeyField(
        'models.Upload', related_name='antraege', null=True, on_delete=fields.SET_NULL
    )
    upload_id: int | None
    employee: fields.ForeignKeyNullableRelation['Employee'] = fields.ForeignKeyField(
        'models.Employee', related_name='antraege', null=True, on_delete=fields.SET_NULL
    )
    employee_id: int | None
    source = fields.CharEnumField(AntragSource, max_length=20, default=AntragSource.SELF_SERVICE)
    anrede = fields.CharEnumField(Anrede, max_length=20)
    vorname = fields.CharField(max_length=100)
    nachname = fields.CharField(max_length=100)
    geburtsdatum = fields.DateField()
    email = fields.CharField(max_length=254)
    strasse = fields.CharField(max_length=200)
    plz = fields.CharField(max_length=5)
    ort = fields.CharField(max_length=100)
    personalnummer = fields.CharField(max_length=50, default='')
    startmonat = fields.DateField()
    ticketart = fields.CharEnumField(Ticketart, max_length=20)
    status = fields.CharEnumField(AntragStatus, max_length=20, default=AntragStatus.OFFEN)
    person_key = fields.CharField(max_length=250)
    decided_at = fields.DatetimeField(null=True)
    decided_by: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='decided_antraege', null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decision_reason = fields.CharField(max_length=500, default='')
    created_at = fields.DatetimeField()
    search_text = fields.TextField(default='', db_default='')  # db_default: existing rows get a value on upgrade
    nachname_sort = fields.CharField(max_length=SORT_KEY_LENGTH, default='', db_default='')  # German order, SORT_KEYS

    class Meta:
        table = 'antrag'
        manager = SearchableManager()  # bulk writes keep the search keys current
        indexes = [('contract_id', 'status', 'created_at'), ('contract_id', 'person_key', 'status')]
