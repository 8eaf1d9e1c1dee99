"""Contracts (Verträge): creation with the subsidy rule, the Vertragsverwaltung table and scoped access to one
contract. The Verwaltung form and the command line both create contracts here, so both obey the same rules."""

from __future__ import annotations

from datetime import date

from tortoise.exceptions import IntegrityError

from models import Contract, ContractStatus, Customer, PortalUser, Produktangebot
from models.contract import SORTABLE_COLUMNS
from services import audit, permissions, tarife
from services.audit import AuditKind
from services.errors import NotFound, ValidationError
from services.permissions import Action
from services.table_query import TablePage, TableRequest, fetch_page
from services.validation import field_length, format_euro, require_text, search_term

NOT_FOUND = 'Keine Verträge gefunden'


def subsidy_problem(beginn: date, arbeitgeberzuschuss_cent: int) -> str | None:
    """The employer pays at least the tariff's minimum share of the price valid at the contract's start, at most the
    whole price (services/tarife.py); None when the amount is allowed."""
    rules = tarife.tariff_on(beginn)
    if arbeitgeberzuschuss_cent < rules.mindestzuschuss_cent:
        return (f'Der Arbeitgeberzuschuss beträgt mindestens {format_euro(rules.mindestzuschuss_cent)} '
                f'({rules.mindestzuschuss_prozent} % des Deutschlandticket-Preises).')
    if arbeitgeberzuschuss_cent > rules.preis_cent:
        return f'Der Arbeitgeberzuschuss kann höchstens den ganzen Preis ({format_euro(rules.preis_cent)}) betragen.'
    return None


async def create_contract(
    *,
    customer: Customer,
    vertragsnummer: str,
    produktangebot: Produktangebot,
    beginn: date,
    arbeitgeberzuschuss_cent: int,
    ende: date | None = None,
    status: ContractStatus = ContractStatus.AKTIV,
    actor: PortalUser | None = None,
    client: str = '',
) -> Contract:
    """A contract at the customer's address. Only transit staff (or the operator, actor None) create contracts."""
    if actor is not None:
        permissions.require(actor, Action.CREATE_CONTRACT, customer.id)
    errors: dict[str, str] = {}
    vertragsnummer = require_text(
        errors, 'vertragsnummer', vertragsnummer, 'eine Vertragsnummer', field_length(Contract, 'vertragsnummer')
    )
    await tarife.current()  # the rule below reads the tariffs as the table holds them now
    if ende is not None and ende < beginn:
        errors['ende'] = 'Das Vertragsende darf nicht vor dem Beginn liegen.'
    if problem := subsidy_problem(beginn, arbeitgeberzuschuss_cent):
        errors['arbeitgeberzuschuss'] = problem
    if errors:
        raise ValidationError(errors)
    try:
        contract = await Contract.create(
            customer=customer, vertragsnummer=vertragsnummer, firma=customer.name, strasse=customer.strasse,
            plz=customer.plz, ort=customer.ort, produktangebot=produktangebot, status=status, beginn=beginn,
            ende=ende, arbeitgeberzuschuss_cent=arbeitgeberzuschuss_cent,
        )
    except IntegrityError:
        raise ValidationError({'vertragsnummer': 'Diese Vertragsnummer ist bereits vergeben.'}) from None
    await audit.record(
        AuditKind.CONTRACT_CREATED, actor=actor, actor_label='' if actor else 'Betrieb (Kommandozeile)',
        customer_id=customer.id, object_type='contract', object_id=contract.id,
        details={'vertragsnummer': vertragsnummer}, client=client,
    )
    return contract


async def list_contracts(
    actor: PortalUser, request: TableRequest, *, kundennummer: str = '', only_active: bool = True
) -> TablePage[Contract]:
    """The Vertragsverwaltung table, scoped to the actor: company users see only their own company's contracts,
    and another company's Kundennummer finds nothing, exactly like an unknown one."""
    permissions.require_role(actor, Action.VIEW_CONTRACTS)
    queryset = permissions.scoped(Contract.all(), actor)
    if kundennummer := search_term(kundennummer, field_length(Customer, 'kundennummer')):
        queryset = queryset.filter(customer__kundennummer=kundennummer)
    if only_active:
        queryset = queryset.filter(status=ContractStatus.AKTIV)
    return await fetch_page(queryset, request, SORTABLE_COLUMNS)


async def get_contract(actor: PortalUser, contract_id: int) -> Contract:
    """One contract with its customer, if the actor may see it; NotFound otherwise (never a hint that it exists)."""
    contract = await permissions.scoped(Contract.filter(id=contract_id), actor).select_related('customer').first()
    if contract is None or not permissions.may(actor, Action.VIEW_CONTRACTS, contract.customer_id):
        raise NotFound('Der Vertrag wurde nicht gefunden.')
    return contract
