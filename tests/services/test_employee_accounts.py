"""Everyone can get in (issue 15, item 6) on SQLite and PostgreSQL: Self-Service „Passwort vergessen“ (a one-hour,
single-use link by mail; the same answer whether or not the address exists; throttled), the invitation of people
imported by Massenupload (claim the account, then Meine Abos), one login across employers, and the links' rules."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from models import Abo, Antrag, Contract, Customer, Employee, OutboxMail, PortalUser, Upload, UploadResult
from services import anwender, auth, clock, employee_accounts, massenupload, meine_abos
from services.anwender import FORGOTTEN_ANSWER
from services.errors import NotFound, ServiceError, ValidationError
from tests.conftest import flat
from tests.services.test_antraege import EMPLOYEE_PASSWORD, apply, code_check, new_contract
from tests.services.test_massenupload import (  # noqa: F401 (pinned_today: the Massenupload's date, autouse)
    checked_preview,
    csv_file,
    people,
    pinned_today,
)
from tests.support import link_token

NEW_PASSWORD = 'Wilhelmshoehe-Bergpark-2026'
CLIENT = '198.51.100.4'


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await new_contract(company, 'V-2026-0001')


async def mail_to(email: str, kind: str) -> OutboxMail:
    found = await OutboxMail.filter(recipient=email, kind=kind).order_by('-id').first()
    assert found is not None, f'no {kind} mail to {email}'
    return found


async def import_people(admin: PortalUser, contract: Contract, count: int) -> list[dict[str, object]]:
    rows = people(count)
    data = csv_file(rows)
    preview = await checked_preview(admin, contract, data)
    await massenupload.import_upload(admin, contract.id, preview.upload_id)
    return rows


async def test_an_imported_person_is_invited_claims_the_account_and_cancels(
    admin: PortalUser, contract: Contract
) -> None:
    rows = await import_people(admin, contract, 3)
    email = str(rows[0]['E-Mail-Adresse']).lower()
    invitation = await mail_to(email, 'konto_einladung')
    assert invitation.subject == 'Ihr D-Ticket Job bei Fahrradmanufaktur Kassel GmbH: Zugang zum Self-Service'
    assert await OutboxMail.filter(kind='konto_einladung').count() == 3
    account = await Employee.get(email=email)
    assert account.password_hash == ''  # nobody can log in before the link is used
    assert (await auth.login(email, '', account_type=Employee)).token is None
    token = link_token(invitation.body_text, employee_accounts.LINK_PATH)
    assert (await employee_accounts.check_link(token)).email == email
    with pytest.raises(ValidationError):
        await employee_accounts.set_password(token, password=NEW_PASSWORD, confirmation='anders')
    await employee_accounts.set_password(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD, client=CLIENT)
    with pytest.raises(ServiceError, match='bereits verwendet'):
        await employee_accounts.set_password(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD)
    result = await auth.login(email, NEW_PASSWORD, account_type=Employee)
    assert result.token is not None
    (abo,) = await meine_abos.my_abos(account)
    cancelled = await meine_abos.cancel_abo(account, abo.id)
    assert cancelled.endmonat is not None
    assert (await mail_to(email, 'kuendigung_bestaetigt')).recipient == email


async def test_an_imported_person_with_an_account_keeps_one_login(
    admin: PortalUser, contract: Contract, company: Customer
) -> None:
    """One login across employers: the address already has an account (from a Self-Service Antrag elsewhere)."""
    other = await new_contract(company, 'V-2026-0099')
    earlier = await apply(await code_check(admin, other), 'Anna', 'Vorher')
    rows = people(1)
    rows[0]['E-Mail-Adresse'] = earlier.email
    data = csv_file(rows)
    preview = await checked_preview(admin, contract, data)
    await massenupload.import_upload(admin, contract.id, preview.upload_id)
    account = await Employee.get(email=earlier.email)
    assert await Employee.filter(email=earlier.email).count() == 1
    assert not await OutboxMail.filter(kind='konto_einladung').exists()
    assert {abo.contract_id for abo in await meine_abos.my_abos(account)} == {contract.id}
    assert {antrag.contract_id for antrag in await meine_abos.my_applications(account)} == {
        contract.id, other.id}


async def test_forgotten_password_gives_the_same_answer_and_mails_a_one_hour_single_use_link(
    admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    antrag = await apply(await code_check(admin, contract))
    before = await OutboxMail.all().count()
    assert await employee_accounts.request_password_reset('niemand@example.de', client=CLIENT) == FORGOTTEN_ANSWER
    assert await OutboxMail.all().count() == before  # nobody there: nothing sent, the same answer
    assert await employee_accounts.request_password_reset(antrag.email.upper(), client=CLIENT) == FORGOTTEN_ANSWER
    reset = await mail_to(antrag.email, 'passwort_vergessen')
    assert 'Self-Service D-Ticket Job' in reset.body_text
    token = link_token(reset.body_text, employee_accounts.LINK_PATH)
    with pytest.raises(NotFound):
        await anwender.check_link(token)  # a Self-Service link is no portal link
    later = clock.now() + timedelta(minutes=61)
    monkeypatch.setattr('services.clock.now', lambda: later)
    with pytest.raises(ServiceError, match='abgelaufen'):
        await employee_accounts.set_password(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD)
    monkeypatch.undo()
    assert (await auth.login(antrag.email, EMPLOYEE_PASSWORD, account_type=Employee)).token is not None


async def test_forgotten_password_is_throttled_per_address(admin: PortalUser, contract: Contract,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('LOGIN_MAX_FAILURES', '3')
    from services.settings import reset_settings

    reset_settings()
    antrag = await apply(await code_check(admin, contract))
    for _ in range(6):
        assert await employee_accounts.request_password_reset(antrag.email, client=CLIENT) == FORGOTTEN_ANSWER
    assert await OutboxMail.filter(kind='passwort_vergessen').count() == 3  # then the address is locked


async def test_a_reset_link_sets_the_password_and_ends_the_sessions(admin: PortalUser, contract: Contract) -> None:
    antrag = await apply(await code_check(admin, contract))
    session = await auth.login(antrag.email, EMPLOYEE_PASSWORD, account_type=Employee)
    await employee_accounts.request_password_reset(antrag.email, client=CLIENT)
    token = link_token((await mail_to(antrag.email, 'passwort_vergessen')).body_text, employee_accounts.LINK_PATH)
    await employee_accounts.set_password(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD)
    from services import sessions

    assert await sessions.employee_for_token(session.token) is None
    assert (await auth.login(antrag.email, EMPLOYEE_PASSWORD, account_type=Employee)).token is None
    assert (await auth.login(antrag.email, NEW_PASSWORD, account_type=Employee)).token is not None


async def test_an_unconfirmed_antrag_of_a_wrong_password_goes_on_when_the_owner_confirms(
    admin: PortalUser, contract: Contract, company: Customer
) -> None:
    """Re-applying with someone's address never tells that it has an account, and attaches nothing to it unless the
    mailbox's owner confirms."""
    first = await apply(await code_check(admin, contract))
    other = await new_contract(company, 'V-2026-0098')
    from services import antraege
    from services.antraege import ApplicationInput

    data = ApplicationInput(anrede='Frau', vorname='Lena', nachname='Schaefer', geburtsdatum='14.07.1988',
                            email=first.email, strasse='Königstor 1', plz='34117', ort='Kassel',
                            startmonat=first.startmonat.strftime('%d.%m.%Y'), ticketart='Handyticket')
    second = await antraege.submit_application(await code_check(admin, other), data, consent=True,
                                                   password='Ganz-anderes-Passwort-42',
                                                   password_confirmation='Ganz-anderes-Passwort-42')
    assert second.employee_id is None
    confirmation = await mail_to(first.email, 'konto_bestaetigung')
    await employee_accounts.confirm_email(link_token(confirmation.body_text, employee_accounts.LINK_PATH))
    await second.refresh_from_db()
    account = await Employee.get(email=first.email)
    # cast: mypy keeps the narrowing to None from before the refresh
    assert (second.status.value, cast(int | None, second.employee_id)) == ('offen', account.id)
    assert await Antrag.filter(employee_id=account.id).count() == 2
    assert not await Abo.exists()


