from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.antrag import Antrag
    from models.contract import Contract


class SepaMandate(Model):
    """The SEPA direct-debit mandate given with an Antrag of a "(SEPA-Lastschrift)" contract: the account holder
    (who may differ from the ticket holder), the IBAN, the generated Mandatsreferenz, the date and the exact text
    the person agreed to. The Abo made from the Antrag is debited under it (Abo.antrag → mandate)."""

    id = fields.IntField(primary_key=True)
    reference = fields.CharField(max_length=35, unique=True)
    antrag: fields.OneToOneRelation['Antrag'] = fields.OneToOneField(
        'models.Antrag', related_name='mandate', on_delete=fields.RESTRICT
    )
    antrag_id: int
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='mandates', on_delete=fields.RESTRICT
    )
    contract_id: int
    kontoinhaber = fields.CharField(max_length=70)
    iban = fields.CharField(max_length=34)
    signed_on = fields.DateField()
    consent_text = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = 'sepa_mandate'
