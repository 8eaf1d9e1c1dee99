"""The outbox (issue 15, reliable mail) on SQLite and PostgreSQL, against a real local SMTP server (aiosmtpd): a mail
is written in the transaction of its change (a rolled-back decision sends nothing), delivered by the worker with text
and HTML parts, retried with back-off after a temporary failure, given up after a permanent one or too many attempts,
sent once when two workers run at once, audited without its body; staff see the delivery state."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from models import Abo, AuditEvent, Contract, Customer, Employee, MailStatus, OutboxMail, PortalUser
from services import antraege, audit, clock, mail, mail_worker, meine_abos
from services.audit import AuditKind
from services.errors import PermissionDenied
from tests.services.test_antraege import apply, code_check, new_contract
from tests.smtp_server import MailCatcher, html_of, text_of

TODAY = date(2026, 3, 5)


@pytest.fixture(autouse=True)
def set_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await new_contract(company, 'V-2026-0001')


def later(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    moment = clock.now() + by
    monkeypatch.setattr('services.clock.now', lambda: moment)


async def queue_one(to: str = 'lena@example.de') -> OutboxMail:
    return await mail.enqueue('antrag_abgelehnt', to, {'name': 'Lena Schäfer & Co', 'company': 'Firma <b>X</b>',
                                                       'reference': 'A-2026-ABCDEF', 'reason': 'Nicht beschäftigt.'})


async def test_a_decision_mails_the_employee_with_text_and_html(
    admin: PortalUser, contract: Contract, smtp_server: MailCatcher
) -> None:
    antrag = await apply(await code_check(admin, contract))
    await OutboxMail.all().delete()  # what the submission wrote is not this test's subject
    await antraege.decide(admin, antrag.id, approve=False, reason='Nicht bei uns beschäftigt.')
    assert await mail_worker.deliver_due() == 1
    (message,) = smtp_server.to(antrag.email)
    assert message['Subject'] == f'Ihr Antrag {antrag.reference} wurde abgelehnt'
    assert 'Begründung: Nicht bei uns beschäftigt.' in text_of(message)
    assert 'Guten Tag Lena Schaefer,' in text_of(message)
    assert '<p>Begründung: Nicht bei uns beschäftigt.</p>' in html_of(message)


async def test_an_approval_mail_names_the_start_month_stored_on_the_abo(
    admin: PortalUser, contract: Contract, smtp_server: MailCatcher
) -> None:
    antrag = await apply(await code_check(admin, contract))
    await antraege.decide(admin, antrag.id, approve=True)
    queued = await OutboxMail.get(kind='antrag_genehmigt')
    abo_start = antrag.startmonat.strftime('%d.%m.%Y')
    assert queued.subject == f'Ihr D-Ticket Job ist genehmigt: ab {abo_start}'
    assert f'beginnt am {abo_start}' in queued.body_text
    assert 'Stichtag' not in queued.body_text  # started as applied for: no word about a moved month


async def test_a_rolled_back_decision_sends_nothing(
    admin: PortalUser, contract: Contract, smtp_server: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    antrag = await apply(await code_check(admin, contract))
    await OutboxMail.all().delete()
    queued_before = await AuditEvent.filter(kind=AuditKind.MAIL_QUEUED).count()
    record = audit.record

    async def failing(kind: AuditKind, **kwargs: Any) -> AuditEvent:
        if kind == AuditKind.ANTRAG_REJECTED:  # after the mail was written, inside the decision's transaction
            raise RuntimeError('Datenbank weg')
        return await record(kind, **kwargs)

    monkeypatch.setattr(audit, 'record', failing)
    with pytest.raises(RuntimeError):
        await antraege.decide(admin, antrag.id, approve=False, reason='Nicht bei uns beschäftigt.')
    monkeypatch.setattr(audit, 'record', record)
    assert await OutboxMail.all().count() == 0
    assert await AuditEvent.filter(kind=AuditKind.MAIL_QUEUED).count() == queued_before
    assert await mail_worker.deliver_due() == 0
    assert smtp_server.messages == []


async def test_html_escapes_what_people_typed_and_text_keeps_it(db: str, smtp_server: MailCatcher) -> None:
    await queue_one()
    await mail_worker.deliver_due()
    (message,) = smtp_server.messages
    assert 'Guten Tag Lena Schäfer & Co,' in text_of(message)
    assert 'Firma <b>X</b> hat' in text_of(message)
    assert 'Lena Schäfer &amp; Co' in html_of(message)
    assert 'Firma &lt;b&gt;X&lt;/b&gt;' in html_of(message)


async def test_a_delivered_mail_is_audited_without_its_body_and_the_body_is_emptied(
    db: str, smtp_server: MailCatcher
) -> None:
    queued = await queue_one()
    await mail_worker.deliver_due()
    await queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.body_text, queued.body_html) == (MailStatus.GESENDET, 1, '', '')
    assert queued.sent_at is not None
    events = await AuditEvent.filter(object_type='mail', object_id=str(queued.id)).order_by('id')
    assert [event.kind for event in events] == [AuditKind.MAIL_QUEUED, AuditKind.MAIL_SENT]
    assert events[0].details == {'kind': 'antrag_abgelehnt', 'to': 'lena@example.de',
                                 'subject': 'Ihr Antrag A-2026-ABCDEF wurde abgelehnt'}
    assert all('Nicht beschäftigt' not in str(event.details) for event in events)


async def test_a_temporary_failure_is_retried_with_growing_delays(
    db: str, smtp_server: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = await queue_one()
    smtp_server.refuse_next = ['451 4.3.0 Bitte später erneut', '451 4.3.0 Bitte später erneut']
    start = clock.now()
    assert await mail_worker.deliver_due() == 1
    await queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (MailStatus.WARTEND, 1)
    assert '451' in queued.last_error
    assert timedelta(seconds=59) < queued.due_at - start < timedelta(seconds=70)
    assert await mail_worker.deliver_due() == 0  # not due yet
    later(monkeypatch, timedelta(seconds=61))
    assert await mail_worker.deliver_due() == 1
    await queued.refresh_from_db()
    assert queued.attempts == 2
    assert timedelta(seconds=119) < queued.due_at - clock.now() < timedelta(seconds=130)  # doubled
    later(monkeypatch, timedelta(seconds=200))
    assert await mail_worker.deliver_due() == 1
    await queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (MailStatus.GESENDET, 3)
    assert len(smtp_server.messages) == 1


async def test_a_server_that_is_down_is_retried(
    db: str, smtp_server: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = await queue_one()
    smtp_server.stop()
    assert await mail_worker.deliver_due() == 1
    await queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (MailStatus.WARTEND, 1)
    assert queued.last_error


async def test_a_permanent_refusal_is_given_up_at_once(db: str, smtp_server: MailCatcher) -> None:
    queued = await queue_one()
    smtp_server.refuse_next = ['550 5.1.1 Postfach unbekannt']
    await mail_worker.deliver_due()
    await queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.body_text) == (MailStatus.FEHLGESCHLAGEN, 1, '')
    assert await AuditEvent.filter(kind=AuditKind.MAIL_FAILED, object_id=str(queued.id)).exists()


async def test_after_the_last_attempt_the_mail_is_given_up(
    db: str, smtp_server: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv('MAIL_MAX_ATTEMPTS', '2')
    from services.settings import reset_settings
    reset_settings()
    queued = await queue_one()
    smtp_server.refuse_next = ['451 4.3.0 später'] * 2
    await mail_worker.deliver_due()
    later(monkeypatch, timedelta(hours=1))
    await mail_worker.deliver_due()
    await queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (MailStatus.FEHLGESCHLAGEN, 2)


async def test_starttls_is_required_a_server_without_it_gets_nothing(
    db: str, smtp_server: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.settings import reset_settings

    monkeypatch.setenv('SMTP_SECURITY', 'starttls')
    reset_settings()
    queued = await queue_one()
    await mail_worker.deliver_due()
    await queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (MailStatus.WARTEND, 1)
    assert smtp_server.messages == []


async def test_two_workers_at_once_send_every_mail_once(db: str, smtp_server: MailCatcher) -> None:
    """On PostgreSQL each worker's claim runs on its own connection (as in two processes): SKIP LOCKED gives them
    different rows. On SQLite the claims take turns on the one connection."""
    for number in range(40):
        await queue_one(f'person{number}@example.de')
    taken = await asyncio.gather(*(mail_worker.deliver_due(batch=15) for _ in range(2)))
    while await mail_worker.deliver_due(batch=15):
        pass
    assert sum(taken) <= 30
    assert sorted(message['To'] for message in smtp_server.messages) == sorted(
        f'person{number}@example.de' for number in range(40))
    assert await OutboxMail.filter(status=MailStatus.GESENDET, attempts=1).count() == 40


async def test_a_worker_that_died_mid_batch_leaves_its_mails_to_the_next_after_the_lease(
    db: str, smtp_server: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    await queue_one()
    assert len(await mail_worker._claim(10)) == 1  # taken, then the process dies before sending
    assert await mail_worker.deliver_due() == 0
    later(monkeypatch, mail_worker.LEASE + timedelta(seconds=1))
    assert await mail_worker.deliver_due() == 1
    assert len(smtp_server.messages) == 1


async def test_staff_see_the_delivery_state_and_nobody_else(
    admin: PortalUser, staff: PortalUser, smtp_server: MailCatcher
) -> None:
    await queue_one('a@example.de')
    await queue_one('b@example.de')
    smtp_server.refuse_next = ['550 5.1.1 unbekannt']
    await mail_worker.deliver_due()
    await queue_one('c@example.de')
    overview = await mail.delivery_overview(staff)
    assert overview.configured
    assert overview.counts == {MailStatus.WARTEND: 1, MailStatus.GESENDET: 1, MailStatus.FEHLGESCHLAGEN: 1}
    assert [(row.recipient, row.status) for row in overview.recent] == [
        ('c@example.de', MailStatus.WARTEND), ('a@example.de', MailStatus.FEHLGESCHLAGEN)]
    with pytest.raises(PermissionDenied):
        await mail.delivery_overview(admin)


async def test_a_kuendigung_is_confirmed_by_mail(
    admin: PortalUser, contract: Contract, smtp_server: MailCatcher
) -> None:
    antrag = await apply(await code_check(admin, contract))
    await antraege.decide(admin, antrag.id, approve=True)
    employee = await Employee.get(email=antrag.email)
    abo = await Abo.get(antrag_id=antrag.id)
    cancelled = await meine_abos.cancel_abo(employee, abo.id)
    queued = await OutboxMail.get(kind='kuendigung_bestaetigt')
    assert queued.recipient == antrag.email
    assert cancelled.endmonat is not None
    assert f'endet am {cancelled.endmonat.strftime("%d.%m.%Y")}' in queued.subject


async def test_deciders_opt_in_to_the_digest_and_others_cannot(
    admin: PortalUser, staff: PortalUser, company: Customer
) -> None:
    from models import Role
    from tests.conftest import make_user

    reader = await make_user('lesen@fahrradmanufaktur-kassel.de', Role.READONLY, company, name='Lukas Brandt')
    await mail.set_digest(admin, True)
    assert (await PortalUser.get(id=admin.id)).mail_digest
    assert await AuditEvent.filter(kind=AuditKind.MAIL_DIGEST_CHANGED, object_id=str(admin.id)).exists()
    for actor in (reader, staff):
        with pytest.raises(PermissionDenied):
            await mail.set_digest(actor, True)
        assert not (await PortalUser.get(id=actor.id)).mail_digest