async def test_invitations_follow_the_import_and_a_failure_half_way_is_completed_at_the_next_start(
    admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The accounts and invitation mails of 10,000 imported people took 32–49 s in the import's final transaction:
    on SQLite every other user waited that long for the one connection (bench/import_latency.py, reader max 38 s).
    They now follow the import in short batches of their own. A failure among them does not take back the import
    (the Anträge and Abos are written and the upload says „importiert“); the rest is invited at the next start,
    each person once."""
    monkeypatch.setattr(employee_accounts, 'INVITE_BATCH', 2)
    invite = employee_accounts._invite
    invited: list[str] = []

    async def fail_on_the_third(employee: Employee, *args: object, **kwargs: object) -> None:
        if len(invited) == 2:  # the first of the second batch (PostgreSQL: 2 a batch here, SQLite: 1)
            raise ConnectionError('database connection lost')
        invited.append(employee.email)
        await invite(employee, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(employee_accounts, '_invite', fail_on_the_third)
    rows = await import_people(admin, contract, 5)
    upload = await Upload.get(contract_id=contract.id)
    assert upload.result == UploadResult.IMPORTIERT and upload.imported_count == 5
    assert await Abo.filter(contract_id=contract.id).count() == 5
    assert await OutboxMail.filter(kind='konto_einladung').count() == 2  # the failed batch left nothing

    monkeypatch.setattr(employee_accounts, '_invite', invite)
    assert await employee_accounts.invite_pending_imports() == 3
    emails = sorted(str(row['E-Mail-Adresse']).lower() for row in rows)
    mailed = await flat(OutboxMail.filter(kind='konto_einladung').values_list('recipient', flat=True))
    assert sorted(mailed) == emails  # everyone once
    assert await Antrag.filter(contract_id=contract.id, employee_id=None).count() == 0
    assert await Abo.filter(contract_id=contract.id, employee_id=None).count() == 0
    assert await employee_accounts.invite_pending_imports() == 0  # nothing left
