from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.searchable import SORT_KEY_LENGTH, Searchable, SearchableManager

if TYPE_CHECKING:
    from models.customer import Customer


class Produktangebot(StrEnum):
    RECHNUNG = 'D-Ticket Job (Rechnung)'
    SEPA = 'D-Ticket Job (SEPA-Lastschrift)'


class ContractStatus(StrEnum):
    AKTIV = 'aktiv'
    GEKUENDIGT = 'gekündigt'
    BEENDET = 'beendet'


SORTABLE_COLUMNS = ('vertragsnummer', 'firma', 'strasse', 'plz', 'ort', 'produktangebot', 'status')
# Names sort by their German sort key (models/searchable.py). Vertragsnummer and PLZ are codes and digits,
# Produktangebot and Status fixed values whose byte order is the German one (tests/services/test_table_sort.py).
SORT_KEYS = {'firma': 'firma_sort', 'strasse': 'strasse_sort', 'ort': 'ort_sort'}
ORDER_COLUMNS = tuple(SORT_KEYS.get(column, column) for column in SORTABLE_COLUMNS)


class Contract(Searchable, Model):
    """A D-Ticket Job contract (Vertrag) of one customer.

    The contract carries its own address (firma, strasse, plz, ort: the Vertragsanschrift shown in the table) so that
    the contract table can filter, sort and page on indexed columns of one table, without a join.
    """

    SEARCH_FIELDS = SORTABLE_COLUMNS
    SORT_KEYS = SORT_KEYS
    FTS_TABLE = 'contract_fts'

    id = fields.IntField(primary_key=True)
    vertragsnummer = fields.CharField(max_length=20, unique=True)
    customer: fields.ForeignKeyRelation['Customer'] = fields.ForeignKeyField(
        'models.Customer', related_name='contracts', on_delete=fields.RESTRICT
    )
    customer_id: int
    firma = fields.CharField(max_length=200)
    strasse = fields.CharField(max_length=200)
    plz = fields.CharField(max_length=5)
    ort = fields.CharField(max_length=100)
    produktangebot = fields.CharEnumField(Produktangebot, max_length=40)
    status = fields.CharEnumField(ContractStatus, max_length=20, default=ContractStatus.AKTIV)
    beginn = fields.DateField()
    ende = fields.DateField(null=True)
    arbeitgeberzuschuss_cent = fields.IntField()
    search_text = fields.TextField(default='')
    firma_sort = fields.CharField(max_length=SORT_KEY_LENGTH, default='', db_default='')
    strasse_sort = fields.CharField(max_length=SORT_KEY_LENGTH, default='', db_default='')
    ort_sort = fields.CharField(max_length=SORT_KEY_LENGTH, default='', db_default='')
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = 'contract'
        manager = SearchableManager()  # bulk writes keep the search keys current
        # Every order the table offers, with 'Aktive Verträge' (status first) and without it: a page is an index walk.
        indexes = [
            *(Index(fields=[column, 'id'], name=f'ix_contract_{column}') for column in ORDER_COLUMNS),
            *(
                Index(fields=['status', column, 'id'], name=f'ix_contract_status_{column}')
                for column in ORDER_COLUMNS
                if column != 'status'
            ),
            Index(fields=['customer_id', 'status'], name='ix_contract_customer_status'),
        ]
