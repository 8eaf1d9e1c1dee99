from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    """A business customer (Firma) of the transit company."""

    id = fields.IntField(primary_key=True)
    kundennummer = fields.CharField(max_length=20, unique=True)
    name = fields.CharField(max_length=200, db_index=True)
    strasse = fields.CharField(max_length=200)
    plz = fields.CharField(max_length=5)
    ort = fields.CharField(max_length=100)
    ansprechpartner = fields.CharField(max_length=200, default='')
    email = fields.CharField(max_length=254, default='')
    telefon = fields.CharField(max_length=50, default='')
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = 'customer'
        ordering = ['name']

    def __str__(self) -> str:
        return f'{self.name} ({self.kundennummer})'
