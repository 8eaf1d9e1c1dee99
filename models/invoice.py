from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.billing import BillingRun
    from models.contract import Contract


class InvoiceCounter(Model):
    """The last invoice number of one series (per issuer prefix). Taken with a row lock inside the transaction that
    issues invoices, so numbers are consecutive without gaps or duplicates, whatever runs at the same time."""

    id = fields.IntField(primary_key=True)
    series = fields.CharField(max_length=20, unique=True)
    last_number = fields.IntField(default=0)

    class Meta:
        table = 'invoice_counter'


class Invoice(Model):
    """The invoice of a "(Rechnung)" contract for a closed month, issued when the month is closed. Number, date,
    issuer and recipient are stored as they were; the lines are the run's stored lines. The PDF (with its embedded
    ZUGFeRD XML) is stored the first time it is made and never made again."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=30, unique=True)
    run: fields.ForeignKeyRelation['BillingRun'] = fields.ForeignKeyField(
        'models.BillingRun', related_name='invoices', on_delete=fields.RESTRICT
    )
    run_id: int
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='invoices', on_delete=fields.RESTRICT
    )
    contract_id: int
    issued_on = fields.DateField()
    issuer: fields.JSONField[dict[str, Any]] = fields.JSONField()
    recipient: fields.JSONField[dict[str, Any]] = fields.JSONField()
    vat_percent = fields.IntField()
    net_cent = fields.IntField()
    vat_cent = fields.IntField()
    rounding_cent = fields.IntField(default=0)
    gross_cent = fields.IntField()
    pdf = fields.BinaryField(null=True)

    class Meta:
        table = 'invoice'
        unique_together = [('run_id', 'contract_id')]
