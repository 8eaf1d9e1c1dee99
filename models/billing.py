from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.contract import Contract


class TariffBlock(Model):
    """One dated block of the Deutschlandticket Job rules (price, least employer share, discount), valid from the 1st
    of `gueltig_ab`'s month until the next block. Staff add blocks; services/tarife.toml only seeds an empty table."""

    id = fields.IntField(primary_key=True)
    gueltig_ab = fields.DateField(unique=True)
    preis_cent = fields.IntField()
    mindestzuschuss_prozent = fields.IntField()
    rabatt_prozent = fields.IntField()
    created_by = fields.CharField(max_length=254, default='')
    created_at = fields.DatetimeField()

    class Meta:
        table = 'tariff_block'


class SubsidyChange(Model):
    """The employer's subsidy of a contract from the 1st of `gueltig_ab`'s month on (until its next change).

    Before a contract's first change, `Contract.arbeitgeberzuschuss_cent` (agreed at the start) applies."""

    id = fields.IntField(primary_key=True)
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='subsidy_changes', on_delete=fields.RESTRICT
    )
    contract_id: int
    gueltig_ab = fields.DateField()
    zuschuss_cent = fields.IntField()
    created_by = fields.CharField(max_length=254, default='')
    created_at = fields.DatetimeField()

    class Meta:
        table = 'subsidy_change'
        unique_together = [('contract_id', 'gueltig_ab')]


class BillingRun(Model):
    """An Abrechnungslauf: the closed month `monat` (a 1st), stored once with its lines and never changed again.
    Invoices, payroll and direct-debit files of that month are made from its lines."""

    id = fields.IntField(primary_key=True)
    monat = fields.DateField(unique=True)
    closed_at = fields.DatetimeField()
    closed_by = fields.CharField(max_length=254, default='')
    line_count = fields.IntField(default=0)

    class Meta:
        table = 'billing_run'


class LineKind(StrEnum):
    MONAT = 'Monat'
    KORREKTUR = 'Korrektur'


class BillingLine(Model):
    """One person's month in a closed Abrechnungslauf, with the figures as they were then. A correction of an earlier
    closed month is a line of kind 'Korrektur' in a later run, `leistungsmonat` naming the month it corrects, holding
    the difference."""

    id = fields.IntField(primary_key=True)
    run: fields.ForeignKeyRelation[BillingRun] = fields.ForeignKeyField(
        'models.BillingRun', related_name='lines', on_delete=fields.RESTRICT
    )
    run_id: int
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='billing_lines', on_delete=fields.RESTRICT
    )
    contract_id: int
    abo_id = fields.IntField()  # no foreign key: the snapshot outlives whatever happens to the Abo
    leistungsmonat = fields.DateField()
    art = fields.CharEnumField(LineKind, max_length=20, default=LineKind.MONAT)
    personalnummer = fields.CharField(max_length=50, default='')
    vorname = fields.CharField(max_length=100)
    nachname = fields.CharField(max_length=100)
    ticketart = fields.CharField(max_length=20)
    startmonat = fields.DateField()
    endmonat = fields.DateField(null=True)
    preis_cent = fields.IntField()
    zuschuss_cent = fields.IntField()
    rabatt_cent = fields.IntField()
    eigenanteil_cent = fields.IntField()

    class Meta:
        table = 'billing_line'
        indexes = [('run_id', 'contract_id'), ('contract_id', 'abo_id', 'leistungsmonat')]
