"""Scheduled jobs: the daily digest for company users, the Kundencode expiry notice, „Abo beginnt“ and share-change
mails. Every process runs the scheduler (JOBS); a job acts once per period across all of them, because a run is a row
in `job_run` unique per (job, period): the first process to insert it runs the job, the others find it taken. A run
that has not finished within LEASE (its process died) is taken over by the next process that wakes.

Why a database lease and not APScheduler: APScheduler 3 runs a job in every process that schedules it (its job stores
share definitions, not locks), APScheduler 4 is not released; both bring SQLAlchemy beside Tortoise. The lease is one
table, works the same on SQLite and PostgreSQL, and a run by hand (`python main.py job NAME`) uses the same code.

Every job is also idempotent by itself where it mails per record (code, Abo): it skips records the outbox already
holds a mail of that kind for, so a hand run after the scheduled one sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models import (
    Abo,
    AboStatus,
    Antrag,
    AntragStatus,
    JobRun,
    Kundencode,
    OutboxMail,
    PortalUser,
    SubsidyChange,
)
from services import abo_dates, audit, clock, mail, notifications, permissions, tarife, zuschuesse
from services.audit import AuditKind
from services.database import flat_values
from services.permissions import Action
from services.settings import get_settings

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=30)
TICK_SECONDS = 60.0
CHUNK = 500  # records per query and transaction: bounded however many there are
DIGEST_LIMIT = 50  # rows per list in one digest mail (the count says how many there are)
DIGEST_HORIZON = timedelta(days=7)  # deadlines within a week (or passed) are listed as due
CODE_NOTICE_DAYS = 30


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[date], Awaitable[str]]


# --- the jobs ---------------------------------------------------------------------------------------------------------


def _latest_start_due_by(day: date) -> date:
    """The latest start month whose „genehmigen bis“ (abo_dates.approval_deadline) is on or before `day`."""
    next_month = abo_dates.first_of_month(day, 1)
    return next_month if abo_dates.approval_deadline(next_month) <= day else abo_dates.first_of_month(day, 0)


def _digest_rows(antraege: Iterable[Antrag]) -> list[dict[str, object]]:
    return [{'reference': antrag.reference, 'name': notifications.person_name(antrag),
             'vertragsnummer': antrag.contract.vertragsnummer, 'startmonat': antrag.startmonat,
             'genehmigen_bis': abo_dates.approval_deadline(antrag.startmonat)} for antrag in antraege]


async def daily_digest(today: date) -> str:
    """To every company user who opted in and may decide Anträge: the company's open Anträge submitted in the last
    day, and those whose „genehmigen bis“ is within DIGEST_HORIZON or passed. Nothing to say, no mail."""
    since = timezone.localtime(clock.now() - timedelta(days=1))
    latest_start = _latest_start_due_by(today + DIGEST_HORIZON)
    deciders = list(permissions.company_roles_that_may(Action.DECIDE_ANTRAG))
    recipients: dict[int, list[PortalUser]] = defaultdict(list)
    async for user in PortalUser.filter(mail_digest=True, is_active=True, role__in=deciders,
                                        customer_id__isnull=False, password_changed_at__isnull=False):
        if user.customer_id is not None:  # filtered above; this tells the type checker
            recipients[user.customer_id].append(user)
    sent = 0
    for customer_id, users in recipients.items():
        open_ones = Antrag.filter(contract__customer_id=customer_id, status=AntragStatus.OFFEN) \
            .select_related('contract', 'contract__customer')
        new = await open_ones.filter(created_at__gte=since).order_by('created_at').limit(DIGEST_LIMIT)
        due = await open_ones.filter(startmonat__lte=latest_start).order_by('startmonat', 'created_at') \
            .limit(DIGEST_LIMIT)
        if not new and not due:
            continue
        company = (new or due)[0].contract.customer.name
        async with in_transaction():
            for user in users:
                await mail.enqueue('tagesuebersicht', user.email, {
                    'name': user.name, 'company': company, 'new': _digest_rows(new), 'due': _digest_rows(due),
                }, customer_id=customer_id, object_type='user', object_id=user.id, actor_label='Zeitplan')
                sent += 1
    return f'{sent} Tagesübersichten'


async def _already_mailed(kind: str, object_ids: list[str]) -> set[str]:
    return set(await flat_values(OutboxMail.filter(kind=kind, object_id__in=object_ids), 'object_id'))


async def code_expiry(today: date) -> str:
    """To the company's administrators: the current Kundencode of a contract expires within CODE_NOTICE_DAYS days
    (once per code)."""
    admins = list(permissions.company_roles_that_may(Action.GENERATE_CODE))
    codes = await Kundencode.filter(revoked_at__isnull=True, valid_until__gte=today,
                                    valid_until__lte=today + timedelta(days=CODE_NOTICE_DAYS)) \
        .select_related('contract', 'contract__customer').order_by('id').limit(CHUNK)
    done = await _already_mailed('kundencode_laeuft_ab', [str(code.id) for code in codes])
    sent = 0
    for code in codes:
        if str(code.id) in done:
            continue
        customer = code.contract.customer
        async with in_transaction():
            async for user in PortalUser.filter(customer_id=customer.id, role__in=admins, is_active=True,
                                                password_changed_at__isnull=False):
                await mail.enqueue('kundencode_laeuft_ab', user.email, {
                    'name': user.name, 'company': customer.name, 'vertragsnummer': code.contract.vertragsnummer,
                    'valid_until': code.valid_until,
                }, customer_id=customer.id, object_type='kundencode', object_id=code.id, actor_label='Zeitplan')
                sent += 1
    return f'{sent} Hinweise auf ablaufende Kundencodes'


async def _shares(abos: list[Abo], month: date) -> dict[int, tuple[int, int]]:
    """Each Abo's (Eigenanteil, Zuschuss) in `month`: its contract's subsidy then, the month's tariff."""
    rules = (await tarife.current()).on(month)
    changes = await zuschuesse.changes_by_contract(
        SubsidyChange.filter(contract_id__in=list({abo.contract_id for abo in abos})))
    shares = {}
    for abo in abos:
        schedule = zuschuesse.SubsidySchedule(abo.contract.arbeitgeberzuschuss_cent,
                                               changes.get(abo.contract_id, ()))
        zuschuss = schedule.on(month)
        shares[abo.id] = (rules.eigenanteil_cent(zuschuss), zuschuss)
    return shares


