"""The transit staff's back office (issue 7): a customer with contract and first administrator in one step, and the
contract status, whose change switches the contract's Kundencode off and on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models import AuditEvent, Contract, ContractStatus, Customer, Invitation, PortalUser, Produktangebot, Role
from services import anwender, clock, kundencode, validation, verwaltung
from services.audit import AuditKind
from services.errors import NotFound, PermissionDenied, ValidationError
from services.kundencode import CodeStatus
from services.vertraege import create_contract
from tests.conftest import flat, make_user

BASE_URL = 'http://portal.test'
FORM = {
    'kundennummer': '300100', 'name': 'Muster GmbH', 'strasse': 'Königsplatz 1', 'plz': '34117', 'ort': 'Kassel',
    'ansprechpartner': 'Petra Muster', 'email': 'info@muster.de', 'telefon': '0561 1234',
    'vertragsnummer': 'DJ-2026-0900', 'produktangebot': Produktangebot.SEPA.value, 'beginn': '01.01.2027',
    'arbeitgeberzuschuss': '20,50', 'admin_name': 'Petra Muster', 'admin_email': 'Petra@Muster.de',
}


async def counts() -> tuple[int, int, int, int]:
    return (await Customer.all().count(), await Contract.all().count(), await PortalUser.all().count(),
            await Invitation.all().count())


async def test_staff_create_customer_contract_and_first_admin(staff: PortalUser) -> None:
    result = await verwaltung.create_customer_with_contract(staff, **FORM, base_url=BASE_URL, client='10.9.9.9')
    customer, contract, invitation = result.customer, result.contract, result.invitation
    assert (customer.kundennummer, customer.name, customer.ort) == ('300100', 'Muster GmbH', 'Kassel')
    assert (contract.vertragsnummer, contract.customer_id, contract.status) == (
        'DJ-2026-0900', customer.id, ContractStatus.AKTIV)
    assert (contract.produktangebot, contract.beginn, contract.arbeitgeberzuschuss_cent) == (
        Produktangebot.SEPA, date(2027, 1, 1), 2050)
    admin = invitation.user
    assert (admin.email, admin.role, admin.customer_id, admin.status) == (
        'petra@muster.de', Role.ADMIN, customer.id, 'eingeladen')
    assert invitation.link.startswith('http://portal.test/einladung/')
    assert not invitation.mailed
    kinds = await flat(AuditEvent.filter(customer_id=customer.id).order_by('id').values_list('kind', flat=True))
    assert kinds == [AuditKind.CUSTOMER_CREATED, AuditKind.CONTRACT_CREATED, AuditKind.MAIL_QUEUED,
                     AuditKind.USER_INVITED]  # the invitation mail waits in the outbox (issue 15), audited without body
    assert await AuditEvent.filter(actor_id=staff.id, client='10.9.9.9').count() == 3

    token = invitation.link.rsplit('/', 1)[1]
    password = 'Neues-Portal-Passwort-9'
    await anwender.use_link(token, password=password, confirmation=password)
    assert (await PortalUser.get(id=admin.id)).status == 'aktiv'


async def test_field_errors_come_together_and_nothing_is_created(staff: PortalUser, admin: PortalUser) -> None:
    before = await counts()
    form = FORM | {'plz': '3411', 'arbeitgeberzuschuss': 'viel', 'beginn': '31.02.2027',
                   'admin_email': admin.email.upper(), 'admin_name': ''}
    with pytest.raises(ValidationError) as raised:
        await verwaltung.create_customer_with_contract(staff, **form, base_url=BASE_URL)
    assert raised.value.errors == {
        'plz': 'Die PLZ besteht aus genau 5 Ziffern.',
        'beginn': 'Bitte geben Sie den Vertragsbeginn als Datum an (TT.MM.JJJJ).',
        'arbeitgeberzuschuss': 'Bitte geben Sie den Arbeitgeberzuschuss in Euro an, z. B. 15,75.',
        'admin_name': 'Bitte geben Sie einen Namen an.',
        'admin_email': anwender.EMAIL_TAKEN,
    }
    assert await counts() == before


@pytest.mark.parametrize(
    ('zuschuss', 'message'),
    [('15,74', 'Der Arbeitgeberzuschuss beträgt mindestens 15,75 € (25 % des Deutschlandticket-Preises).'),
     ('63,01', 'Der Arbeitgeberzuschuss kann höchstens den ganzen Preis (63,00 €) betragen.')],
)
async def test_the_subsidy_follows_the_tariff(staff: PortalUser, zuschuss: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        await verwaltung.create_customer_with_contract(
            staff, **FORM | {'arbeitgeberzuschuss': zuschuss}, base_url=BASE_URL)
    assert raised.value.errors == {'arbeitgeberzuschuss': message}


async def test_a_taken_vertragsnummer_or_kundennummer_rolls_everything_back(
    staff: PortalUser, company: Customer
) -> None:
    await create_contract(customer=company, vertragsnummer='DJ-2026-0900', produktangebot=Produktangebot.RECHNUNG,
                          beginn=date(2026, 1, 1), arbeitgeberzuschuss_cent=1575)
    before = await counts()
    with pytest.raises(ValidationError) as raised:
        await verwaltung.create_customer_with_contract(staff, **FORM, base_url=BASE_URL)
    assert raised.value.errors == {'vertragsnummer': 'Diese Vertragsnummer ist bereits vergeben.'}
    with pytest.raises(ValidationError) as raised:
        await verwaltung.create_customer_with_contract(
            staff, **FORM | {'kundennummer': company.kundennummer, 'vertragsnummer': 'DJ-2026-0901'},
            base_url=BASE_URL)
    assert raised.value.errors == {'kundennummer': 'Diese Kundennummer ist bereits vergeben.'}
    assert await counts() == before
    assert not await AuditEvent.filter(kind=AuditKind.USER_INVITED).exists()


@pytest.mark.parametrize('role', [Role.ADMIN, Role.CLERK, Role.READONLY])
async def test_only_staff_create_customers(company: Customer, role: Role) -> None:
    actor = await make_user(f'{role.value}@fahrradmanufaktur-kassel.de', role, company)
    before = await counts()
    with pytest.raises(PermissionDenied):
        await verwaltung.create_customer_with_contract(actor, **FORM, base_url=BASE_URL)
    assert await counts() == before


@pytest.mark.parametrize(
    ('text', 'cents'),
    [('15,75', 1575), ('15.75', 1575), ('20', 2000), ('20,- €', 2000), (' 31,5 ', 3150), ('', None), ('1,234', None),
     ('-5', None), ('zwanzig', None)],
)
def test_parse_euro_cents(text: str, cents: int | None) -> None:
    assert validation.parse_euro_cents(text) == cents


# --- contract status ------------------------------------------------------------------------------------------------


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await create_contract(customer=company, vertragsnummer='DJ-2024-0117',
                                 produktangebot=Produktangebot.RECHNUNG, beginn=date(2024, 1, 1),
                                 arbeitgeberzuschuss_cent=2000)


async def test_a_contract_that_is_not_active_switches_its_code_off(
    staff: PortalUser, admin: PortalUser, contract: Contract
) -> None:
    code = await kundencode.generate_code(admin, contract.id, clock.today() + timedelta(days=90))
    assert (await kundencode.validate(code.code)).status == CodeStatus.VALID
    for status in (ContractStatus.GEKUENDIGT, ContractStatus.BEENDET):
        changed = await verwaltung.change_contract_status(staff, contract.id, status, client='10.9.9.9')
        assert changed.status == status
        assert (await kundencode.validate(code.code)).status == CodeStatus.CONTRACT_INACTIVE
    await verwaltung.change_contract_status(staff, contract.id, 'aktiv')
    assert (await kundencode.validate(code.code)).status == CodeStatus.VALID
    events = await AuditEvent.filter(kind=AuditKind.CONTRACT_STATUS_CHANGED).order_by('id')
    assert [(event.details['from'], event.details['to']) for event in events] == [
        ('aktiv', 'gekündigt'), ('gekündigt', 'beendet'), ('beendet', 'aktiv')]
    assert events[0].customer_id == contract.customer_id
    assert events[0].client == '10.9.9.9'
    stored = await Contract.get(id=contract.id)
    assert 'aktiv' in stored.search_text


@pytest.mark.parametrize('role', [Role.ADMIN, Role.CLERK, Role.READONLY])
async def test_only_staff_change_a_contracts_status(company: Customer, contract: Contract, role: Role) -> None:
    actor = await make_user(f'{role.value}@fahrradmanufaktur-kassel.de', role, company)
    with pytest.raises(PermissionDenied):
        await verwaltung.change_contract_status(actor, contract.id, ContractStatus.BEENDET)
    with pytest.raises(PermissionDenied):
        await verwaltung.find_contract(actor, contract.vertragsnummer)
    assert (await Contract.get(id=contract.id)).status == ContractStatus.AKTIV
    assert not await AuditEvent.filter(kind=AuditKind.CONTRACT_STATUS_CHANGED).exists()


async def test_bad_status_and_unknown_contracts(staff: PortalUser, contract: Contract) -> None:
    with pytest.raises(ValidationError):
        await verwaltung.change_contract_status(staff, contract.id, 'pausiert')
    with pytest.raises(NotFound):
        await verwaltung.change_contract_status(staff, 999_999, ContractStatus.BEENDET)
    with pytest.raises(NotFound, match=verwaltung.CONTRACT_NOT_FOUND):
        await verwaltung.find_contract(staff, 'DJ-0000-0000')
    found = await verwaltung.find_contract(staff, ' DJ-2024-0117 ')
    assert found.customer.kundennummer == '100234'
    await verwaltung.change_contract_status(staff, contract.id, ContractStatus.AKTIV)  # unchanged: no event
    assert not await AuditEvent.filter(kind=AuditKind.CONTRACT_STATUS_CHANGED).exists()
