"""Customers (Firmen) of the transit company."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from models import Customer, PortalUser
from services import audit, permissions
from services.audit import AuditKind
from services.errors import ValidationError
from services.permissions import Action
from services.validation import field_length, is_email, is_plz, normalize_email, require_text


async def create_customer(
    *,
    kundennummer: str,
    name: str,
    strasse: str,
    plz: str,
    ort: str,
    ansprechpartner: str = '',
    email: str = '',
    telefon: str = '',
    actor: PortalUser | None = None,
    client: str = '',
) -> Customer:
    """Only transit staff (or the operator on the command line, actor None) create customers."""
    if actor is not None:
        permissions.require(actor, Action.MANAGE_CUSTOMERS, None)
    errors: dict[str, str] = {}
    def text(field: str, value: str, label: str = '', *, optional: bool = False) -> str:
        return require_text(errors, field, value, label, field_length(Customer, field), optional=optional)

    kundennummer = text('kundennummer', kundennummer, 'eine Kundennummer')
    name = text('name', name, 'den Firmennamen')
    strasse = text('strasse', strasse, 'Straße und Hausnummer')
    ort = text('ort', ort, 'den Ort')
    ansprechpartner = text('ansprechpartner', ansprechpartner, optional=True)
    telefon = text('telefon', telefon, optional=True)
    plz = plz.strip()
    if not is_plz(plz):
        errors['plz'] = 'Die PLZ besteht aus genau 5 Ziffern.'
    email = normalize_email(email)
    if email and not is_email(email):
        errors['email'] = 'Bitte geben Sie eine gültige E-Mail-Adresse an.'
    if errors:
        raise ValidationError(errors)
    try:
        customer = await Customer.create(
            kundennummer=kundennummer, name=name, strasse=strasse, plz=plz, ort=ort,
            ansprechpartner=ansprechpartner, email=email, telefon=telefon,
        )
    except IntegrityError:
        raise ValidationError({'kundennummer': 'Diese Kundennummer ist bereits vergeben.'}) from None
    await audit.record(
        AuditKind.CUSTOMER_CREATED, actor=actor, actor_label='' if actor else 'Betrieb (Kommandozeile)',
        customer_id=customer.id, object_type='customer', object_id=customer.id, client=client,
    )
    return customer