def _running_in(month: date) -> Q:
    return Q(status__in=[AboStatus.AKTIV, AboStatus.GEKUENDIGT]) & (Q(endmonat__isnull=True) | Q(endmonat__gte=month))


async def abo_starts(today: date) -> str:
    """„Ihr D-Ticket Job beginnt“ in the Abo's first month (once per Abo), with the month's Eigenanteil."""
    month = abo_dates.first_of_month(today)
    sent, after = 0, 0
    while abos := await Abo.filter(_running_in(month), startmonat=month, id__gt=after).select_related('contract') \
            .order_by('id').limit(CHUNK):
        after = abos[-1].id
        done = await _already_mailed('abo_beginnt', [str(abo.id) for abo in abos])
        shares = await _shares(abos, month)
        async with in_transaction():
            for abo in abos:
                if str(abo.id) not in done:
                    await notifications.abo_starts(abo, shares[abo.id][0])
                    sent += 1
    return f'{sent} Mitteilungen zum Abo-Beginn'


async def share_changes(today: date) -> str:
    """„Ihr Eigenanteil ändert sich“: for Abos running this month and next whose share next month differs (a new
    price block or a subsidy change starts then); once per Abo and month. The Abos are read CHUNK at a time by id
    (keyset), those of contracts with a change next month chosen by a subquery: a price change concerns every
    contract, and reading every contract's id first (100,000 at scale) and then the Abos per 500 of them held them
    all in memory and cost a query per 500 contracts."""
    month, following = abo_dates.first_of_month(today), abo_dates.first_of_month(today, 1)
    tariffs = await tarife.current()
    abos = Abo.filter(_running_in(following), startmonat__lte=month)
    if tariffs.on(following) == tariffs.on(month):  # no new price: only contracts whose subsidy changes then
        abos = abos.filter(contract_id__in=Subquery(
            SubsidyChange.filter(gueltig_ab=following).values('contract_id')))
    key, rules = following.isoformat(), tariffs.on(following)
    sent, after = 0, 0
    while page := await abos.filter(id__gt=after).select_related('contract').order_by('id').limit(CHUNK):
        after = page[-1].id
        now_shares, next_shares = await _shares(page, month), await _shares(page, following)
        changed = [abo for abo in page if now_shares[abo.id][0] != next_shares[abo.id][0]]
        done = await _already_mailed('anteil_aendert_sich', [f'{abo.id}:{key}' for abo in changed])
        async with in_transaction():
            for abo in changed:
                if f'{abo.id}:{key}' in done:
                    continue
                await notifications.share_changes(
                    abo, ab=following, eigenanteil_cent=next_shares[abo.id][0], bisher_cent=now_shares[abo.id][0],
                    preis_cent=rules.preis_cent, zuschuss_cent=next_shares[abo.id][1], key=f'{abo.id}:{key}',
                )
                sent += 1
    return f'{sent} Mitteilungen zum geänderten Eigenanteil'


