"""Customers (Firmen) of the transit company."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from models import Customer, PortalUser
from services import audit, permissions
from services.audit import AuditKind
from services.errors import ValidationError
from services.permissions import Action
from services.validation import is_email, is_plz, require_text


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
    kundennummer = require_text(errors, 'kundennummer', kundennummer, 'eine Kundennummer', 20)
    name = require_text(errors, 'name', name, 'den Firmennamen', 200)
    strasse = require_text(errors, 'strasse', strasse, 'Straße und Hausnummer', 200)
    ort = require_text(errors, 'ort', ort, 'den Ort', 100)
    plz = plz.strip()
    if not is_plz(plz):
        errors['plz'] = 'Die PLZ besteht aus genau 5 Ziffern.'
    email = email.strip().lower()
    if email and not is_email(email):
        errors['email'] = 'Bitte geben Sie eine gültige E-Mail-Adresse an.'
    if errors:
        raise ValidationError(errors)
    try:
        customer = await Customer.create(
            kundennummer=kundennummer, name=name, strasse=strasse, plz=plz, ort=ort,
            ansprechpartner=ansprechpartner.strip()[:200], email=email, telefon=telefon.strip()[:50],
        )
    except IntegrityError:
        raise ValidationError({'kundennummer': 'Diese Kundennummer ist bereits vergeben.'}) from None
    await audit.record(
        AuditKind.CUSTOMER_CREATED, actor=actor, actor_label='' if actor else 'Betrieb (Kommandozeile)',
        customer_id=customer.id, object_type='customer', object_id=customer.id, client=client,
    )
    return customer
