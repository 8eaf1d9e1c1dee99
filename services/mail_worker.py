"""Delivering the outbox (services/mail.py) over SMTP with aiosmtplib: async, so the worker shares the portal's
event loop without a thread per mail (bench/mail.py measures the loop's lag while it runs).

Taking work: one short transaction selects due rows `FOR UPDATE SKIP LOCKED` (PostgreSQL; several processes each take
different rows, none waits for another) and moves their `due_at` to the end of a lease; the mails are then sent outside
any transaction, and the results written per batch. A process that dies mid-batch leaves its rows to be taken again
after the lease: delivery is at least once, never twice while the process lives. SQLite has one writer and ignores
row locks: run the worker in one process only (MAIL_WORKER=0 in the others).

A failure is retried after MAIL_RETRY_SECONDS, doubling per attempt up to MAX_DELAY, and given up after
MAIL_MAX_ATTEMPTS; a permanent refusal (SMTP 5xx, e.g. an unknown mailbox) is given up at once. Every delivery and
every give-up is audited without the body, and the bodies are emptied then (they may hold one-time links).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from tortoise import timezone
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import MailStatus, OutboxMail
from services import audit, clock
from services.audit import AuditKind
from services.settings import Settings, get_settings

log = logging.getLogger(__name__)
BATCH = 50
LEASE = timedelta(minutes=5)  # longer than a batch can take (50 sends, each bounded by SMTP_TIMEOUT_SECONDS … )
MAX_DELAY = timedelta(hours=6)
POLL_SECONDS = 2.0
SECURITY_MODES = ('starttls', 'ssl', 'none')


class UnsafeSmtpSettings(aiosmtplib.SMTPException):
    """SMTP_SECURITY holds a value the portal does not know: nothing is sent, in plain text or otherwise."""


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: MAIL_RETRY_SECONDS × 2^(n-1), at most MAX_DELAY."""
    base = get_settings().mail_retry_seconds
    return min(timedelta(seconds=base * 2 ** min(attempts - 1, 30)), MAX_DELAY)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One per process, and none without TLS: loading the system's CA certificates took 100 ms of event loop here
    (measured with `ssl.create_default_context()` on the shared machine), once per batch of 50 mails before."""
    return ssl.create_default_context()


def smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    """TLS unless SMTP_SECURITY is exactly 'none' (starttls is required, not opportunistic); an unknown mode fails
    closed. The settings refuse one at start; this is the second lock, so no caller can send in plain text by
    accident."""
    if settings.smtp_security not in SECURITY_MODES:
        raise UnsafeSmtpSettings(f'SMTP_SECURITY {settings.smtp_security!r} ist nicht erlaubt')
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, timeout=settings.smtp_timeout_seconds,
        use_tls=settings.smtp_security == 'ssl', start_tls=settings.smtp_security == 'starttls',
        tls_context=_tls_context() if settings.smtp_security != 'none' else None,
        username=settings.smtp_user or None, password=settings.smtp_password or None,
    )


def message_of(mail: OutboxMail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message['From'] = settings.smtp_from
    message['To'] = mail.recipient
    message['Subject'] = mail.subject
    message['Message-ID'] = make_msgid(idstring=f'outbox-{mail.id}', domain=settings.smtp_from.rsplit('@', 1)[-1])
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype='html')
    return message


async def _claim(batch: int) -> list[OutboxMail]:
    # Times in the zone the rows are stored in (also in update(), which does not convert): SQLite compares the
    # stored text, not instants.
    now = timezone.localtime(clock.now())
    async with in_transaction():
        due = OutboxMail.filter(status=MailStatus.WARTEND, due_at__lte=now)
        # Whole rows with the lock in their SELECT: with the ids read through values_list, two workers under load
        # sent 15 of 40 mails twice on PostgreSQL (clean-clone CI run, 2026-11-30).
        locked = await due.order_by('due_at', 'id').limit(batch).select_for_update(skip_locked=True)
        if not locked:
            return []
        ids = [mail.id for mail in locked]
        await OutboxMail.filter(id__in=ids).update(due_at=now + LEASE)
    return await OutboxMail.filter(id__in=ids).order_by('id')


def _permanent(error: Exception) -> bool:
    """5xx: the server will say the same next time (unknown mailbox, refused sender)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(refused.code >= 500 for refused in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and error.code >= 500


@dataclass
class _Results:
    sent: list[OutboxMail] = field(default_factory=list)
    failed: list[tuple[OutboxMail, Exception]] = field(default_factory=list)


async def _send_all(mails: list[OutboxMail], settings: Settings) -> _Results:
    results = _Results()
    try:
        smtp = smtp_client(settings)
        await smtp.connect()
    except (aiosmtplib.SMTPException, OSError) as error:
        results.failed = [(mail, error) for mail in mails]
        return results
    try:
        for mail in mails:
            try:
                await smtp.send_message(message_of(mail, settings))
            except (aiosmtplib.SMTPException, OSError) as error:
                results.failed.append((mail, error))
            else:
                results.sent.append(mail)
    finally:
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
    return results


async def _record(results: _Results, settings: Settings) -> None:
    now = timezone.localtime(clock.now())  # see _claim
    async with in_transaction():
        if results.sent:
            await OutboxMail.filter(id__in=[mail.id for mail in results.sent]).update(
                status=MailStatus.GESENDET, sent_at=now, attempts=F('attempts') + 1, body_text='', body_html='',
                last_error='',
            )
        for mail in results.sent:
            await audit.record(AuditKind.MAIL_SENT, actor_label='E-Mail-Versand', customer_id=mail.customer_id,
                               object_type='mail', object_id=mail.id, details={'kind': mail.kind, 'to': mail.recipient})
        for mail, error in results.failed:
            attempts = mail.attempts + 1
            reason = f'{type(error).__name__}: {error}'[:500]
            if attempts >= settings.mail_max_attempts or _permanent(error):
                await OutboxMail.filter(id=mail.id).update(
                    status=MailStatus.FEHLGESCHLAGEN, attempts=attempts, last_error=reason, body_text='', body_html='',
                )
                await audit.record(AuditKind.MAIL_FAILED, actor_label='E-Mail-Versand', customer_id=mail.customer_id,
                                   object_type='mail', object_id=mail.id,
                                   details={'kind': mail.kind, 'to': mail.recipient, 'attempts': attempts,
                                            'error': reason})
            else:
                await OutboxMail.filter(id=mail.id).update(
                    attempts=attempts, last_error=reason, due_at=now + retry_delay(attempts),
                )
    for mail, error in results.failed:
        log.warning('E-Mail %s an %s nicht zugestellt (Versuch %d): %s', mail.id, mail.recipient,
                    mail.attempts + 1, error)


async def deliver_due(batch: int = BATCH) -> int:
    """One batch: take up to `batch` due mails, send them over one SMTP connection, record the results. Returns how
    many mails were taken (0: nothing due). Without SMTP_HOST nothing is taken."""
    settings = get_settings()
    if not settings.smtp_host:
        return 0
    mails = await _claim(batch)
    if mails:
        await _record(await _send_all(mails, settings), settings)
    return len(mails)


async def run_forever(poll_seconds: float = POLL_SECONDS) -> None:
    """The worker started with the portal (MAIL_WORKER): batches back to back while mails are due, then a pause.
    A failure (database away) is logged and the loop goes on."""
    while True:
        try:
            taken = await deliver_due()
        except Exception:  # the worker must outlive a database hiccup
            log.exception('E-Mail-Versand: Durchlauf fehlgeschlagen')
            taken = 0
        await asyncio.sleep(0 if taken else poll_seconds)
