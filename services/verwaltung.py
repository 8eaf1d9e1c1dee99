"""The transit company's own back office (Verwaltung): a new customer with its contract and first administrator in
one step, and the status of a contract. Only staff (services/permissions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from models import Contract, ContractStatus, Customer, PortalUser, Produktangebot, Role
from services import anwender, audit, kunden, permissions, vertraege
from services.anwender import IssuedLink
from services.audit import AuditKind
from services.errors import NotFound, ValidationError
from services.permissions import Action
from services.validation import field_length, parse_euro_cents, parse_german_date, require_text, search_term

CONTRACT_NOT_FOUND = 'Zu dieser Vertragsnummer gibt es keinen Vertrag.'


@dataclass(frozen=True)
class NewCustomer:
    customer: Customer
    contract: Contract
    invitation: IssuedLink




def _contract_problems(beginn_text: str, zuschuss_text: str) -> tuple[dict[str, str], date | None, int | None]:
    errors: dict[str, str] = {}
    beginn = parse_german_date(beginn_text or '')
    if beginn is None:
        errors['beginn'] = 'Bitte geben Sie den Vertragsbeginn als Datum an (TT.MM.JJJJ).'
    zuschuss = parse_euro_cents(zuschuss_text)
    if zuschuss is None:
        errors['arbeitgeberzuschuss'] = 'Bitte geben Sie den Arbeitgeberzuschuss in Euro an, z. B. 15,75.'
    elif beginn is not None and (problem := vertraege.subsidy_problem(beginn, zuschuss)):
        errors['arbeitgeberzuschuss'] = problem
    return errors, beginn, zuschuss


async def create_customer_with_contract(
    actor: PortalUser,
    *,
    kundennummer: str,
    name: str,
    strasse: str,
    plz: str,
    ort: str,
    ansprechpartner: str = '',
    email: str = '',
    telefon: str = '',
    vertragsnummer: str,
    produktangebot: Produktangebot | str,
    beginn: str,
    arbeitgeberzuschuss: str,
    admin_name: str,
    admin_email: str,
    base_url: str,
    client: str = '',
) -> NewCustomer:
    """Customer, contract and the invitation of its first administrator, all or nothing. Field errors come back
    together where they can (keys: the customer's fields, the contract's, and admin_name/admin_email)."""
    permissions.require_role(actor, Action.MANAGE_CUSTOMERS)
    errors, beginn_date, zuschuss_cent = _contract_problems(beginn, arbeitgeberzuschuss)
    vertragsnummer = require_text(
        errors, 'vertragsnummer', vertragsnummer, 'eine Vertragsnummer', field_length(Contract, 'vertragsnummer')
    )
    try:
        product = Produktangebot(produktangebot)
    except ValueError:
        errors['produktangebot'] = 'Bitte wählen Sie ein Produktangebot.'
    if 'vertragsnummer' not in errors and await Contract.exists(vertragsnummer=vertragsnummer):
        errors['vertragsnummer'] = 'Diese Vertragsnummer ist bereits vergeben.'
    errors |= await anwender.invitation_problems(admin_name, admin_email, Role.ADMIN, prefix='admin_')
    async with in_transaction():
        try:
            customer = await kunden.create_customer(
                kundennummer=kundennummer, name=name, strasse=strasse, plz=plz, ort=ort,
                ansprechpartner=ansprechpartner, email=email, telefon=telefon, actor=actor, client=client,
            )
        except ValidationError as error:
            raise ValidationError({**error.errors, **errors}) from None
        if errors:
            raise ValidationError(errors)
        assert beginn_date is not None and zuschuss_cent is not None
        contract = await vertraege.create_contract(
            customer=customer, vertragsnummer=vertragsnummer, produktangebot=product, beginn=beginn_date,
            arbeitgeberzuschuss_cent=zuschuss_cent, actor=actor, client=client,
        )
        issued = await anwender.create_invitation(
            actor, customer, name=admin_name, email=admin_email, role=Role.ADMIN, base_url=base_url, client=client,
        )
    return NewCustomer(customer=customer, contract=contract, invitation=issued)


async def find_contract(actor: PortalUser, vertragsnummer: str) -> Contract:
    """A contract by its Vertragsnummer, for the status change (staff only)."""
    permissions.require_role(actor, Action.CHANGE_CONTRACT_STATUS)
    contract = await permissions.scoped(
        Contract.filter(vertragsnummer=search_term(vertragsnummer, field_length(Contract, 'vertragsnummer'))), actor
    ).select_related('customer').first()
    if contract is None:
        raise NotFound(CONTRACT_NOT_FOUND)
    return contract


async def change_contract_status(
    actor: PortalUser, contract_id: int, status: ContractStatus | str, *, client: str = ''
) -> Contract:
    """aktiv, gekündigt or beendet. A contract that is not active takes no new Anträge: its Kundencode stops
    working (services/kundencode.validate checks the contract's status), and works again when it is reactivated."""
    permissions.require_role(actor, Action.CHANGE_CONTRACT_STATUS)
    try:
        new_status = ContractStatus(status)
    except ValueError:
        raise ValidationError({'status': 'Bitte wählen Sie einen Status: aktiv, gekündigt oder beendet.'}) from None
    async with in_transaction():
        contract = await permissions.scoped(Contract.filter(id=contract_id), actor).select_for_update().first()
        if contract is None:
            raise NotFound(CONTRACT_NOT_FOUND)
        previous = contract.status
        if previous == new_status:
            return contract
        contract.status = new_status
        await contract.save(update_fields=['status', 'updated_at'])
        await audit.record(
            AuditKind.CONTRACT_STATUS_CHANGED, actor=actor, customer_id=contract.customer_id,
            object_type='contract', object_id=contract.id,
            details={'vertragsnummer': contract.vertragsnummer, 'from': previous.value, 'to': new_status.value},
            client=client,
        )
    return contract
