from tortoise import fields
from tortoise.models import Model


class SepaMandate(Model):
    """The SEPA direct-debit mandate given with an Antrag of a "(SEPA-Lastschrift)" contract: the account holder
    (who may differ from the ticket holder), the IBAN, the generated Mandatsreferenz, the date and the exact text
    the person agreed to. The Abo made from the Antrag is debited under it (Abo.antrag → mandate)."""

    id = fields.IntField(primary_key=True)
    reference = fields.CharField(max_length=35, unique=True)
    antrag: fields.OneToOneRelation['Antrag'] = fields.OneToOneField(  # noqa: F821
        'models.Antrag', related_name='mandate', on_delete=fields.RESTRICT
    )
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(  # noqa: F821
        'models.Contract', related_name='mandates', on_delete=fields.RESTRICT
    )
    kontoinhaber = fields.CharField(max_length=70)
    iban = fields.CharField(max_length=34)
    signed_on = fields.DateField()
    consent_text = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = 'sepa_mandate'
