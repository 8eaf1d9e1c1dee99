"""Scheduled jobs (issue 15) on SQLite and PostgreSQL: each acts once per period, also when two processes run it at
once (two real processes on the test's database), a run whose process died is taken over after the lease, and what
each job mails: the digest to users who opted in, the Kundencode notice 30 days ahead, „Abo beginnt“, the share
change; a second run mails nothing twice."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import date, datetime, timedelta

import pytest

from models import Abo, Contract, Customer, JobRun, OutboxMail, PortalUser, Role
from services import antraege, clock, jobs, kundencode, zuschuesse
from services.settings import PROJECT_DIR
from tests.conftest import flat, make_user
from tests.services.test_antraege import START_MONTHS, apply, code_check, new_contract

TODAY = date(2026, 3, 5)  # open start months from April; April's „genehmigen bis“ is 10.03.2026


@pytest.fixture(autouse=True)
def set_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await new_contract(company, 'V-2026-0001')


async def opted_in(email: str, role: Role, company: Customer) -> PortalUser:
    user = await make_user(email, role, company, name='Jonas Weber')
    user.mail_digest = True
    await user.save(update_fields=['mail_digest'])
    return user


async def test_two_runners_at_once_act_once(admin: PortalUser, company: Customer, contract: Contract) -> None:
    await apply(await code_check(admin, contract))
    await opted_in('sachbearbeitung@fahrradmanufaktur-kassel.de', Role.CLERK, company)
    results = await asyncio.gather(*(jobs.run_once('tagesuebersicht', '2026-03-05') for _ in range(3)))
    assert sorted(result is None for result in results) == [False, True, True]
    assert await OutboxMail.filter(kind='tagesuebersicht').count() == 1
    assert await jobs.run_once('tagesuebersicht', '2026-03-05') is None  # later the same day: done


async def test_two_processes_at_once_act_once(
    admin: PortalUser, company: Customer, contract: Contract, database_url: str
) -> None:
    await apply(await code_check(admin, contract))
    await opted_in('sachbearbeitung@fahrradmanufaktur-kassel.de', Role.CLERK, company)
    script = (
        'import asyncio, sys\n'
        'from tortoise.context import TortoiseContext\n'
        'from services import jobs\n'
        'from services.database import tortoise_config\n'
        'async def main():\n'
        '    async with TortoiseContext() as ctx:\n'
        '        await ctx.init(config=tortoise_config(sys.argv[1]))\n'
        '        print(await jobs.run_once("tagesuebersicht", "2026-03-05"))\n'
        'asyncio.run(main())\n'
    )
    environment = {**os.environ, 'PYTHONPATH': str(PROJECT_DIR)}
    runners = [await asyncio.create_subprocess_exec(
        sys.executable, '-c', script, database_url, cwd=PROJECT_DIR, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for _ in range(2)]
    outputs = await asyncio.wait_for(asyncio.gather(*(runner.communicate() for runner in runners)), 120)
    assert [runner.returncode for runner in runners] == [0, 0], outputs
    assert sorted(out.decode().strip().splitlines()[-1] for out, _ in outputs) == ['1 Tagesübersichten', 'None']
    assert await OutboxMail.filter(kind='tagesuebersicht').count() == 1


async def test_a_run_whose_process_died_is_taken_over_after_the_lease(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await JobRun.create(name='kundencode-ablauf', period='2026-03-05', started_at=clock.now())
    assert await jobs.run_once('kundencode-ablauf', '2026-03-05') is None
    moment = clock.now() + jobs.LEASE + timedelta(minutes=1)
    monkeypatch.setattr('services.clock.now', lambda: moment)
    assert await jobs.run_once('kundencode-ablauf', '2026-03-05') == '0 Hinweise auf ablaufende Kundencodes'
    run = await JobRun.get(name='kundencode-ablauf', period='2026-03-05')
    assert run.finished_at is not None


async def test_the_schedule_waits_for_its_hour(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    early = datetime(2026, 3, 5, 4, 0, tzinfo=clock.BERLIN)
    monkeypatch.setattr('services.clock.now', lambda: early)
    assert await jobs.run_due() == {}
    monkeypatch.setattr('services.clock.now', lambda: early.replace(hour=7))
    assert set(await jobs.run_due()) == set(jobs.JOBS)
    assert await JobRun.filter(period='2026-03-05').count() == len(jobs.JOBS)


async def test_the_digest_lists_new_and_due_antraege_for_those_who_opted_in(
    admin: PortalUser, company: Customer, contract: Contract, other_company: Customer
) -> None:
    check = await code_check(admin, contract)
    due = await apply(check, 'Lena', 'Schaefer', startmonat=START_MONTHS[0])  # genehmigen bis 10.03.
    later = await apply(check, 'Jonas', 'Becker', startmonat=START_MONTHS[3])
    clerk = await opted_in('sachbearbeitung@fahrradmanufaktur-kassel.de', Role.CLERK, company)
    await opted_in('lesen@fahrradmanufaktur-kassel.de', Role.READONLY, company)  # may not decide: no digest
    await opted_in('chef@kaufunger-holzbau.de', Role.ADMIN, other_company)  # nothing new there: no mail
    assert await jobs.daily_digest(TODAY) == '1 Tagesübersichten'
    (digest,) = await OutboxMail.filter(kind='tagesuebersicht')
    assert digest.recipient == clerk.email
    assert digest.subject == 'Tagesübersicht Fahrradmanufaktur Kassel GmbH: 2 neue Anträge, 1 Fristen'
    assert f'{later.reference}: Jonas Becker (V-2026-0001), ab 01.07.2026' in digest.body_text
    assert f'{due.reference}: Lena Schaefer (V-2026-0001), genehmigen bis 10.03.2026' in digest.body_text
    assert admin.email not in await flat(OutboxMail.filter(kind='tagesuebersicht').values_list('recipient', flat=True))


async def test_administrators_hear_30_days_before_the_code_expires_once(
    admin: PortalUser, contract: Contract
) -> None:
    await kundencode.generate_code(admin, contract.id, TODAY + timedelta(days=45), replace_current=True)
    assert await jobs.code_expiry(TODAY) == '0 Hinweise auf ablaufende Kundencodes'
    assert await jobs.code_expiry(TODAY + timedelta(days=15)) == '1 Hinweise auf ablaufende Kundencodes'
    (notice,) = await OutboxMail.filter(kind='kundencode_laeuft_ab')
    assert (notice.recipient, notice.customer_id) == (admin.email, contract.customer_id)
    assert notice.subject == 'Kundencode für V-2026-0001 läuft am 19.04.2026 ab'
    assert await jobs.code_expiry(TODAY + timedelta(days=16)) == '0 Hinweise auf ablaufende Kundencodes'


async def test_abo_start_and_share_change_are_mailed_once(
    admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    antrag = await apply(await code_check(admin, contract), startmonat=START_MONTHS[0])
    await antraege.decide(admin, antrag.id, approve=True)
    await zuschuesse.change_subsidy(admin, contract.id, ab_monat=date(2026, 5, 1), zuschuss_cent=2000)
    april = date(2026, 4, 2)
    monkeypatch.setattr('services.clock.today', lambda: april)
    assert await jobs.abo_starts(april) == '1 Mitteilungen zum Abo-Beginn'
    assert await jobs.abo_starts(april) == '0 Mitteilungen zum Abo-Beginn'
    start = await OutboxMail.get(kind='abo_beginnt')
    assert (start.recipient, start.subject) == (antrag.email, 'Ihr D-Ticket Job beginnt am 01.04.2026')
    assert 'Ihr Eigenanteil beträgt 44,10 € im Monat' in start.body_text
    assert await jobs.share_changes(april) == '1 Mitteilungen zum geänderten Eigenanteil'
    assert await jobs.share_changes(april) == '0 Mitteilungen zum geänderten Eigenanteil'
    change = await OutboxMail.get(kind='anteil_aendert_sich')
    assert change.subject == 'Ihr Eigenanteil ändert sich ab 01.05.2026'
    assert '39,85 € im Monat (bisher 44,10 €)' in change.body_text
    abo = await Abo.get(antrag_id=antrag.id)
    assert change.object_id == f'{abo.id}:2026-05-01'


async def test_a_new_price_mails_every_abo_whose_share_changes_page_by_page(
    company: Customer, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A price block from next month concerns every contract (read by keyset, CHUNK Abos a page): running Abos of
    several contracts are mailed once, not one starting next month, one ending this month, or one whose employer
    pays the whole price either way."""
    from models import Employee, TariffBlock
    from services import tarife
    from tests.services.test_abrechnung import make_abo

    monkeypatch.setattr(jobs, 'CHUNK', 2)
    april, may = date(2026, 4, 2), date(2026, 5, 1)
    monkeypatch.setattr('services.clock.today', lambda: april)
    await tarife.seed_if_empty()
    await TariffBlock.create(gueltig_ab=may, preis_cent=6900, mindestzuschuss_prozent=25, rabatt_prozent=5,
                             created_at=clock.now())
    second = await new_contract(company, 'V-2026-0002')
    whole = await new_contract(company, 'V-2026-0003')
    await whole.__class__.filter(id=whole.id).update(arbeitgeberzuschuss_cent=7000)

    async def abo(target: Contract, name: str, start: date, end: date | None = None) -> Abo:
        employee = await Employee.create(email=f'{name.lower()}@example.de', password_hash='-')
        return await make_abo(target, name, start, end, employee=employee)

    mailed = [await abo(contract, 'Erste', date(2026, 1, 1)), await abo(contract, 'Zweite', date(2026, 4, 1)),
              await abo(second, 'Dritte', date(2025, 6, 1)), await abo(second, 'Vierte', date(2026, 2, 1))]
    await abo(contract, 'Spaeter', may)
    await abo(second, 'Endet', date(2026, 1, 1), date(2026, 4, 30))
    await abo(whole, 'Ganz', date(2026, 1, 1))
    assert await jobs.share_changes(april) == '4 Mitteilungen zum geänderten Eigenanteil'
    assert await jobs.share_changes(april) == '0 Mitteilungen zum geänderten Eigenanteil'
    notices = await OutboxMail.filter(kind='anteil_aendert_sich').order_by('id')
    assert [notice.object_id for notice in notices] == [f'{found.id}:2026-05-01' for found in mailed]
    # 15,75 € subsidy: below the new minimum (17,25 €), so no discount any more: 69 € − 15,75 €
    assert '53,25 € im Monat (bisher 44,10 €)' in notices[0].body_text


async def test_a_job_runs_by_hand_from_the_command_line(database_url: str, db: str) -> None:
    done = await asyncio.create_subprocess_exec(
        sys.executable, 'main.py', 'job', 'kundencode-ablauf', cwd=PROJECT_DIR,
        env={**os.environ, 'DATABASE_URL': database_url}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(done.communicate(), 120)
    assert done.returncode == 0, err
    assert out.decode().strip().endswith('0 Hinweise auf ablaufende Kundencodes')
    assert await JobRun.filter(name='kundencode-ablauf', period__startswith='hand ').count() == 1