JOBS: dict[str, Job] = {job.name: job for job in (
    Job('tagesuebersicht', 'Tagesübersicht neuer Anträge und fälliger Fristen (Firmen-Anwender mit Opt-in)',
        daily_digest),
    Job('kundencode-ablauf', 'Hinweis an Administratoren: Kundencode läuft in 30 Tagen ab', code_expiry),
    Job('abo-beginn', 'Mitteilung an Mitarbeitende: das Abo beginnt in diesem Monat', abo_starts),
    Job('eigenanteil', 'Mitteilung an Mitarbeitende: der Eigenanteil ändert sich ab nächstem Monat', share_changes),
)}


# --- running them once ------------------------------------------------------------------------------------------------


async def run_once(name: str, period: str) -> str | None:
    """Run the job for `period` unless another process has run it or is running it (within LEASE); returns the
    job's result, or None when this process did not act."""
    job = JOBS[name]
    now = clock.now()
    try:
        run = await JobRun.create(name=name, period=period, started_at=now)
    except IntegrityError:
        stale = timezone.localtime(now - LEASE)  # update() does not convert: compare in the stored zone
        taken = await JobRun.filter(name=name, period=period, finished_at__isnull=True, started_at__lt=stale) \
            .update(started_at=timezone.localtime(now))
        if not taken:
            return None
        run = await JobRun.get(name=name, period=period)
    result = await job.run(clock.today())
    run.finished_at, run.result = clock.now(), result[:200]
    await run.save(update_fields=['finished_at', 'result'])
    await audit.record(AuditKind.JOB_RUN, actor_label='Zeitplan', object_type='job', object_id=name,
                       details={'period': period, 'ergebnis': result})
    return result


async def run_by_hand(name: str) -> str:
    """`python main.py job NAME`: runs now, whatever the schedule did today (the jobs skip what they mailed)."""
    result = await run_once(name, f'hand {clock.now().isoformat(timespec="seconds")}')
    return result or 'Der Auftrag läuft gerade in einem anderen Prozess.'


async def run_due() -> dict[str, str | None]:
    """Each job for today once JOBS_HOUR has come (Europe/Berlin)."""
    local = clock.now().astimezone(clock.BERLIN)
    if local.hour < get_settings().jobs_hour:
        return {}
    return {name: await run_once(name, local.date().isoformat()) for name in JOBS}


async def scheduler_forever(tick_seconds: float = TICK_SECONDS) -> None:
    """Started with the portal (JOBS): every minute, run whatever is due; a failure is logged and retried next tick
    (its run row stays unfinished until the lease ends)."""
    while True:
        try:
            for name, result in (await run_due()).items():
                if result is not None:
                    log.info('Auftrag %s: %s', name, result)
        except Exception:  # a database hiccup must not end the scheduler
            log.exception('Geplante Aufträge: Durchlauf fehlgeschlagen')
        await asyncio.sleep(tick_seconds)
